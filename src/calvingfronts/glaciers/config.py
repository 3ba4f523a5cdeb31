"""A glacier's configuration: its entry of the workflow config read into typed records,
with checks that name the bad key.

The checks here are the ones a schema cannot express: an area of interest that is not empty,
a fjord polygon that is valid and lies in the area of interest, a centreline that crosses the
fjord and runs with the flow, date ranges in order, known sensors, and no key that nothing
reads in a sensor block (each source lists the options it reads).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import shapely
from shapely.geometry import LineString, Polygon, box

from calvingfronts.glaciers.outlines import read_outline
from calvingfronts.grid import GlacierGrid
from calvingfronts.scenes.sensors import SENSORS


class ConfigError(ValueError):
    """An invalid configuration value, with the dotted key that holds it."""

    def __init__(self, key: str, message: str):
        super().__init__(f"config key '{key}': {message}")
        self.key = key


# Keys of every sensor block; the rest of the block are the options of its source.
SENSOR_KEYS = frozenset({"source", "pixel_size", "start", "end", "enabled"})


def refuse_unknown_keys(block: dict, known, prefix: str) -> None:
    """Raise ConfigError for the first key of ``block`` that is not in ``known``: nothing
    reads an unknown key, so a typo (``ednd:``) would silently mean the default."""
    for key in block:
        if key not in known:
            raise ConfigError(f"{prefix}.{key}", f"unknown key; known: {', '.join(sorted(known))}")


def sensor_enabled(settings: dict) -> bool:
    """Whether a sensor block is used. ``enabled: false`` switches a sensor off: an extra
    ``--configfile`` is merged into the config (dictionaries are merged key by key), so it
    cannot delete a configured sensor, but it can disable it."""
    return settings.get("enabled", True) is not False


def enabled_sensors(glacier_entry: dict) -> list[str]:
    """The names of a glacier entry's sensors that are not disabled, in config order."""
    sensors = glacier_entry.get("sensors") or {}
    return [name for name, settings in sensors.items() if sensor_enabled(settings)]


@dataclass(frozen=True)
class SensorSettings:
    sensor: str
    source: str
    pixel_size: float
    start: date
    end: date | None
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class GlacierConfig:
    name: str
    aoi: tuple[float, float, float, float]
    fjord: Polygon
    flow_azimuth: float | None
    sensors: dict[str, SensorSettings]
    description: str = ""
    # Upstream -> downstream; configured, else a straight stand-in along flow_azimuth
    # (None only when neither is known). The box is for the box method (Moon & Joughin 2008).
    centreline: LineString | None = None
    box: Polygon | None = None
    # Drafted by a rule (draft-glacier, draft-catalogue): to be checked against a plot.
    drafted: bool = False
    provenance: str = ""
    termpicks_id: int | None = None  # TermPicks' GlacierID (Goliber et al. 2022), where known

    def grid(self, sensor: str) -> GlacierGrid:
        return GlacierGrid.snapped(self.aoi, self.sensors[sensor].pixel_size)


def _as_date(value, key: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(key, f"{value!r} is not a date (YYYY-MM-DD)") from None


def load_outline(value, kind: str, key: str, base_dir: Path):
    """A configured outline ("Polygon" or "LineString"): a vector file (first such geometry,
    any CRS; GeoJSON without a crs member is longitude/latitude) or inline [x, y] pairs."""
    try:
        geometry = read_outline(value, kind, base_dir)
    except ValueError as error:
        raise ConfigError(key, str(error)) from None
    if geometry.is_empty or not geometry.is_valid:
        reason = "empty" if geometry.is_empty else shapely.is_valid_reason(geometry)
        raise ConfigError(key, f"{kind.lower()} is invalid: {reason}")
    return geometry


def load_fjord(value, key: str, base_dir: Path) -> Polygon:
    """The fjord polygon: a vector file (first polygon, any CRS) or inline [x, y] pairs."""
    return load_outline(value, "Polygon", key, base_dir)


def load_centreline(entry: dict, fjord: Polygon, prefix: str, base_dir: Path):
    """The configured centreline, checked against the fjord and the flow direction, or the
    straight stand-in through the fjord along ``flow_azimuth``."""
    from calvingfronts.timeseries.terminus import line_azimuth, straight_centreline

    azimuth = entry.get("flow_azimuth")
    if entry.get("centreline") is None:
        return None if azimuth is None else straight_centreline(fjord, float(azimuth))
    key = f"{prefix}.centreline"
    line = load_outline(entry["centreline"], "LineString", key, base_dir)
    if not line.intersects(fjord):
        raise ConfigError(key, "the centreline does not cross the fjord polygon")
    if azimuth is not None:
        # Positions are measured from the first vertex: a reversed line flips their sign.
        turn = abs((line_azimuth(line) - float(azimuth) + 180.0) % 360.0 - 180.0)
        if turn > 90.0:
            raise ConfigError(
                key,
                f"the centreline runs towards azimuth {line_azimuth(line):.0f}, against "
                f"flow_azimuth {float(azimuth):g}: draw it from upstream to the fjord mouth",
            )
    return line


def load_box(entry: dict, fjord: Polygon, centreline, prefix: str, base_dir: Path):
    """The configured box of the box method, or None."""
    if entry.get("box") is None:
        return None
    key = f"{prefix}.box"
    found = load_outline(entry["box"], "Polygon", key, base_dir)
    if not found.intersects(fjord):
        raise ConfigError(key, "the box lies outside the fjord polygon")
    if centreline is None or centreline.intersection(found).length == 0:
        raise ConfigError(key, "the centreline does not run through the box")
    return found


def _source_option_names(settings: dict, key: str) -> frozenset[str]:
    """The options the sensor block's source reads (each source lists its own)."""
    from calvingfronts.sources import SOURCE_MODULES, known_options

    source = settings.get("source")
    if source not in SOURCE_MODULES:
        known = ", ".join(sorted(SOURCE_MODULES))
        raise ConfigError(f"{key}.source", f"unknown source {source!r}; known: {known}")
    return known_options(source)


def glacier_config(config: dict, name: str, base_dir: str | Path = ".") -> GlacierConfig:
    """The checked configuration of one glacier."""
    base_dir = Path(base_dir)
    glaciers = config.get("glaciers") or {}
    if name not in glaciers:
        known = ", ".join(sorted(glaciers)) or "none"
        raise ConfigError("glaciers", f"no glacier {name!r} (configured: {known})")
    entry = glaciers[name]
    prefix = f"glaciers.{name}"
    aoi = tuple(float(v) for v in entry["aoi"])
    if len(aoi) != 4 or not (aoi[0] < aoi[2] and aoi[1] < aoi[3]):
        raise ConfigError(f"{prefix}.aoi", f"{list(aoi)} is not [xmin, ymin, xmax, ymax]")
    fjord = load_fjord(entry["fjord"], f"{prefix}.fjord", base_dir)
    if not fjord.intersects(box(*aoi)):
        raise ConfigError(f"{prefix}.fjord", "fjord polygon lies outside the area of interest")
    centreline = load_centreline(entry, fjord, prefix, base_dir)
    box_polygon = load_box(entry, fjord, centreline, prefix, base_dir)
    sensors = {}
    for sensor, settings in (entry.get("sensors") or {}).items():
        key = f"{prefix}.sensors.{sensor}"
        if sensor not in SENSORS:
            raise ConfigError(key, f"unknown sensor; known: {', '.join(sorted(SENSORS))}")
        refuse_unknown_keys(settings, SENSOR_KEYS | _source_option_names(settings, key), key)
        start = _as_date(settings.get("start"), f"{key}.start")
        end = _as_date(settings.get("end"), f"{key}.end")
        if start is None:
            raise ConfigError(f"{key}.start", "a start date is required")
        if end is not None and end < start:
            raise ConfigError(f"{key}.end", f"end {end} is before start {start}")
        pixel_size = float(settings.get("pixel_size", SENSORS[sensor].default_pixel_size))
        if pixel_size <= 0:
            raise ConfigError(f"{key}.pixel_size", "must be positive")
        if not sensor_enabled(settings):
            continue  # checked all the same: a disabled block may be enabled again
        options = {k: v for k, v in settings.items() if k not in SENSOR_KEYS}
        sensors[sensor] = SensorSettings(
            sensor=sensor,
            source=settings["source"],
            pixel_size=pixel_size,
            start=start,
            end=end,
            options=options,
        )
    azimuth = entry.get("flow_azimuth")
    return GlacierConfig(
        name=name,
        aoi=aoi,
        fjord=fjord,
        flow_azimuth=None if azimuth is None else float(azimuth),
        sensors=sensors,
        description=entry.get("description", ""),
        centreline=centreline,
        box=box_polygon,
        drafted=bool(entry.get("drafted", False)),
        provenance=entry.get("provenance", ""),
        termpicks_id=entry.get("termpicks_id"),
    )


def glacier_listing(config: dict) -> list[str]:
    """One line per configured glacier: its key, TermPicks id, sensors (sources) and whether
    its outlines are drafted; read from the entries as written, so listing never fails on
    one glacier's outline files (check-config says what is wrong)."""
    lines = []
    glaciers = config.get("glaciers") or {}
    width = max((len(name) for name in glaciers), default=0)
    for name, entry in glaciers.items():
        sensors = ", ".join(
            f"{sensor} ({settings.get('source')})"
            for sensor, settings in (entry.get("sensors") or {}).items()
            if sensor_enabled(settings)
        )
        termpicks = entry.get("termpicks_id")
        ident = f"TermPicks {termpicks}" if termpicks is not None else "TermPicks id unknown"
        if entry.get("drafted"):
            outlines = "outlines drafted: check against a plot"
        elif entry.get("centreline") is None:
            outlines = "fjord only (straight centreline)"
        else:
            outlines = "outlines given"
        lines.append(f"{name:<{width}}  {ident:<20}  {outlines:<38}  {sensors or 'no sensor'}")
    return lines
