"""Radar backscatter and speckle of the synthetic glacier's SAR scenes.

The demo archive renders SAR as it always has (:data:`CLASSIC`): a fixed incidence of 35
degrees, mélange darker than the ice, calm to moderate wind and plain multi-look speckle.
Real radar is harder than that, and a network that learnt only those scenes drew lines
kilometres off on real Sentinel-1, Envisat and TerraSAR-X. Training scenes therefore draw
:class:`RadarConditions` (:func:`draw_radar_conditions`), which add what real scenes show:

- **incidence-angle gradients**: the AOI sits anywhere in a 20-46 degree swath and the
  incidence changes across it; open water darkens by about 0.5-1 dB per degree, ice and rock
  by far less (Ulaby & Long 2014), so the contrast between them depends on the swath;
- **rigid mélange**: in winter a packed, frozen mélange scatters like the glacier itself and
  fills kilometres of fjord, so the front is only a change of texture (crevasse lines across
  the flow on the ice, blocky isotropic floes beyond);
- **layover and shadow**: fjord walls facing the radar are folded towards it as bright
  bands that can lie over the fjord's edge; walls facing away fall to the noise floor;
- **wind-roughened water** brighter than the ice, most of all in the melt season when wet
  snow darkens the glacier;
- **speckle with the statistics of multi-looked amplitude**: intensity is the product of a
  gamma-distributed texture (K-distributed clutter, heavy-tailed over the sea and mélange)
  and gamma speckle of ``looks`` looks, spatially correlated over about a pixel as resampled
  products are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
from scipy import ndimage

from calvingfronts.synthetic.layers import static_layers
from calvingfronts.synthetic.noise import smoothstep
from calvingfronts.synthetic.world import ZONE_ICE, ZONE_ROCK, decimal_year

# Changes whenever realistic scenes render differently (caches of training scenes key on it).
RADAR_VERSION = "2"
# Incidence of the classic scenes, and the swath real ones are drawn from (degrees).
CLASSIC_INCIDENCE_DEG = 35.0
INCIDENCE_RANGE_DEG = (20.0, 46.0)
# dB per degree of incidence away from 35 degrees: open water falls steeply, ice and rock
# (volume and rough-surface scatterers) slowly.
WATER_INCIDENCE_SLOPE_DB = -0.7
ICE_INCIDENCE_SLOPE_DB = -0.15
ROCK_INCIDENCE_SLOPE_DB = -0.1
NOISE_FLOOR_DB = -24.0


@dataclass(frozen=True)
class RadarConditions:
    """What makes one synthetic SAR scene hard (see the module docstring)."""

    incidence_deg: float = CLASSIC_INCIDENCE_DEG  # at the AOI's centre
    incidence_gradient_deg_per_km: float = 0.0  # along the look direction
    rigid_melange: float = 0.0  # 0: loose floes in dark water .. 1: frozen, ice-like
    melange_reach: float = 1.0  # factor on the mélange band's width (iceberg-choked fjords)
    layover_db: float = 6.0  # brightening of walls facing the radar
    layover_shift_m: float = 0.0  # how far that brightness is folded towards the radar
    wind_boost_db: float = 0.0  # extra brightness of wind-roughened water
    looks: float | None = None  # None: the sensor's nominal looks
    texture_order: float | None = None  # K-distribution order of sea clutter; None: none
    speckle_correlation_px: float = 0.0  # Gaussian sigma of the speckle's correlation


CLASSIC = RadarConditions()


def draw_radar_conditions(rng: np.random.Generator, season: float) -> RadarConditions:
    """Random hard radar conditions for a training scene at ``season`` (fraction of year)."""
    winter = season < 0.4 or season > 0.85
    rigid = float(rng.beta(3.0, 1.5)) if winter and rng.random() < 0.6 else 0.0
    return RadarConditions(
        incidence_deg=float(rng.uniform(*INCIDENCE_RANGE_DEG)),
        incidence_gradient_deg_per_km=float(rng.uniform(0.03, 0.3)),
        rigid_melange=rigid,
        melange_reach=float(1.0 + (rng.uniform(1.0, 4.0) if rigid > 0 else rng.uniform(0.0, 1.0))),
        layover_db=float(rng.uniform(6.0, 14.0)),
        layover_shift_m=float(rng.uniform(0.0, 600.0)),
        wind_boost_db=float(rng.uniform(0.0, 8.0) if rng.random() < 0.4 else 0.0),
        looks=float(np.exp(rng.uniform(math.log(1.0), math.log(20.0)))),
        texture_order=float(np.exp(rng.uniform(math.log(1.5), math.log(30.0)))),
        speckle_correlation_px=float(rng.uniform(0.0, 1.2)),
    )


def incidence_field(xs, ys, look_deg: float, radar: RadarConditions) -> np.ndarray:
    """Incidence (degrees) at each pixel: far range lies in the look direction."""
    look = math.radians(look_deg)
    x, y = np.asarray(xs)[None, :], np.asarray(ys)[:, None]
    along_look = (x - np.mean(xs)) * math.sin(look) + (y - np.mean(ys)) * math.cos(look)
    return radar.incidence_deg + radar.incidence_gradient_deg_per_km * along_look / 1000.0


def fold_towards_radar(field: np.ndarray, shift_m: float, look_deg: float, pixel: float):
    """``field`` moved ``shift_m`` towards the radar (layover puts high ground nearer)."""
    if shift_m <= 0:
        return field
    look = math.radians(look_deg)
    # Towards the radar is against the look direction; rows run southwards.
    dx, dy = -math.sin(look) * shift_m / pixel, math.cos(look) * shift_m / pixel
    return ndimage.shift(field, (dy, dx), order=1, mode="nearest")


def speckle(
    sigma0_db: np.ndarray,
    looks: float,
    rng: np.random.Generator,
    radar: RadarConditions = CLASSIC,
    clutter: np.ndarray | None = None,
) -> np.ndarray:
    """Speckled intensity (linear power) of ``sigma0_db``, with the thermal noise floor.

    Classic: gamma speckle of ``looks`` looks on the signal and on the noise. Otherwise the
    scene's own looks, a gamma texture of order ``texture_order`` where ``clutter`` (0..1)
    is set (K-distributed intensity), and correlation over ``speckle_correlation_px``.
    """
    shape = sigma0_db.shape
    if radar is CLASSIC:
        power = 10.0 ** (sigma0_db / 10.0) * rng.gamma(looks, 1.0 / looks, shape)
        return power + 10.0 ** (NOISE_FLOOR_DB / 10.0) * rng.gamma(looks, 1.0 / looks, shape)
    looks = radar.looks or looks
    fading = _correlated(rng.gamma(looks, 1.0 / looks, shape), radar.speckle_correlation_px)
    power = 10.0 ** (sigma0_db / 10.0) * fading
    if radar.texture_order and clutter is not None:
        power *= 1.0 + clutter * (_clutter_texture(shape, radar.texture_order, rng) - 1.0)
    noise = _correlated(rng.gamma(looks, 1.0 / looks, shape), radar.speckle_correlation_px)
    return power + 10.0 ** (NOISE_FLOOR_DB / 10.0) * noise


def _clutter_texture(shape, order: float, rng: np.random.Generator, cell: int = 3):
    """Gamma texture of mean 1 and variance about 1/order, varying over ``cell`` pixels:
    drawn on a coarser grid and interpolated, so it keeps most of its variance (smoothing
    per-pixel draws would average it away)."""
    coarse = rng.gamma(order, 1.0 / order, (shape[0] // cell + 2, shape[1] // cell + 2))
    rows = np.arange(shape[0]) / cell
    cols = np.arange(shape[1]) / cell
    grid = np.meshgrid(rows, cols, indexing="ij")
    return ndimage.map_coordinates(coarse, grid, order=1, mode="nearest")


def _correlated(fading: np.ndarray, sigma_px: float) -> np.ndarray:
    """Fading smoothed over ``sigma_px`` pixels, its mean kept at 1 (power is preserved)."""
    if sigma_px <= 0.05:
        return fading
    smooth = ndimage.gaussian_filter(fading, sigma_px)
    return smooth / max(float(np.mean(smooth)), 1e-6)


# Equivalent number of looks of the products (speckle strength) and radar band.
SAR_LOOKS = {"sentinel1": 4.4, "envisat": 3.0, "alos1": 3.5, "alos2": 3.0, "terrasarx": 2.5}
SAR_BAND = {"sentinel1": "C", "envisat": "C", "alos1": "L", "alos2": "L", "terrasarx": "X"}
SAR_AMPLITUDE_SCALE = 1e-4  # amplitude = raw * 1e-4, so -25 dB is ~560 counts, 0 dB 10000


def sar_look_azimuth(acquired: datetime) -> float:
    """Right-looking SAR: ascending passes (evening here) look east, descending look west."""
    hour = acquired.astimezone(timezone.utc).hour
    return 75.0 if hour >= 16 or hour < 4 else 285.0


def sar_backscatter(world, grid, sensor, acquired, conditions, surface, radar=CLASSIC):
    """Backscatter sigma0 in dB before speckle (``radar``: synthetic_radar.RadarConditions)."""
    layers = static_layers(world, grid)
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
    layover = smoothstep((cos_local - 0.93) / 0.06) * 6.0
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
        bright = smoothstep((cos_local - 0.93) / 0.06) * (radar.layover_db - 6.0)
        bright = fold_towards_radar(bright, radar.layover_shift_m, sar_look_azimuth(acquired),
                                    grid.pixel_size)  # fmt: skip
        rock = np.where(cos_local < 0.05, -35.0, rock)
        water, ice, rock, floes = water + bright, ice + bright, rock + bright, floes + bright
    sea = water + (floes - water) * surface.melange
    sea = sea + (-1.5 - sea) * surface.bergs

    return np.where(surface.zone == ZONE_ROCK, rock, np.where(surface.zone == ZONE_ICE, ice, sea))


def encode_sar_amplitude(sigma0_db: np.ndarray, nodata: np.ndarray) -> np.ndarray:
    amplitude = np.sqrt(10.0 ** (sigma0_db / 10.0))
    raw = np.clip(np.round(amplitude / SAR_AMPLITUDE_SCALE), 1, 65535).astype(np.uint16)
    raw[nodata] = 0
    return raw
