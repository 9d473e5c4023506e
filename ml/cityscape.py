"""The layers of a synthetic city photo (ml/synthetic.py), back to front: the sky (gradient,
clouds, the sun or moon with its glow, stars), mountains, a far and a near skyline (facades with
a shaded side wall, windows that light up at dusk and night, flat, pointed or domed roofs),
water or ground (reflections; wet or snowy) and trees; then ml/weather.py adds what is between
them and the camera (mist, rain streaks, snowflakes) and the camera itself.

Every layer is hazed by its distance towards the fog colour: a little on a clear day (aerial
perspective), a lot in fog, so far layers fade more than near ones. What is behind the near
skyline, the ground and the glow are drawn at half size and resized (they are soft anyway);
the near skyline, trees and weather at full size. Sizes are fractions of the picture
(``unit`` = width / 360), so the same draws give the same scene at any size. Colour fields are
planar (3 x H x W): NumPy is many times faster on them than on H x W x 3."""

import numpy as np
from PIL import Image

from . import scenery as sc
from . import weather
from .scenery import hsv

SNOW = np.array((0.93, 0.95, 0.99), dtype=np.float32)
# The sun's (or moon's) colour and the strength of its glow in the sky.
_SUN = {
    "day": ((1.0, 0.95, 0.84), 0.3),
    "dusk": ((1.0, 0.6, 0.3), 0.6),
    "night": ((0.6, 0.65, 0.8), 0.12),
}
_LIT_WINDOWS = {"day": 0.0, "dusk": 0.3, "night": 0.55}  # share of windows with the light on
_CLOUD_COVER = {"clear": -0.45, "cloudy": 0.15, "rain": 0.35, "fog": -0.1, "snow": 0.25}


def draw(style, look, rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """The photo of ``style`` in the light ``look``."""
    horizon = height * float(rng.uniform(0.55, 0.76))
    sun = (look.sun[0] * width, look.sun[1] * horizon)
    half = ((width + 1) // 2, (height + 1) // 2)
    scale = half[0] / width
    low, sun_x = horizon * scale, sun[0] * scale
    near = int(rng.integers(2**63))  # the near skyline's own draws: it is drawn twice
    far = _sky(half, style, look, rng, low, (sun_x, sun[1] * scale))
    if style.mountains:
        _mountains(far, style, look, rng, low, sun_x)
    _skyline(far, style, look, rng, (low, low + 2), sun_x, depth=0.8)
    if style.water or style.weather == "rain":  # at half size too, for its reflection
        _skyline(far, style, look, np.random.default_rng(near), (low, low + 2), sun_x, depth=0.45)
    _ground(far, style, look, rng, low, sun_x)
    canvas = weather.lens(far, style).resize((width, height), Image.Resampling.BILINEAR)
    _skyline(canvas, style, look, np.random.default_rng(near), (horizon, horizon), sun[0], 0.45)
    _trees(canvas, style, look, rng, horizon, sun[0])
    weather.fall(canvas, style, look, rng, horizon)
    return weather.grain(canvas, rng)


def _planar(colour) -> np.ndarray:
    return np.asarray(colour, dtype=np.float32).reshape(3, 1, 1)


def _hazed(colour, look, depth: float):
    """``colour`` seen through the air up to a layer at ``depth`` (1: the farthest)."""
    fog = look.fog if np.ndim(colour) == 1 else _planar(look.fog)
    return colour + (fog - colour) * (look.haze * depth)


def _sky(size, style, look, rng, horizon: float, sun) -> Image.Image:
    """The sky at ``size``: its light and clouds worked out at half of that (they are smooth),
    the sun or moon and the stars drawn at ``size``."""
    width, height = (size[0] + 1) // 2, (size[1] + 1) // 2
    low, high = horizon / 2, (sun[0] / 2, sun[1] / 2)
    t = np.clip((np.arange(height, dtype=np.float32) + 0.5) / low, 0, 1)
    top, bottom, fog = (c[:, None] for c in (look.sky_top, look.sky_horizon, look.fog))
    ramp = top + (bottom - top) * t**1.4
    ramp += (fog - ramp) * (look.haze * t**3)
    field = np.repeat(ramp[:, :, None], width, axis=2)
    rows = min(int(np.ceil(low)) + 1, height)
    sky = field[:, :rows]
    colour, strength = _SUN[style.time_of_day]
    colour = np.array(colour, dtype=np.float32)
    xs = ((np.arange(width, dtype=np.float32) + 0.5 - high[0]) / width) ** 2
    ys = ((np.arange(rows, dtype=np.float32) + 0.5 - high[1]) / width) ** 2
    distance = ys[:, None] + xs[None, :]
    halo = np.exp(-distance / 0.08) + 0.8 * np.exp(-distance / 0.005)
    sky += _planar(colour) * (halo * (strength * (1 - 0.6 * look.overcast)))
    cover = _CLOUD_COVER[style.weather] + (0.15 if style.time_of_day == "night" else 0.0)
    cover += rng.uniform(-0.25, 0.25)  # some photos more cloudy than others
    noise = sc.smooth_noise(rng, rows, width, cells=3, octaves=5, squash=2.5)
    amount = np.clip((noise + cover) * 1.4, 0, 1) * np.clip(1.3 - t[:rows, None] ** 2, 0, 1)
    lit = _planar(look.sky_horizon * 0.6 + 0.4 * colour * look.light)
    shadow = _planar(look.sky_top * 0.75 + 0.1 * look.light)
    sky += (lit + (shadow - lit) * np.clip(0.5 + noise, 0, 1) - sky) * (amount * 0.9)
    canvas = sc.to_image(field).resize(size, Image.Resampling.BILINEAR)
    unit = size[0] / 360
    if style.time_of_day == "night":
        if look.overcast < 0.7:
            xs, ys = rng.uniform(0, size[0], 160), rng.uniform(0, 0.85, 160) * horizon
            brightness = rng.uniform(0.3, 1.0, 160) * (1 - ys / horizon)
            radii = rng.uniform(0.3, 0.7, 160) * unit
            sc.dots(canvas, (1, 1, 0.95), zip(xs, ys, radii, brightness, strict=True))
        sc.disc(canvas, *sun, 7 * unit, (0.95, 0.94, 0.86), 1 - 0.8 * look.overcast, soft=1.5)
    elif look.overcast < 0.7:
        core = (1.0, 0.98, 0.92) if style.time_of_day == "day" else (1.0, 0.82, 0.55)
        sc.disc(canvas, *sun, 11 * unit, core, 1 - look.overcast, soft=2.0)
    return canvas


def _mountains(canvas, style, look, rng, horizon: float, sun_x: float) -> None:
    width = canvas.size[0]
    rock = _planar(hsv(0.6, 0.2, 0.5) * look.light)
    towards_sun = 1 if sun_x > width / 2 else -1
    for depth, reach in ((1.0, rng.uniform(0.22, 0.38)), (0.88, rng.uniform(0.1, 0.2))):
        shape = sc.smooth_curve(rng, width, 5) + 0.35 * sc.smooth_curve(rng, width, 18)
        crags = 0.06 * sc.smooth_curve(rng, width, 90)
        profile = (shape + crags - shape.min()) / (np.ptp(shape) + 0.2)
        ridge = horizon - horizon * reach * (0.2 + 0.8 * profile)
        where = sc.box(canvas, 0, ridge.min(), width, horizon + 1)
        ys, _ = sc.grid(where)
        below = (ys - ridge[None, :]) / horizon
        facing = np.tanh(np.gradient(shape) * towards_sun * width / 8)[None, :]
        shade = 0.95 + 0.3 * facing * np.exp(-below / 0.12) - 0.5 * below
        colour = rock * shade
        if style.weather == "snow":  # snow down to a line below the peaks
            cap = np.clip((0.25 * reach - below) * horizon / 3, 0, 1)
            colour += (_planar(SNOW * look.light) * shade - colour) * cap
        alpha = np.clip(ys + 0.5 - ridge[None, :], 0, 1)
        sc.paint(canvas, where, _hazed(colour, look, depth), alpha)


def _skyline(canvas, style, look, rng, ground, sun_x, depth: float) -> None:
    """A row of buildings standing on ``ground`` = (horizon, where their walls end)."""
    width, height = canvas.size
    near = depth < 0.5
    count = int(4 + style.skyline_density * 26 * rng.uniform(0.8, 1.2) * (1 if near else 0.7))
    # weathering of the walls: faint bands along the floors and down the panels
    texture = (sc.smooth_curve(rng, height, 120), sc.smooth_curve(rng, width, 90))
    for _ in range(count):
        left = rng.uniform(-0.05, 1.0) * width
        right = left + width * rng.uniform(0.05, 0.13) * (1 if near else 0.8)
        rise = ground[0] * style.building_height * rng.uniform(0.35, 1) * (0.75 if near else 0.5)
        colour = hsv(
            style.hue + rng.normal(0, 0.04),
            style.saturation * rng.uniform(0.85, 1.1),
            rng.uniform(0.45, 0.85),
        )
        outline = (left, ground[0] - rise, right, ground[1])
        _building(canvas, style, look, rng, outline, colour * look.light, sun_x, texture, depth)


def _building(canvas, style, look, rng, outline, colour, sun_x, texture, depth) -> None:
    x0, top, x1, base = outline
    unit = canvas.size[0] / 360 * (1.0 if depth < 0.5 else 0.7)
    side = (x1 - x0) * rng.uniform(0.12, 0.25)
    front = (x0 + side, x1) if sun_x > (x0 + x1) / 2 else (x0, x1 - side)
    wall = (x0, x0 + side) if front[0] > x0 else (x1 - side, x1)
    period = (unit * rng.uniform(5.5, 8.5), unit * rng.uniform(7, 10.5))
    size = (period[0] * rng.uniform(0.4, 0.62), period[1] * rng.uniform(0.45, 0.62))
    columns = int((front[1] - front[0] - 0.6 * period[0]) // period[0])
    floors = int((base - top - 1.5 * period[1]) // period[1])
    lit = rng.random((max(floors, 1), max(columns, 1))) < _LIT_WINDOWS[style.time_of_day]
    tint = rng.uniform(0.15, 0.55, lit.shape).astype(np.float32)
    warmth = rng.uniform(0.75, 1.1, lit.shape).astype(np.float32)
    roof = (rng.uniform(0.3, 0.6), rng.uniform(0.28, 0.45))
    where = sc.box(canvas, x0, top, x1, base)
    if where is None:
        return
    ix0, iy0, ix1, iy1 = where
    keep, fog = 1 - look.haze * depth, _planar(look.fog * (look.haze * depth))  # the haze
    across = sc.span(x0, x1, ix0, ix1 - ix0)
    in_shade = 1 - (0.4 - 0.25 * look.overcast) * sc.span(*wall, ix0, ix1 - ix0)
    ys = (np.arange(iy0, iy1, dtype=np.float32) + 0.5 - top) / max(base - top, 1)
    down = (1.06 - 0.14 * ys) * (1 + 0.05 * texture[0][iy0:iy1])
    light = down[:, None] * (in_shade * (1 + 0.05 * texture[1][ix0:ix1]))[None, :]
    facade = _planar(colour * keep) * light + fog
    if columns >= 1 and floors >= 1:
        left = front[0] + (front[1] - front[0] - columns * period[0] + period[0] - size[0]) / 2
        wx, column = sc.periodic_span(left, period[0], size[0], columns, ix0, ix1 - ix0)
        first = top + 0.7 * period[1]
        wy, floor = sc.periodic_span(first, period[1], size[1], floors, iy0, iy1 - iy0)
        glass = 0.1 + _planar(look.sky_horizon * look.light - 0.1) * tint
        dark = 0.35 if style.time_of_day != "day" else 1.0
        cells = np.where(lit, _planar((1.0, 0.8, 0.5)) * warmth, glass * dark) * keep + fog
        # only the block of the front that has windows, each pane's colour repeated over it
        (c0, c1), (r0, r1) = _extent(wx), _extent(wy)
        panes = np.repeat(cells, np.bincount(floor[r0:r1], minlength=floors), axis=1)
        panes = np.repeat(panes, np.bincount(column[c0:c1], minlength=columns), axis=2)
        block = facade[:, r0:r1, c0:c1]
        block += (panes - block) * (wy[r0:r1, None] * wx[None, c0:c1])
    sc.paint(canvas, where, facade, sc.span(top, base, iy0, iy1 - iy0)[:, None] * across)
    snowy = style.weather == "snow"
    cap = _hazed(SNOW * look.light if snowy else colour * 0.55, look, depth)
    if style.roof == "pointed":
        overhang = 0.03 * (x1 - x0)
        sc.gable(canvas, x0 - overhang, x1 + overhang, top + 0.5, roof[0] * (x1 - x0), cap)
    elif style.roof == "domed":
        lit_side = 1 if sun_x > (x0 + x1) / 2 else -1
        sc.dome(canvas, (x0 + x1) / 2, top + 0.5, roof[1] * (x1 - x0), cap, lit_side)
    elif (rim := sc.box(canvas, x0, top - unit, x1, top + unit)) is not None:  # a parapet
        band = sc.span(top - (unit if snowy else 0), top + unit, rim[1], rim[3] - rim[1])
        sc.paint(canvas, rim, cap, band[:, None] * across[None, rim[0] - ix0 : rim[2] - ix0])


def _extent(cover: np.ndarray) -> tuple[int, int]:
    """The first and one past the last index where ``cover`` is not zero."""
    inside = np.flatnonzero(cover)
    return (int(inside[0]), int(inside[-1]) + 1) if len(inside) else (0, 0)


def _reflection(canvas, horizon: float, first: int, rng, ripple: float) -> np.ndarray:
    """What is above the horizon mirrored below it, rippled and smeared downwards (planar)."""
    width, height = canvas.size
    pixels = np.asarray(canvas)
    rows = np.arange(first, height, dtype=np.float32) + 0.5
    source = np.clip((2 * horizon - rows).astype(int), 0, height - 1)
    near = (rows - horizon) / (height - horizon)
    # ripples: waves nearer the camera look larger, so they shift further and repeat less often
    phase = rows * (360 / width) / (0.6 + 1.5 * near) + rng.uniform(0, 6)
    wave = ripple * width / 360 * (0.3 + 2.5 * near) * np.sin(phase)
    columns = np.clip(np.arange(width)[None, :] + wave.astype(int)[:, None], 0, width - 1)
    mirrored = Image.fromarray(pixels[source[:, None], columns])
    smeared = mirrored.resize((width // 2, max(len(rows) // 10, 1)), Image.Resampling.BOX)
    return sc.planes(smeared.resize((width, len(rows)), Image.Resampling.BICUBIC))


def _ground(canvas, style, look, rng, horizon: float, sun_x: float) -> None:
    """Water or land below the horizon; what is above shows in water and in wet ground."""
    width, height = canvas.size
    first = int(horizon)
    rows = height - first
    rows_down = np.arange(first, height, dtype=np.float32) + 0.5 - horizon
    near = np.clip(rows_down / rows, 0, 1)[:, None]
    noise = sc.smooth_noise(rng, rows, width, cells=24, octaves=3, squash=3)
    wet = style.weather == "rain"
    if style.water or wet:
        mirror = _reflection(canvas, horizon, first, rng, 1.5 if style.water else 0.5)
    if style.water:
        far, deep = _planar(look.sky_horizon * 0.9), _planar(hsv(0.57, 0.55, 0.34) * look.light)
        ground = (far + (deep - far) * near**0.6) * (1 + 0.06 * noise)
        ground += (mirror - ground) * (0.75 - 0.4 * near)
    else:
        if style.weather == "snow":
            surface = _planar(SNOW) * (0.98 + 0.04 * noise)
        elif style.greenery > 0.5:
            surface = _planar(hsv(0.25, 0.5, 0.42)) * (1 + 0.18 * noise)
        else:
            surface = _planar((0.5, 0.48, 0.45)) * (1 + 0.12 * noise)
        ground = surface * _planar(look.light * (0.55 if wet else 1.0))  # wet: darker, shiny
        if wet:
            ground += (mirror - ground) * (0.5 - 0.3 * near)
    ground += (_planar(look.fog) - ground) * (look.haze * (1 - near) ** 2)
    edge = sc.span(horizon, height, first, rows)  # the horizon, anti-aliased
    sc.paint(canvas, (0, first, width, height), ground, np.repeat(edge[:, None], width, axis=1))
    if style.water:  # glitter on the water under the sun or moon
        unit, count = width / 360, int(90 * (1 - 0.7 * look.overcast))
        depth = rng.uniform(0, 1, count) ** 1.5
        ys = horizon + depth * (height - horizon)
        xs = rng.normal(sun_x, width * 0.05 * (1 + 2 * depth))
        lengths = unit * rng.uniform(3, 12, count) * (0.4 + depth)
        widths, opacity = unit * 0.7 * (0.5 + depth), np.full(count, 0.8)
        glints = zip(xs - lengths, ys, xs + lengths, ys, widths, opacity, strict=True)
        sc.streaks(canvas, _SUN[style.time_of_day][0], glints)


def _trees(canvas, style, look, rng, horizon: float, sun_x: float) -> None:
    width, height = canvas.size
    unit = width / 360
    count = int(style.greenery * 14 * rng.uniform(0.6, 1.4))
    spots = sorted(
        (horizon + rng.uniform(-0.01, 0.05) * height, rng.uniform(0, width), rng.uniform(4, 12))
        for _ in range(count)
    )
    bark = _hazed(np.array((0.2, 0.14, 0.1), dtype=np.float32) * look.light, look, 0.3)
    for base, x, radius in spots:
        radius *= unit
        trunk = sc.box(canvas, x - 0.12 * radius, base - radius, x + 0.12 * radius, base)
        if trunk is not None:
            down = sc.span(base - radius, base, trunk[1], trunk[3] - trunk[1])
            across = sc.span(x - 0.12 * radius, x + 0.12 * radius, trunk[0], trunk[2] - trunk[0])
            sc.paint(canvas, trunk, bark, down[:, None] * across[None, :])
        leaves = hsv(rng.uniform(0.22, 0.36), rng.uniform(0.45, 0.7), rng.uniform(0.32, 0.5))
        if style.weather == "snow":
            leaves = leaves + (SNOW - leaves) * 0.5
        towards = (0.7 if sun_x > x else -0.7, -0.7)
        for _ in range(4):
            cx = x + rng.normal(0, 0.35) * radius
            cy = base - 1.4 * radius + rng.normal(0, 0.3) * radius
            colour = _hazed(leaves * look.light * rng.uniform(0.85, 1.1), look, 0.3)
            sc.disc(canvas, cx, cy, radius * rng.uniform(0.55, 0.85), colour, lit=towards)
