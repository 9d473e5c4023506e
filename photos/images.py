"""Images in and out: which formats are accepted (one table), decoding an untrusted file safely,
and encoding what the site stores. Every stored image is one this site decoded and wrote itself
from the pixels alone, so a file's bytes, format and extension always agree and nothing else a
client sent (markup and scripts in comments, EXIF such as GPS positions, ICC profiles, text
chunks) survives."""

import io
import warnings

import numpy as np
from django.conf import settings
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

# The accepted formats (Pillow's names): the file names an import may carry for each, and how the
# validate step stores it. Formats with one natural lossless home keep their own; GIF (one frame
# of it) and BMP become PNG. Everything else (TIFF, HEIC, SVG, ...) is refused.
FORMATS = {
    "JPEG": {"suffixes": (".jpg", ".jpeg"), "stored_as": ("JPEG", ".jpg")},
    "PNG": {"suffixes": (".png",), "stored_as": ("PNG", ".png")},
    "WEBP": {"suffixes": (".webp",), "stored_as": ("WEBP", ".webp")},
    "GIF": {"suffixes": (".gif",), "stored_as": ("PNG", ".png")},
    "BMP": {"suffixes": (".bmp",), "stored_as": ("PNG", ".png")},
}
ACCEPTED_FORMATS = tuple(FORMATS)
IMAGE_FILE_SUFFIXES = tuple(suffix for spec in FORMATS.values() for suffix in spec["suffixes"])
JPEG_QUALITY = 92  # the full-size copy; the normalised copy and the thumbnail use less


# ---- decoding -------------------------------------------------------------------------------


class ImageProblem(ValueError):
    """The file is not an image we can safely decode; the message says why, for a person."""


def open_checked(
    source, *, max_pixels: int | None = None, min_side: int | None = None
) -> Image.Image:
    """Open and fully decode an image file path, file object or bytes, refusing empty,
    non-image, unsupported, truncated and oversized (decompression bomb) files.

    The pixel count is checked from the header, before anything is decoded, so a tiny file that
    claims 50,000 x 50,000 pixels costs nothing. With ``min_side``, a JPEG is decoded at the
    smallest 1/2, 1/4 or 1/8 scale that keeps both sides at least that long (libjpeg's DCT
    scaling: several times faster than decoding every pixel and then shrinking). The pixel
    limit defaults to settings.ML_MAX_IMAGE_PIXELS."""
    max_pixels = max_pixels or settings.ML_MAX_IMAGE_PIXELS
    if isinstance(source, bytes | bytearray):
        source = io.BytesIO(source)
    if hasattr(source, "seek"):
        source.seek(0, io.SEEK_END)
        if source.tell() == 0:
            raise ImageProblem("The file is empty.")
        source.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)  # reads the header only
    except UnidentifiedImageError as error:
        raise ImageProblem("The file is not an image (or not a format we can read).") from error
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageProblem(
            f"The image has too many pixels (decompression bomb): {error}"
        ) from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageProblem(f"The image header is corrupt: {error}") from error
    try:
        _check_and_decode(image, max_pixels, min_side)
    except BaseException:
        image.close()
        raise
    return image


def _check_and_decode(image: Image.Image, max_pixels: int, min_side: int | None) -> None:
    if image.format not in ACCEPTED_FORMATS:
        raise ImageProblem(
            f"{image.format} images are not accepted; send one of {', '.join(ACCEPTED_FORMATS)}."
        )
    width, height = image.size
    if width * height > max_pixels:
        raise ImageProblem(
            f"The image is {width} x {height} pixels, more than the limit of {max_pixels:,} "
            "pixels (possible decompression bomb)."
        )
    if min_side and image.format == "JPEG":
        image.draft("RGB", (min_side, min_side))
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        # Pillow reports cut-off data as OSError("image file is truncated ...").
        raise ImageProblem(f"The image is truncated or corrupt: {error}") from error


def pixels_of(image: Image.Image, size: int) -> np.ndarray:
    """RGB pixels (size x size x 3, uint8): EXIF orientation applied, centre-cropped to a
    square, resized."""
    image = ImageOps.exif_transpose(image).convert("RGB")
    image = ImageOps.fit(image, (size, size), method=Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.uint8)


def load_pixels(source, size: int, *, max_pixels: int | None = None) -> np.ndarray:
    """``pixels_of`` a file path, file object or bytes; ImageProblem if it cannot be used."""
    with open_checked(source, max_pixels=max_pixels, min_side=size) as image:
        return pixels_of(image, size)


def quality_measures(image: Image.Image) -> dict:
    """What the quality gate (ingest.steps.quality) measures on a photo's normalised copy:
    brightness (mean grey, 0-255), contrast (its standard deviation) and sharpness (variance of
    the 4-neighbour Laplacian on a copy thumbnailed to 512 px, bilinear), each rounded to 0.01.
    The study of the gate's thresholds (ml.preprocessing_study) measures with it too."""
    gray = image.convert("L")
    pixels = np.asarray(gray, dtype=np.float32)
    small = gray.copy()
    small.thumbnail((512, 512), Image.Resampling.BILINEAR)
    g = np.asarray(small, dtype=np.float32)
    laplacian = g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4 * g[1:-1, 1:-1]
    return {
        "brightness": round(float(pixels.mean()), 2),
        "contrast": round(float(pixels.std()), 2),
        "sharpness": round(float(laplacian.var()), 2),
    }


# ---- encoding -------------------------------------------------------------------------------

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
    stored_format, extension = FORMATS[decoded_format]["stored_as"]
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
