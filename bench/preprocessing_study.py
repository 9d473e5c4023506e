"""The preprocessing study for docs/EVALUATION.md: the served models against brightness, blur,
noise and JPEG quality, and the quality gate's thresholds derived from it (ml.preprocessing_study).

    .venv/bin/python -m bench.preprocessing_study [--per-city 5] [--retrain]

Trains the demo's city model as `seed_demo --per-city 20 --train` does (ml.training defaults on
24 cities x 20 synthetic photos, indices 0-19; cached under test-artifacts/preprocessing/ so
reruns skip it), builds the ImageNet classifier, and runs every condition on held-out photos
(indices from ml.synthetic.HELD_OUT_START). Writes docs/preprocessing-study.png and
docs/preprocessing-study.json and prints the markdown table and the derived thresholds."""

import argparse
import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "test-artifacts" / "preprocessing"
DOCS = ROOT / "docs"
CITY_COUNT, PER_CITY = 24, 20


def city_model(retrain: bool):
    """The demo city model (ml.training defaults), trained once and cached."""
    import keras

    from ml import training
    from ml.synthetic import DEMO_CITIES, city_photo_jpeg
    from photos.images import load_pixels

    path, meta = CACHE / "city-model.keras", CACHE / "city-model.json"
    if path.is_file() and meta.is_file() and not retrain:
        return keras.saving.load_model(path, compile=False), json.loads(meta.read_text())
    config = training.TrainingConfig()
    cities = list(DEMO_CITIES[:CITY_COUNT])
    jobs = [(c, i) for c in cities for i in range(PER_CITY)]
    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        pixels = np.stack(
            list(pool.map(lambda j: load_pixels(city_photo_jpeg(*j), config.image_size), jobs))
        )
    labels = np.repeat(np.arange(len(cities)), PER_CITY)
    result = training.train_city_model(pixels, labels, cities, config)
    info = {
        "classes": cities,
        "image_size": config.image_size,
        "config": vars(config),
        "validation_top1": result.metrics["top1_accuracy"],
        "training_wall_s": round(time.perf_counter() - started, 1),
    }
    CACHE.mkdir(parents=True, exist_ok=True)
    result.model.save(path)
    meta.write_text(json.dumps(info, indent=2))
    return result.model, info


def finish(results: dict, out: Path) -> None:
    """Derive the thresholds and the autocontrast comparison from the measured conditions, write
    the JSON and the PNG, print the table."""
    from ml import preprocessing_report as report
    from ml import preprocessing_study as study
    from ml import preprocessing_thresholds as threshold_rules

    thresholds = threshold_rules.derive_thresholds(results, "city-cnn")
    results["perturbations"] = study.PERTURBATIONS
    results["thresholds"] = thresholds
    from django.conf import settings

    gate = {k: v for k, v in settings.PHOTO_QUALITY_GATE.items() if k != "min_side"}
    results["gate_effect"] = threshold_rules.gate_effect(
        results, "city-cnn", gate | thresholds["gate"]
    )
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=1)  # lists of numbers (the per-photo ones) on one line:
    text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: f"[{' '.join(m[1].split())}]", text)
    (out / "preprocessing-study.json").write_text(text + "\n")
    report.plot(results, thresholds, out / "preprocessing-study.png")
    print(report.markdown_table(results))
    summary = {"gate_effect": {k: results["gate_effect"][k] for k in ("gate", "top1")}}
    print(json.dumps({k: results[k] for k in ("thresholds", "run")} | summary, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-city", type=int, default=5, help="held-out photos per city")
    parser.add_argument("--retrain", action="store_true", help="ignore the cached city model")
    parser.add_argument("--out", type=Path, default=DOCS, help="folder for the PNG and JSON")
    parser.add_argument(
        "--rederive",
        action="store_true",
        help="measure nothing: derive thresholds and plot again from --out's JSON",
    )
    args = parser.parse_args()
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityvibes.settings.local")
    django.setup()
    if args.rederive:
        return finish(json.loads((args.out / "preprocessing-study.json").read_text()), args.out)
    from django.conf import settings

    from ml import efficientnet_lite, imagenet
    from ml import preprocessing_report as report
    from ml import preprocessing_study as study

    wall, cpu = time.perf_counter(), time.process_time()
    model, info = city_model(args.retrain)
    print(f"city model ready after {time.perf_counter() - wall:.0f} s")
    subjects = [
        study.Subject("city-cnn", model, info["image_size"], info["classes"], "accuracy"),
        study.Subject(
            imagenet.IMAGENET_VERSION_NAME,
            efficientnet_lite.imagenet_classifier(image_size=imagenet.IMAGENET_IMAGE_SIZE),
            imagenet.IMAGENET_IMAGE_SIZE,
            imagenet.class_ids(),
            "agreement",
        ),
    ]
    photos = study.held_out_photos(info["classes"], args.per_city)
    results = report.run_with_progress_bar(
        photos, subjects, max_side=settings.PHOTO_NORMALIZED_MAX_SIDE
    )
    results.update(
        {
            "photos_per_city": args.per_city,
            "cities": info["classes"],
            "first_photo_index": 100_000,
            "city_model": {k: info[k] for k in ("config", "validation_top1", "training_wall_s")},
            "run": {
                "command": f"python -m bench.preprocessing_study --per-city {args.per_city}",
                "wall_s": round(time.perf_counter() - wall, 1),
                "process_cpu_s": round(time.process_time() - cpu, 1),
                "cpu_count": os.cpu_count(),
            },
        }
    )
    finish(results, args.out)


if __name__ == "__main__":
    main()
