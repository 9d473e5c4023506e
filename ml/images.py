"""Decoding and resizing images for the CNN (Pillow), with the checks an untrusted file needs."""

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Formats a photo or a classify upload may be in (Pillow's format names).
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")
DEFAULT_MAX_PIXELS = 40_000_000


class ImageProblem(ValueError):
    """The file is not an image we can safely decode; the message says why, for a person."""


def open_checked(
    source, *, max_pixels: int = DEFAULT_MAX_PIXELS, min_side: int | None = None
) -> Image.Image:
    """Open and fully decode an image file path, file object or bytes, refusing empty,
    non-image, unsupported, truncated and oversized (decompression bomb) files.

    The pixel count is checked from the header, before anything is decoded, so a tiny file that
    claims 50,000 x 50,000 pixels costs nothing. With ``min_side``, a JPEG is decoded at the
    smallest 1/2, 1/4 or 1/8 scale that keeps both sides at least that long (libjpeg's DCT
    scaling: several times faster than decoding every pixel and then shrinking)."""
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


def load_pixels(source, size: int, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """``pixels_of`` a file path, file object or bytes; ImageProblem if it cannot be used."""
    with open_checked(source, max_pixels=max_pixels, min_side=size) as image:
        return pixels_of(image, size)
