"""Several model kinds in one /classify answer: latency of `?models=city` against
`?models=city,attributes,imagenet` (and against three separate one-kind requests), and the
resident memory one process holds with every kind's model loaded.

    .venv/bin/python -m bench.classify_kinds --requests 100

In-process through Django's full request handling (the test client), on a throwaway database.
The city and attribute models are the demo's architecture (EfficientNet-Lite0 with ImageNet
weights at 128 px, heads untrained: the same compute as trained ones); the ImageNet classifier
is the real one at 224 px."""

import argparse
import io
import json
import os
import subprocess
import sys
import time

from bench.sandbox import django_sandbox, percentile

# Run in a fresh process (the sandbox's settings are in the environment it inherits), as a web
# or worker process starts: Django set up, then every active model loaded.
_FRESH_PROCESS = """
import json, django
django.setup()
from ml import runtime
before = runtime.resident_bytes()
loaded = runtime.load_active_models()
print(json.dumps({"before": before, "after": runtime.resident_bytes(), "loaded": loaded}))
"""


def fresh_process_memory() -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _save_version(model, **fields):
    import tempfile
    from pathlib import Path

    from django.core.files import File

    from ml.models import ModelVersion

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{fields['name']}.keras"
        model.save(path)
        version = ModelVersion(status=ModelVersion.Status.READY, is_active=True, **fields)
        with open(path, "rb") as handle:
            version.artifact.save(path.name, File(handle), save=False)
    version.save()
    return version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()

    # A benchmark of one client: the per-IP classify limit (60/min) would answer 429s.
    os.environ["API_THROTTLE_RATES"] = "classify_user=none,classify_ip=none"
    django_sandbox()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from ml import attributes, cnn, imagenet, runtime
    from ml.models import ModelVersion
    from ml.synthetic import DEMO_CITIES, draw_city_photo

    classes = sorted(DEMO_CITIES[:24])
    city = cnn.make_model(
        backbone="efficientnetlite0", num_classes=len(classes), image_size=128, weights="imagenet"
    )
    _save_version(
        city, name="bench-city", kind=ModelVersion.Kind.CITY, classes=classes, image_size=128
    )
    names = list(attributes.DEMO_ATTRIBUTES)
    _save_version(
        attributes.make_model(attribute_count=len(names), image_size=128),
        name="bench-attributes", kind=ModelVersion.Kind.ATTRIBUTES, classes=names, image_size=128,
    )  # fmt: skip
    ModelVersion.objects.filter(pk=imagenet.model_version_imagenet_ensure().pk).update(
        is_active=True
    )
    memory = fresh_process_memory()
    runtime.load_active_models()

    buffer = io.BytesIO()
    draw_city_photo("paris", 1, size=640).crop((0, 80, 640, 560)).save(buffer, "JPEG", quality=88)
    content = buffer.getvalue()
    client = Client(HTTP_HOST="localhost")

    def send(query: str) -> None:
        upload = SimpleUploadedFile("p.jpg", content, content_type="image/jpeg")
        response = client.post(f"/api/v1/classify?{query}", {"file": upload})
        assert response.status_code == 200, response.content[:300]

    def measure(queries: list[str]) -> list[float]:
        for _ in range(5):
            for query in queries:
                send(query)  # warm-up: graph tracing
        latencies = []
        for _ in range(args.requests):
            started = time.perf_counter()
            for query in queries:
                send(query)
            latencies.append((time.perf_counter() - started) * 1000)
        return latencies

    rows = {
        "`?models=city`": measure(["models=city"]),
        "`?models=city,attributes,imagenet`": measure(["models=city,attributes,imagenet"]),
        "three requests, one kind each": measure(
            ["models=city", "models=attributes", "models=imagenet"]
        ),
    }
    one = percentile(rows["`?models=city`"], 50)
    print(f"classify, one 640x480 JPEG ({len(content):,} bytes), {args.requests} requests each")
    print("| request | p50 (ms) | p95 (ms) | p50 / one kind |")
    print("|---|---:|---:|---:|")
    for label, latencies in rows.items():
        p50 = percentile(latencies, 50)
        print(f"| {label} | {p50:.1f} | {percentile(latencies, 95):.1f} | {p50 / one:.2f} |")
    print()
    print("| resident memory of a fresh process (ml.runtime.load_active_models) | MB |")
    print("|---|---:|")
    print(f"| Django set up, no model loaded | {memory['before'] / 2**20:.0f} |")
    for name, entry in memory["loaded"].items():
        print(
            f"| + {name} ({entry['kind']}, loaded in {entry['seconds']} s) "
            f"| +{entry['memory_bytes'] / 2**20:.0f} |"
        )
    print(f"| every kind loaded | {memory['after'] / 2**20:.0f} |")
    print("(The first model loaded also carries TensorFlow's import.)")


if __name__ == "__main__":
    main()
