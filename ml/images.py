"""Decoding and resizing images for the CNN (Pillow)."""

import io

import numpy as np
from PIL import Image, ImageOps


def load_pixels(source, size: int) -> np.ndarray:
    """RGB pixels (size x size x 3, uint8) of an image file path, file object or bytes:
    EXIF orientation applied, centre-cropped to a square, resized."""
    if isinstance(source, bytes | bytearray):
        source = io.BytesIO(source)
    with Image.open(source) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
        image = ImageOps.fit(image, (size, size), method=Image.Resampling.BILINEAR)
        return np.asarray(image, dtype=np.uint8)
