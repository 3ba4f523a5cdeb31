"""A synthetic glacier: a deterministic world of a calving front, and its satellite scenes.

The world serves three purposes: the offline demo archive (``sources/synthetic.py``), the
test bed (every scene carries its true front) and training data (labels and zones for any
time, sensor and pixel size). Everything is a pure function of the glacier's configuration,
a seed and the acquisition time, so any scene can be regenerated alone, in any order.

Geometry. Positions are handled in flow-aligned coordinates: ``u`` along the ice flow
(towards the ocean, metres) and ``v`` across it (to the right of the flow). The front is the
curve ``u = u_front(v, t)``: ice lies upstream (``u`` smaller), the ocean downstream. The
curve is a sum of a seasonal cycle (advance in winter and spring, retreat in late summer), a
multi-year trend, calving events (sudden local retreats that the ice then re-advances into),
a slowly changing shape across the fjord (convexity, a lobe that grows on one side and goes,
a few random modes) and small-scale roughness. All of it is procedural.

Textures are defined in map coordinates (metres), never in pixels, so one scene rendered at
two pixel sizes shows the same world; octaves finer than a pixel are left out, as a sensor
would average them away. Randomness comes from two places only: hashes of integer lattice
points keyed by the seed and glacier (static and slowly changing things), and the per-scene
generator of :func:`scene_rng`, keyed by (seed, glacier, sensor, acquired), which draws the
weather, icebergs and speckle of one scene.

The parts live beside this module, one concept each: ``synthetic_noise`` (hashing and
noise), ``synthetic_world`` (the world and its front through time), ``synthetic_layers``
(grid layers, zones, labels and a scene's surface), ``synthetic_optical`` and
``synthetic_radar`` (what each kind of sensor sees). This module draws a scene's conditions,
renders it, and gives its truth; callers use it alone (``__all__``).
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone

import numpy as np

from calvingfronts.grid import GLACIER_CRS, GlacierGrid
from calvingfronts.raster_io import Raster
from calvingfronts.scenes.sensors import SENSORS, Sensor, get_sensor
from calvingfronts.synthetic.conditions import (
    SceneConditions,
    draw_conditions,
    scene_conditions,
    scene_rng,
)
from calvingfronts.synthetic.layers import (
    StaticLayers,
    label_front,
    scene_surface,
    static_layers,
    zones,
)
from calvingfronts.synthetic.noise import fractal_field, fractal_noise, hash_uniform, stable_key
from calvingfronts.synthetic.optical import (
    LANDSAT7_SLC_OFF,
    LANDSAT_OFFSET,
    LANDSAT_SCALE,
    OPEN_FJORD,
    SENTINEL2_OFFSET,
    SENTINEL2_SCALE,
    FjordIceConditions,
    draw_fjord_ice,
    encode_optical,
    optical_reflectance,
    slc_off_gaps,
)
from calvingfronts.synthetic.radar import (
    CLASSIC,
    SAR_AMPLITUDE_SCALE,
    SAR_BAND,
    SAR_LOOKS,
    RadarConditions,
    draw_radar_conditions,
    encode_sar_amplitude,
    sar_backscatter,
    sar_look_azimuth,
    speckle,
)
from calvingfronts.synthetic.world import (
    GENERATOR_VERSION,
    ZONE_ICE,
    ZONE_OCEAN,
    ZONE_ROCK,
    World,
    build_world,
    calving_events,
    decimal_year,
    from_decimal_year,
    front_curve,
    front_position,
    melange_width,
    solar_position,
    true_front,
)

# The synthetic glacier's public face: the modules beside this one hold the parts (noise,
# world, layers, optical and radar rendering); callers import them from here.
__all__ = [
    "CLASSIC",
    "GENERATOR_VERSION",
    "LANDSAT7_SLC_OFF",
    "LANDSAT_OFFSET",
    "LANDSAT_SCALE",
    "MISSION_YEARS",
    "SAR_AMPLITUDE_SCALE",
    "SAR_BAND",
    "SAR_LOOKS",
    "SENTINEL2_OFFSET",
    "SENTINEL2_SCALE",
    "TRUE_FRONT_TAG",
    "ZONE_ICE",
    "ZONE_OCEAN",
    "ZONE_ROCK",
    "RadarConditions",
    "SceneConditions",
    "World",
    "build_world",
    "calving_events",
    "decimal_year",
    "draw_conditions",
    "fractal_field",
    "fractal_noise",
    "from_decimal_year",
    "front_curve",
    "front_position",
    "label_front",
    "melange_width",
    "nominal_time",
    "optical_daylight",
    "random_training_scene",
    "render",
    "sar_look_azimuth",
    "scene_conditions",
    "scene_rng",
    "solar_position",
    "stable_key",
    "static_layers",
    "true_front",
    "truth_fronts",
    "write_truth",
    "zones",
]

TRUE_FRONT_TAG = "SYNTHETIC_TRUE_FRONT"

# Operating periods, used to draw plausible training times for a sensor.
MISSION_YEARS = {
    "landsat5": (1985, 2011),
    "landsat7": (1999, 2022),
    "landsat8": (2013, 2025),
    "landsat9": (2021, 2025),
    "sentinel2": (2015, 2025),
    "sentinel1": (2014, 2025),
    "envisat": (2002, 2012),
    "alos1": (2006, 2011),
    "alos2": (2014, 2025),
    "terrasarx": (2008, 2025),
}


# --------------------------------------------------------------------------------------------
# Per-scene conditions


def _edge_cut(layers: StaticLayers, conditions: SceneConditions) -> np.ndarray:
    """Pixels beyond the scene's edge (a straight boundary across the AOI)."""
    if conditions.edge_cut is None:
        return np.zeros(layers.u.shape, dtype=bool)
    direction, fraction = conditions.edge_cut
    angle = math.radians(direction)
    along = layers.xs[None, :] * math.sin(angle) + layers.ys[:, None] * math.cos(angle)
    return along < np.quantile(along, fraction)


def render(
    world: World,
    grid: GlacierGrid,
    sensor: str | Sensor,
    acquired: datetime,
    rng: np.random.Generator | None = None,
    conditions: SceneConditions | None = None,
    radar: RadarConditions = CLASSIC,
    fjord_ice: FjordIceConditions = OPEN_FJORD,
) -> Raster:
    """One scene of ``sensor`` at ``acquired`` on ``grid``, in the archive's raw encoding.

    ``rng`` defaults to :func:`scene_rng` (what the synthetic source uses); its first draws
    are the scene's :class:`SceneConditions`, the rest place icebergs and add noise.
    ``radar`` sets a SAR scene's hard conditions, ``fjord_ice`` an optical scene's. Tags:
    ``SENSOR``, ``ACQUIRED``, ``SAR_QUANTITY`` (SAR) and the true front as WKT.
    """
    sensor = sensor if isinstance(sensor, Sensor) else get_sensor(sensor)
    acquired = acquired.astimezone(timezone.utc)
    if rng is None:
        rng = scene_rng(world.seed, world.name, sensor.name, acquired)
    if conditions is None:
        conditions = draw_conditions(rng, sensor.name)
    layers = static_layers(world, grid)
    surface = scene_surface(
        world, grid, acquired, conditions, rng, radar if sensor.is_sar else fjord_ice
    )
    nodata = _edge_cut(layers, conditions)
    tags = {
        "SENSOR": sensor.name,
        "ACQUIRED": acquired.strftime("%Y-%m-%dT%H:%M:%SZ"),
        TRUE_FRONT_TAG: true_front(world, acquired).wkt,
        "SYNTHETIC_GENERATOR": GENERATOR_VERSION,
    }
    if sensor.is_sar:
        sigma0 = sar_backscatter(world, grid, sensor.name, acquired, conditions, surface, radar)
        # Speckle on the signal and on the thermal noise floor (noise-equivalent sigma0
        # near -24 dB); heavy-tailed clutter, where drawn, over the sea and mélange.
        clutter = np.where(surface.zone == ZONE_OCEAN, 1.0, 0.3)
        power = speckle(sigma0, SAR_LOOKS[sensor.name], rng, radar, clutter)
        raw = encode_sar_amplitude(10.0 * np.log10(power), nodata)
        scale, offset = SAR_AMPLITUDE_SCALE, 0.0
        tags["SAR_QUANTITY"] = "amplitude"
        tags["LOOK_AZIMUTH"] = f"{sar_look_azimuth(acquired):g}"
    else:
        reflectance = optical_reflectance(
            world, grid, acquired, conditions, surface, rng, fjord_ice
        )
        if sensor.name == "landsat7" and acquired >= LANDSAT7_SLC_OFF:
            nodata = nodata | slc_off_gaps(world, layers, conditions)
        raw, scale, offset = encode_optical(sensor.name, reflectance, nodata)
        tags["CLOUD_COVER"] = f"{conditions.cloud_cover:g}"
    return Raster(
        data=raw[np.newaxis],
        transform=grid.transform,
        crs=grid.crs,
        nodata=0,
        scales=(scale,),
        offsets=(offset,),
        tags=tags,
    )


# --------------------------------------------------------------------------------------------
# Truth and training helpers


def truth_fronts(glacier, scenes, seed: int | None = None) -> list[dict]:
    """The true front of each scene, for evaluation: dicts of scene_id, sensor, acquired,
    geometry (LineString, EPSG:3413). A scene's own ``seed`` property wins over ``seed``."""
    records = []
    for scene in scenes:
        scene_seed = int(scene.properties.get("seed", 0 if seed is None else seed))
        world = build_world(glacier, scene_seed)
        records.append(
            {
                "scene_id": scene.scene_id,
                "sensor": scene.sensor,
                "acquired": scene.acquired,
                "geometry": true_front(world, scene.acquired),
            }
        )
    return records


def write_truth(glacier, scenes, path, seed: int | None = None) -> None:
    """Write :func:`truth_fronts` as a GeoPackage (layer ``truth``: scene_id, sensor,
    acquired (UTC), LineString in EPSG:3413), replacing ``path`` only when complete."""
    import os

    import geopandas
    import pandas
    import pyogrio

    from calvingfronts.raster_io import atomic_path

    records = truth_fronts(glacier, scenes, seed)
    frame = geopandas.GeoDataFrame(
        {
            "scene_id": [r["scene_id"] for r in records],
            "sensor": [r["sensor"] for r in records],
            "acquired": pandas.to_datetime([r["acquired"] for r in records], utc=True),
        },
        geometry=[r["geometry"] for r in records],
        crs=GLACIER_CRS,
    ).sort_values(["acquired", "scene_id"], ignore_index=True)
    with atomic_path(path) as tmp:
        staging = f"{tmp}.gpkg"  # GDAL picks the driver from the suffix
        try:
            pyogrio.write_dataframe(
                frame, staging, layer="truth", driver="GPKG", geometry_type="LineString"
            )
            os.replace(staging, tmp)
        finally:
            if os.path.exists(staging):
                os.unlink(staging)


def optical_daylight(world: World, acquired: datetime, min_sun_elevation: float = 5.0) -> bool:
    """Whether an optical sensor could image the glacier then (no polar-night scenes)."""
    return solar_position(world, acquired)[0] >= min_sun_elevation


def nominal_time(sensor: str, day: date, key: int) -> datetime:
    """A plausible overpass time on ``day``: the sensor's local morning or evening pass over
    west Greenland, jittered by up to a quarter of an hour (deterministic per day)."""
    kind = get_sensor(sensor).kind
    jitter = hash_uniform(day.toordinal(), 5, key)[0]
    if kind == "optical":
        base = 14.5 if sensor != "sentinel2" else 15.0
    else:
        # SAR alternates irregularly between descending (morning) and ascending (evening).
        base = 9.8 if hash_uniform(day.toordinal(), 6, key)[0] < 0.65 else 20.6
    seconds = round((base + (jitter - 0.5) * 0.5) * 3600)
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(seconds=seconds)


def random_training_scene(
    glacier,
    rng: np.random.Generator,
    sensor: str | None = None,
    pixel_size: float | None = None,
    *,
    seed: int = 0,
    acquired: datetime | None = None,
    width_px: int = 3,
    radar: str = "classic",
    optical: str = "classic",
):
    """A random scene for training: ``(raw Raster, front label uint8, zones uint8)``.

    Draws the sensor (if None), a time in the sensor's mission years (daylight for optical),
    and renders with a generator drawn from ``rng`` (so many scenes of one date differ).
    ``radar="realistic"`` draws hard radar conditions for SAR scenes
    (:func:`calvingfronts.synthetic.radar.draw_radar_conditions`); ``"classic"`` renders SAR
    as the demo archive does. ``optical="realistic"`` draws fjord ice for optical scenes
    (:func:`calvingfronts.synthetic.optical.draw_fjord_ice`: frozen, snow-covered mélange in
    spring); ``"classic"`` renders them as the demo archive does.
    The world's static layers are cached per grid, so repeated calls at one pixel size are
    cheap. The raster's tags hold ``SENSOR``, ``ACQUIRED`` and the true front.
    """
    world = build_world(glacier, seed)
    sensor = sensor or str(rng.choice(sorted(SENSORS)))
    pixel_size = pixel_size or SENSORS[sensor].default_pixel_size
    grid = GlacierGrid.snapped(world.aoi, pixel_size)
    first, last = MISSION_YEARS.get(sensor, (1985, 2025))
    for _ in range(50):
        when = acquired or from_decimal_year(rng.uniform(first, last + 1))
        when = when.replace(microsecond=0)
        if SENSORS[sensor].is_sar or acquired or optical_daylight(world, when):
            break
    for name, value in (("radar", radar), ("optical", optical)):
        if value not in ("classic", "realistic"):
            raise ValueError(f"{name} must be classic or realistic, not {value!r}")
    scene_generator = np.random.default_rng(rng.integers(0, 2**63))
    season = decimal_year(when) - math.floor(decimal_year(when))
    conditions, fjord_ice = CLASSIC, OPEN_FJORD
    if radar == "realistic" and SENSORS[sensor].is_sar:
        conditions = draw_radar_conditions(rng, season)
    if optical == "realistic" and not SENSORS[sensor].is_sar:
        fjord_ice = draw_fjord_ice(rng, season)
    raw = render(
        world, grid, sensor, when, rng=scene_generator, radar=conditions, fjord_ice=fjord_ice
    )
    return raw, label_front(world, when, grid, width_px), zones(world, when, grid)
