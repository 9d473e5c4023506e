"""Reads for the admin's ML workbench: the cities one can train on, whether the active city
model misses published photos' cities, what activating a version will do, and a version's
metrics laid out for reading and comparing. Reads only."""

from dataclasses import dataclass

from django.db.models import Count

from photos import selectors as photo_selectors
from photos.models import Photo
from users import selectors as user_selectors

from .models import ModelVersion
from .selectors import model_version_active


def cities_for_training() -> list[tuple[str, str, int]]:
    """(slug, name, photo count) of every city with stored labelled photos to train on."""
    rows = (
        photo_selectors.photos_for_training()
        .order_by()
        .values("city__slug", "city__name")
        .annotate(count=Count("pk"))
        .order_by("city__name")
    )
    return [(row["city__slug"], row["city__name"], row["count"]) for row in rows]


@dataclass(frozen=True)
class RetrainingNotice:
    photo_count: int
    city_names: list[str]

    @property
    def city_count(self) -> int:
        return len(self.city_names)


def retraining_notice() -> RetrainingNotice | None:
    """Published photos whose city is not among the active city model's classes (the model
    cannot tell people's taste for those cities apart); None when there are none or no city
    model is active."""
    active = model_version_active(ModelVersion.Kind.CITY)
    if active is None:
        return None
    unknown = Photo.objects.filter(status=Photo.Status.PUBLISHED, city__isnull=False).exclude(
        city__slug__in=active.classes
    )
    rows = list(
        unknown.order_by().values("city__name").annotate(count=Count("pk")).order_by("city__name")
    )
    if not rows:
        return None
    return RetrainingNotice(
        photo_count=sum(row["count"] for row in rows),
        city_names=[row["city__name"] for row in rows],
    )


@dataclass(frozen=True)
class ActivationPreview:
    photos: int  # photos whose array (city) or predictions (other kinds) are recomputed
    profiles: int | None  # people whose running scores are recomputed (city models only)


def activation_preview(*, version: ModelVersion) -> ActivationPreview:
    """What activating ``version`` will do, counted as ml.activation counts it."""
    photos = len(photo_selectors.photo_ids_with_arrays())
    profiles = len(user_selectors.profile_ids()) if version.kind == ModelVersion.Kind.CITY else None
    return ActivationPreview(photos=photos, profiles=profiles)


# A version's headline figures, by kind: (metrics key, label, higher is better).
HEADLINES = {
    ModelVersion.Kind.CITY: [
        ("top1_accuracy", "top-1 accuracy", True),
        ("top5_accuracy", "top-5 accuracy", True),
        ("expected_calibration_error", "expected calibration error (ECE)", False),
        ("chance_accuracy", "chance accuracy", None),
        ("validation_count", "validation photos", None),
        ("train_count", "training photos", None),
        ("training_seconds", "training seconds", None),
    ],
    ModelVersion.Kind.ATTRIBUTES: [
        ("mean_auc", "mean ROC AUC", True),
        ("threshold", "threshold", None),
        ("photo_count", "validation photos", None),
        ("train_count", "training photos", None),
        ("training_seconds", "training seconds", None),
    ],
}
HELD_OUT_GROUPS = [
    ("seen_cities", "cities it was trained on"),
    ("new_cities", "cities it never saw"),
    ("mixed_styles", "mixed styles (attribute combinations no city has)"),
]


def headline_rows(metrics: dict, kind: str) -> list[tuple[str, object]]:
    return [
        (label, metrics[key])
        for key, label, _ in HEADLINES.get(kind, HEADLINES[ModelVersion.Kind.CITY])
        if metrics.get(key) is not None
    ]


def attribute_rows(metrics: dict) -> list[dict]:
    """Per attribute: its name, AUC, precision, recall and positives."""
    return [
        {"name": name, **row} for name, row in sorted((metrics.get("per_attribute") or {}).items())
    ]


def held_out_groups(metrics: dict) -> list[dict]:
    """An attribute model's held-out groups that were recorded, each with its rows."""
    held_out = metrics.get("synthetic_held_out") or {}
    return [
        {
            "label": label,
            "photo_count": held_out[key].get("photo_count"),
            "mean_auc": held_out[key].get("mean_auc"),
            "cities": held_out[key].get("cities") or [],
            "rows": attribute_rows(held_out[key]),
        }
        for key, label in HELD_OUT_GROUPS
        if isinstance(held_out.get(key), dict)
    ]


def _difference(this, other, better) -> tuple[str, str]:
    """The signed difference as text and whether it is better, worse or neither."""
    if not isinstance(this, int | float) or not isinstance(other, int | float):
        return "", ""
    delta = this - other
    whole = isinstance(this, int) and isinstance(other, int)
    text = f"{delta:+d}" if whole else f"{delta:+.3f}"
    if better is None or delta == 0:
        return text, ""
    return text, "better" if (delta > 0) == better else "worse"


def version_comparison(*, version: ModelVersion, active: ModelVersion) -> list[dict]:
    """Rows of (figure, this version, the active one, difference, better/worse): the headline
    figures, then per city (city models) or per attribute (attribute models) where either has
    it."""
    rows = []
    for key, label, better in HEADLINES.get(version.kind, HEADLINES[ModelVersion.Kind.CITY]):
        this, other = version.metrics.get(key), active.metrics.get(key)
        if this is None and other is None:
            continue
        rows.append({"label": label, "this": this, "other": other, "better": better})
    if version.kind == ModelVersion.Kind.ATTRIBUTES:
        mine = version.metrics.get("per_attribute") or {}
        theirs = active.metrics.get("per_attribute") or {}
        for name in sorted(set(mine) | set(theirs)):
            this = (mine.get(name) or {}).get("auc")
            other = (theirs.get(name) or {}).get("auc")
            rows.append({"label": f"AUC: {name}", "this": this, "other": other, "better": True})
    else:
        mine = version.metrics.get("per_city_accuracy") or {}
        theirs = active.metrics.get("per_city_accuracy") or {}
        for slug in sorted(set(mine) | set(theirs)):
            rows.append(
                {
                    "label": f"accuracy: {slug}",
                    "this": mine.get(slug),
                    "other": theirs.get(slug),
                    "better": True,
                }
            )
    for row in rows:
        row["difference"], row["verdict"] = _difference(row["this"], row["other"], row["better"])
    return rows


def classes_difference(*, version: ModelVersion, active: ModelVersion) -> dict[str, list[str]]:
    """Classes only this version has, and classes only the active one has."""
    return {
        "added": sorted(set(version.classes) - set(active.classes)),
        "removed": sorted(set(active.classes) - set(version.classes)),
    }
