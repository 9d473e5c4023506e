"""Encoding the images the site stores and serves: every stored image is one this site decoded
and wrote itself from the pixels alone, so a file's bytes, format and extension always agree and
nothing else a client sent (markup and scripts in comments, EXIF such as GPS positions, ICC
profiles, text chunks) survives."""

import io

import numpy as np
from PIL import Image, ImageCms, ImageOps

# File names an archive entry or a folder file may have to be imported as a photo; the validate
# step decides from the bytes what really is an image.
IMAGE_FILE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp")
# Decoded format -> (format to write, extension). Formats with one natural lossless home keep
# their own; GIF (one frame of it) and BMP become PNG.
STORED_FORMATS = {
    "JPEG": ("JPEG", ".jpg"),
    "PNG": ("PNG", ".png"),
    "WEBP": ("WEBP", ".webp"),
    "GIF": ("PNG", ".png"),
    "BMP": ("PNG", ".png"),
}
JPEG_QUALITY = 92  # the full-size copy; the normalised copy and the thumbnail use less

# libjpeg's standard luminance quantisation table (quality 50), for estimating JPEG quality.
_JPEG_LUMA_Q50 = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69,
    56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104,
    113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
])  # fmt: skip


def upright(image: Image.Image) -> Image.Image:
    """The decoded pixels turned by their EXIF orientation, in sRGB RGB (or RGBA when there is
    alpha), carrying nothing else of the file: Pillow writes what ``info`` holds (comments, ICC
    profiles, ...) into the files it saves, so ``info`` is emptied."""
    turned = ImageOps.exif_transpose(image)
    has_alpha = turned.mode in ("RGBA", "LA", "PA") or "transparency" in turned.info
    mode = "RGBA" if has_alpha else "RGB"
    converted = _to_srgb(turned, mode) or turned.convert(mode)
    converted.info = {}
    return converted


def _to_srgb(image: Image.Image, mode: str) -> Image.Image | None:
    """The image converted from its embedded ICC profile to sRGB (a wide-gamut phone photo keeps
    its colours once the profile is dropped); None without a usable profile."""
    profile = image.info.get("icc_profile")
    if not profile:
        return None
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        return ImageCms.profileToProfile(
            image.convert(mode), source, ImageCms.createProfile("sRGB"), outputMode=mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # a broken or hostile profile: the pixels as they are


def encode(image: Image.Image, decoded_format: str) -> tuple[bytes, str]:
    """``image`` (already upright) written anew in the stored format of ``decoded_format``;
    returns (bytes, extension). No metadata is copied."""
    stored_format, extension = STORED_FORMATS[decoded_format]
    if stored_format == "JPEG" and image.mode != "RGB":
        image = image.convert("RGB")
    options = {
        "JPEG": {"quality": JPEG_QUALITY, "optimize": True},
        "PNG": {"optimize": True},
        "WEBP": {"quality": JPEG_QUALITY, "method": 4},
    }[stored_format]
    buffer = io.BytesIO()
    image.save(buffer, format=stored_format, **options)
    return buffer.getvalue(), extension


def jpeg_bytes(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def jpeg_quality(image: Image.Image) -> int | None:
    """libjpeg quality (1-100) of a decoded JPEG, estimated from its luminance quantisation
    table; None for other formats."""
    tables = getattr(image, "quantization", None)
    if image.format != "JPEG" or not tables:
        return None
    luma = np.array(tables[0], dtype=float)
    scale = float(np.mean(luma / _JPEG_LUMA_Q50) * 100)
    quality = (200 - scale) / 2 if scale <= 100 else 5000 / scale
    return round(min(max(quality, 1), 100))
