"""Drawing primitives for the synthetic city photos (ml/cityscape.py composes them into scenes).

Shapes are anti-aliased by their exact pixel coverage (a pixel ``i`` covers ``[i, i + 1)``), or
by a signed distance for curves, so edges never stair-step at any resolution; soft things (sky,
clouds, haze, glows) are smooth fields made at low resolution and resized. Colours and coverage
are worked out as floats (0-1) in NumPy over each shape's bounding box only; the canvas is an RGB
Pillow image, and blending onto it (``paste`` with a mask) is Pillow's C code, several times
cheaper than blending float arrays at full resolution."""

import colorsys

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter


def hsv(hue: float, saturation: float, value: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(hue % 1, min(saturation, 1), value), dtype=np.float32)


def to_bytes(values: np.ndarray) -> np.ndarray:
    """Floats 0-1 as 0-255 levels (uint8), rounded."""
    return np.clip(values * 255 + 0.5, 0, 255).astype(np.uint8)


def to_image(planar: np.ndarray) -> Image.Image:
    """An RGB image of a planar (3 x H x W) float colour field."""
    return Image.merge("RGB", [Image.fromarray(plane) for plane in to_bytes(planar)])


def planes(image: Image.Image) -> np.ndarray:
    """The planar (3 x H x W) float colour field of an RGB image."""
    return np.stack([np.asarray(band, dtype=np.float32) for band in image.split()]) / 255


def _unit(values: np.ndarray) -> np.ndarray:
    """``values`` clipped to 0-1 (two ufuncs: np.clip's wrapper costs more on small arrays)."""
    return np.minimum(np.maximum(values, 0, out=values), 1, out=values)


def span(start: float, stop: float, first: int, count: int) -> np.ndarray:
    """How much of each pixel ``first .. first + count - 1`` the interval [start, stop) covers."""
    left = np.arange(first, first + count, dtype=np.float32)
    return _unit(np.minimum(left + 1, stop) - np.maximum(left, start))


def periodic_span(start: float, period: float, size: float, repeats: int, first: int, count: int):
    """Coverage of ``repeats`` intervals of ``size`` every ``period`` from ``start`` (a row of
    windows), and the index of the interval each pixel is nearest to."""

    def covered(t):  # the covered length in [start, t)
        t = np.clip(t - start, 0, repeats * period)
        return np.floor(t / period) * size + np.minimum(t % period, size)

    left = np.arange(first, first + count, dtype=np.float32)
    index = np.clip(((left + 0.5 - start) // period).astype(int), 0, repeats - 1)
    return covered(left + 1) - covered(left), index


def box(canvas: Image.Image, x0: float, y0: float, x1: float, y1: float):
    """The pixel box (x0, y0, x1, y1) of ``canvas`` a shape within x0-x1, y0-y1 touches, or
    None when it is off the picture."""
    width, height = canvas.size
    ix0, iy0 = max(int(np.floor(x0)), 0), max(int(np.floor(y0)), 0)
    ix1, iy1 = min(int(np.ceil(x1)), width), min(int(np.ceil(y1)), height)
    if ix1 <= ix0 or iy1 <= iy0:
        return None
    return ix0, iy0, ix1, iy1


def paint(canvas: Image.Image, where, colour, alpha: np.ndarray) -> None:
    """Blend ``colour`` (an RGB triple, or a planar field the size of the box) over the box
    ``where`` with per-pixel ``alpha``."""
    mask = Image.fromarray(to_bytes(alpha))
    colour = np.asarray(colour, dtype=np.float32)
    if colour.ndim == 1:
        canvas.paste(tuple(int(level) for level in to_bytes(colour)), where, mask)
    else:
        canvas.paste(to_image(colour), where[:2], mask)


def grid(where) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates (column vector ys, row vector xs) of a box."""
    x0, y0, x1, y1 = where
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] + 0.5
    xs = np.arange(x0, x1, dtype=np.float32)[None, :] + 0.5
    return ys, xs


def disc(canvas, cx: float, cy: float, radius: float, colour, opacity=1.0, soft=1.0, lit=None):
    """A filled circle, its edge ``soft`` pixels wide; ``lit`` (a unit vector towards the
    light) shades it like a ball (tree crowns)."""
    reach = radius + soft
    where = box(canvas, cx - reach, cy - reach, cx + reach, cy + reach)
    if where is None:
        return
    ys, xs = grid(where)
    alpha = _unit((radius - np.hypot(xs - cx, ys - cy)) / soft + 0.5) * opacity
    colour = np.asarray(colour, dtype=np.float32)
    if lit is not None:
        facing = ((xs - cx) * lit[0] + (ys - cy) * lit[1]) / max(radius, 1.0)
        colour = colour.reshape(3, 1, 1) * (1 + 0.3 * facing)
    paint(canvas, where, colour, alpha)


# Many small shapes of one colour (raindrops, snowflakes, stars, glints) are drawn by Pillow on
# one coverage sheet at twice the size, box-filtered down (anti-aliased) and pasted at once.
_SHEET_SCALE = 2


def dots(canvas: Image.Image, colour, dots) -> None:
    """Round dots ``(x, y, radius, opacity)`` of one colour (snowflakes, stars)."""
    sheet = Image.new("L", (canvas.width * _SHEET_SCALE, canvas.height * _SHEET_SCALE))
    draw = ImageDraw.Draw(sheet)
    for x, y, radius, opacity in dots:
        x, y, r = x * _SHEET_SCALE, y * _SHEET_SCALE, radius * _SHEET_SCALE
        draw.ellipse((x - r, y - r, x + r, y + r), fill=round(255 * opacity))
    _wash(canvas, sheet, colour)


def streaks(canvas: Image.Image, colour, lines) -> None:
    """Lines ``(x0, y0, x1, y1, thickness, opacity)`` of one colour that fade out towards both
    ends (raindrops caught by the shutter, glints on water)."""
    sheet = Image.new("L", (canvas.width * _SHEET_SCALE, canvas.height * _SHEET_SCALE))
    draw = ImageDraw.Draw(sheet)
    for x0, y0, x1, y1, thickness, opacity in lines:
        width = max(round(thickness * _SHEET_SCALE), 1)
        for start, stop, strength in ((0, 0.25, 0.5), (0.25, 0.75, 1.0), (0.75, 1, 0.5)):
            ends = [
                _SHEET_SCALE * (a + (b - a) * t)
                for t in (start, stop)
                for a, b in ((x0, x1), (y0, y1))
            ]
            draw.line(ends, fill=round(255 * opacity * strength), width=width)
    _wash(canvas, sheet, colour)


def _wash(canvas: Image.Image, sheet: Image.Image, colour) -> None:
    levels = tuple(int(level) for level in to_bytes(np.asarray(colour)))
    canvas.paste(levels, None, sheet.reduce(_SHEET_SCALE))


def dome(canvas, cx: float, base: float, radius: float, colour, lit: float) -> None:
    """The upper half of a circle standing on the line y = ``base``, lit from the side ``lit``
    (+1: the right)."""
    where = box(canvas, cx - radius - 1, base - radius - 1, cx + radius + 1, base + 1)
    if where is None:
        return
    ys, xs = grid(where)
    inside = radius + 0.5 - np.hypot(xs - cx, ys - base)
    alpha = _unit(np.minimum(inside, base + 1 - ys))
    shade = 1 + 0.35 * lit * (xs - cx) / radius - 0.15 * (base - ys) / radius
    paint(canvas, where, np.asarray(colour, dtype=np.float32).reshape(3, 1, 1) * shade, alpha)


def gable(canvas, x0: float, x1: float, base: float, rise: float, colour) -> None:
    """A triangle roof from (x0, base) to (x1, base) with its apex ``rise`` above the middle."""
    where = box(canvas, x0 - 1, base - rise - 1, x1 + 1, base + 1)
    if where is None:
        return
    ys, xs = grid(where)
    half = (x1 - x0) / 2
    slant = np.hypot(half, rise)  # to make the distance to each slanted edge one in pixels
    inside = (half * (ys - (base - rise)) - rise * np.abs(xs - x0 - half)) / slant
    paint(canvas, where, colour, _unit(np.minimum(inside + 0.5, base + 1 - ys)))


def smooth_noise(rng, height: int, width: int, cells: int, octaves: int = 4, squash: float = 1.0):
    """Fractal value noise (about -1 to 1) with ``cells`` features across the width, ``squash``
    times flatter than wide: random grids resized bicubically at a quarter of the resolution,
    then resized once more."""
    small = (max(width // 4, 8), max(height // 4, 8))
    total = np.zeros(small[::-1], dtype=np.float32)
    amplitude = 1.0
    for octave in range(octaves):
        across = cells * 2**octave
        shape = (max(round(across * squash * height / width), 1) + 3, across + 3)
        coarse = Image.fromarray(rng.standard_normal(shape).astype(np.float32), mode="F")
        total += amplitude * np.asarray(coarse.resize(small, Image.Resampling.BICUBIC))
        amplitude /= 2
    field = Image.fromarray(total / 1.5, mode="F").resize(
        (width, height), Image.Resampling.BILINEAR
    )
    return np.asarray(field)


def smooth_curve(rng, width: int, points: int) -> np.ndarray:
    """A smooth random curve (about -1 to 1) over ``width`` pixels with ``points`` features."""
    coarse = Image.fromarray(rng.standard_normal((1, points + 3)).astype(np.float32), mode="F")
    return np.asarray(coarse.resize((width, 1), Image.Resampling.BICUBIC))[0]


def bloom(image: Image.Image, threshold: int, radius: float, strength: float) -> Image.Image:
    """What is brighter than ``threshold`` (0-255) spills light around it (lit windows at night),
    worked out on a quarter-size copy since the halo is smooth."""
    gain = strength * 255 / (255 - threshold)
    table = [min(round(max(level - threshold, 0) * gain), 255) for level in range(256)]
    bright = image.reduce(4).point(table * 3)
    halo = bright.filter(ImageFilter.GaussianBlur(radius / 4)).resize(
        image.size, Image.Resampling.BILINEAR
    )
    return ImageChops.add(image, halo)
