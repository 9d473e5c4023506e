"""What is between a synthetic city (ml/cityscape.py) and the camera, and the camera: mist
lying on the ground, rain streaks, snowflakes near and far; the vignette, the glow around bright
lights, and film grain."""

import functools

import numpy as np
from PIL import Image, ImageChops

from . import scenery as sc


def fall(canvas, style, look, rng, horizon: float) -> None:
    width, height = canvas.size
    unit = width / 360
    if style.weather == "fog":  # a bank of mist lying on the ground, thickest at the horizon
        where = sc.box(canvas, 0, horizon - 0.3 * height, width, horizon + 0.35 * height)
        ys, _ = sc.grid(where)
        band = np.exp(-(((ys - horizon) / (0.12 * height)) ** 2))
        wisps = sc.smooth_noise(rng, where[3] - where[1], width, cells=4, octaves=3, squash=3)
        mist = np.clip(0.6 * look.haze * band * (0.75 + 0.35 * wisps), 0, 1)
        sc.paint(canvas, where, look.fog, mist)
    elif style.weather == "rain":  # streaks slanting in the wind
        xs, ys = rng.uniform(0, width, 320), rng.uniform(0, height, 320)
        lengths = unit * rng.uniform(10, 28, 320)
        thickness, opacity = unit * rng.uniform(0.3, 0.6, 320), rng.uniform(0.15, 0.45, 320)
        drops = zip(xs, ys, xs - 0.2 * lengths, ys + lengths, thickness, opacity, strict=True)
        sc.streaks(canvas, look.fog + (1 - look.fog) * 0.4, drops)
    elif style.weather == "snow":  # flakes; the few close to the lens big, soft and faint
        xs, ys = rng.uniform(0, width, 380), rng.uniform(0, height, 380)
        close = rng.random(380) < 0.12
        radii = unit * np.where(close, rng.uniform(1.8, 3.5, 380), rng.uniform(0.35, 1.1, 380))
        opacity = np.where(close, 0.35, rng.uniform(0.6, 1, 380))
        sc.dots(canvas, (0.97, 0.97, 1.0), zip(xs, ys, radii, opacity, strict=True))


@functools.lru_cache(maxsize=4)
def _film(width: int, height: int) -> tuple[Image.Image, Image.Image]:
    """A vignette, and a sheet of grain (128: none) with room to shift it per photo; the same
    for every photo of a size, since drawing fresh grain costs more than the whole camera."""
    xs = ((np.arange(width, dtype=np.float32) + 0.5) / width - 0.5) ** 2
    ys = ((np.arange(height, dtype=np.float32) + 0.5) / height - 0.5) ** 2
    vignette = sc.to_bytes(1 - 0.5 * (ys[:, None] + xs[None, :]))
    noise = np.random.default_rng(0).standard_normal((height + 64, width + 64), dtype=np.float32)
    grain = np.clip(128.5 + 2 * noise, 0, 255).astype(np.uint8)
    return Image.fromarray(vignette).convert("RGB"), Image.fromarray(grain).convert("RGB")


def lens(far: Image.Image, style) -> Image.Image:
    """Light falling off towards the corners and, at dusk and night, the glow of what is bright
    (lit windows, the moon) in the air around it: on the half-size picture, as both are smooth."""
    image = ImageChops.multiply(far, _film(*far.size)[0])
    if style.time_of_day == "day":
        return image
    return sc.bloom(image, threshold=150, radius=6 * far.size[0] / 360, strength=0.5)


def grain(canvas: Image.Image, rng) -> Image.Image:
    width, height = canvas.size
    dx, dy = (int(shift) for shift in rng.integers(0, 64, size=2))
    grain = _film(width, height)[1].crop((dx, dy, dx + width, dy + height))
    return ImageChops.add(canvas, grain, offset=-128)
