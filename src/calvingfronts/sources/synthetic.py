"""The synthetic archive: scenes of a glacier's simulated world (offline demo and tests).

Acquisitions fall every ``revisit_days`` on a calendar anchored to a fixed epoch (not to the
configured start), so changing the date range only adds or removes whole records; each
record depends on (seed, glacier, sensor, acquired) alone and stays byte-identical, and the
workflow reruns nothing that did not change. Optical scenes are listed only when the sun is
at least ``min_sun_elevation`` degrees up: no archive holds polar-night images.

Options: ``seed`` (default 0), ``revisit_days`` (default per sensor), ``min_sun_elevation``
(optical, default 5 degrees).
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from calvingfronts.grid import GlacierGrid
from calvingfronts.raster_io import Raster
from calvingfronts.rejection import SceneRejected
from calvingfronts.scenes.manifest import Scene, format_utc
from calvingfronts.scenes.sensors import get_sensor
from calvingfronts.synthetic import scenes as synthetic

SOURCE = "synthetic"

DEFAULT_REVISIT_DAYS = {
    "landsat5": 16,
    "landsat7": 16,
    "landsat8": 8,
    "landsat9": 8,
    "sentinel2": 5,
    "sentinel1": 6,
    "envisat": 35,
    "alos1": 46,
    "alos2": 14,
    "terrasarx": 11,
}
DEFAULT_MIN_SUN_ELEVATION = 5.0

# Every option this source reads, in `sources.synthetic` or a sensor's block; any other key
# is refused by calvingfronts.config (a typo must not silently mean a default).
OPTIONS = frozenset({"seed", "revisit_days", "min_sun_elevation"})


def _seed(options: dict) -> int:
    return int(options.get("seed", 0))


def _revisit_days(sensor: str, options: dict) -> int:
    days = int(options.get("revisit_days", DEFAULT_REVISIT_DAYS.get(sensor, 8)))
    if days < 1:
        raise ValueError(f"revisit_days must be at least 1, got {days}")
    return days


def acquisition_days(start: date, end: date, revisit_days: int, phase_key: int) -> list[date]:
    """Days in [start, end] on the sensor's revisit calendar (anchored at day 1 of the
    proleptic calendar, shifted by a per-glacier phase so sensors do not all coincide)."""
    phase = phase_key % revisit_days
    first = start.toordinal() + (phase - start.toordinal()) % revisit_days
    return [date.fromordinal(day) for day in range(first, end.toordinal() + 1, revisit_days)]


def scene_id(sensor: str, acquired: datetime) -> str:
    return f"SYN_{sensor.upper()}_{acquired.astimezone(timezone.utc):%Y%m%dT%H%M%S}"


def list_scenes(glacier, settings, options: dict) -> list[Scene]:
    """The synthetic scenes of ``settings.sensor`` from ``settings.start`` to ``settings.end``
    (inclusive; today when open-ended), with cloud cover known for optical scenes."""
    sensor = get_sensor(settings.sensor)
    seed = _seed(options)
    world = synthetic.build_world(glacier, seed)
    end = settings.end or datetime.now(timezone.utc).date()
    key = synthetic.stable_key("calendar", seed, glacier.name, sensor.name)
    min_sun = float(options.get("min_sun_elevation", DEFAULT_MIN_SUN_ELEVATION))
    scenes = []
    for day in acquisition_days(settings.start, end, _revisit_days(sensor.name, options), key):
        acquired = synthetic.nominal_time(sensor.name, day, key)
        properties = {"seed": seed, "generator": synthetic.GENERATOR_VERSION}
        cloud_cover = None
        if sensor.is_sar:
            properties["look_azimuth"] = synthetic.sar_look_azimuth(acquired)
        else:
            elevation, azimuth = synthetic.solar_position(world, acquired)
            if elevation < min_sun:
                continue
            properties["sun_elevation"] = round(elevation, 2)
            properties["sun_azimuth"] = round(azimuth, 2)
            conditions = synthetic.scene_conditions(seed, glacier.name, sensor.name, acquired)
            cloud_cover = conditions.cloud_cover
        scenes.append(
            Scene(
                scene_id=scene_id(sensor.name, acquired),
                glacier=glacier.name,
                sensor=sensor.name,
                source=SOURCE,
                acquired=acquired,
                href=f"synthetic://{glacier.name}/{sensor.name}/{format_utc(acquired)}",
                cloud_cover=cloud_cover,
                properties=properties,
            )
        )
    return scenes


def fetch_scene(scene: Scene, glacier, grid: GlacierGrid, options: dict) -> Raster:
    """Render the scene on ``grid`` in its archive's encoding, with the true front as WKT in
    the ``SYNTHETIC_TRUE_FRONT`` tag."""
    seed = int(scene.properties.get("seed", _seed(options)))
    try:
        world = synthetic.build_world(glacier, seed)
    except ValueError as error:
        raise SceneRejected("fetch", f"synthetic world: {error}") from None
    acquired = scene.acquired.astimezone(timezone.utc)
    raster = synthetic.render(world, grid, scene.sensor, acquired)
    if not (raster.data != raster.nodata).any():
        raise SceneRejected("fetch", "scene holds no valid pixels over the area of interest")
    raster.tags["SCENE_ID"] = scene.scene_id
    return raster
