"""Pictures the tests and benchmarks make: sharp, contrasty, different for every seed, as JPEG
or PNG bytes."""

import io

import numpy as np
from PIL import Image


def textured(seed: int, size=(480, 360), brightness=1.0) -> Image.Image:
    """A sharp, contrasty test picture, different for every seed."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(30, 225, size=(size[1] // 24 + 1, size[0] // 24 + 1, 3))
    pixels = np.kron(blocks, np.ones((24, 24, 1)))[: size[1], : size[0]]
    pixels = pixels + rng.normal(0, 12, pixels.shape)
    return Image.fromarray(np.clip(pixels * brightness, 0, 255).astype(np.uint8))


def jpeg(image: Image.Image, quality=90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
