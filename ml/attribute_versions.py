"""New attribute model versions: training data (the demo photos with their cities' recorded
styles, an attributes CSV, or a folder per attribute), training into an inactive version, and
evaluating one on freshly drawn held-out demo photos."""

import csv
import json
import tempfile
from dataclasses import asdict
from importlib import resources
from pathlib import Path

import numpy as np
from django.core.files import File
from django.db import transaction

from core.errors import ApplicationError, NotFoundError
from photos import selectors as photo_selectors

from .models import ModelVersion

# In a folder layout, images in this folder show none of the attributes.
NO_ATTRIBUTE_FOLDER = "none"
# Photo indices of mixed-style photos (the deck uses 0..., held-out evaluation 100,000...).
MIXED_STYLE_START = 200_000
# Seeds of the mixed styles: training draws with the version's seed, evaluation with this one.
HELD_OUT_MIXED_SEED = 9_999


def demo_city_attributes() -> dict[str, list[str]]:
    """{city slug: its attributes}, from the styles the demo generator recorded
    (ml/data/demo_city_styles.json)."""
    from .attributes import demo_attributes
    from .synthetic import CityStyle

    styles = json.loads(resources.files("ml").joinpath("data/demo_city_styles.json").read_text())
    return {slug: demo_attributes(CityStyle(**style)) for slug, style in styles.items()}


def mixed_style_photos(
    *, count: int, image_size: int, seed: int
) -> tuple[np.ndarray, list[list[str]]]:
    """``count`` generated photos in mixed styles (``synthetic.mixed_style``: every attribute
    drawn on its own), through JPEG like stored photos, with the attributes of the style each
    was drawn in."""
    import io

    from photos.images import load_pixels

    from .attributes import demo_attributes
    from .synthetic import DEMO_CITIES, draw_city_photo, mixed_style

    rng = np.random.default_rng(seed)
    pixels, labels = [], []
    for index in range(count):
        style = mixed_style(rng)
        slug = DEMO_CITIES[index % len(DEMO_CITIES)]  # only seeds the scene's layout
        buffer = io.BytesIO()
        size = max(2 * image_size, 256)  # the same scene as at full size, drawn faster
        draw_city_photo(slug, MIXED_STYLE_START + seed * count + index, size, style=style).save(
            buffer, format="JPEG", quality=90
        )
        pixels.append(load_pixels(buffer.getvalue(), image_size))
        labels.append(demo_attributes(style))
    return np.stack(pixels), labels


def attribute_data_from_demo(
    *, image_size: int, mixed_styles: int = 0, seed: int = 0
) -> tuple[np.ndarray, list[list[str]], list[str]]:
    """Pixels and attributes of the stored labelled photos of the demo's cities (each photo
    shows its city's recorded style), and ``mixed_styles`` more photos drawn in mixed styles.
    Returns (pixels, attributes per photo, problems)."""
    from photos.images import load_pixels

    by_city = demo_city_attributes()
    pixels, labels, problems = [], [], []
    for photo in photo_selectors.photos_for_training().iterator(chunk_size=500):
        if photo.city.slug not in by_city:
            problems.append(f"photo {photo.pk}: {photo.city.slug} has no recorded demo style")
            continue
        try:
            with photo.image.open("rb") as handle:
                pixels.append(load_pixels(handle, image_size))
            labels.append(by_city[photo.city.slug])
        except (OSError, ValueError) as error:
            problems.append(f"photo {photo.pk}: {error}")
    if not pixels:
        raise ValueError("No stored photos of the demo's cities to train on (seed_demo first).")
    pixels = np.stack(pixels)
    if mixed_styles:
        mixed, mixed_labels = mixed_style_photos(
            count=mixed_styles, image_size=image_size, seed=seed
        )
        pixels, labels = np.concatenate([pixels, mixed]), labels + mixed_labels
    return pixels, labels, problems


def demo_training_cities() -> list[str]:
    """The demo cities whose stored photos ``attribute_data_from_demo`` trains on."""
    by_city = demo_city_attributes()
    slugs = photo_selectors.photos_for_training().values_list("city__slug", flat=True)
    return sorted(set(slugs) & set(by_city))


def attribute_data_from_csv(
    *, path: Path, image_size: int
) -> tuple[np.ndarray, list[list[str]], list[str]]:
    """Pixels and attributes from a CSV with the columns ``image`` (a file path, relative to the
    CSV's folder) and ``attributes`` (names separated by ``;``, empty for none)."""
    from photos.images import load_pixels

    if not path.is_file():
        raise ValueError(f"{path} is not a file.")
    pixels, labels, problems = [], [], []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not {"image", "attributes"} <= set(reader.fieldnames or []):
            raise ValueError("The CSV needs the columns 'image' and 'attributes'.")
        for line, row in enumerate(reader, start=2):
            image = (path.parent / (row["image"] or "")).resolve()
            if not image.is_relative_to(path.parent.resolve()) or not image.is_file():
                problems.append(f"line {line}: no image file {row['image']!r} beside the CSV")
                continue
            try:
                pixels.append(load_pixels(image, image_size))
            except (OSError, ValueError) as error:
                problems.append(f"line {line}: {error}")
                continue
            names = [name.strip() for name in (row["attributes"] or "").split(";")]
            labels.append(sorted({name for name in names if name}))
    if not pixels:
        raise ValueError(f"No readable images listed in {path}.")
    return np.stack(pixels), labels, problems


def attribute_data_from_folder(
    *, root: Path, image_size: int
) -> tuple[np.ndarray, list[list[str]], list[str]]:
    """Pixels and attributes from a folder per attribute, ``<attribute>/<image>``: an image
    shows every attribute whose folder holds a file of its name (``none/`` for none)."""
    from photos.images import load_pixels

    if not root.is_dir():
        raise ValueError(f"{root} is not a folder.")
    shown: dict[str, set[str]] = {}
    first_path: dict[str, Path] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            first_path.setdefault(path.name, path)
            names = shown.setdefault(path.name, set())
            if folder.name != NO_ATTRIBUTE_FOLDER:
                names.add(folder.name)
    pixels, labels, problems = [], [], []
    for name, path in first_path.items():
        try:
            pixels.append(load_pixels(path, image_size))
            labels.append(sorted(shown[name]))
        except (OSError, ValueError) as error:
            problems.append(f"{path.relative_to(root)}: {error}")
    if not pixels:
        raise ValueError(f"No readable images under {root}.")
    return np.stack(pixels), labels, problems


def model_version_train_attributes(
    *,
    name: str,
    config,
    pixels: np.ndarray,
    labels: list[list[str]],
    source: str,
    cities: list[str] | None = None,
    on_epoch=None,
) -> ModelVersion:
    """Train an attribute model and store it as a new, inactive version. Attributes no photo
    shows, or every photo shows, cannot be learned and are left out (listed in the metrics)."""
    from . import attributes

    if ModelVersion.objects.filter(name=name).exists():
        raise ValueError(f"A model version named '{name}' exists already.")
    counts: dict[str, int] = {}
    for names in labels:
        for attribute in names:
            counts[attribute] = counts.get(attribute, 0) + 1
    classes = sorted(a for a, count in counts.items() if 0 < count < len(labels))
    if not classes:
        raise ValueError("No attribute is shown by some photos and not by others.")
    version = ModelVersion.objects.create(
        name=name,
        kind=ModelVersion.Kind.ATTRIBUTES,
        classes=classes,
        status=ModelVersion.Status.TRAINING,
        backbone="efficientnetlite0",
        image_size=config.image_size,
        preprocessing={"input": "RGB 0-255", "resize": "centre crop, bilinear"},
        training_params={**asdict(config), "source": source, "cities": cities or []},
        description=(
            f"Attribute model: {len(classes)} attributes, one sigmoid each, on the ImageNet-"
            f"pretrained EfficientNet-Lite0 at {config.image_size} px (frozen)."
        ),
    )
    try:
        model, metrics, _history = attributes.train_attribute_model(
            pixels, attributes.label_matrix(labels, classes), classes, config, on_epoch
        )
    except Exception:
        ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersion.Status.FAILED)
        raise
    metrics["skipped_attributes"] = sorted(set(counts) - set(classes))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.keras"
        model.save(path)
        with open(path, "rb") as handle:
            version.artifact.save(path.name, File(handle), save=False)
    version.metrics = metrics
    version.status = ModelVersion.Status.READY
    version.save(update_fields=["artifact", "metrics", "status"])
    return version


def attribute_version_evaluate_synthetic(*, version_id: int, per_city: int) -> dict:
    """Per-attribute AUC, precision and recall of an attribute version on freshly drawn photos
    of all the demo's cities (indices from ``synthetic.HELD_OUT_START``: never in the deck,
    never trained on), apart for the cities it trained on and the others, and on as many fresh
    photos in mixed styles (``mixed_styles``: combinations of attributes no city has), through
    the JPEG -> decode -> resize -> predict path of real photos; stored in the version's metrics
    under ``synthetic_held_out``."""
    from photos.images import load_pixels

    from . import attributes, cnn, runtime
    from .synthetic import HELD_OUT_START, city_photo_jpeg

    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None:
        raise NotFoundError(f"Model version {version_id} does not exist.")
    if version.kind != ModelVersion.Kind.ATTRIBUTES or not version.artifact:
        raise ApplicationError(f"{version.name} is not a trained attribute model.")
    if per_city < 1:
        raise ApplicationError("per_city must be at least 1.")
    by_city = {
        slug: [name for name in names if name in version.classes]
        for slug, names in demo_city_attributes().items()
    }
    jobs = [(slug, HELD_OUT_START + index) for index in range(per_city) for slug in by_city]
    size = max(2 * version.image_size, 256)  # the same scene as at full size, drawn faster
    pixels = np.stack(
        [load_pixels(city_photo_jpeg(s, i, size), version.image_size) for s, i in jobs]
    )
    probabilities = cnn.predict(runtime.model_for(version), pixels)
    truth = attributes.label_matrix([by_city[slug] for slug, _ in jobs], version.classes)
    metrics = attributes.attribute_metrics(probabilities, truth, version.classes)
    seen = set(version.training_params.get("cities", []))
    for group, keep in (("seen_cities", True), ("new_cities", False)):
        rows = np.array([(slug in seen) == keep for slug, _ in jobs])
        if seen and rows.any():  # new cities: combinations of attributes never trained on
            metrics[group] = attributes.attribute_metrics(
                probabilities[rows], truth[rows], version.classes
            )
            metrics[group]["cities"] = sorted(
                {s for (s, _), r in zip(jobs, rows, strict=True) if r}
            )
    mixed, mixed_labels = mixed_style_photos(
        count=per_city * len(by_city), image_size=version.image_size, seed=HELD_OUT_MIXED_SEED
    )
    metrics["mixed_styles"] = attributes.attribute_metrics(
        cnn.predict(runtime.model_for(version), mixed),
        attributes.label_matrix(
            [[n for n in names if n in version.classes] for names in mixed_labels],
            version.classes,
        ),
        version.classes,
    )
    metrics["per_city"] = per_city
    metrics["first_photo_index"] = HELD_OUT_START
    with transaction.atomic():
        locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
        locked.metrics = {**locked.metrics, "synthetic_held_out": metrics}
        locked.save(update_fields=["metrics"])
    return metrics
