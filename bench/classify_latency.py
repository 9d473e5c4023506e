"""Latency of POST /api/v1/classify for one image: p50/p95/p99 over many sequential requests.

    .venv/bin/python -m bench.classify_latency --requests 200
    .venv/bin/python -m bench.classify_latency --url http://127.0.0.1:8000   # a running server

In-process (default) it goes through Django's full request handling (middleware, multipart
parsing, image checks, model) with the test client, without a network hop; with --url it sends
real HTTP requests to a server you started (e.g. `make run`, or gunicorn)."""

import argparse
import io
import os
import time
import urllib.request
import uuid
from pathlib import Path

from bench.sandbox import django_sandbox, percentile


def _multipart(content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--url", default="", help="Base URL of a running server.")
    parser.add_argument("--backbone", default="mobilenetv3small")
    parser.add_argument("--image-size", type=int, default=64, help="64 = the demo model.")
    args = parser.parse_args()

    from PIL import Image  # noqa: F401 (Pillow is needed by the synthetic drawing)

    if not args.url:
        # A benchmark of one client: the per-IP classify limit (60/min) would answer 429s.
        os.environ["API_THROTTLE_RATES"] = "classify_user=none,classify_ip=none"
        django_sandbox()
    from ml.synthetic import draw_city_photo

    buffer = io.BytesIO()
    draw_city_photo("paris", 1, size=640).crop((0, 80, 640, 560)).save(buffer, "JPEG", quality=88)
    content = buffer.getvalue()

    if args.url:
        body, content_type = _multipart(content)

        def send():
            request = urllib.request.Request(
                args.url.rstrip("/") + "/api/v1/classify", data=body,
                headers={"Content-Type": content_type}, method="POST",
            )  # fmt: skip
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status == 200
                response.read()

        where = args.url
    else:
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.test import Client

        from ml import cnn
        from ml.models import ModelVersion
        from ml.synthetic import DEMO_CITIES

        classes = sorted(DEMO_CITIES[:24])
        model = cnn.make_model(
            backbone=args.backbone, num_classes=len(classes), image_size=args.image_size
        )
        from django.conf import settings

        path = Path(str(settings.PRIVATE_FILES_ROOT)) / "bench.keras"
        path.parent.mkdir(parents=True, exist_ok=True)
        model.save(path)
        version = ModelVersion(
            name="bench", kind=ModelVersion.Kind.CITY, classes=classes, backbone=args.backbone,
            image_size=args.image_size, is_active=True,
        )  # fmt: skip
        version.artifact.name = path.name
        version.save()
        client = Client(HTTP_HOST="localhost")

        def send():
            upload = SimpleUploadedFile("p.jpg", content, content_type="image/jpeg")
            response = client.post("/api/v1/classify", {"file": upload})
            assert response.status_code == 200, response.content[:300]

        where = f"in-process, {args.backbone} at {args.image_size}px"

    for _ in range(5):
        send()  # warm-up: model load, graph tracing
    latencies = []
    for _ in range(args.requests):
        started = time.perf_counter()
        send()
        latencies.append((time.perf_counter() - started) * 1000)
    print(f"classify, one 640x480 JPEG ({len(content):,} bytes), {args.requests} requests, {where}")
    print("| p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |")
    print("|---:|---:|---:|---:|")
    print(
        f"| {percentile(latencies, 50):.1f} | {percentile(latencies, 95):.1f} "
        f"| {percentile(latencies, 99):.1f} | {max(latencies):.1f} |"
    )


if __name__ == "__main__":
    main()
