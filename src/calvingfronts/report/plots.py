"""Figures of a glacier's calving-front time series: terminus position and a map of fronts.

Pure functions: tables and geometries in, a ``matplotlib.figure.Figure`` out. Figures are
built without ``pyplot``, so no global figure state is kept between calls (nothing to close,
safe in a long-running process) and no display is needed: saving uses the Agg canvas.
"""

from __future__ import annotations

import os

import numpy
import pandas
import shapely
from matplotlib import colormaps
from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

# Screened fronts are grey whatever their sensor; the marker shape tells the test.
SCREENED_COLOUR = "0.55"
SCREENED_MARKERS = ["s", "D", "^", "v", "P", "X", "<", ">"]
SENSOR_MARKERS = ["o", "s", "D", "^", "v", "P", "X"]


def sensor_colours(sensors) -> dict[str, tuple]:
    """One colour per sensor, assigned in name order so every figure of a run agrees."""
    palette = colormaps["tab10"].colors
    return {sensor: palette[i % len(palette)] for i, sensor in enumerate(sorted(set(sensors)))}


def _utc_naive(times) -> pandas.Series:
    """Acquisition times as naive UTC (matplotlib's date axis does not mix time zones)."""
    return pandas.to_datetime(pandas.Series(times), utc=True).dt.tz_convert(None)


def _message_figure(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=14)
    ax.set_xticks([])
    ax.set_yticks([])


def position_figure(positions: pandas.DataFrame | None, glacier: str) -> Figure:
    """Terminus position (km along the centreline) against time, one colour per sensor.

    Error bars are ``position_uncertainty_m`` (a 90 % bound on the position), or the line's
    ``uncertainty_m`` where a front has no position bound. Kept fronts flagged
    ``uncertain`` have a white centre. Screened fronts are hollow grey
    markers, one shape per screening test; kept fronts are joined in time order by a thin
    line. Rows without a position are left out. ``positions=None`` means the GeoPackage
    has no positions table (written before positions were computed).
    """
    figure = Figure(figsize=(10, 5), layout="constrained")
    ax = figure.add_subplot()
    ax.set_title(f"{glacier}: terminus position")
    if positions is None:
        _message_figure(
            ax, "no positions layer in the GeoPackage\n(written before positions were computed)"
        )
        return figure
    if positions.empty:
        _message_figure(ax, "no fronts")
        return figure

    table = positions.assign(
        time=_utc_naive(positions["acquired"]).to_numpy(),
        position_km=pandas.to_numeric(positions["position_m"], errors="coerce") / 1000.0,
        error_km=_position_bound(positions) / 1000.0,
    )
    table = table[numpy.isfinite(table["position_km"])].sort_values("time")
    if table.empty:
        _message_figure(ax, f"no front with a position ({len(positions)} without one)")
        return figure

    kept = table[table["status"] == "kept"]
    screened = table[table["status"] != "kept"]
    colours = sensor_colours(table["sensor"])
    # A thin line through the kept fronts (all sensors) shows the record the user keeps.
    if len(kept) > 1:
        ax.plot(kept["time"], kept["position_km"], color="0.3", linewidth=0.7, zorder=1)
    for i, (sensor, rows) in enumerate(kept.groupby("sensor", sort=True)):
        ax.errorbar(
            rows["time"],
            rows["position_km"],
            yerr=_error_bars(rows["error_km"]),
            fmt=SENSOR_MARKERS[i % len(SENSOR_MARKERS)],
            color=colours[sensor],
            markersize=5,
            elinewidth=0.8,
            capsize=2,
            label=f"{sensor} ({len(rows)})",
            zorder=3,
        )
    flags = kept.get("screening_flags", pandas.Series("", index=kept.index, dtype=object))
    doubtful = kept[
        flags.astype(object).where(flags.notna(), "").astype(str).str.contains("uncertain")
    ]
    if len(doubtful):
        # Kept but doubtful (a bound above the cut-off that no neighbour contradicts): a
        # white centre, so a reader sees which kept fronts the time series vouches for.
        ax.plot(
            doubtful["time"],
            doubtful["position_km"],
            "o",
            markersize=3,
            color="white",
            markeredgecolor="0.3",
            markeredgewidth=0.4,
            linestyle="none",
            label=f"kept, flagged uncertain ({len(doubtful)})",
            zorder=4,
        )
    tests = screened["screening_test"].fillna("").replace("", "unspecified")
    for i, (test, rows) in enumerate(screened.groupby(tests, sort=True)):
        ax.errorbar(
            rows["time"],
            rows["position_km"],
            yerr=_error_bars(rows["error_km"]),
            fmt=SCREENED_MARKERS[i % len(SCREENED_MARKERS)],
            markerfacecolor="none",
            markeredgecolor=SCREENED_COLOUR,
            ecolor=SCREENED_COLOUR,
            markersize=6,
            elinewidth=0.6,
            capsize=2,
            label=f"screened: {test.replace('_', ' ')} ({len(rows)})",
            zorder=2,
        )
    missing = len(positions) - len(table)
    if missing:
        ax.text(
            0.01,
            0.01,
            f"{missing} front(s) without a position not shown",
            transform=ax.transAxes,
            fontsize=8,
            color="0.4",
        )
    _frame_on_kept(ax, kept, screened)
    if table["time"].max() - table["time"].min() < pandas.Timedelta(days=2):
        # One date alone: a month around it, not matplotlib's default of years.
        middle = table["time"].min()
        ax.set_xlim(middle - pandas.Timedelta(days=15), middle + pandas.Timedelta(days=15))
    ax.set_xlabel("acquisition date (UTC)")
    ax.set_ylabel("terminus position along the centreline (km)\n(larger = more advanced)")
    _date_axis(ax.xaxis)
    ax.grid(True, linewidth=0.3, alpha=0.6)
    ax.legend(
        title="error bars: 90 % bound" if numpy.isfinite(table["error_km"]).any() else None,
        title_fontsize=8,
        fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
    )
    return figure


def _position_bound(positions: pandas.DataFrame) -> pandas.Series:
    """The bar of each position: its own bound (``position_uncertainty_m``) where the model's
    calibration has one, else the line's ``uncertainty_m``."""
    line = pandas.to_numeric(positions["uncertainty_m"], errors="coerce")
    if "position_uncertainty_m" not in positions:
        return line
    return pandas.to_numeric(positions["position_uncertainty_m"], errors="coerce").fillna(line)


def _frame_on_kept(ax, kept: pandas.DataFrame, screened: pandas.DataFrame) -> None:
    """The position axis spans the kept fronts (a margin of a tenth of their range, at least
    200 m), not the screened ones or the bars of doubtful fronts, which may lie kilometres
    away and would flatten the record; screened fronts beyond it sit on the axis's edge as
    triangles pointing the way they lie."""
    if kept.empty:
        return
    low, high = kept["position_km"].min(), kept["position_km"].max()
    margin = max(0.1 * (high - low), 0.2)
    low, high = low - margin, high + margin
    ax.set_ylim(low, high)
    for beyond, edge, marker in (
        (screened["position_km"] > high, high, "^"),
        (screened["position_km"] < low, low, "v"),
    ):
        if beyond.any():
            ax.plot(
                screened.loc[beyond, "time"],
                numpy.full(int(beyond.sum()), edge),
                marker,
                color=SCREENED_COLOUR,
                markersize=6,
                clip_on=False,
                linestyle="none",
                zorder=4,
            )
    outside = int(((screened["position_km"] > high) | (screened["position_km"] < low)).sum())
    if outside:
        ax.text(
            0.99,
            0.01,
            f"{outside} screened front(s) beyond the axis: triangles on its edge",
            transform=ax.transAxes,
            ha="right",
            fontsize=8,
            color="0.4",
        )


def _error_bars(error_km: pandas.Series):
    """Error bar lengths, or None when no row has an uncertainty (errorbar needs finite)."""
    if not numpy.isfinite(error_km).any():
        return None
    return error_km.fillna(0.0).to_numpy()


def _date_axis(axis) -> None:
    locator = mdates.AutoDateLocator()
    axis.set_major_locator(locator)
    axis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _line_vertices_km(geometry) -> list[numpy.ndarray]:
    """The (x, y) vertices in km of each line part of a geometry (empty parts left out)."""
    if geometry is None or geometry.is_empty:
        return []
    parts = shapely.get_parts(geometry)
    return [
        numpy.asarray(part.coords)[:, :2] / 1000.0
        for part in parts
        if isinstance(part, shapely.LineString) and not part.is_empty
    ]


def _draw_fjord(ax, fjord) -> None:
    """The fjord filled light blue with its outline (islands outlined only)."""
    for i, polygon in enumerate(shapely.get_parts(fjord)):
        outline = numpy.asarray(polygon.exterior.coords) / 1000.0
        label = "fjord" if i == 0 else None
        ax.fill(outline[:, 0], outline[:, 1], color="#dbe9f6", zorder=0, label=label)
        for ring in [polygon.exterior, *polygon.interiors]:
            xy = numpy.asarray(ring.coords) / 1000.0
            ax.plot(xy[:, 0], xy[:, 1], color="0.2", linewidth=0.8, zorder=1)


def front_map_figure(fronts, fjord, glacier: str, screened=None, background=None) -> Figure:
    """The kept fronts over the fjord outline, coloured by acquisition date, framed on the
    fronts, with a scale bar.

    ``fronts``: a GeoDataFrame with ``acquired`` and line geometries in EPSG:3413 (metres);
    ``fjord``: the glacier's fjord polygon; ``screened``: optional GeoDataFrame or sequence
    of screened front lines, drawn grey and dashed; ``background``: optional
    ``(band, (xmin, ymin, xmax, ymax), label)`` of a scene on the glacier grid (metres),
    drawn in grey behind the fronts. Axes are km of EPSG:3413.
    """
    lines, days = [], []
    if fronts is not None and len(fronts):
        times = mdates.date2num(_utc_naive(fronts["acquired"]))
        for geometry, day in zip(fronts.geometry, times, strict=True):
            parts = _line_vertices_km(geometry)
            lines += parts
            days += [day] * len(parts)
    screened_geometries = _geometries(screened)
    screened_lines = [v for g in screened_geometries for v in _line_vertices_km(g)]
    xmin, ymin, xmax, ymax = _map_extent_km(fjord, lines + screened_lines)

    # The figure takes the map's shape, so a long fjord does not leave wide empty margins.
    aspect = (ymax - ymin) / (xmax - xmin)
    # About 7 of the 9 inches of width are the map; the rest the colour bar and labels.
    figure = Figure(figsize=(9, min(max(7 * aspect, 3.0), 10.0) + 1.0), layout="constrained")
    ax = figure.add_subplot()
    ax.set_title(f"{glacier}: calving fronts ({len(fronts) if fronts is not None else 0})")
    ax.set_aspect("equal")
    ax.set_xlabel("x (km, EPSG:3413)")
    ax.set_ylabel("y (km, EPSG:3413)")
    ax.ticklabel_format(useOffset=False, style="plain")
    if background is not None:
        _draw_background(ax, *background)
        _draw_fjord_outline(ax, fjord)
    else:
        _draw_fjord(ax, fjord)
    if screened_lines:
        ax.add_collection(
            LineCollection(
                screened_lines,
                colors=SCREENED_COLOUR,
                linewidths=1.0,
                linestyles="dashed",
                label=f"screened ({len(screened_geometries)})",
                zorder=2,
            )
        )
        ax.legend(loc="lower right", fontsize=8)
    if lines:
        top = max(days) if max(days) > min(days) else min(days) + 1
        collection = LineCollection(
            lines,
            array=numpy.asarray(days),
            cmap="viridis",
            norm=Normalize(vmin=min(days), vmax=top),
            linewidths=1.2,
            zorder=3,
        )
        ax.add_collection(collection)
        colourbar = figure.colorbar(collection, ax=ax, shrink=0.9, aspect=30)
        colourbar.set_label("acquisition date (UTC)")
        _date_axis(colourbar.ax.yaxis)
    else:
        ax.text(0.5, 0.5, "no fronts", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.grid(True, linewidth=0.3, alpha=0.6)
    _scale_bar(ax, xmax - xmin)
    return figure


def _draw_background(ax, band, bounds_m, label: str) -> None:
    """A scene in grey (2-98 % stretch of its valid pixels) under the fronts."""
    values = numpy.asarray(band, dtype=float)
    valid = values[numpy.isfinite(values)]
    if not valid.size:
        return
    low, high = numpy.percentile(valid, [2, 98])
    xmin, ymin, xmax, ymax = (v / 1000.0 for v in bounds_m)
    ax.imshow(
        values,
        extent=(xmin, xmax, ymin, ymax),
        cmap="gray",
        vmin=low,
        vmax=high if high > low else low + 1,
        interpolation="nearest",
        zorder=0,
    )
    ax.text(
        0.01, 0.01, f"behind: {label}", transform=ax.transAxes, fontsize=7, color="w",
        va="bottom", bbox={"facecolor": "k", "alpha": 0.5, "pad": 2, "linewidth": 0},
    )  # fmt: skip


def _draw_fjord_outline(ax, fjord) -> None:
    x, y = fjord.exterior.xy
    ax.plot(numpy.asarray(x) / 1000.0, numpy.asarray(y) / 1000.0, color="#7fb3d5", lw=0.8,
            zorder=1)  # fmt: skip


def _scale_bar(ax, width_km: float) -> None:
    """A scale bar of a round length, about a fifth of the map's width."""
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    target = width_km / 5.0
    length = max((v for v in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if v <= target), default=0.1)
    text = f"{length:g} km" if length >= 1 else f"{length * 1000:g} m"
    ax.add_artist(
        AnchoredSizeBar(ax.transData, length, text, "upper left", pad=0.4, frameon=True,
                        size_vertical=width_km / 200.0)
    )  # fmt: skip


def _map_extent_km(fjord, lines: list[numpy.ndarray]) -> tuple[float, float, float, float]:
    """The view: the fronts with room around them (the fjord walls either side show where
    they lie), within the fjord's bounds; the whole fjord when there are no fronts."""
    fjord_box = numpy.asarray(fjord.bounds) / 1000.0
    if not lines:
        xmin, ymin, xmax, ymax = fjord_box
    else:
        points = numpy.concatenate(lines)
        xmin, ymin = points.min(axis=0)
        xmax, ymax = points.max(axis=0)
        # Room for the walls either side, not the whole fjord: the fronts fill the frame.
        pad = max(xmax - xmin, ymax - ymin) * 0.15 + 0.5
        xmin, ymin = max(xmin - pad, fjord_box[0]), max(ymin - pad, fjord_box[1])
        xmax, ymax = min(xmax + pad, fjord_box[2]), min(ymax + pad, fjord_box[3])
        # Fronts sticking out of the fjord's bounds (should not happen) still show.
        xmin, ymin = min(xmin, points[:, 0].min()), min(ymin, points[:, 1].min())
        xmax, ymax = max(xmax, points[:, 0].max()), max(ymax, points[:, 1].max())
    margin = 0.03 * max(xmax - xmin, ymax - ymin)
    return xmin - margin, ymin - margin, xmax + margin, ymax + margin


def _geometries(frame) -> list:
    if frame is None:
        return []
    if hasattr(frame, "geometry"):
        return [g for g in frame.geometry if g is not None]
    return [g for g in frame if g is not None]


def save_png(figure: Figure, path: str | os.PathLike, dpi: int = 150) -> None:
    """Render a figure to a PNG with the Agg canvas (no display, no pyplot)."""
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=dpi, format="png")


def seasonal_cycle_figure(positions: pandas.DataFrame, glacier: str, min_fronts: int = 6) -> Figure:
    """The seasonal cycle: each kept position against its day of year, less the median of
    its year (years with at least ``min_fronts`` fronts), coloured by year, with the median
    of each month. Removing each year's median takes out the long-term retreat, so what is
    left is the winter advance and summer retreat."""
    figure = Figure(figsize=(9, 5), layout="constrained")
    ax = figure.add_subplot()
    ax.set_title(f"{glacier}: seasonal cycle of the terminus position")
    kept = positions[(positions["status"] == "kept") & positions["position_m"].notna()]
    times = pandas.to_datetime(kept["acquired"], utc=True)
    counts = times.dt.year.map(times.dt.year.value_counts())
    kept, times = kept[counts >= min_fronts], times[counts >= min_fronts]
    if kept.empty:
        _message_figure(ax, f"no year with {min_fronts} or more kept fronts")
        return figure
    anomaly_km = (
        kept["position_m"] - kept.groupby(times.dt.year)["position_m"].transform("median")
    ) / 1000.0
    years = times.dt.year
    scatter = ax.scatter(
        times.dt.day_of_year,
        anomaly_km,
        c=years,
        cmap="viridis",
        s=14,
        vmin=years.min(),
        vmax=years.max(),
    )
    monthly = anomaly_km.groupby(times.dt.month).median()
    middle_day = pandas.to_datetime([f"2001-{m:02d}-15" for m in monthly.index]).day_of_year
    ax.plot(middle_day, monthly.to_numpy(), color="k", linewidth=1.5, label="median per month")
    ax.axhline(0.0, color="0.5", linewidth=0.5)
    starts = pandas.to_datetime([f"2001-{m:02d}-01" for m in range(1, 13)])
    ax.set_xticks(starts.day_of_year, [s.strftime("%b") for s in starts])
    ax.set_xlim(1, 366)
    ax.set_xlabel("day of year")
    ax.set_ylabel("position less the year's median (km)\n(larger = more advanced)")
    ax.grid(True, linewidth=0.3, alpha=0.6)
    ax.legend(fontsize=8, loc="upper right")
    figure.colorbar(scatter, ax=ax, label="year")
    return figure


def outlines_figure(glaciers: list, columns: int = 6) -> Figure:
    """One panel per glacier (``GlacierConfig``): its fjord, centreline (upstream end
    marked), box and flow direction, on a 1 km grid: what a user checks a drafted entry by."""
    rows = max(1, -(-len(glaciers) // columns))
    figure = Figure(figsize=(3.2 * columns, 3.4 * rows), layout="constrained")
    for index, glacier in enumerate(glaciers):
        ax = figure.add_subplot(rows, columns, index + 1)
        ax.fill(*glacier.fjord.exterior.xy, color="#cfe3f3", label="fjord")
        if glacier.box is not None:
            ax.plot(*glacier.box.exterior.xy, color="0.4", lw=0.8, label="box")
        if glacier.centreline is not None:
            x, y = glacier.centreline.xy
            ax.plot(x, y, color="#c0392b", lw=1.2, label="centreline")
            ax.plot(x[0], y[0], "o", color="#c0392b", ms=3)
        if glacier.flow_azimuth is not None:
            centre = glacier.fjord.representative_point()
            xmin, ymin, xmax, ymax = glacier.fjord.bounds
            length = 0.25 * max(xmax - xmin, ymax - ymin)
            angle = numpy.radians(glacier.flow_azimuth)
            ax.annotate(
                "",
                xy=(centre.x + length * numpy.sin(angle), centre.y + length * numpy.cos(angle)),
                xytext=(centre.x, centre.y),
                arrowprops={"arrowstyle": "->", "color": "k"},
            )
        drafted = " (drafted)" if glacier.drafted else ""
        ax.set_title(f"{glacier.name}{drafted}\nflow {glacier.flow_azimuth:g}°", fontsize=8)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=6)
        ax.ticklabel_format(style="plain")
    return figure
