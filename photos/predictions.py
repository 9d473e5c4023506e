"""Reads of what the attribute model and the ImageNet classifier said about photos
(``PhotoPrediction``): per photo, and per city over the deck."""

from collections import defaultdict

from .models import Photo, PhotoPrediction


def photo_predictions(*, photo_ids, kind: str) -> dict[int, dict[str, float]]:
    """{photo id: {label: probability}, most likely first} for the photos that have a
    prediction of ``kind`` (PostgreSQL's jsonb does not keep the order it was written in)."""
    rows = PhotoPrediction.objects.filter(photo_id__in=list(photo_ids), kind=kind)
    return {
        photo_id: dict(sorted(scores.items(), key=lambda item: (-item[1], item[0])))
        for photo_id, scores in rows.values_list("photo_id", "scores")
    }


def city_prediction_means(*, kind: str) -> dict[str, dict[str, float]]:
    """{city slug: {label: mean probability over the city's deck photos}}: what a city's
    photos typically show (its dominant attributes are the largest means)."""
    rows = PhotoPrediction.objects.filter(
        kind=kind, photo__status=Photo.Status.PUBLISHED, photo__city__isnull=False
    ).values_list("photo__city__slug", "scores")
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[str, int] = defaultdict(int)
    for slug, scores in rows.iterator(chunk_size=2000):
        counts[slug] += 1
        for label, probability in scores.items():
            sums[slug][label] += probability
    return {
        slug: {label: total / counts[slug] for label, total in labels.items()}
        for slug, labels in sums.items()
    }
