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
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

import numpy as np
from scipy import ndimage
from shapely.geometry import LineString, MultiLineString, Polygon, box

from calvingfronts.grid import GLACIER_CRS, GlacierGrid
from calvingfronts.raster_io import Raster
from calvingfronts.sensors import SENSORS, Sensor, get_sensor
from calvingfronts.synthetic_radar import (
    CLASSIC,
    ICE_INCIDENCE_SLOPE_DB,
    ROCK_INCIDENCE_SLOPE_DB,
    WATER_INCIDENCE_SLOPE_DB,
    RadarConditions,
    draw_radar_conditions,
    fold_towards_radar,
    incidence_field,
    speckle,
)

GENERATOR_VERSION = "1"
TRUE_FRONT_TAG = "SYNTHETIC_TRUE_FRONT"

ZONE_ROCK, ZONE_ICE, ZONE_OCEAN = 0, 1, 2

# Archive encodings: physical = raw * scale + offset, raw 0 = no data.
LANDSAT_SCALE, LANDSAT_OFFSET = 2.75e-5, -0.2  # Landsat Collection 2 Level-2 reflectance
SENTINEL2_SCALE, SENTINEL2_OFFSET = 1e-4, -0.1  # Sentinel-2 L2A, processing baseline >= 04.00
SAR_AMPLITUDE_SCALE = 1e-4  # amplitude = raw * 1e-4, so -25 dB is ~560 counts, 0 dB 10000

# Landsat 7's scan line corrector failed on 2003-05-31: wedge-shaped gaps ever after.
LANDSAT7_SLC_OFF = datetime(2003, 5, 31, tzinfo=timezone.utc)

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

# Equivalent number of looks of the products (speckle strength) and radar band.
SAR_LOOKS = {"sentinel1": 4.4, "envisat": 3.0, "alos1": 3.5, "alos2": 3.0, "terrasarx": 2.5}
SAR_BAND = {"sentinel1": "C", "envisat": "C", "alos1": "L", "alos2": "L", "terrasarx": "X"}

_REFERENCE_YEAR = 2000.0  # origin of ice advection, so textures move with the ice


# --------------------------------------------------------------------------------------------
# Hashing and noise: randomness addressed by position, so any part is reproducible alone.


def stable_key(*parts) -> int:
    """A 63-bit integer from any printable parts, the same in every Python process.

    Python's ``hash`` is salted per process, so it cannot key a reproducible world.
    """
    text = "|".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)


def _mix64(z: np.ndarray) -> np.ndarray:
    """The splitmix64 finalizer: a cheap, well-mixed bijection on uint64 arrays."""
    z = (z ^ (z >> np.uint64(30))) * _M2
    z = (z ^ (z >> np.uint64(27))) * _M3
    return z ^ (z >> np.uint64(31))


def hash_uniform(i, j, key: int) -> np.ndarray:
    """Uniform [0, 1) values for integer lattice points ``(i, j)`` (broadcast), keyed."""
    i, j = np.broadcast_arrays(np.atleast_1d(np.asarray(i, np.int64)), np.asarray(j, np.int64))
    z = _mix64(i.astype(np.int64).view(np.uint64) * _M1 + np.uint64(key))
    z = _mix64(z ^ (np.ascontiguousarray(j).view(np.uint64) * _M3 + _M1))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def _axis_weights(coords: np.ndarray, order: int):
    """Lattice indices and weights along one axis (``coords`` in lattice units).

    Order 1 blends the two neighbours with a smoothstep (no visible lattice creases);
    order 3 is the cubic B-spline over four neighbours (smoother, for coarse octaves).
    """
    base = np.floor(coords)
    f = (coords - base)[:, None]
    base = base.astype(np.int64)[:, None]
    if order == 1:
        w1 = f * f * (3.0 - 2.0 * f)
        return base + np.arange(2), np.hstack([1.0 - w1, w1])
    f2, f3 = f * f, f * f * f
    weights = np.hstack([
        (1.0 - f) ** 3, 3.0 * f3 - 6.0 * f2 + 4.0, -3.0 * f3 + 3.0 * f2 + 3.0 * f + 1.0, f3
    ]) / 6.0  # fmt: skip
    return base + np.arange(-1, 3), weights


def lattice_noise(a, b, scale_a: float, scale_b: float, key: int, order: int = 1) -> np.ndarray:
    """Value noise in [0, 1] at points ``(a, b)`` (metres, any shape, broadcast).

    Lattice values are :func:`hash_uniform` of absolute lattice indices, so the field is the
    same whatever samples it; :func:`lattice_field` gives the same values on a whole grid.
    """
    a, b = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64))
    ia, wa = _axis_weights(a.ravel() / scale_a, order)
    ib, wb = _axis_weights(b.ravel() / scale_b, order)
    total = np.zeros(a.size)
    for m in range(ia.shape[1]):
        for n in range(ib.shape[1]):
            total += wa[:, m] * wb[:, n] * hash_uniform(ia[:, m], ib[:, n], key)
    return total.reshape(a.shape)


def _axis_matrix(coords: np.ndarray, order: int):
    """Sparse interpolation matrix from a lattice segment to ``coords``, and its first index."""
    from scipy import sparse

    index, weights = _axis_weights(coords, order)
    first = int(index.min())
    rows = np.repeat(np.arange(coords.size), index.shape[1])
    matrix = sparse.csr_matrix(
        (weights.ravel(), (rows, (index - first).ravel())),
        shape=(coords.size, int(index.max()) - first + 1),
    )
    return matrix, first


def lattice_field(xs, ys, scale_x: float, scale_y: float, key: int, order: int = 1):
    """:func:`lattice_noise` on the grid of 1-D coordinates ``ys`` (rows) by ``xs`` (columns).

    A north-up grid is separable, so the field is two sparse products instead of a
    per-pixel gather: a few milliseconds per octave whatever its scale.
    """
    row_matrix, y0 = _axis_matrix(np.asarray(ys, np.float64) / scale_y, order)
    col_matrix, x0 = _axis_matrix(np.asarray(xs, np.float64) / scale_x, order)
    lattice = hash_uniform(
        np.arange(x0, x0 + col_matrix.shape[1])[None, :],
        np.arange(y0, y0 + row_matrix.shape[1])[:, None],
        key,
    )
    return np.asarray((col_matrix @ (row_matrix @ lattice).T).T)


def _octaves(scales, min_scale: float, gain: float):
    """(index, scale, weight, order) of the octaves kept, and the normalisation of all."""
    kept, weight, norm = [], 1.0, 0.0
    for index, scale in enumerate(scales):
        norm += weight
        if scale >= min_scale:
            kept.append((index, scale, weight, 3 if scale >= 100.0 else 1))
        weight *= gain
    # Value noise has a small spread: stretch the sum towards [-1, 1].
    return kept, 1.7 / norm


def fractal_noise(
    a, b, scales, key: int, *, anisotropy: float = 1.0, min_scale: float = 0.0, gain: float = 0.55
) -> np.ndarray:
    """Sum of value-noise octaves at points ``(a, b)``, roughly in [-1, 1] with zero mean.

    ``scales`` are the lattice steps along ``a`` (metres), coarse first; along ``b`` they are
    ``anisotropy`` times longer. Octaves finer than ``min_scale`` (about a pixel) are skipped:
    a sensor averages them away, and leaving them in would alias differently per pixel size.
    Weights do not depend on which octaves are kept, so coarse structure never changes.
    """
    kept, norm = _octaves(scales, min_scale, gain)
    total = np.zeros(np.broadcast_shapes(np.shape(a), np.shape(b)))
    for index, scale, weight, order in kept:
        noise = lattice_noise(a, b, scale, scale * anisotropy, key + 7919 * index, order)
        total += weight * (2.0 * noise - 1.0)
    return total * norm


def fractal_field(
    xs, ys, scales, key: int, *, anisotropy: float = 1.0, min_scale: float = 0.0, gain: float = 0.55
) -> np.ndarray:
    """:func:`fractal_noise` on a grid of columns ``xs`` and rows ``ys`` (same values)."""
    kept, norm = _octaves(scales, min_scale, gain)
    total = np.zeros((np.size(ys), np.size(xs)))
    for index, scale, weight, order in kept:
        noise = lattice_field(xs, ys, scale, scale * anisotropy, key + 7919 * index, order)
        total += weight * (2.0 * noise - 1.0)
    return total * norm


def smooth_series(t, period: float, key: int) -> np.ndarray:
    """A smooth random function of time in about [-1, 1]: Catmull-Rom through hashed knots."""
    t = np.asarray(t, np.float64) / period
    k = np.floor(t).astype(np.int64)
    f = t - k
    knots = 2.0 * hash_uniform(k[..., None] + np.arange(-1, 3), 0, key) - 1.0
    p = [knots[..., d].ravel() for d in range(4)]
    value = 0.5 * (
        2.0 * p[1]
        + (p[2] - p[0]) * f
        + (2.0 * p[0] - 5.0 * p[1] + 4.0 * p[2] - p[3]) * f**2
        + (3.0 * p[1] - p[0] - 3.0 * p[2] + p[3]) * f**3
    )
    return value.reshape(np.shape(t)) if np.ndim(t) else float(value[0])


def _smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


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


def _winter_weight(phase: float) -> float:
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
    return world.p("melange") * strength * _winter_weight(season) + 40.0


# --------------------------------------------------------------------------------------------
# Layers on a grid


@dataclass(frozen=True, eq=False)
class _Static:
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
def _static_layers(world: World, grid: GlacierGrid) -> _Static:
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
    elevation = world.p("wall_height") * _smoothstep(outside / ramp) * (1.0 + 0.3 * relief)
    elevation += (250.0 * relief - 60.0 * np.abs(gullies)) * _smoothstep(outside / 400.0)
    slope_y, slope_x = np.gradient(elevation, p)
    slope_y = -slope_y  # rows run southwards
    rock_texture = fractal_field(xs, ys, [800.0, 300.0, 120.0, 50.0, 20.0], key + 4, min_scale=p)
    snow_noise = fractal_field(xs, ys, [1500.0, 600.0, 250.0, 100.0, 40.0], key + 5, min_scale=p,
                               gain=0.45)  # fmt: skip
    return _Static(
        *_readonly(xs, ys, *_float32(u, v, fjord, wall_distance, elevation, slope_x, slope_y,
                                     rock_texture, snow_noise))
    )  # fmt: skip


def _front_distance(world: World, layers: _Static, acquired: datetime) -> np.ndarray:
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
    layers = _static_layers(world, grid)
    downstream = _front_distance(world, layers, acquired) >= 0
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
# Per-scene conditions


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


def sar_look_azimuth(acquired: datetime) -> float:
    """Right-looking SAR: ascending passes (evening here) look east, descending look west."""
    hour = acquired.astimezone(timezone.utc).hour
    return 75.0 if hour >= 16 or hour < 4 else 285.0


# --------------------------------------------------------------------------------------------
# Rendering


@dataclass(frozen=True, eq=False)
class _Surface:
    """The scene-independent-of-sensor part of a scene: what lies where, and its textures."""

    zone: np.ndarray  # uint8 zones
    front_distance: np.ndarray  # metres downstream of the front
    melange: np.ndarray  # 0..1 floe cover in the melange band (0 elsewhere)
    crevasses: np.ndarray  # 0..1 crevasse lines on the ice
    ice_texture: np.ndarray  # [-1, 1]
    water_texture: np.ndarray  # [-1, 1]
    bergs: np.ndarray  # 0..1 iceberg cover
    snow: np.ndarray  # 0..1 snow on rock


def _ice_textures(world: World, layers: _Static, front_distance, t: float, p: float):
    """Crevasses across the flow (stronger near the front and along the shear margins) and
    the general ice texture, on the whole grid. Both are advected with the ice, so they move
    downstream from scene to scene as real crevasse fields do."""
    key = stable_key(world.key, "ice")
    travel = world.p("ice_speed") * (t - _REFERENCE_YEAR)
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
    segments = _smoothstep((fractal_field(xs, ys, [450.0, 180.0], key + 2) + 0.15) / 0.35)
    fields = _smoothstep((fractal_field(xs, ys, [2500.0, 1000.0], key + 3) + 0.5) / 0.6)
    near_front = 0.25 + 0.75 * np.exp(np.minimum(front_distance, 0.0) / 2500.0)
    crevasses = lines * segments * np.clip(fields * near_front * 1.4, 0.0, 1.0)
    # Within a few hundred metres of the front the ice breaks into chaotic seracs.
    chaos = fractal_field(xs, ys, [150.0, 60.0, 25.0], key + 5, min_scale=p, gain=0.7)
    serac_zone = np.exp(np.minimum(front_distance, 0.0) / 400.0)
    crevasses = np.maximum(crevasses, _smoothstep((chaos + 0.1) / 0.5) * serac_zone)
    texture = fractal_field(xs, ys, [2000.0, 700.0, 250.0, 90.0, 35.0], key + 4, min_scale=p)
    return crevasses, texture


def _melange_cover(layers: _Static, front_distance, width: float, texture_key: int, p: float):
    """Melange: floes and bergy bits packed against the front, frozen into a matrix of sea
    ice, thinning out towards an irregular edge. 0 open water .. 1 solid floe."""
    xs, ys = layers.xs, layers.ys
    edge = width * (0.75 + 0.4 * fractal_field(xs, ys, [1500.0, 500.0], texture_key + 1))
    packing = np.clip(1.0 - front_distance / np.maximum(edge, 1.0), 0.0, 1.0)
    packing *= front_distance >= 0
    pieces = fractal_field(xs, ys, [200.0, 80.0, 30.0, 12.0], texture_key + 2, min_scale=p,
                           gain=0.8)  # fmt: skip
    # Dense near the front, scattered further out: the threshold rises with distance.
    floes = _smoothstep((pieces - (0.45 - 1.0 * packing)) / 0.08)
    matrix = 0.3 * _smoothstep(packing / 0.3)
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


def _surface(world, grid, acquired, conditions, rng, radar=CLASSIC) -> _Surface:
    layers = _static_layers(world, grid)
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
    if radar is not CLASSIC:
        width *= radar.melange_reach
    melange = _melange_cover(layers, front_distance, width, conditions.texture_key, p) * ocean
    if radar.rigid_melange > 0:
        # Frozen in: the whole band is packed, little open water between the floes.
        melange = np.where(melange > 0, melange + 0.8 * radar.rigid_melange * (1 - melange), 0)
    # Wind streaks and currents: elongated in a direction drawn per scene (via the key).
    water_texture = fractal_field(
        layers.xs, layers.ys, [3000.0, 1000.0, 300.0, 100.0], conditions.texture_key + 3,
        min_scale=p, anisotropy=0.4 if conditions.texture_key % 2 else 2.5,
    )  # fmt: skip
    bergs = _iceberg_cover(world, layers.xs, layers.ys, p, curve, ocean, rng)
    snow = _snow_cover(world, layers, t)
    return _Surface(zone, front_distance, melange, crevasses * ice, ice_texture, water_texture,
                    bergs, snow)  # fmt: skip


def _snow_cover(world: World, layers: _Static, t: float) -> np.ndarray:
    """Snow on the rock: most in late winter and spring, patches left in late summer, none
    on steep slopes (it slides off), more higher up."""
    season = t - math.floor(t)
    fraction = 0.12 + 0.6 * _winter_weight((season - 0.08) % 1.0)
    steepness = np.hypot(layers.slope_x, layers.slope_y)
    score = (
        layers.snow_noise
        + 0.5 * layers.elevation / 1000.0
        - 1.2 * np.clip(steepness - 0.5, 0, None)
    )
    threshold = 1.0 - 2.0 * fraction
    return _smoothstep((score - threshold) / 0.15) * ~layers.fjord


def _hillshade(layers: _Static, elevation_deg: float, azimuth_deg: float) -> np.ndarray:
    """Cosine of the local illumination angle (negative: self-shadowed)."""
    elevation = math.radians(max(elevation_deg, 1.0))
    azimuth = math.radians(azimuth_deg)
    sun = np.array([math.sin(azimuth) * math.cos(elevation),
                    math.cos(azimuth) * math.cos(elevation), math.sin(elevation)])  # fmt: skip
    norm = np.sqrt(1.0 + layers.slope_x**2 + layers.slope_y**2)
    return (-layers.slope_x * sun[0] - layers.slope_y * sun[1] + sun[2]) / norm


def _optical_reflectance(world, grid, acquired, conditions, surface, rng) -> np.ndarray:
    layers = _static_layers(world, grid)
    t = decimal_year(acquired)
    season = t - math.floor(t)
    summer = 1.0 - _winter_weight(season)
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
        return conditions.cloud_opacity * _smoothstep((field - threshold) / softness) ** 0.8

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


def _sar_backscatter(world, grid, sensor, acquired, conditions, surface, radar=CLASSIC):
    """Backscatter sigma0 in dB before speckle (``radar``: synthetic_radar.RadarConditions)."""
    layers = _static_layers(world, grid)
    t = decimal_year(acquired)
    season = t - math.floor(t)
    melt = float(np.interp(season, [0.0, 0.42, 0.5, 0.62, 0.7, 1.0], [0, 0, 1, 1, 0, 0]))
    band = SAR_BAND[sensor]
    incidence = math.radians(35.0)
    look = math.radians(sar_look_azimuth(acquired))
    # Unit vector from the ground to the radar (looking along `look`).
    to_radar = np.array([-math.sin(look) * math.sin(incidence),
                         -math.cos(look) * math.sin(incidence), math.cos(incidence)])  # fmt: skip
    norm = np.sqrt(1.0 + layers.slope_x**2 + layers.slope_y**2)
    cos_local = (-layers.slope_x * to_radar[0] - layers.slope_y * to_radar[1] + to_radar[2]) / norm
    # Slopes facing the radar are bright (foreshortening, layover), facing away dark (shadow).
    terrain = 10.0 * np.log10(np.clip(cos_local, 0.02, 1.0) ** 2 / math.cos(incidence) ** 2)
    layover = _smoothstep((cos_local - 0.93) / 0.06) * 6.0
    rock = -7.0 + 2.5 * layers.rock_texture + 1.6 * terrain + layover
    rock -= 6.0 * melt * surface.snow  # wet snow absorbs

    melt_darkening = {"C": 7.0, "X": 9.0, "L": 3.0}[band] * melt
    ice = -6.5 + 1.5 * surface.ice_texture + 9.0 * surface.crevasses
    ice -= melt_darkening * (1.0 - 0.6 * surface.crevasses)
    if band == "L":
        ice -= 2.0  # longer waves see less of the surface roughness

    calm = {"C": -24.0, "X": -22.0, "L": -28.0}[band]
    water = calm + 16.0 * conditions.wind * (0.6 + 0.6 * surface.water_texture)
    floes = -11.0 + 6.0 * surface.water_texture
    if radar is not CLASSIC:
        water = water + radar.wind_boost_db * (0.6 + 0.6 * surface.water_texture)
        # Frozen mélange scatters like the glacier: blocky floes at the ice's level.
        blocky = -7.0 + 4.0 * (surface.melange - 0.5) + 1.5 * surface.water_texture
        floes = floes + radar.rigid_melange * (blocky - floes)
        if band != "L":
            floes -= 0.5 * melt_darkening * radar.rigid_melange
        theta = incidence_field(layers.xs, layers.ys, sar_look_azimuth(acquired), radar) - 35.0
        water = water + WATER_INCIDENCE_SLOPE_DB * theta
        ice = ice + ICE_INCIDENCE_SLOPE_DB * theta
        rock = rock + ROCK_INCIDENCE_SLOPE_DB * theta
        # Walls facing the radar fold towards it, over the fjord's edge; those facing
        # away lie in shadow, at the noise floor.
        bright = _smoothstep((cos_local - 0.93) / 0.06) * (radar.layover_db - 6.0)
        bright = fold_towards_radar(bright, radar.layover_shift_m, sar_look_azimuth(acquired),
                                    grid.pixel_size)  # fmt: skip
        rock = np.where(cos_local < 0.05, -35.0, rock)
        water, ice, rock, floes = water + bright, ice + bright, rock + bright, floes + bright
    sea = water + (floes - water) * surface.melange
    sea = sea + (-1.5 - sea) * surface.bergs

    return np.where(surface.zone == ZONE_ROCK, rock, np.where(surface.zone == ZONE_ICE, ice, sea))


def _edge_cut(layers: _Static, conditions: SceneConditions) -> np.ndarray:
    """Pixels beyond the scene's edge (a straight boundary across the AOI)."""
    if conditions.edge_cut is None:
        return np.zeros(layers.u.shape, dtype=bool)
    direction, fraction = conditions.edge_cut
    angle = math.radians(direction)
    along = layers.xs[None, :] * math.sin(angle) + layers.ys[:, None] * math.cos(angle)
    return along < np.quantile(along, fraction)


def _slc_off_gaps(world: World, layers: _Static, conditions: SceneConditions) -> np.ndarray:
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


def _encode_optical(sensor: str, reflectance: np.ndarray, nodata: np.ndarray):
    if sensor == "sentinel2":
        scale, offset = SENTINEL2_SCALE, SENTINEL2_OFFSET
    else:
        scale, offset = LANDSAT_SCALE, LANDSAT_OFFSET
    raw = np.clip(np.round((reflectance - offset) / scale), 1, 65535).astype(np.uint16)
    raw[nodata] = 0
    return raw, scale, offset


def _encode_sar_amplitude(sigma0_db: np.ndarray, nodata: np.ndarray) -> np.ndarray:
    amplitude = np.sqrt(10.0 ** (sigma0_db / 10.0))
    raw = np.clip(np.round(amplitude / SAR_AMPLITUDE_SCALE), 1, 65535).astype(np.uint16)
    raw[nodata] = 0
    return raw


def render(
    world: World,
    grid: GlacierGrid,
    sensor: str | Sensor,
    acquired: datetime,
    rng: np.random.Generator | None = None,
    conditions: SceneConditions | None = None,
    radar: RadarConditions = CLASSIC,
) -> Raster:
    """One scene of ``sensor`` at ``acquired`` on ``grid``, in the archive's raw encoding.

    ``rng`` defaults to :func:`scene_rng` (what the synthetic source uses); its first draws
    are the scene's :class:`SceneConditions`, the rest place icebergs and add noise. Tags:
    ``SENSOR``, ``ACQUIRED``, ``SAR_QUANTITY`` (SAR) and the true front as WKT.
    """
    sensor = sensor if isinstance(sensor, Sensor) else get_sensor(sensor)
    acquired = acquired.astimezone(timezone.utc)
    if rng is None:
        rng = scene_rng(world.seed, world.name, sensor.name, acquired)
    if conditions is None:
        conditions = draw_conditions(rng, sensor.name)
    layers = _static_layers(world, grid)
    surface = _surface(world, grid, acquired, conditions, rng, radar)
    nodata = _edge_cut(layers, conditions)
    tags = {
        "SENSOR": sensor.name,
        "ACQUIRED": acquired.strftime("%Y-%m-%dT%H:%M:%SZ"),
        TRUE_FRONT_TAG: true_front(world, acquired).wkt,
        "SYNTHETIC_GENERATOR": GENERATOR_VERSION,
    }
    if sensor.is_sar:
        sigma0 = _sar_backscatter(world, grid, sensor.name, acquired, conditions, surface, radar)
        # Speckle on the signal and on the thermal noise floor (noise-equivalent sigma0
        # near -24 dB); heavy-tailed clutter, where drawn, over the sea and mélange.
        clutter = np.where(surface.zone == ZONE_OCEAN, 1.0, 0.3)
        power = speckle(sigma0, SAR_LOOKS[sensor.name], rng, radar, clutter)
        raw = _encode_sar_amplitude(10.0 * np.log10(power), nodata)
        scale, offset = SAR_AMPLITUDE_SCALE, 0.0
        tags["SAR_QUANTITY"] = "amplitude"
        tags["LOOK_AZIMUTH"] = f"{sar_look_azimuth(acquired):g}"
    else:
        reflectance = _optical_reflectance(world, grid, acquired, conditions, surface, rng)
        if sensor.name == "landsat7" and acquired >= LANDSAT7_SLC_OFF:
            nodata = nodata | _slc_off_gaps(world, layers, conditions)
        raw, scale, offset = _encode_optical(sensor.name, reflectance, nodata)
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
):
    """A random scene for training: ``(raw Raster, front label uint8, zones uint8)``.

    Draws the sensor (if None), a time in the sensor's mission years (daylight for optical),
    and renders with a generator drawn from ``rng`` (so many scenes of one date differ).
    ``radar="realistic"`` draws hard radar conditions for SAR scenes
    (:func:`calvingfronts.synthetic_radar.draw_radar_conditions`); ``"classic"`` renders SAR
    as the demo archive does.
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
    if radar not in ("classic", "realistic"):
        raise ValueError(f"radar must be classic or realistic, not {radar!r}")
    scene_generator = np.random.default_rng(rng.integers(0, 2**63))
    conditions = CLASSIC
    if radar == "realistic" and SENSORS[sensor].is_sar:
        t = decimal_year(when)
        conditions = draw_radar_conditions(rng, t - math.floor(t))
    raw = render(world, grid, sensor, when, rng=scene_generator, radar=conditions)
    return raw, label_front(world, when, grid, width_px), zones(world, when, grid)
