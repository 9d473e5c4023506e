"""Synthetic city photos for the offline demo and the tests. SYNTHETIC: not photographs.

Each city gets a *style* that is a deterministic function of its slug (palette, skyline density
and height, roof shape, water, mountains, greenery, weather, time of day); each photo draws
that style with its own random variation (camera height, building placement, colour jitter),
so a CNN can learn a city's "vibe" but no two photos are the same."""

import hashlib
import io
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# The cities the demo deck is drawn for (seed_demo takes the first --cities of them).
DEMO_CITIES = (
    "amsterdam", "bangkok", "barcelona", "berlin", "buenos-aires", "cape-town", "chicago",
    "copenhagen", "dubai", "edinburgh", "hong-kong", "istanbul", "kyoto", "lisbon", "london",
    "mexico-city", "new-york", "paris", "prague", "reykjavik", "rio-de-janeiro", "rome",
    "san-francisco-bay-area", "seoul", "singapore", "stockholm", "sydney", "tokyo", "vancouver",
    "vienna",
)  # fmt: skip

# Photo indices from here on are never drawn by the demo seeder: held-out evaluation photos.
HELD_OUT_START = 100_000

WEATHERS = ("clear", "cloudy", "rain", "fog")
TIMES_OF_DAY = ("day", "dusk", "night")
ROOFS = ("flat", "pointed", "domed")


@dataclass(frozen=True)
class CityStyle:
    hue: float  # 0-1, the base colour of the buildings
    saturation: float
    skyline_density: float  # 0-1, how many buildings
    building_height: float  # 0-1, how tall
    roof: str
    water: bool
    mountains: bool
    greenery: float  # 0-1
    weather: str
    time_of_day: str

    def as_dict(self) -> dict:
        return asdict(self)


def _rng_for(*parts: object) -> np.random.Generator:
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def city_style(slug: str) -> CityStyle:
    rng = _rng_for("style", slug)
    return CityStyle(
        hue=float(rng.random()),
        saturation=float(rng.uniform(0.25, 0.85)),
        skyline_density=float(rng.uniform(0.1, 1.0)),
        building_height=float(rng.uniform(0.15, 0.9)),
        roof=ROOFS[rng.integers(len(ROOFS))],
        water=bool(rng.random() < 0.45),
        mountains=bool(rng.random() < 0.35),
        greenery=float(rng.uniform(0.0, 1.0)),
        weather=WEATHERS[rng.integers(len(WEATHERS))],
        time_of_day=TIMES_OF_DAY[rng.choice(3, p=[0.55, 0.25, 0.2])],
    )


def _hsv_to_rgb(h: float, s: float, v: float) -> tuple[int, int, int]:
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return int(r * 255), int(g * 255), int(b * 255)


_SKY = {
    "day": ((110, 170, 235), (200, 225, 250)),
    "dusk": ((70, 60, 130), (250, 150, 90)),
    "night": ((8, 12, 40), (35, 45, 90)),
}


def draw_city_photo(slug: str, index: int, size: int = 320) -> Image.Image:
    """Photo number ``index`` of a city, as an RGB image of ``size`` x ``size`` pixels."""
    style = city_style(slug)
    rng = _rng_for("photo", slug, index)
    width = height = size
    k = size / 192  # details (windows, trees, rain, ripples) scale with the picture
    horizon = int(height * rng.uniform(0.55, 0.75))
    brightness = {"day": 1.0, "dusk": 0.75, "night": 0.35}[style.time_of_day]

    top, bottom = _SKY[style.time_of_day]
    if style.weather in ("cloudy", "rain", "fog"):
        grey = 150 if style.time_of_day == "day" else 70
        top = tuple((c + grey) // 2 for c in top)
        bottom = tuple((c + grey) // 2 for c in bottom)
    ramp = np.linspace(0, 1, height)[:, None, None]
    sky = (1 - ramp) * np.array(top) + ramp * np.array(bottom)
    image = Image.fromarray(np.broadcast_to(sky, (height, width, 3)).astype(np.uint8))
    draw = ImageDraw.Draw(image)

    if style.mountains:
        points = [(0, horizon)]
        for x in np.linspace(0, width, 7):
            points.append((float(x), horizon - height * rng.uniform(0.15, 0.4)))
        points.append((width, horizon))
        shade = int(90 * brightness)
        draw.polygon(points, fill=(shade, shade + 10, shade + 25))

    building_count = int(4 + style.skyline_density * 26 * rng.uniform(0.8, 1.2))
    for _ in range(building_count):
        left = rng.uniform(-0.05, 1.0) * width
        bw = width * rng.uniform(0.04, 0.12)
        bh = height * style.building_height * rng.uniform(0.3, 1.0) * 0.6
        hue = (style.hue + rng.normal(0, 0.04)) % 1
        value = float(np.clip(rng.uniform(0.45, 0.9) * brightness, 0.05, 1))
        colour = _hsv_to_rgb(hue, style.saturation, value)
        box = (left, horizon - bh, left + bw, horizon)
        draw.rectangle(box, fill=colour)
        if style.roof == "pointed":
            draw.polygon(
                [
                    (left, horizon - bh),
                    (left + bw / 2, horizon - bh - bw * 0.7),
                    (left + bw, horizon - bh),
                ],
                fill=colour,
            )
        elif style.roof == "domed":
            draw.ellipse(
                (left, horizon - bh - bw / 2, left + bw, horizon - bh + bw / 2), fill=colour
            )
        if style.time_of_day != "day":
            for _ in range(int(bh * bw / (60 * k * k))):
                wx = left + rng.uniform(0.1, 0.9) * bw
                wy = horizon - rng.uniform(0.05, 0.95) * bh
                draw.rectangle((wx, wy, wx + 1.5 * k, wy + 1.5 * k), fill=(255, 220, 120))

    ground_colour = (
        _hsv_to_rgb(0.3, 0.5, 0.55 * brightness)
        if style.greenery > 0.5
        else _hsv_to_rgb(0.1, 0.1, 0.5 * brightness)
    )
    if style.water:
        water_colour = _hsv_to_rgb(0.58, 0.6, 0.6 * brightness)
        draw.rectangle((0, horizon, width, height), fill=water_colour)
        for _ in range(12):
            y = rng.uniform(horizon, height)
            x = rng.uniform(0, width)
            length = rng.uniform(5, 25) * k
            draw.line((x, y, x + length, y), fill=(230, 235, 245), width=max(1, round(k)))
    else:
        draw.rectangle((0, horizon, width, height), fill=ground_colour)

    for _ in range(int(style.greenery * 14 * rng.uniform(0.6, 1.4))):
        x = rng.uniform(0, width)
        y = horizon + rng.uniform(-0.02, 0.08) * height
        r = rng.uniform(3, 9) * k
        draw.ellipse((x - r, y - 2 * r, x + r, y), fill=_hsv_to_rgb(0.33, 0.7, 0.45 * brightness))

    if style.weather == "rain":
        for _ in range(120):
            x, y = rng.uniform(0, width), rng.uniform(0, height)
            draw.line((x, y, x - 2 * k, y + 7 * k), fill=(200, 200, 215), width=max(1, round(k)))
    if style.weather == "fog":
        image = Image.blend(image, Image.new("RGB", image.size, (205, 205, 210)), 0.45)
        image = image.filter(ImageFilter.GaussianBlur(1.2 * k))
    return image


def city_photo_jpeg(slug: str, index: int, size: int = 320, quality: int = 88) -> bytes:
    buffer = io.BytesIO()
    draw_city_photo(slug, index, size).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
