"""The synthetic glacier's world: its fjord, flow frame and parameters, and its front
through time (seasonal cycle, trend, calving events, shape), all procedural."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import numpy as np
from shapely.geometry import LineString, MultiLineString, Polygon, box

from calvingfronts.grid import GLACIER_CRS
from calvingfronts.synthetic.noise import fractal_noise, hash_uniform, smooth_series, stable_key

# Bumped whenever a world or its scenes render differently for the same seed.
GENERATOR_VERSION = "1"
ZONE_ROCK, ZONE_ICE, ZONE_OCEAN = 0, 1, 2


# --------------------------------------------------------------------------------------------
# The world


@dataclass(frozen=True, eq=False)
class World:
    """The static description of one synthetic glacier, from its config and a seed.

    ``origin`` is the middle of the reach the front wanders over; ``reach`` bounds the
    front's excursion along flow on either side of it, ``width`` is the fjord's width there
    and ``v_span`` the across-flow interval the front curve is drawn over (wider than the
    fjord; the curve is clipped to the fjord).
    """

    name: str
    seed: int
    aoi: tuple[float, float, float, float]
    fjord: Polygon
    flow_azimuth: float
    key: int
    origin: tuple[float, float]
    reach: float
    width: float
    v_span: tuple[float, float]
    params: tuple  # sorted (name, value) pairs drawn from the seed: see _draw_params

    def __hash__(self) -> int:
        return self.key

    def __eq__(self, other) -> bool:
        return isinstance(other, World) and self.key == other.key

    @property
    def flow(self) -> tuple[float, float]:
        """Unit vector of the ice flow in (x, y)."""
        angle = math.radians(self.flow_azimuth)
        return math.sin(angle), math.cos(angle)

    @property
    def across(self) -> tuple[float, float]:
        """Unit vector to the right of the flow in (x, y)."""
        angle = math.radians(self.flow_azimuth)
        return math.cos(angle), -math.sin(angle)

    def p(self, name: str) -> float:
        return dict(self.params)[name]

    def to_uv(self, x, y):
        fx, fy = self.flow
        ax, ay = self.across
        dx = np.asarray(x) - self.origin[0]
        dy = np.asarray(y) - self.origin[1]
        return dx * fx + dy * fy, dx * ax + dy * ay

    def to_xy(self, u, v):
        fx, fy = self.flow
        ax, ay = self.across
        u = np.asarray(u)
        v = np.asarray(v)
        return self.origin[0] + u * fx + v * ax, self.origin[1] + u * fy + v * ay


def _draw_params(key: int, reach: float, width: float) -> tuple:
    """The glacier's character: sizes relative to the reach and width, so any fjord works."""
    rng = np.random.default_rng([key, 1])
    params = {
        # Multi-year trend: one retreat episode plus a slow oscillation and yearly anomalies.
        "retreat": rng.uniform(0.35, 0.8) * reach,
        "retreat_year": rng.uniform(1997.0, 2013.0),
        "retreat_years": rng.uniform(1.0, 4.0),
        "oscillation": rng.uniform(0.08, 0.2) * reach,
        "oscillation_period": rng.uniform(7.0, 16.0),
        "oscillation_phase": rng.uniform(0.0, 2.0 * math.pi),
        "anomaly": rng.uniform(0.05, 0.12) * reach,
        # Seasonal peak-to-peak amplitude (varies per year around this) and timing.
        "seasonal": rng.uniform(0.12, 0.3) * reach,
        "advanced_phase": rng.uniform(0.36, 0.45),  # most advanced: May-June
        "retreated_phase": rng.uniform(0.68, 0.76),  # most retreated: September
        # Calving and re-advance.
        "calving_rate": rng.uniform(4.0, 9.0),  # events per year
        "calving_size": rng.uniform(0.04, 0.08) * width,  # median retreat, metres
        "ice_speed": rng.uniform(1500.0, 4000.0),  # m/yr: re-advance and texture advection
        # Shape across the fjord.
        "convexity": rng.uniform(0.02, 0.1) * width,
        "modes": rng.uniform(0.02, 0.045) * width,
        "roughness": rng.uniform(8.0, 20.0),
        "lobe": rng.uniform(0.08, 0.2) * width,
        # Surroundings.
        "melange": rng.uniform(0.25, 0.6) * reach,  # typical winter melange width
        "wall_height": rng.uniform(500.0, 1100.0),
        "wall_ramp": rng.uniform(700.0, 1400.0),
        "ice_albedo": rng.uniform(0.5, 0.62),
        "crevasse_wavelength": rng.uniform(90.0, 160.0),
    }
    return tuple(sorted(params.items()))


def _longest_line(geometry) -> LineString | None:
    if geometry.is_empty:
        return None
    if isinstance(geometry, LineString):
        return geometry
    lines = [g for g in getattr(geometry, "geoms", []) if isinstance(g, LineString)]
    if isinstance(geometry, MultiLineString) or lines:
        return max(lines, key=lambda g: g.length) if lines else None
    return None


def build_world(glacier, seed: int = 0) -> World:
    """The world of a glacier (a ``GlacierConfig`` or anything with name, aoi, fjord and
    flow_azimuth) for a seed; cached, as training asks for it thousands of times."""
    if glacier.flow_azimuth is None:
        raise ValueError(f"glacier {glacier.name}: the synthetic world needs a flow_azimuth")
    return _build_world(
        glacier.name, tuple(float(v) for v in glacier.aoi), glacier.fjord.wkb,
        float(glacier.flow_azimuth), int(seed),
    )  # fmt: skip


@lru_cache(maxsize=32)
def _build_world(name, aoi, fjord_wkb, flow_azimuth, seed) -> World:
    import shapely

    fjord = shapely.from_wkb(fjord_wkb)
    key = stable_key("world", GENERATOR_VERSION, seed, name)
    provisional = World(
        name, seed, aoi, fjord, flow_azimuth, key,
        origin=((aoi[0] + aoi[2]) / 2, (aoi[1] + aoi[3]) / 2),
        reach=0.0, width=0.0, v_span=(0.0, 0.0), params=(),
    )  # fmt: skip
    inside = fjord.intersection(box(*aoi))
    if inside.is_empty:
        raise ValueError(f"glacier {name}: the fjord does not overlap the area of interest")
    u, _ = provisional.to_uv(*np.asarray(_boundary_coords(inside)).T)
    u_low, u_high = float(u.min()), float(u.max())
    u_mid = 0.5 * (u_low + u_high)
    # Width and centre line of the fjord across the middle of its reach in the AOI.
    diagonal = math.hypot(aoi[2] - aoi[0], aoi[3] - aoi[1])
    cross = LineString(np.column_stack(provisional.to_xy([u_mid, u_mid], [-diagonal, diagonal])))
    section = _longest_line(inside.intersection(cross))
    if section is None:
        raise ValueError(f"glacier {name}: no fjord section across the flow at the AOI centre")
    _, v_ends = provisional.to_uv(*np.asarray(section.coords).T)
    v_mid = float(v_ends.mean())
    width = float(section.length)
    origin = tuple(float(c) for c in provisional.to_xy(u_mid, v_mid))
    reach = 0.4 * 0.5 * (u_high - u_low)
    centred = World(name, seed, aoi, fjord, flow_azimuth, key, origin, reach, width, (0.0, 0.0), ())
    # The front curve spans the fjord wherever the front can be: the fjord's across-flow
    # extent over the whole reach, with a margin so the clipped curve always meets the walls.
    band = Polygon(np.column_stack(centred.to_xy(
        [-1.3 * reach, 1.3 * reach, 1.3 * reach, -1.3 * reach],
        [-diagonal, -diagonal, diagonal, diagonal],
    )))  # fmt: skip
    _, v = centred.to_uv(*np.asarray(_boundary_coords(fjord.intersection(band))).T)
    v_span = (float(v.min()) - 300.0, float(v.max()) + 300.0)
    params = _draw_params(key, reach, width)
    return World(name, seed, aoi, fjord, flow_azimuth, key, origin, reach, width, v_span, params)


def _boundary_coords(geometry) -> list:
    polygons = getattr(geometry, "geoms", [geometry])
    return [c for poly in polygons if hasattr(poly, "exterior") for c in poly.exterior.coords]


# --------------------------------------------------------------------------------------------
# Time and sun


def decimal_year(acquired: datetime) -> float:
    """``acquired`` as a fractional year (UTC)."""
    acquired = acquired.astimezone(timezone.utc)
    start = datetime(acquired.year, 1, 1, tzinfo=timezone.utc)
    end = datetime(acquired.year + 1, 1, 1, tzinfo=timezone.utc)
    return acquired.year + (acquired - start) / (end - start)


def from_decimal_year(value: float) -> datetime:
    """The UTC instant of a fractional year, to the second."""
    year = int(math.floor(value))
    start = datetime(year, 1, 1, tzinfo=timezone.utc)
    length = datetime(year + 1, 1, 1, tzinfo=timezone.utc) - start
    return start + timedelta(seconds=round((value - year) * length.total_seconds()))


@lru_cache(maxsize=64)
def _lon_lat(x: float, y: float) -> tuple[float, float]:
    from pyproj import Transformer

    return Transformer.from_crs(GLACIER_CRS, "EPSG:4326", always_xy=True).transform(x, y)


def solar_position(world: World, acquired: datetime) -> tuple[float, float]:
    """Sun elevation and azimuth (degrees clockwise from grid north) at the glacier.

    NOAA's low-precision formulae (about 0.1 degree), ample for shading. The azimuth is
    turned from true to grid north by the polar stereographic convergence (lon + 45).
    """
    lon, lat = _lon_lat(*world.origin)
    acquired = acquired.astimezone(timezone.utc)
    hours = acquired.hour + acquired.minute / 60 + acquired.second / 3600
    gamma = 2 * math.pi / 365 * (acquired.timetuple().tm_yday - 1 + (hours - 12) / 24)
    decl = (
        0.006918 - 0.399912 * math.cos(gamma) + 0.070257 * math.sin(gamma)
        - 0.006758 * math.cos(2 * gamma) + 0.000907 * math.sin(2 * gamma)
        - 0.002697 * math.cos(3 * gamma) + 0.00148 * math.sin(3 * gamma)
    )  # fmt: skip
    eqtime = 229.18 * (
        0.000075 + 0.001868 * math.cos(gamma) - 0.032077 * math.sin(gamma)
        - 0.014615 * math.cos(2 * gamma) - 0.040849 * math.sin(2 * gamma)
    )  # fmt: skip
    hour_angle = math.radians((hours * 60 + eqtime + 4 * lon) / 4 - 180)
    phi = math.radians(lat)
    sin_elevation = math.sin(phi) * math.sin(decl) + math.cos(phi) * math.cos(decl) * math.cos(
        hour_angle
    )
    elevation = math.degrees(math.asin(max(-1.0, min(1.0, sin_elevation))))
    azimuth = math.degrees(
        math.atan2(
            math.sin(hour_angle),
            math.cos(hour_angle) * math.sin(phi) - math.tan(decl) * math.cos(phi),
        )
    )
    azimuth = (azimuth + 180.0 - (lon + 45.0)) % 360.0
    return elevation, azimuth


def winter_weight(phase: float) -> float:
    """1 in mid-winter to spring (fjord frozen, melange rigid), 0 in late summer and autumn."""
    # Full from January to April, fading through May-June, none July-October, back by January.
    points = [(0.0, 1.0), (0.33, 1.0), (0.5, 0.05), (0.8, 0.0), (0.92, 0.5), (1.0, 1.0)]
    xs, ys = zip(*points, strict=True)
    return float(np.interp(phase % 1.0, xs, ys))


# --------------------------------------------------------------------------------------------
# The front


def _seasonal_offset(world: World, t: float) -> float:
    """Seasonal position: cosine arcs between yearly extremes (advanced May-June, retreated
    September). Each extreme has its own amplitude, so years differ and the curve is smooth."""
    key = stable_key(world.key, "seasonal")
    adv, ret = world.p("advanced_phase"), world.p("retreated_phase")
    year = math.floor(t)
    extremes = []
    for y in range(year - 1, year + 2):
        jitter = 0.03 * (2 * hash_uniform(y, 1, key)[0] - 1)
        size = world.p("seasonal") * (0.5 + hash_uniform(y, 2, key)[0])
        extremes.append((y + adv + jitter, 0.5 * size))
        extremes.append((y + ret + jitter, -0.5 * size))
    for (t0, value0), (t1, value1) in zip(extremes, extremes[1:], strict=False):
        if t0 <= t < t1:
            f = (t - t0) / (t1 - t0)
            return value0 + (value1 - value0) * 0.5 * (1 - math.cos(math.pi * f))
    return 0.0


def _trend_offset(world: World, t: float) -> float:
    """Multi-year position: a retreat episode, a slow oscillation and year-to-year wander."""
    retreat = world.p("retreat") * (
        0.5 - 1.0 / (1.0 + math.exp(-(t - world.p("retreat_year")) / world.p("retreat_years")))
    )
    oscillation = world.p("oscillation") * math.sin(
        2 * math.pi * t / world.p("oscillation_period") + world.p("oscillation_phase")
    )
    anomaly = world.p("anomaly") * smooth_series(t, 1.0, stable_key(world.key, "anomaly"))
    return retreat + oscillation + anomaly


@dataclass(frozen=True)
class CalvingEvent:
    time: float  # decimal year
    depth: float  # metres of retreat at the centre of the bite
    centre: float  # across-flow position, in fjord half-widths from the middle
    half_width: float  # in fjord half-widths


def calving_events(world: World, year: int) -> list[CalvingEvent]:
    """The calving events of one year: mostly in summer, a few through the rest of the year."""
    rng = np.random.default_rng([world.key, stable_key("calving"), year + 10000])
    count = int(rng.poisson(world.p("calving_rate")))
    summer = rng.random(count) < 0.75
    times = np.where(
        summer, np.clip(rng.normal(0.6, 0.09, count), 0.35, 0.85), rng.uniform(0.0, 1.0, count)
    )
    depths = np.clip(rng.lognormal(math.log(world.p("calving_size")), 0.6, count), 40.0, None)
    depths = np.minimum(depths, 0.35 * world.width)
    centres = rng.uniform(-0.9, 0.9, count)
    half_widths = rng.uniform(0.15, 0.7, count)
    return [
        CalvingEvent(year + float(t), float(d), float(c), float(h))
        for t, d, c, h in zip(times, depths, centres, half_widths, strict=True)
    ]


def _calving_bites(world: World, t: float, v_hat: np.ndarray) -> np.ndarray:
    """Retreat left by recent calving events: a bite that the ice re-advances into at its
    flow speed, so each event is a sudden retreat followed by a linear recovery."""
    bites = np.zeros_like(v_hat)
    speed = world.p("ice_speed")
    for year in (math.floor(t) - 1, math.floor(t)):
        for event in calving_events(world, year):
            age = t - event.time
            if age < 0:
                continue
            depth = event.depth - age * speed
            if depth <= 0:
                continue
            x = np.abs(v_hat - event.centre) / event.half_width
            # Steep-sided bite with a flat floor: calved blocks leave sharp embayments.
            bites += depth * np.clip(1.0 - x**4, 0.0, None) ** 0.5
    return bites


def _shape_offset(world: World, t: float, v: np.ndarray) -> np.ndarray:
    """Along-flow offset of the front across the fjord at time ``t``."""
    half = 0.5 * world.width
    v_hat = v / half
    inside = np.clip(v_hat, -1.2, 1.2)
    key = stable_key(world.key, "shape")
    # Convexity: the fast middle of the glacier usually leads the slow margins.
    convexity = world.p("convexity") * (0.7 + 0.8 * smooth_series(t, 1.5, key + 1))
    offset = convexity * (1.0 - inside**2)
    # A few slowly changing modes across the fjord (weeks to months).
    for k in range(1, 7):
        amplitude = world.p("modes") * k**-1.3 * smooth_series(t, 0.25 + 0.5 / k, key + 10 * k)
        phase = math.pi * smooth_series(t, 2.0, key + 10 * k + 5)
        offset += amplitude * np.sin(0.5 * k * math.pi * (inside + 1.0) + phase)
    # A floating or grounded lobe that builds up on one side for a year or two, then goes.
    lobe_size = world.p("lobe") * max(0.0, smooth_series(t, 1.7, key + 3))
    lobe_centre = 0.6 * smooth_series(t, 3.1, key + 4)
    offset += lobe_size * np.exp(-0.5 * ((inside - lobe_centre) / 0.3) ** 2)
    # Small-scale roughness, refreshed over about ten days.
    time_m = t * 365.25 * 40.0  # ten days of time become 400 "metres" of lattice
    roughness = fractal_noise(v, np.full_like(v, time_m), [300.0, 120.0, 50.0], key + 99)
    offset += world.p("roughness") * 2.0 * roughness
    return offset - _calving_bites(world, t, v_hat)


def front_curve(world: World, acquired: datetime, spacing: float = 10.0):
    """The front as samples ``(v, u)`` across the whole ``v_span`` (not yet clipped)."""
    t = decimal_year(acquired)
    v = np.arange(world.v_span[0], world.v_span[1] + spacing, spacing)
    offset = _trend_offset(world, t) + _seasonal_offset(world, t) + _shape_offset(world, t, v)
    # Soft limit: whatever the draws, the front stays within the reach (inside the AOI).
    u = world.reach * np.tanh(offset / world.reach)
    return v, u


def true_front(world: World, acquired: datetime) -> LineString:
    """The true calving front at ``acquired``: a LineString in EPSG:3413 from wall to wall.

    It depends on the world and the time only, never on a grid or a sensor.
    """
    v, u = front_curve(world, acquired)
    curve = LineString(np.column_stack(world.to_xy(u, v)))
    front = _longest_line(curve.intersection(world.fjord))
    if front is None:
        raise ValueError(f"{world.name}: the front curve misses the fjord at {acquired}")
    return front.simplify(0.5)


def front_position(world: World, acquired: datetime) -> float:
    """Mean along-flow position of the front (metres downstream of the reach's middle)."""
    front = true_front(world, acquired)
    u, _ = world.to_uv(*np.asarray(front.coords).T)
    return float(np.mean(u))


def melange_width(world: World, acquired: datetime) -> float:
    """Width of the melange band downstream of the front: wide in winter and spring."""
    t = decimal_year(acquired)
    season = t - math.floor(t)
    # A winter's melange belongs to the winter starting in the previous autumn.
    winter = math.floor(t) if season < 0.7 else math.floor(t) + 1
    strength = 0.4 + 1.2 * hash_uniform(winter, 4, stable_key(world.key, "melange"))[0]
    return world.p("melange") * strength * winter_weight(season) + 40.0
