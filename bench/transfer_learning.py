"""Transfer learning against training from scratch, for the demo's city model.

    .venv/bin/python -m bench.transfer_learning [--variants scratch-64,lite0-128,...]

Trains each variant on the demo deck's photos (24 cities x 20, indices 0-19: what
`seed_demo --per-city 20 --train` trains on) and measures it on the same 240 held-out photos that
`evaluate_model --per-city 10` draws (indices from ml.synthetic.HELD_OUT_START), through the app's
own JPEG -> decode -> crop -> resize path (photos.images.load_pixels). Reports top-1, top-5,
expected calibration error and training time (wall and process CPU), as a markdown table for
docs/BENCHMARKS.md and JSON under test-artifacts/transfer/."""

import argparse
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "test-artifacts" / "transfer"
CITY_COUNT, PER_CITY, HELD_OUT_PER_CITY = 24, 20, 10

# name: (backbone, image size, weights, head epochs, fine-tune epochs)
VARIANTS = {
    "scratch-64": ("mobilenetv3small", 64, None, 15, 0),  # the demo before issue 16
    "lite0-96": ("efficientnetlite0", 96, "imagenet", 60, 0),
    "lite0-128": ("efficientnetlite0", 128, "imagenet", 60, 0),
    "lite0-160": ("efficientnetlite0", 160, "imagenet", 60, 0),
    "lite0-224": ("efficientnetlite0", 224, "imagenet", 60, 0),
    "lite0-128-ft2": ("efficientnetlite0", 128, "imagenet", 60, 2),
}


def photos(sizes: set[int]) -> tuple[dict, dict, np.ndarray, np.ndarray, list[str]]:
    """Pixels at every size for the training and the held-out photos, and their labels."""
    from ml.synthetic import DEMO_CITIES, HELD_OUT_START, city_photo_jpeg
    from photos.images import load_pixels

    cities = list(DEMO_CITIES[:CITY_COUNT])
    jobs = [(c, i) for c in cities for i in range(PER_CITY)]
    jobs += [(c, HELD_OUT_START + i) for c in cities for i in range(HELD_OUT_PER_CITY)]

    def draw(job):
        jpeg = city_photo_jpeg(job[0], job[1])
        return {size: load_pixels(jpeg, size) for size in sizes}

    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        drawn = list(pool.map(draw, jobs))
    print(f"drew {len(jobs)} photos in {time.perf_counter() - started:.0f} s")
    train_count = len(cities) * PER_CITY
    train = {s: np.stack([d[s] for d in drawn[:train_count]]) for s in sizes}
    held_out = {s: np.stack([d[s] for d in drawn[train_count:]]) for s in sizes}
    train_labels = np.repeat(np.arange(len(cities)), PER_CITY)
    held_out_labels = np.repeat(np.arange(len(cities)), HELD_OUT_PER_CITY)
    return train, held_out, train_labels, held_out_labels, cities


def run(name, train, held_out, train_labels, held_out_labels, cities) -> dict:
    from ml import cnn, training

    backbone, size, weights, head_epochs, finetune_epochs = VARIANTS[name]
    config = training.TrainingConfig(
        backbone=backbone,
        image_size=size,
        weights=weights,
        head_epochs=head_epochs,
        finetune_epochs=finetune_epochs,
        patience=3 if weights is None else 8,
    )
    wall, cpu = time.perf_counter(), time.process_time()
    result = training.train_city_model(train[size], train_labels, cities, config)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    started = time.perf_counter()
    probabilities = cnn.predict(result.model, held_out[size])
    predict_ms = (time.perf_counter() - started) / len(held_out_labels) * 1000
    metrics = training.evaluation_metrics(probabilities, held_out_labels, cities)
    row = {
        "variant": name,
        "backbone": backbone,
        "image_size": size,
        "weights": cnn.weights_source(backbone, weights),
        "epochs": f"{len(result.history.get('head_loss', []))}"
        + (f" + {len(result.history.get('finetune_loss', []))}" if finetune_epochs else ""),
        "validation_top1": result.metrics["top1_accuracy"],
        "held_out_top1": metrics["top1_accuracy"],
        "held_out_top5": metrics["top5_accuracy"],
        "held_out_ece": metrics["expected_calibration_error"],
        "training_wall_s": round(wall, 1),
        "training_cpu_s": round(cpu, 1),
        "predict_ms_per_photo": round(predict_ms, 2),
    }
    print(json.dumps(row))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    names = args.variants.split(",")
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityvibes.settings.local")
    django.setup()  # the image checks read their limits from the settings
    data = photos({VARIANTS[n][1] for n in names})
    rows = [run(name, *data) for name in names]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(rows, indent=2))
    print(
        "\n| variant | starting weights | epochs | val top-1 | held-out top-1 | top-5 | ECE "
        "| training wall (s) | CPU (s) | predict ms/photo |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['variant']} | {r['weights']} | {r['epochs']} | {r['validation_top1']:.3f} "
            f"| {r['held_out_top1']:.3f} | {r['held_out_top5']:.3f} | {r['held_out_ece']:.3f} "
            f"| {r['training_wall_s']} | {r['training_cpu_s']} | {r['predict_ms_per_photo']} |"
        )


if __name__ == "__main__":
    main()
