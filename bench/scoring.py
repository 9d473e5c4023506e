"""Scoring throughput: the full path (read file + decode + resize + predict + store) against bare
``model.predict`` on the same, already decoded images, in the same run; and against bare
``ml.cnn.predict`` (the inference call the full path uses: predict_on_batch slices), which
isolates what reading, decoding and storing cost.

    .venv/bin/python -m bench.scoring --photos 256 --backbones resnet50,mobilenetv3small

Models get random weights (throughput does not depend on the weights' values); photos are
synthetic 640 x 480 JPEGs, the size of a typical web photo."""

import argparse
import statistics
import time
from pathlib import Path

from bench.sandbox import django_sandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=256)
    parser.add_argument("--backbones", default="resnet50,mobilenetv3small")
    parser.add_argument("--image-size", type=int, default=224, help="Model input side.")
    parser.add_argument("--repeats", type=int, default=3, help="Timed passes; median reported.")
    args = parser.parse_args()
    django_sandbox()

    import io
    import os

    import numpy as np
    import tensorflow as tf
    from django.conf import settings
    from django.core.files.base import ContentFile

    from ml import cnn, runtime, services
    from ml.models import ModelVersion
    from ml.synthetic import DEMO_CITIES, draw_city_photo
    from photos.images import load_pixels
    from photos.models import City, Photo

    classes = sorted(DEMO_CITIES[:24])
    cities = {city.slug: city for city in City.objects.filter(slug__in=classes)}
    photos = []
    for index in range(args.photos):
        slug = classes[index % len(classes)]
        buffer = io.BytesIO()
        draw_city_photo(slug, index, size=640).crop((0, 80, 640, 560)).save(
            buffer, format="JPEG", quality=88
        )
        photo = Photo(city=cities[slug], is_synthetic=True, source="bench")
        photo.image.save(f"{slug}-{index}.jpg", ContentFile(buffer.getvalue()), save=False)
        photo.save()
        photos.append(photo)
    ids = [photo.pk for photo in photos]
    chunk = settings.ML_SCORING_CHUNK_SIZE

    print(
        f"{args.photos} photos (640x480 JPEG), input {args.image_size}px, chunks of {chunk}, "
        f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores, "
        f"GPUs: {len(tf.config.list_physical_devices('GPU'))}"
    )
    rows = []
    for backbone in args.backbones.split(","):
        model = cnn.make_model(
            backbone=backbone, num_classes=len(classes), image_size=args.image_size
        )
        path = Path(str(settings.PRIVATE_FILES_ROOT)) / f"{backbone}.keras"
        path.parent.mkdir(parents=True, exist_ok=True)
        model.save(path)
        ModelVersion.objects.update(is_active=False)
        version = ModelVersion(
            name=f"bench-{backbone}", kind=ModelVersion.Kind.CITY, classes=classes,
            backbone=backbone, image_size=args.image_size, is_active=True,
        )  # fmt: skip
        version.artifact.name = path.name
        version.save()
        runtime._load.cache_clear()
        loaded = runtime.model_for(version)
        pixels = np.stack(
            [load_pixels(photo.image.path, args.image_size) for photo in photos]
        )  # decoded once, outside the bare timing
        loaded.predict(pixels[:32].astype("float32"), verbose=0)  # warm-up (graph tracing)

        def full_path(ids=ids):
            # As an activation finds them: arrays from another version, to be replaced.
            Photo.objects.filter(pk__in=ids).update(
                probabilities=[1 / len(classes)] * len(classes),
                model_version=None,
                status=Photo.Status.PENDING,
            )
            started = time.perf_counter()
            for start in range(0, len(ids), chunk):
                assert services.photos_rescore(photo_ids=ids[start : start + chunk]) == len(
                    ids[start : start + chunk]
                )
            return time.perf_counter() - started

        def bare_predict(loaded=loaded, pixels=pixels):
            started = time.perf_counter()
            for start in range(0, len(ids), chunk):
                loaded.predict(pixels[start : start + chunk].astype("float32"), verbose=0)
            return time.perf_counter() - started

        def bare_inference(loaded=loaded, pixels=pixels):
            started = time.perf_counter()
            for start in range(0, len(ids), chunk):
                cnn.predict(loaded, pixels[start : start + chunk])
            return time.perf_counter() - started

        full, bare, inference = [], [], []
        for _ in range(args.repeats):  # interleaved, so drift in machine load hits all three
            full.append(full_path())
            bare.append(bare_predict())
            inference.append(bare_inference())
        rates = [args.photos / statistics.median(times) for times in (full, bare, inference)]
        rows.append((backbone, *rates))
        assert Photo.objects.filter(pk__in=ids, model_version=version).count() == args.photos

    print()
    print(
        "| backbone | full path (photos/s) | bare model.predict (photos/s) | full / bare "
        "| bare cnn.predict (photos/s) | full / bare cnn.predict |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for backbone, full_rate, bare_rate, inference_rate in rows:
        print(
            f"| {backbone} | {full_rate:.1f} | {bare_rate:.1f} | {full_rate / bare_rate:.2f} "
            f"| {inference_rate:.1f} | {full_rate / inference_rate:.2f} |"
        )


if __name__ == "__main__":
    main()
