"""Sensors: how each one's pixels become one band of a physical quantity.

A fetched scene keeps the archive's encoding (integer counts with a scale and offset written
into the GeoTIFF band metadata); :func:`to_physical` turns it into top-of-atmosphere or
surface reflectance for optical sensors and into backscatter in decibels for SAR. The value
range is what the ``none`` histogram treatment maps onto [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Sensor:
    name: str
    kind: str  # "optical" or "sar"
    default_pixel_size: float  # metres on the glacier grid
    value_range: tuple[float, float]  # physical values mapped to [0, 1] by the `none` treatment
    description: str

    @property
    def is_sar(self) -> bool:
        return self.kind == "sar"


_REFLECTANCE = (0.0, 1.0)
_BACKSCATTER_DB = (-30.0, 5.0)

SENSORS: dict[str, Sensor] = {
    s.name: s
    for s in [
        Sensor("landsat5", "optical", 30.0, _REFLECTANCE, "Landsat 5 TM"),
        Sensor("landsat7", "optical", 30.0, _REFLECTANCE, "Landsat 7 ETM+ (SLC-off stripes)"),
        Sensor("landsat8", "optical", 30.0, _REFLECTANCE, "Landsat 8 OLI"),
        Sensor("landsat9", "optical", 30.0, _REFLECTANCE, "Landsat 9 OLI-2"),
        Sensor("sentinel2", "optical", 10.0, _REFLECTANCE, "Sentinel-2 MSI"),
        Sensor("sentinel1", "sar", 20.0, _BACKSCATTER_DB, "Sentinel-1 C-band GRD"),
        Sensor("envisat", "sar", 30.0, _BACKSCATTER_DB, "Envisat ASAR C-band"),
        Sensor("alos1", "sar", 12.5, _BACKSCATTER_DB, "ALOS PALSAR L-band"),
        Sensor("alos2", "sar", 10.0, _BACKSCATTER_DB, "ALOS-2 PALSAR-2 L-band"),
        Sensor("terrasarx", "sar", 8.0, _BACKSCATTER_DB, "TerraSAR-X X-band"),
    ]
}

# What the scaled value of a SAR band is: the archives deliver amplitude (GRD digital
# numbers), power (sigma0/gamma0, linear) or already decibels.
SAR_QUANTITIES = ("amplitude", "power", "db")

# What a band's numbers are: the archive's encoding of the sensor's physical quantity, or
# the brightness of an already-stretched 8-bit display image (a quick-look, a figure, an
# export from a GIS), which no scale turns into reflectance or backscatter. Display values
# are taken as they are: the `none` histogram treatment maps 0-255 onto [0, 1], as training
# does with its 8-bit PNG images, and `equalize` equalizes them like those images.
VALUE_KINDS = ("physical", "display")
DISPLAY_RANGE = (0.0, 255.0)
# The raster tag that marks a fetched band's values as display values.
VALUES_TAG = "VALUES"


def get_sensor(name: str) -> Sensor:
    try:
        return SENSORS[name]
    except KeyError:
        known = ", ".join(sorted(SENSORS))
        raise KeyError(f"unknown sensor {name!r}; known sensors: {known}") from None


def is_display(raster) -> bool:
    """Whether a fetched raster holds display values (tag ``VALUES=display``)."""
    return raster.tags.get(VALUES_TAG, "physical") == "display"


def raster_value_range(raster, sensor: Sensor) -> tuple[float, float]:
    """The range of :func:`raster_to_physical`'s values that `none` maps onto [0, 1]."""
    return DISPLAY_RANGE if is_display(raster) else sensor.value_range


def display_values(raw: np.ndarray, nodata: float | None = None) -> np.ndarray:
    """An 8-bit display band as float32, unchanged but for NaN where there is no data."""
    values = raw.astype(np.float32)
    if nodata is not None and not np.isnan(nodata):
        values[raw == nodata] = np.nan
    return values


def raster_to_physical(raster, sensor: Sensor) -> np.ndarray:
    """The first band of a :class:`calvingfronts.raster_io.Raster` in physical units,
    decoded with the raster's own nodata, scale, offset and ``SAR_QUANTITY`` tag; display
    values (:func:`is_display`) come back as they are, in :data:`DISPLAY_RANGE`."""
    if is_display(raster):
        return display_values(raster.data[0], nodata=raster.nodata)
    return to_physical(
        raster.data[0],
        sensor,
        nodata=raster.nodata,
        scale=(raster.scales or (1.0,))[0],
        offset=(raster.offsets or (0.0,))[0],
        sar_quantity=raster.tags.get("SAR_QUANTITY", "amplitude"),
    )


def to_physical(
    raw: np.ndarray,
    sensor: Sensor,
    *,
    nodata: float | None = None,
    scale: float = 1.0,
    offset: float = 0.0,
    sar_quantity: str = "amplitude",
) -> np.ndarray:
    """One band of reflectance (optical) or backscatter in dB (SAR); NaN where no data.

    ``raw`` is the fetched band as stored, ``scale``/``offset`` its encoding
    (``physical = raw * scale + offset``), ``nodata`` its fill value.
    """
    values = raw.astype(np.float64)
    invalid = ~np.isfinite(values)
    if nodata is not None and not np.isnan(nodata):
        invalid |= raw == nodata
    values = values * scale + offset
    if sensor.is_sar:
        if sar_quantity not in SAR_QUANTITIES:
            raise ValueError(f"sar_quantity must be one of {SAR_QUANTITIES}, got {sar_quantity!r}")
        if sar_quantity != "db":
            # Zero or negative linear values carry no backscatter: radar shadow or fill.
            invalid |= values <= 0
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = 20.0 if sar_quantity == "amplitude" else 10.0
                values = factor * np.log10(values)
    values[invalid] = np.nan
    return values.astype(np.float32)
