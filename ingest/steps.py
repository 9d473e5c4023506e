"""The pipeline steps (see ingest/pipeline.py): fetch, validate, quality, dedupe, score,
score_attributes, score_imagenet, publish. Each takes the photo, does one thing, and returns its
output for ``analysis``; what it stores goes through photos' (and ml's) services."""

import hashlib

from django.conf import settings
from django.db import connection, transaction
from PIL import Image

from ml import predictions, scoring
from ml.models import ModelVersion
from photos import images
from photos import selectors as photo_selectors
from photos import services as photo_services
from photos.images import ImageProblem, open_checked
from photos.models import Photo

from . import fetching
from .pipeline import Rejected, StopPipeline, TransientStepError, batched

DEDUPE_LOCK_KEY = 7_402_113  # any constant: the PostgreSQL advisory lock of the dedupe step


# ---- fetch ----------------------------------------------------------------------------------


def fetch(photo: Photo) -> dict:
    """Download the photo's URL (photos/fetching.py: every hop checked and pinned to the checked
    address, size and time limits) into the photo's incoming file, which only validate reads.
    Skipped for uploads (their bytes are there already)."""
    if photo.incoming or photo.image:
        stored = photo.incoming or photo.image
        return {"skipped": "received already", "bytes": stored.size}
    download = fetching.download(photo.image_url)
    photo_services.photo_store_incoming(photo_id=photo.pk, content=download.content)
    return {
        "url": download.url,
        "redirects": download.redirects,
        "bytes": len(download.content),
        "content_type": download.content_type[:100],
    }


# ---- validate -------------------------------------------------------------------------------


def _sha256(field) -> str:
    digest = hashlib.sha256()
    with field.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def validate(photo: Photo) -> dict:
    """Decode what was received with Pillow (accepted formats, pixel limit against decompression
    bombs, truncation), then store only what this site encodes itself: the image re-encoded
    upright without metadata, with its format's extension and a random name, a normalised JPEG
    and a thumbnail. The received bytes are deleted either way; their SHA-256 is kept for
    dedupe."""
    if not photo.incoming:
        if photo.image:  # a redelivered run: the files were stored before the worker died
            return photo.analysis.get("validate", {}).get("output") or {"validated": "before"}
        raise Rejected("Nothing was received to validate.")
    try:
        sha = _sha256(photo.incoming)
        with photo.incoming.open("rb") as handle:
            decoded = open_checked(handle)
    except ImageProblem as problem:
        photo_services.photo_discard_incoming(photo_id=photo.pk)
        raise Rejected(str(problem)) from problem
    except OSError as error:
        raise TransientStepError(f"The received file cannot be read: {error}") from error
    with decoded:
        output = {
            "format": decoded.format,
            "width": decoded.width,
            "height": decoded.height,
            "mode": decoded.mode,
            "exif_orientation": decoded.getexif().get(0x0112, 1),
            "jpeg_quality": images.jpeg_quality(decoded),
        }
        straight = images.upright(decoded)
    content, extension = images.encode(straight, output["format"])
    normalized = straight.copy()
    normalized.thumbnail((settings.PHOTO_NORMALIZED_MAX_SIDE,) * 2, Image.Resampling.LANCZOS)
    thumbnail = straight.copy()
    thumbnail.thumbnail((settings.PHOTO_THUMBNAIL_SIDE,) * 2, Image.Resampling.LANCZOS)
    photo_services.photo_store_validated(
        photo_id=photo.pk,
        image=content,
        extension=extension,
        normalized=images.jpeg_bytes(normalized, 90),
        thumbnail=images.jpeg_bytes(thumbnail, 85),
        content_sha256=sha,
    )
    output["stored_as"] = extension
    output["normalized_size"] = [normalized.width, normalized.height]
    return output


# ---- dedupe ---------------------------------------------------------------------------------


def _pixels(photo: Photo) -> int:
    validated = photo.analysis.get("validate", {}).get("output", {})
    return int(validated.get("width", 0)) * int(validated.get("height", 0))


def dedupe(photo: Photo) -> dict:
    """Exact (SHA-256 of the received bytes) and near (64-bit perceptual hash within
    PHOTO_DEDUPE_MAX_DISTANCE bits) copies of a photo that passed dedupe before (and the quality
    gate, which runs first) are linked to it and go no further. When that earlier photo is still
    on its way to the deck and this copy is larger, the larger one is kept instead. Serialised
    (an advisory lock on PostgreSQL; SQLite's IMMEDIATE transactions), so two copies processed at
    once cannot both pass."""
    import imagehash

    with photo.normalized.open("rb") as handle, Image.open(handle) as image:
        phash = str(imagehash.phash(image))
    output = {"sha256": photo.content_sha256, "perceptual_hash": phash}
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DEDUPE_LOCK_KEY])
        match = photo_selectors.dedupe_nearest(
            photo_id=photo.pk, sha256=photo.content_sha256, perceptual_hash=phash
        )
        if match is not None:
            output["nearest"] = {"photo": match.photo.pk, "distance": match.distance}
            if match.distance > settings.PHOTO_DEDUPE_MAX_DISTANCE:
                match = None
        if (
            match is not None
            and match.photo.status == Photo.Status.PENDING
            and _pixels(photo) > _pixels(match.photo)
            and photo_services.photo_supersede(photo_id=match.photo.pk, by_photo_id=photo.pk)
        ):
            output["kept_instead_of"] = match.photo.pk
            match = None
        photo_services.photo_record_hashes(
            photo_id=photo.pk,
            perceptual_hash=phash,
            duplicate_of_id=match.photo.pk if match else None,
        )
    if match is not None:
        output["duplicate_of"] = match.photo.pk
        kind = "Exact" if match.exact else f"Near ({match.distance} bits apart)"
        raise StopPipeline(
            Photo.Status.DUPLICATE, f"{kind} duplicate of photo #{match.photo.pk}.", output
        )
    return output


# ---- quality --------------------------------------------------------------------------------


def quality(photo: Photo) -> dict:
    """Brightness, contrast, sharpness (variance of the Laplacian on a 512 px copy; see
    photos.images.quality_measures), JPEG quality and size; the PHOTO_QUALITY_GATE keeps too
    dark, flat, blurry, compressed or small photos out."""
    with photo.normalized.open("rb") as handle, Image.open(handle) as image:
        measures = images.quality_measures(image)
        size = image.size
    validated = photo.analysis.get("validate", {}).get("output", {})
    width, height = validated.get("width", size[0]), validated.get("height", size[1])
    output = {
        **measures,
        "jpeg_quality": validated.get("jpeg_quality"),
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
    min_jpeg = gate.get("min_jpeg_quality")
    if min_jpeg and output["jpeg_quality"] is not None and output["jpeg_quality"] < min_jpeg:
        problems.append(f"too compressed (JPEG quality {output['jpeg_quality']} < {min_jpeg})")
    if problems:
        raise Rejected("Quality gate: " + "; ".join(problems) + ".", output)
    return output


# ---- score ----------------------------------------------------------------------------------
# The model steps run on micro-batches (ingest/batching.py): one predict for every photo waiting
# at the step. Each returns {photo id: output, or the TransientStepError that photo stays for}.


def _outcomes(photos: list[Photo], scored, output) -> dict[int, dict | Exception]:
    return {
        photo.pk: output(scored.version, scored.outputs[photo.pk])
        if photo.pk in scored.outputs
        else TransientStepError(scored.problems[photo.pk])
        for photo in photos
    }


def _city_output(version: ModelVersion, array: list[float]) -> dict:
    top = sorted(zip(version.classes, array, strict=True), key=lambda item: -item[1])[:3]
    return {"model": version.name, "top": [[slug, round(p, 4)] for slug, p in top]}


@batched
def score(photos: list[Photo]) -> dict[int, dict | Exception]:
    """Store the active model version's array on each photo (only publish puts it in the deck);
    with no model that can score yet, the photos wait and retry."""
    try:
        scored = scoring.photos_score_for_pipeline(photos=photos)
    except scoring.CannotScore as reason:
        return {photo.pk: TransientStepError(str(reason)) for photo in photos}
    return _outcomes(photos, scored, _city_output)


def _describe(photos: list[Photo], kind: str) -> dict[int, dict | Exception]:
    try:
        described = predictions.photos_describe_for_pipeline(photos=photos, kind=kind)
    except scoring.CannotScore as reason:
        return {photo.pk: TransientStepError(str(reason)) for photo in photos}
    if described is None:
        return {photo.pk: {"skipped": f"no active {kind} model"} for photo in photos}
    return _outcomes(
        photos,
        described,
        lambda version, scores: {
            "model": version.name,
            "top": [[label, p] for label, p in list(scores.items())[:5]],
        },
    )


@batched
def score_attributes(photos: list[Photo]) -> dict[int, dict | Exception]:
    """Store the active attribute model's probability of every attribute on each photo; nothing
    to do (and on to the next step) while no attribute model is active."""
    return _describe(photos, ModelVersion.Kind.ATTRIBUTES)


@batched
def score_imagenet(photos: list[Photo]) -> dict[int, dict | Exception]:
    """Store the active ImageNet classifier's top classes on each photo; skipped without one."""
    return _describe(photos, ModelVersion.Kind.IMAGENET)


# ---- publish --------------------------------------------------------------------------------


def publish(photo: Photo) -> dict:
    """The photo gets its place at the end of the queue and enters the deck: the only way in."""
    try:
        position = photo_services.photo_publish(photo_id=photo.pk)
    except photo_services.NotPublishable as gone:
        raise StopPipeline(gone.status, gone.reason) from gone
    return {"queue_position": position}
