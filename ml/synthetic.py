"""Synthetic city photos for the offline demo and the tests. SYNTHETIC: not photographs.

Each city gets a *style* that is a deterministic function of its slug (palette, skyline density
and height, roof shape, water, mountains, greenery, weather, time of day); each photo draws
that style with its own random variation (camera height, building placement, sun, colour
jitter), so a CNN can learn a city's "vibe" but no two photos are the same. The scene itself is
drawn by ml/cityscape.py with the anti-aliased primitives of ml/scenery.py."""

import functools
import hashlib
import io
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image

from . import cityscape

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

# Photos are portrait 4:5, the swipe card's shape (static/css/site.css `.deck`). 1080 px wide: on
# a 390 px wide phone the card is about 358 CSS px wide, 1074 device pixels at 3x.
PHOTO_WIDTH = 1080
ASPECT = 5 / 4  # height / width

WEATHERS = ("clear", "cloudy", "rain", "fog", "snow")
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
    hue = float(rng.random())
    saturation = float(rng.uniform(0.25, 0.85))
    skyline_density = float(rng.uniform(0.1, 1.0))
    building_height = float(rng.uniform(0.15, 0.9))
    roof = ROOFS[rng.integers(len(ROOFS))]
    water = bool(rng.random() < 0.45)
    mountains = bool(rng.random() < 0.35)
    greenery = float(rng.uniform(0.0, 1.0))
    weather = WEATHERS[rng.integers(4)]
    time_of_day = TIMES_OF_DAY[rng.choice(3, p=[0.55, 0.25, 0.2])]
    # Snow came later: an overcast city becomes a snowy one by a draw made after all the others,
    # so every other attribute of every city (ml/data/demo_city_styles.json) kept its value.
    if weather == "cloudy" and rng.random() >= 0.6:
        weather = "snow"
    return CityStyle(
        hue=hue,
        saturation=saturation,
        skyline_density=skyline_density,
        building_height=building_height,
        roof=roof,
        water=water,
        mountains=mountains,
        greenery=greenery,
        weather=weather,
        time_of_day=time_of_day,
    )


def mixed_style(rng: np.random.Generator) -> CityStyle:
    """A style no demo city has: every attribute drawn on its own, with the cities' odds. Photos
    drawn in mixed styles teach an attribute model the attributes rather than the cities that
    happen to have them (the demo's cities tie, say, mountains to a palette)."""
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


# Per time of day: sky at the top, sky at the horizon, the light on things (colour x level) and
# the colour of fog (at night, lit from below by the city).
_PALETTES = {
    "day": ((0.28, 0.5, 0.84), (0.74, 0.84, 0.95), (1.0, 0.97, 0.92), (0.8, 0.82, 0.85)),
    "dusk": ((0.16, 0.16, 0.42), (0.98, 0.6, 0.36), (0.82, 0.62, 0.52), (0.72, 0.6, 0.6)),
    "night": ((0.04, 0.07, 0.19), (0.34, 0.29, 0.38), (0.38, 0.39, 0.48), (0.4, 0.37, 0.42)),
}
# Per weather: how grey the sky turns, the overall level of the light, and the haze at
# the farthest layer (aerial perspective; fog is the same effect, much stronger).
_WEATHER = {
    "clear": {"overcast": 0.0, "level": 1.0, "haze": 0.15},
    "cloudy": {"overcast": 0.65, "level": 0.9, "haze": 0.3},
    "rain": {"overcast": 0.85, "level": 0.72, "haze": 0.4},
    "fog": {"overcast": 0.75, "level": 0.92, "haze": 0.82},
    "snow": {"overcast": 0.8, "level": 1.0, "haze": 0.45},
}
_OVERCAST_SKY = {"day": (0.66, 0.68, 0.72), "dusk": (0.5, 0.45, 0.5), "night": (0.12, 0.12, 0.16)}


@dataclass(frozen=True)
class Look:
    """The light of one photo: the colours every layer of the scene mixes with."""

    sky_top: np.ndarray
    sky_horizon: np.ndarray
    light: np.ndarray  # multiplies the colour of everything lit by the sky
    fog: np.ndarray
    haze: float  # 0-1, at the farthest layer
    overcast: float
    sun: tuple[float, float]  # position, as fractions of width and of the horizon's height


def look_of(style: CityStyle, rng: np.random.Generator) -> Look:
    top, horizon, light, fog = (np.array(c, dtype=np.float32) for c in _PALETTES[style.time_of_day])
    weather = _WEATHER[style.weather]
    grey = np.array(_OVERCAST_SKY[style.time_of_day], dtype=np.float32)
    overcast = weather["overcast"]
    sun_height = {"day": (0.12, 0.45), "dusk": (0.75, 0.95), "night": (0.1, 0.35)}
    return Look(
        sky_top=top + (grey * 0.9 - top) * overcast,
        sky_horizon=horizon + (grey - horizon) * overcast,
        light=light * weather["level"] * float(rng.uniform(0.93, 1.07)),
        fog=fog * (1.0 if style.weather != "rain" else 0.85),
        haze=weather["haze"] * float(rng.uniform(0.85, 1.1)),
        overcast=overcast,
        sun=(float(rng.uniform(0.12, 0.88)), float(rng.uniform(*sun_height[style.time_of_day]))),
    )


def draw_city_photo(
    slug: str, index: int, size: int = PHOTO_WIDTH, *, style: CityStyle | None = None
) -> Image.Image:
    """Photo number ``index`` of a city, as an RGB image ``size`` pixels wide and 5/4 of that
    high. Every random choice is in fractions of the picture, so a smaller ``size`` draws the
    same scene; ``style`` draws it in another style (the tests' weather comparisons)."""
    style = style or city_style(slug)
    rng = _rng_for("photo", slug, index)
    look = look_of(style, rng)
    return cityscape.draw(style, look, rng, size, round(size * ASPECT))


# Cached: a photo takes about 0.15 s of CPU to draw, and the tests draw the same few again
# and again (every browser test builds its deck from the same cities).
@functools.lru_cache(maxsize=64)
def city_photo_jpeg(slug: str, index: int, size: int = PHOTO_WIDTH, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    draw_city_photo(slug, index, size).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
