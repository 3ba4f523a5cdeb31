"""Layers of the synthetic world on a grid: static terrain and fjord layers (cached per
world and grid), zones and front labels, and the surface of one scene (ice textures,
mélange, icebergs, snow)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np
from scipy import ndimage

from calvingfronts.grid import GlacierGrid
from calvingfronts.synthetic.noise import fractal_field, smoothstep, stable_key
from calvingfronts.synthetic.world import (
    ZONE_ICE,
    ZONE_OCEAN,
    ZONE_ROCK,
    World,
    build_world,
    decimal_year,
    front_curve,
    melange_width,
    true_front,
    winter_weight,
)

REFERENCE_YEAR = 2000.0  # origin of ice advection, so textures move with the ice


# --------------------------------------------------------------------------------------------
# Layers on a grid


@dataclass(frozen=True, eq=False)
class StaticLayers:
    """Grid layers that do not change with time (cached per world and grid)."""

    xs: np.ndarray  # (width,) pixel-centre x of the columns
    ys: np.ndarray  # (height,) pixel-centre y of the rows
    u: np.ndarray
    v: np.ndarray
    fjord: np.ndarray  # bool
    wall_distance: np.ndarray  # metres from the fjord walls, inside and outside
    elevation: np.ndarray  # metres, rock terrain (0 in the fjord)
    slope_x: np.ndarray  # elevation gradient, metres per metre
    slope_y: np.ndarray
    rock_texture: np.ndarray  # [-1, 1]
    snow_noise: np.ndarray  # [-1, 1]


def _rasterize(geometry, grid: GlacierGrid, pad: int = 0) -> np.ndarray:
    from affine import Affine
    from rasterio import features

    transform = grid.transform * Affine.translation(-pad, -pad)
    shape = (grid.height + 2 * pad, grid.width + 2 * pad)
    if geometry.is_empty:
        return np.zeros(shape, dtype=bool)
    mask = features.rasterize([(geometry, 1)], out_shape=shape, transform=transform, dtype="uint8")
    return mask.astype(bool)


def _float32(*arrays):
    """Halve the memory of cached layers (a 10 m grid of a big glacier is millions of pixels);
    millimetre precision is plenty for metres in a 100 km frame."""
    return [a.astype(np.float32) if a.dtype == np.float64 else a for a in arrays]


def _readonly(*arrays):
    for array in arrays:
        array.flags.writeable = False
    return arrays


@lru_cache(maxsize=4)
def static_layers(world: World, grid: GlacierGrid) -> StaticLayers:
    x, y = grid.coordinates()
    xs, ys = x[0].copy(), y[:, 0].copy()
    u, v = world.to_uv(x, y)
    p = grid.pixel_size
    # Distances come from a padded raster so walls just outside the grid still count.
    pad = int(math.ceil(1500.0 / p))
    fjord_padded = _rasterize(world.fjord, grid, pad)
    inner = (slice(pad, pad + grid.height), slice(pad, pad + grid.width))
    fjord = fjord_padded[inner]
    outside = ndimage.distance_transform_edt(~fjord_padded)[inner] * p
    inside = ndimage.distance_transform_edt(fjord_padded)[inner] * p
    wall_distance = np.where(fjord, inside, outside)
    # Terrain: walls rising over an irregular ramp to a rough plateau cut by gullies.
    key = stable_key(world.key, "terrain")
    ramp = world.p("wall_ramp") * (1.0 + 0.35 * fractal_field(xs, ys, [3000.0, 1200.0], key + 1))
    relief = fractal_field(xs, ys, [4000.0, 2000.0, 900.0, 400.0, 180.0, 80.0], key + 2,
                           min_scale=1.5 * p, gain=0.45)  # fmt: skip
    gullies = fractal_field(xs, ys, [700.0, 300.0, 120.0], key + 3, anisotropy=0.35, min_scale=p)
    elevation = world.p("wall_height") * smoothstep(outside / ramp) * (1.0 + 0.3 * relief)
    elevation += (250.0 * relief - 60.0 * np.abs(gullies)) * smoothstep(outside / 400.0)
    slope_y, slope_x = np.gradient(elevation, p)
    slope_y = -slope_y  # rows run southwards
    rock_texture = fractal_field(xs, ys, [800.0, 300.0, 120.0, 50.0, 20.0], key + 4, min_scale=p)
    snow_noise = fractal_field(xs, ys, [1500.0, 600.0, 250.0, 100.0, 40.0], key + 5, min_scale=p,
                               gain=0.45)  # fmt: skip
    return StaticLayers(
        *_readonly(xs, ys, *_float32(u, v, fjord, wall_distance, elevation, slope_x, slope_y,
                                     rock_texture, snow_noise))
    )  # fmt: skip


def front_distance_of(world: World, layers: StaticLayers, acquired: datetime) -> np.ndarray:
    """Along-flow distance of each pixel downstream of the front (negative on the ice)."""
    v, u = front_curve(world, acquired)
    return layers.u - np.interp(layers.v, v, u)


def _as_world(world_or_glacier, seed: int) -> World:
    if isinstance(world_or_glacier, World):
        return world_or_glacier
    return build_world(world_or_glacier, seed)


def zones(world_or_glacier, acquired: datetime, grid: GlacierGrid, seed: int = 0) -> np.ndarray:
    """uint8 zones on ``grid``: 0 rock (outside the fjord), 1 glacier ice, 2 ocean."""
    world = _as_world(world_or_glacier, seed)
    layers = static_layers(world, grid)
    downstream = front_distance_of(world, layers, acquired) >= 0
    out = np.full(grid.shape, ZONE_ROCK, dtype=np.uint8)
    out[layers.fjord & ~downstream] = ZONE_ICE
    out[layers.fjord & downstream] = ZONE_OCEAN
    return out


def label_front(
    world_or_glacier, acquired: datetime, grid: GlacierGrid, width_px: int = 3, seed: int = 0
) -> np.ndarray:
    """uint8 mask (1 = front) of the true front drawn ``width_px`` pixels wide on ``grid``."""
    world = _as_world(world_or_glacier, seed)
    front = true_front(world, acquired)
    band = front.buffer(0.5 * width_px * grid.pixel_size, cap_style="flat")
    mask = _rasterize(band, grid)
    if not mask.any():  # a front thinner than the pixel centres: keep at least its trace
        from rasterio import features

        mask = features.rasterize(
            [(front, 1)], out_shape=grid.shape, transform=grid.transform, all_touched=True
        ).astype(bool)
    return mask.astype(np.uint8)


# --------------------------------------------------------------------------------------------
# Rendering


@dataclass(frozen=True, eq=False)
class Surface:
    """The scene-independent-of-sensor part of a scene: what lies where, and its textures."""

    zone: np.ndarray  # uint8 zones
    front_distance: np.ndarray  # metres downstream of the front
    melange: np.ndarray  # 0..1 floe cover in the melange band (0 elsewhere)
    crevasses: np.ndarray  # 0..1 crevasse lines on the ice
    ice_texture: np.ndarray  # [-1, 1]
    water_texture: np.ndarray  # [-1, 1]
    bergs: np.ndarray  # 0..1 iceberg cover
    snow: np.ndarray  # 0..1 snow on rock


def _ice_textures(world: World, layers: StaticLayers, front_distance, t: float, p: float):
    """Crevasses across the flow (stronger near the front and along the shear margins) and
    the general ice texture, on the whole grid. Both are advected with the ice, so they move
    downstream from scene to scene as real crevasse fields do."""
    key = stable_key(world.key, "ice")
    travel = world.p("ice_speed") * (t - REFERENCE_YEAR)
    fx, fy = world.flow
    xs, ys = layers.xs - travel * fx, layers.ys - travel * fy  # where the ice came from
    u = layers.u - travel
    wavelength = world.p("crevasse_wavelength")
    warp = fractal_field(xs, ys, [700.0, 300.0], key + 1)
    # Lines no narrower than the pixel can show (narrower would only alias).
    sharpness = float(np.clip(wavelength / (2.5 * p), 1.0, 6.0))
    transverse = (0.5 + 0.5 * np.cos(2 * math.pi * u / wavelength + 5.0 * warp)) ** sharpness
    # Along the walls, shear opens crevasses at about 45 degrees to the flow.
    oblique = 2 * math.pi * (u + np.abs(layers.v)) / (0.8 * wavelength) + 4.0 * warp
    shear = (0.5 + 0.5 * np.cos(oblique)) ** sharpness
    shear_weight = np.exp(-layers.wall_distance / 450.0)
    lines = transverse * (1.0 - shear_weight) + shear * shear_weight
    # Crevasses come in segments and fields, most intense where the ice nears the front.
    segments = smoothstep((fractal_field(xs, ys, [450.0, 180.0], key + 2) + 0.15) / 0.35)
    fields = smoothstep((fractal_field(xs, ys, [2500.0, 1000.0], key + 3) + 0.5) / 0.6)
    near_front = 0.25 + 0.75 * np.exp(np.minimum(front_distance, 0.0) / 2500.0)
    crevasses = lines * segments * np.clip(fields * near_front * 1.4, 0.0, 1.0)
    # Within a few hundred metres of the front the ice breaks into chaotic seracs.
    chaos = fractal_field(xs, ys, [150.0, 60.0, 25.0], key + 5, min_scale=p, gain=0.7)
    serac_zone = np.exp(np.minimum(front_distance, 0.0) / 400.0)
    crevasses = np.maximum(crevasses, smoothstep((chaos + 0.1) / 0.5) * serac_zone)
    texture = fractal_field(xs, ys, [2000.0, 700.0, 250.0, 90.0, 35.0], key + 4, min_scale=p)
    return crevasses, texture


def _melange_cover(layers: StaticLayers, front_distance, width: float, texture_key: int, p: float):
    """Melange: floes and bergy bits packed against the front, frozen into a matrix of sea
    ice, thinning out towards an irregular edge. 0 open water .. 1 solid floe."""
    xs, ys = layers.xs, layers.ys
    edge = width * (0.75 + 0.4 * fractal_field(xs, ys, [1500.0, 500.0], texture_key + 1))
    packing = np.clip(1.0 - front_distance / np.maximum(edge, 1.0), 0.0, 1.0)
    packing *= front_distance >= 0
    pieces = fractal_field(xs, ys, [200.0, 80.0, 30.0, 12.0], texture_key + 2, min_scale=p,
                           gain=0.8)  # fmt: skip
    # Dense near the front, scattered further out: the threshold rises with distance.
    floes = smoothstep((pieces - (0.45 - 1.0 * packing)) / 0.08)
    matrix = 0.3 * smoothstep(packing / 0.3)
    return np.maximum(floes * np.sqrt(packing), matrix)


def _iceberg_cover(world, xs, ys, p, curve, ocean, rng) -> np.ndarray:
    """Bright blobs: many small bergs, a few big ones, most near the front. Positions come
    from the scene generator, so they drift from scene to scene."""
    shape = ocean.shape
    cover = np.zeros(shape)
    count = int(rng.poisson(70))
    du = rng.exponential(0.5 * world.reach, count) + 30.0
    v = rng.uniform(-0.55, 0.55, count) * world.width
    radius = np.clip(rng.lognormal(math.log(35.0), 0.7, count), 10.0, 300.0)
    radius *= 1.0 + 0.8 * np.exp(-du / 1500.0)
    aspect = rng.uniform(1.0, 2.2, count)
    angle = rng.uniform(0.0, math.pi, count)
    wobble = rng.uniform(0.0, 2 * math.pi, (count, 2))
    brightness = rng.uniform(0.7, 1.0, count)
    # Berg centres are placed downstream of the front as it is at this time.
    u = np.interp(v, *curve) + du
    bx, by = world.to_xy(u, v)
    x0, y0 = xs[0], ys[0]
    for i in range(count):
        half_extent = radius[i] * aspect[i] + p
        c0 = int((bx[i] - half_extent - x0) / p)
        c1 = int((bx[i] + half_extent - x0) / p) + 2
        r0 = int((y0 - by[i] - half_extent) / p)
        r1 = int((y0 - by[i] + half_extent) / p) + 2
        r0, c0 = max(r0, 0), max(c0, 0)
        r1, c1 = min(r1, shape[0]), min(c1, shape[1])
        if r0 >= r1 or c0 >= c1:
            continue
        dx = xs[None, c0:c1] - bx[i]
        dy = ys[r0:r1, None] - by[i]
        along = (dx * math.cos(angle[i]) + dy * math.sin(angle[i])) / aspect[i]
        perp = -dx * math.sin(angle[i]) + dy * math.cos(angle[i])
        theta = np.arctan2(perp, along)
        rim = radius[i] * (
            1 + 0.18 * np.sin(3 * theta + wobble[i, 0]) + 0.1 * np.sin(5 * theta + wobble[i, 1])
        )
        # Soft edge about one pixel wide: a berg smaller than a pixel still brightens it.
        inside = np.clip((rim - np.hypot(along, perp)) / p + 0.5, 0.0, 1.0)
        window = cover[r0:r1, c0:c1]
        np.maximum(window, inside * brightness[i], out=window)
    return cover * ocean


def scene_surface(world, grid, acquired, conditions, rng, fjord_ice=None) -> Surface:
    """What lies where in one scene, and its textures; ``fjord_ice`` (anything with
    ``melange_reach`` and ``rigid_melange``: synthetic_radar's RadarConditions or
    synthetic_optical's FjordIceConditions) widens and freezes the mélange of hard scenes."""
    layers = static_layers(world, grid)
    t = decimal_year(acquired)
    p = grid.pixel_size
    curve = front_curve(world, acquired)
    front_distance = layers.u - np.interp(layers.v, *curve)
    ice = layers.fjord & (front_distance < 0)
    ocean = layers.fjord & ~ice
    zone = np.full(grid.shape, ZONE_ROCK, dtype=np.uint8)
    zone[ice], zone[ocean] = ZONE_ICE, ZONE_OCEAN
    crevasses, ice_texture = _ice_textures(world, layers, front_distance, t, p)
    width = melange_width(world, acquired)
    if fjord_ice is not None:
        width *= fjord_ice.melange_reach
    melange = _melange_cover(layers, front_distance, width, conditions.texture_key, p) * ocean
    if fjord_ice is not None and fjord_ice.rigid_melange > 0:
        # Frozen in: the whole band is packed, little open water between the floes.
        rigid = fjord_ice.rigid_melange
        melange = np.where(melange > 0, melange + 0.8 * rigid * (1 - melange), 0)
    # Wind streaks and currents: elongated in a direction drawn per scene (via the key).
    water_texture = fractal_field(
        layers.xs, layers.ys, [3000.0, 1000.0, 300.0, 100.0], conditions.texture_key + 3,
        min_scale=p, anisotropy=0.4 if conditions.texture_key % 2 else 2.5,
    )  # fmt: skip
    bergs = _iceberg_cover(world, layers.xs, layers.ys, p, curve, ocean, rng)
    snow = snow_cover(world, layers, t)
    return Surface(zone, front_distance, melange, crevasses * ice, ice_texture, water_texture,
                    bergs, snow)  # fmt: skip


def snow_cover(world: World, layers: StaticLayers, t: float) -> np.ndarray:
    """Snow on the rock: most in late winter and spring, patches left in late summer, none
    on steep slopes (it slides off), more higher up."""
    season = t - math.floor(t)
    fraction = 0.12 + 0.6 * winter_weight((season - 0.08) % 1.0)
    steepness = np.hypot(layers.slope_x, layers.slope_y)
    score = (
        layers.snow_noise
        + 0.5 * layers.elevation / 1000.0
        - 1.2 * np.clip(steepness - 0.5, 0, None)
    )
    threshold = 1.0 - 2.0 * fraction
    return smoothstep((score - threshold) / 0.15) * ~layers.fjord
