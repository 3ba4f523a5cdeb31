"""The conditions of one synthetic scene: its weather, edge cuts, stripes and noise level,
drawn first and in a fixed order from a generator keyed by the scene alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from calvingfronts.scenes.sensors import get_sensor
from calvingfronts.synthetic.noise import stable_key
from calvingfronts.synthetic.world import GENERATOR_VERSION


def scene_rng(seed: int, glacier: str, sensor: str, acquired: datetime) -> np.random.Generator:
    """The generator of one scene's weather, icebergs and noise.

    Keyed by (seed, glacier, sensor, acquired) only, so a scene is the same whatever else is
    listed or rendered: extending a date range leaves earlier scenes untouched.
    """
    stamp = acquired.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return np.random.default_rng(stable_key("scene", GENERATOR_VERSION, seed, glacier, sensor,
                                            stamp))  # fmt: skip


@dataclass(frozen=True)
class SceneConditions:
    """What one scene's generator draws first, in a fixed order (listing needs cloud_cover
    without rendering, so these draws never depend on the grid)."""

    cloud_cover: float  # percent of the AOI under cloud (optical), 0 for SAR
    cloud_key: int
    cloud_opacity: float
    cloud_height: float  # metres, for the shadow offset
    edge_cut: tuple[float, float] | None  # (direction degrees, fraction of the AOI lost)
    stripe_offset: float  # metres of the AOI from the scene centre line (Landsat 7)
    stripe_phase: float
    texture_key: int  # water, melange and iceberg textures of this scene
    wind: float  # 0 calm to 1 stormy water (SAR brightness, optical glint)
    haze: float  # optical: thin haze, lowers contrast
    noise_level: float


def draw_conditions(rng: np.random.Generator, sensor: str) -> SceneConditions:
    kind = get_sensor(sensor).kind
    category, within = rng.random(), rng.random()
    if category < 0.45:  # clear
        cover = 4.0 * within
    elif category < 0.8:  # partly cloudy
        cover = 4.0 + 46.0 * within
    else:  # mostly cloudy
        cover = 50.0 + 50.0 * within
    cloud_key = int(rng.integers(1, 2**62))
    opacity = float(rng.uniform(0.75, 1.0))
    height = float(rng.uniform(800.0, 4000.0))
    cut = rng.random() < (0.08 if kind == "optical" else 0.05)
    cut_direction, cut_fraction = float(rng.uniform(0, 360)), float(rng.uniform(0.1, 0.6))
    stripe_offset = float(rng.uniform(-90000.0, 90000.0))
    stripe_phase = float(rng.random())
    texture_key = int(rng.integers(1, 2**62))
    wind = float(rng.beta(1.3, 3.0))
    haze = float(rng.beta(1.2, 6.0))
    noise_level = float(rng.uniform(0.5, 1.5))
    return SceneConditions(
        cloud_cover=round(cover, 1) if kind == "optical" else 0.0,
        cloud_key=cloud_key,
        cloud_opacity=opacity,
        cloud_height=height,
        edge_cut=(cut_direction, cut_fraction) if cut else None,
        stripe_offset=stripe_offset,
        stripe_phase=stripe_phase,
        texture_key=texture_key,
        wind=wind,
        haze=haze,
        noise_level=noise_level,
    )


def scene_conditions(seed: int, glacier: str, sensor: str, acquired: datetime) -> SceneConditions:
    return draw_conditions(scene_rng(seed, glacier, sensor, acquired), sensor)
