"""The photos app's pipeline steps (see photos/pipeline.py): fetch, validate, dedupe, quality,
publish. Each takes the photo, does one thing, and returns its output for ``analysis``."""

import hashlib
import io
import ipaddress
import mimetypes
import socket
from urllib.parse import urljoin, urlsplit

import numpy as np
import requests
from django.conf import settings
from django.db import connection, transaction
from PIL import Image, ImageOps

from . import services
from .models import Photo
from .pipeline import Rejected, StopPipeline, TransientStepError

USER_AGENT = "CityVibes-ingest/1.0"
DEDUPE_LOCK_KEY = 7_402_113  # any constant: the PostgreSQL advisory lock of the dedupe step
# libjpeg's standard luminance quantisation table (quality 50), for estimating JPEG quality.
_JPEG_LUMA_Q50 = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69,
    56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104,
    113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
])  # fmt: skip


# ---- fetch ----------------------------------------------------------------------------------


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _check_destination(url: str) -> None:
    """Refuse URLs whose host resolves to loopback, private, link-local (cloud metadata),
    multicast or reserved addresses, unless the host is in PHOTO_FETCH_ALLOWED_HOSTS."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Rejected(f"Not an http(s) URL: {url[:200]}")
    host = parts.hostname.lower()
    if host in {allowed.lower() for allowed in settings.PHOTO_FETCH_ALLOWED_HOSTS}:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except ValueError as error:  # a port out of range
        raise Rejected(f"Bad URL: {error}") from error
    except socket.gaierror as error:
        if error.errno == socket.EAI_AGAIN:
            raise TransientStepError(f"DNS lookup of {host} failed for now: {error}") from error
        raise Rejected(f"The host {host} does not resolve: {error}") from error
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not _is_public(address):
            raise Rejected(
                f"{host} resolves to {address}, a loopback, private, link-local or reserved "
                "address: not fetched (SSRF protection)."
            )


def fetch(photo: Photo) -> dict:
    """Download the photo's URL: a timeout, a size cap, every redirect re-checked, and no
    requests to non-public addresses. Skipped for uploads (the file is stored already)."""
    if photo.image:
        return {"skipped": "image stored already", "bytes": photo.image.size}
    url, redirects = photo.image_url, 0
    session = requests.Session()
    session.trust_env = False  # no proxies from the environment: we check where we connect
    limit = settings.PHOTO_FETCH_MAX_BYTES
    while True:
        _check_destination(url)
        try:
            response = session.get(
                url,
                stream=True,
                allow_redirects=False,
                timeout=settings.PHOTO_FETCH_TIMEOUT,
                headers={"User-Agent": USER_AGENT, "Accept": "image/*"},
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            raise TransientStepError(f"Could not download {url[:200]}: {error}") from error
        except requests.RequestException as error:
            raise Rejected(f"Could not download {url[:200]}: {error}") from error
        with response:
            if response.is_redirect:
                redirects += 1
                if redirects > settings.PHOTO_FETCH_MAX_REDIRECTS:
                    raise Rejected(f"More than {settings.PHOTO_FETCH_MAX_REDIRECTS} redirects.")
                url = urljoin(url, response.headers.get("Location", ""))
                continue
            if response.status_code >= 500 or response.status_code in (408, 429):
                raise TransientStepError(f"The server answered HTTP {response.status_code}.")
            if response.status_code >= 400:
                raise Rejected(f"The server answered HTTP {response.status_code}.")
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > limit:
                raise Rejected(f"The file is {declared:,} bytes, over the {limit:,} limit.")
            content = bytearray()
            try:
                for chunk in response.iter_content(64 * 1024):
                    content += chunk
                    if len(content) > limit:
                        raise Rejected(f"The file is over the {limit:,} byte limit.")
            except requests.RequestException as error:
                raise TransientStepError(f"The download broke off: {error}") from error
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
            break
    if not content:
        raise Rejected("The server sent an empty file.")
    extension = mimetypes.guess_extension(content_type) or ".img"
    services.photo_store_file(
        photo_id=photo.pk, field="image", name=f"{photo.pk}{extension}", content=bytes(content)
    )
    return {"url": url, "redirects": redirects, "bytes": len(content), "content_type": content_type}


# ---- validate -------------------------------------------------------------------------------


def _jpeg_bytes(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def validate(photo: Photo) -> dict:
    """Decode with Pillow (format, pixel limit against decompression bombs, truncation), apply
    the EXIF orientation, store a normalised RGB JPEG and a thumbnail."""
    from ml.images import ImageProblem, open_checked

    try:
        with photo.image.open("rb") as handle:
            image = open_checked(handle, max_pixels=settings.ML_MAX_IMAGE_PIXELS)
    except ImageProblem as problem:
        raise Rejected(str(problem)) from problem
    except OSError as error:
        raise TransientStepError(f"The stored file cannot be read: {error}") from error
    with image:
        orientation = image.getexif().get(0x0112, 1)
        upright = ImageOps.exif_transpose(image).convert("RGB")
        output = {
            "format": image.format,
            "width": image.width,
            "height": image.height,
            "mode": image.mode,
            "exif_orientation": orientation,
        }
    normalized = upright.copy()
    normalized.thumbnail((settings.PHOTO_NORMALIZED_MAX_SIDE,) * 2, Image.Resampling.LANCZOS)
    thumbnail = upright.copy()
    thumbnail.thumbnail((settings.PHOTO_THUMBNAIL_SIDE,) * 2, Image.Resampling.LANCZOS)
    services.photo_store_file(
        photo_id=photo.pk,
        field="normalized",
        name=f"{photo.pk}.jpg",
        content=_jpeg_bytes(normalized, 90),
    )
    services.photo_store_file(
        photo_id=photo.pk,
        field="thumbnail",
        name=f"{photo.pk}.jpg",
        content=_jpeg_bytes(thumbnail, 85),
    )
    output["normalized_size"] = [normalized.width, normalized.height]
    return output


# ---- dedupe ---------------------------------------------------------------------------------


def _sha256(field) -> str:
    digest = hashlib.sha256()
    with field.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _hamming(hashes: list[str], target: str) -> np.ndarray:
    values = np.array([int(value, 16) for value in hashes], dtype=np.uint64)
    xor = values ^ np.uint64(int(target, 16))
    return np.unpackbits(xor.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1)


def dedupe(photo: Photo) -> dict:
    """Exact (SHA-256 of the file) and near (64-bit perceptual hash within
    PHOTO_DEDUPE_MAX_DISTANCE bits) duplicates of a photo already in the pipeline or the deck
    are linked to it and go no further. Serialised (an advisory lock on PostgreSQL; SQLite's
    IMMEDIATE transactions), so two copies processed at once cannot both pass."""
    import imagehash

    sha = _sha256(photo.image)
    with photo.normalized.open("rb") as handle, Image.open(handle) as image:
        phash = str(imagehash.phash(image))
    output = {"sha256": sha, "perceptual_hash": phash}
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DEDUPE_LOCK_KEY])
        peers = Photo.objects.exclude(pk=photo.pk).exclude(
            status__in=[Photo.Status.REJECTED, Photo.Status.DUPLICATE, Photo.Status.FAILED]
        )
        original, kind = peers.filter(content_sha256=sha).order_by("pk").first(), "exact"
        if original is None:
            rows = list(peers.exclude(perceptual_hash="").values_list("pk", "perceptual_hash"))
            if rows:
                distances = _hamming([value for _, value in rows], phash)
                best = int(np.argmin(distances))
                output["nearest"] = {"photo": rows[best][0], "distance": int(distances[best])}
                if distances[best] <= settings.PHOTO_DEDUPE_MAX_DISTANCE:
                    original = Photo.objects.get(pk=rows[best][0])
                    kind = f"near ({int(distances[best])} bits apart)"
        services.photo_record_hashes(
            photo_id=photo.pk,
            sha256=sha,
            perceptual_hash=phash,
            duplicate_of_id=original.pk if original else None,
        )
    if original is not None:
        output["duplicate_of"] = original.pk
        raise StopPipeline(
            Photo.Status.DUPLICATE,
            f"{kind.capitalize()} duplicate of photo #{original.pk}.",
            output,
        )
    return output


# ---- quality --------------------------------------------------------------------------------


def _jpeg_quality(field) -> int | None:
    """libjpeg quality (1-100) estimated from the luminance quantisation table."""
    with field.open("rb") as handle, Image.open(handle) as image:
        tables = getattr(image, "quantization", None)
        if image.format != "JPEG" or not tables:
            return None
        luma = np.array(tables[0], dtype=float)
    scale = float(np.mean(luma / _JPEG_LUMA_Q50) * 100)
    quality = (200 - scale) / 2 if scale <= 100 else 5000 / scale
    return round(min(max(quality, 1), 100))


def quality(photo: Photo) -> dict:
    """Brightness, contrast, sharpness (variance of the Laplacian on a 512 px copy), JPEG
    quality and size; the PHOTO_QUALITY_GATE keeps too dark, flat, blurry or small photos out."""
    with photo.normalized.open("rb") as handle, Image.open(handle) as image:
        gray = image.convert("L")
    pixels = np.asarray(gray, dtype=np.float32)
    small = gray.copy()
    small.thumbnail((512, 512), Image.Resampling.BILINEAR)
    g = np.asarray(small, dtype=np.float32)
    laplacian = g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4 * g[1:-1, 1:-1]
    validated = photo.analysis.get("validate", {}).get("output", {})
    width, height = validated.get("width", gray.width), validated.get("height", gray.height)
    output = {
        "brightness": round(float(pixels.mean()), 2),
        "contrast": round(float(pixels.std()), 2),
        "sharpness": round(float(laplacian.var()), 2),
        "jpeg_quality": _jpeg_quality(photo.image),
        "width": width,
        "height": height,
    }
    gate = settings.PHOTO_QUALITY_GATE
    problems = []
    if min(width, height) < gate["min_side"]:
        problems.append(f"too small ({width} x {height} < {gate['min_side']} px)")
    if output["brightness"] < gate["min_brightness"]:
        problems.append(f"too dark (brightness {output['brightness']} < {gate['min_brightness']})")
    if output["contrast"] < gate["min_contrast"]:
        problems.append(f"too flat (contrast {output['contrast']} < {gate['min_contrast']})")
    if output["sharpness"] < gate["min_sharpness"]:
        problems.append(f"too blurry (sharpness {output['sharpness']} < {gate['min_sharpness']})")
    if problems:
        raise Rejected("Quality gate: " + "; ".join(problems) + ".", output)
    return output


# ---- publish --------------------------------------------------------------------------------


def publish(photo: Photo) -> dict:
    """The photo gets its place at the end of the queue and enters the deck."""
    position = services.photo_publish(photo_id=photo.pk)
    return {"queue_position": position}
