"""The plot_fronts stage: read a glacier's GeoPackage, write its plots and run statistics.

The I/O edge around :mod:`calvingfronts.report.plots` and
:mod:`calvingfronts.report.run_statistics`.
A GeoPackage written before the merge computed terminus positions has no ``positions``
layer: the position plot then says so and the rest is drawn from what there is.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas
import numpy
import pandas
import pyogrio

from calvingfronts.raster_io import atomic_path
from calvingfronts.report import plots, run_statistics


def read_layers(gpkg: str | os.PathLike) -> dict[str, pandas.DataFrame]:
    """Every layer of the GeoPackage by name: ``fronts``, ``rejected`` and, in GeoPackages
    written since the merge screens fronts, ``screened`` and ``positions``."""
    layers = {}
    for name, geometry_type in pyogrio.list_layers(gpkg):
        frame = geopandas.read_file(gpkg, layer=name) if geometry_type else None
        if frame is None:
            frame = pyogrio.read_dataframe(gpkg, layer=name, read_geometry=False)
        layers[str(name)] = frame
    return layers


def write_plot_outputs(
    gpkg: str | os.PathLike,
    fjord,
    glacier: str,
    position_png: str | os.PathLike,
    front_map_png: str | os.PathLike,
    statistics_html: str | os.PathLike,
    statistics_csv: str | os.PathLike,
    scenes_dir: str | os.PathLike | None = None,
) -> dict[str, int]:
    """Write the two PNGs and the statistics (HTML for the report, CSV for scripts).
    ``scenes_dir`` (``results/<glacier>/scenes``): where the latest kept front's scene is
    looked for, to draw behind the fronts.

    Returns the number of rows per layer read, for the log.
    """
    layers = read_layers(gpkg)
    fronts = layers.get("fronts")
    rejected = layers.get("rejected")
    positions = layers.get("positions")
    screened = layers.get("screened")  # screened fronts' lines, where the merge kept them
    if fronts is None or rejected is None:
        raise ValueError(f"{gpkg} lacks the fronts or the rejected layer: not a fronts GeoPackage")

    _save_png(plots.position_figure(positions, glacier), position_png)
    background = latest_scene(fronts, scenes_dir) if scenes_dir is not None else None
    _save_png(
        plots.front_map_figure(fronts, fjord, glacier, screened=screened, background=background),
        front_map_png,
    )

    counts = run_statistics.scene_counts(fronts, rejected, positions)
    reasons = run_statistics.common_reasons(fronts, rejected, positions)
    page = run_statistics.statistics_html(counts, reasons, glacier)
    with atomic_path(statistics_html) as tmp:
        Path(tmp).write_text(page)
    with atomic_path(statistics_csv) as tmp:
        counts.to_csv(tmp, index=False)
    return {name: len(frame) for name, frame in layers.items()}


def latest_scene(fronts, scenes_dir: str | os.PathLike):
    """The band, bounds (m) and label of the latest kept front's fetched scene
    (``<scenes_dir>/<sensor>/<scene_id>.tif``), or None where it is not at hand (a scene
    that was never kept on disk, a rejection marker)."""
    from calvingfronts.raster_io import read_raster
    from calvingfronts.rejection import SceneRejected

    if fronts is None or not len(fronts):
        return None
    latest = fronts.sort_values("acquired").iloc[-1]
    path = Path(scenes_dir) / str(latest["sensor"]) / f"{latest['scene_id']}.tif"
    if not path.is_file():
        return None
    try:
        raster = read_raster(path)
    except (OSError, ValueError, SceneRejected):
        return None
    band = raster.band.astype(float)
    if raster.nodata is not None and not numpy.isnan(raster.nodata):
        band[band == raster.nodata] = numpy.nan
    height, width = band.shape
    left, top = raster.transform.c, raster.transform.f
    right = left + raster.transform.a * width
    bottom = top + raster.transform.e * height
    day = pandas.to_datetime(latest["acquired"], utc=True).strftime("%Y-%m-%d")
    return band, (left, bottom, right, top), f"{latest['sensor']} {day}, the latest kept front"


def _save_png(figure, path) -> None:
    with atomic_path(path) as tmp:
        plots.save_png(figure, tmp)
