"""Optical scenes of the synthetic world: reflectance of rock, snow, ice, water and
mélange under the sun, clouds and their shadows, haze, Landsat 7 SLC-off gaps, and the
archives' integer encodings."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np

from calvingfronts.synthetic.layers import StaticLayers, static_layers
from calvingfronts.synthetic.noise import fractal_field, smoothstep
from calvingfronts.synthetic.world import (
    ZONE_ICE,
    ZONE_ROCK,
    World,
    decimal_year,
    solar_position,
    winter_weight,
)

if TYPE_CHECKING:
    from calvingfronts.synthetic.conditions import SceneConditions

# Archive encodings: physical = raw * scale + offset, raw 0 = no data.
LANDSAT_SCALE, LANDSAT_OFFSET = 2.75e-5, -0.2  # Landsat Collection 2 Level-2 reflectance
SENTINEL2_SCALE, SENTINEL2_OFFSET = 1e-4, -0.1  # Sentinel-2 L2A, processing baseline >= 04.00

# Landsat 7's scan line corrector failed on 2003-05-31: wedge-shaped gaps ever after.
LANDSAT7_SLC_OFF = datetime(2003, 5, 31, tzinfo=timezone.utc)

# Changes whenever realistic optical scenes render differently (caches of training scenes
# key on it).
OPTICAL_VERSION = "1"


@dataclass(frozen=True)
class FjordIceConditions:
    """How far the mélange of one optical scene reaches and how frozen it is.

    From late winter into June a fjord can be choked for kilometres by mélange and sea ice
    frozen together under snow, as bright as the glacier: the front is then only a change
    of texture, crevasse streaks against a smooth cover with bergs standing out (Jakobshavn
    and the north-west glaciers in spring). Radar scenes carry the same two fields in
    :class:`calvingfronts.synthetic.radar.RadarConditions`.
    """

    rigid_melange: float = 0.0  # 0: loose floes in dark water .. 1: frozen, under snow
    melange_reach: float = 1.0  # factor on the mélange band's width


OPEN_FJORD = FjordIceConditions()
# Fraction of the year (from 1 January) until which a fjord may be frozen in: mid-June.
FROZEN_SEASON_END = 0.45


def draw_fjord_ice(rng: np.random.Generator, season: float) -> FjordIceConditions:
    """Random fjord ice for a realistic training scene at ``season`` (fraction of year):
    frozen in for 60 % of scenes from January to mid-June, open otherwise."""
    rigid = 0.0
    if season < FROZEN_SEASON_END and rng.random() < 0.6:
        rigid = float(rng.beta(3.0, 1.5))
    reach = 1.0 + (rng.uniform(1.0, 5.0) if rigid > 0 else rng.uniform(0.0, 1.0))
    return FjordIceConditions(rigid_melange=rigid, melange_reach=float(reach))


def _hillshade(layers: StaticLayers, elevation_deg: float, azimuth_deg: float) -> np.ndarray:
    """Cosine of the local illumination angle (negative: self-shadowed)."""
    elevation = math.radians(max(elevation_deg, 1.0))
    azimuth = math.radians(azimuth_deg)
    sun = np.array([math.sin(azimuth) * math.cos(elevation),
                    math.cos(azimuth) * math.cos(elevation), math.sin(elevation)])  # fmt: skip
    norm = np.sqrt(1.0 + layers.slope_x**2 + layers.slope_y**2)
    return (-layers.slope_x * sun[0] - layers.slope_y * sun[1] + sun[2]) / norm


def optical_reflectance(
    world, grid, acquired, conditions, surface, rng, fjord_ice: FjordIceConditions = OPEN_FJORD
) -> np.ndarray:
    layers = static_layers(world, grid)
    t = decimal_year(acquired)
    season = t - math.floor(t)
    summer = 1.0 - winter_weight(season)
    elevation, azimuth = solar_position(world, acquired)
    p = grid.pixel_size

    # Rock, lit by the low Arctic sun; snow patches on top.
    shade = _hillshade(layers, elevation, azimuth)
    flat = max(math.sin(math.radians(max(elevation, 1.0))), 0.12)
    illumination = 0.18 + 0.82 * np.clip(shade / flat, 0.0, 2.2)
    rock = 0.14 + 0.06 * layers.rock_texture
    snow = 0.78 + 0.05 * layers.rock_texture
    land = (rock + (snow - rock) * surface.snow) * illumination

    # Glacier ice: bright, darker and dirtier in summer, crevasse shadows across the flow.
    albedo = world.p("ice_albedo") + 0.15 * (1 - summer) - 0.06 * summer
    crevasse_shadow = 0.25 + 0.3 * (1.0 - flat)
    ice = albedo + 0.06 * surface.ice_texture - crevasse_shadow * surface.crevasses

    # Ocean: dark water, melange of bright-ish floes (snow-covered in winter), icebergs.
    water = 0.035 + 0.012 * surface.water_texture + 0.03 * conditions.wind * summer
    floe = 0.42 + 0.22 * (1 - summer) + 0.08 * surface.water_texture
    # Frozen in under snow: the floes and the sea ice between them as bright as the glacier.
    floe = floe + fjord_ice.rigid_melange * (0.8 + 0.05 * surface.water_texture - floe)
    sea = water + (floe - water) * surface.melange
    sea = sea + (0.75 + 0.08 * surface.water_texture - sea) * surface.bergs
    # The ice cliff casts a shadow onto the water when the sun is behind the glacier.
    toward = math.cos(math.radians(azimuth + 180.0 - world.flow_azimuth))
    shadow_length = 60.0 / math.tan(math.radians(max(elevation, 2.0))) * max(toward, 0.0)
    cliff = (surface.front_distance >= 0) & (surface.front_distance < shadow_length)
    sea = np.where(cliff, sea * 0.45, sea)

    reflectance = np.where(
        surface.zone == ZONE_ROCK, land, np.where(surface.zone == ZONE_ICE, ice, sea)
    )
    # Low sun: dimmer, flatter scenes; haze lifts the darks and flattens contrast.
    reflectance = reflectance * (0.8 + 0.2 * min(flat / 0.5, 1.0))
    reflectance = reflectance * (1 - 0.5 * conditions.haze) + 0.12 * conditions.haze
    reflectance = _add_clouds(world, layers, reflectance, conditions, elevation, azimuth, p)
    noise = 0.006 * conditions.noise_level * rng.standard_normal(reflectance.shape)
    return np.clip(reflectance + noise, 0.0, 1.2)


def _add_clouds(world, layers, reflectance, conditions, elevation, azimuth, p):
    """Fractal clouds covering ``cloud_cover`` percent of the grid, and their shadows cast
    away from the sun (longer when the sun is low)."""
    if conditions.cloud_cover <= 0.05:
        return reflectance
    scales = [16000.0, 8000.0, 4000.0, 2000.0, 1000.0, 500.0, 250.0, 120.0]
    key = conditions.cloud_key
    density = fractal_field(layers.xs, layers.ys, scales, key, min_scale=1.5 * p, gain=0.6)
    threshold = np.quantile(density, 1.0 - conditions.cloud_cover / 100.0)
    softness = 0.12

    def opacity(field):
        return conditions.cloud_opacity * smoothstep((field - threshold) / softness) ** 0.8

    cloud = opacity(density)
    reach = min(conditions.cloud_height / math.tan(math.radians(max(elevation, 5.0))), 8000.0)
    away = math.radians(azimuth + 180.0)
    shift_x, shift_y = reach * math.sin(away), reach * math.cos(away)
    shadow = opacity(
        fractal_field(layers.xs - shift_x, layers.ys - shift_y, scales, key, min_scale=1.5 * p,
                      gain=0.6)
    )  # fmt: skip
    tops = 0.7 + 0.12 * fractal_field(layers.xs, layers.ys, [900.0, 300.0], key + 17)
    darkened = reflectance * (1.0 - 0.6 * shadow)
    return darkened * (1.0 - cloud) + tops * cloud


def slc_off_gaps(world: World, layers: StaticLayers, conditions: SceneConditions) -> np.ndarray:
    """Landsat 7 SLC-off gaps: stripes across the track, wedge-shaped (none in the middle
    ~22 km of the scene, up to a quarter of each 480 m scan at its edges)."""
    heading = math.radians(195.0)  # descending track, roughly south-south-west here
    x, y = layers.xs[None, :], layers.ys[:, None]
    along = x * math.sin(heading) + y * math.cos(heading)
    across = x * math.cos(heading) - y * math.sin(heading)
    across = across - float(np.mean(across)) + conditions.stripe_offset
    gap_fraction = 0.25 * np.clip((np.abs(across) - 11000.0) / 81500.0, 0.0, 1.0)
    scan = (along / 480.0 + conditions.stripe_phase) % 1.0
    return scan < gap_fraction


def encode_optical(sensor: str, reflectance: np.ndarray, nodata: np.ndarray):
    if sensor == "sentinel2":
        scale, offset = SENTINEL2_SCALE, SENTINEL2_OFFSET
    else:
        scale, offset = LANDSAT_SCALE, LANDSAT_OFFSET
    raw = np.clip(np.round((reflectance - offset) / scale), 1, 65535).astype(np.uint16)
    raw[nodata] = 0
    return raw, scale, offset
