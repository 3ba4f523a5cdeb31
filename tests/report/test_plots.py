"""Plots of the time series, the run statistics and the plot_fronts outputs, on hand-made
tables with the GeoPackage's columns (fronts, rejected, positions)."""

from __future__ import annotations

import math

import geopandas
import numpy
import pandas
import pyogrio
import pytest
import shapely
from matplotlib.figure import Figure

from calvingfronts.grid import GLACIER_CRS
from calvingfronts.report import plots, run_statistics
from calvingfronts.report.report_outputs import write_plot_outputs
from calvingfronts.timeseries.geopackage import REJECTED_COLUMNS, write_time_series
from calvingfronts.timeseries.positions import POSITION_COLUMNS

FJORD = shapely.box(-160000, -2205000, -140000, -2195000)


def positions_table(rows: list[tuple]) -> pandas.DataFrame:
    """Positions from (sensor, scene_id, day, position_m, uncertainty_m, test) tuples;
    an empty test means kept."""
    records = []
    for sensor, scene_id, day, position, uncertainty, test in rows:
        acquired = pandas.Timestamp(day, tz="UTC")
        records.append(
            {
                "glacier": "demo",
                "sensor": sensor,
                "scene_id": scene_id,
                "acquired": acquired,
                "date": acquired.strftime("%Y-%m-%d"),
                "decimal_year": acquired.year + (acquired.day_of_year - 1) / 366,
                "position_m": position,
                "area_change_m2": position * 5000.0,
                "box_width_m": 5000.0,
                "uncertainty_m": uncertainty,
                "status": "screened" if test else "kept",
                "screening_test": test,
                "screening_reason": f"{test}: off by 812.5 m > 300 m" if test else "",
            }
        )
    return pandas.DataFrame(records, columns=POSITION_COLUMNS)


@pytest.fixture
def positions() -> pandas.DataFrame:
    return positions_table(
        [
            ("landsat8", "L1", "2020-03-05", 1200.0, 60.0, ""),
            ("landsat8", "L2", "2020-03-21", 1150.0, math.nan, ""),
            ("sentinel1", "S1", "2020-03-10", 1180.0, 90.0, ""),
            ("sentinel1", "S2", "2020-03-22", 400.0, 90.0, "temporal_outlier"),
            ("landsat8", "L3", "2020-04-06", math.nan, math.nan, "uncertainty"),
            ("sentinel1", "S3", "2020-04-03", 1100.0, 80.0, "same_day_duplicate"),
        ]
    )


def fronts_table(rows: list[tuple]) -> geopandas.GeoDataFrame:
    """Kept fronts from (sensor, scene_id, day, x of the front) tuples: north-south lines."""
    return geopandas.GeoDataFrame(
        {
            "glacier": "demo",
            "sensor": [r[0] for r in rows],
            "scene_id": [r[1] for r in rows],
            "acquired": pandas.to_datetime([r[2] for r in rows], utc=True),
            "source": "synthetic",
        },
        geometry=[shapely.LineString([(r[3], -2204000), (r[3], -2196000)]) for r in rows],
        crs=GLACIER_CRS,
    )


def rejected_table(rows: list[tuple]) -> pandas.DataFrame:
    """Rejections from (sensor, scene_id, stage, reason) tuples."""
    return pandas.DataFrame(
        [
            {
                "glacier": "demo",
                "sensor": sensor,
                "scene_id": scene_id,
                "acquired": pandas.Timestamp("2020-05-01", tz="UTC"),
                "source": "synthetic",
                "stage": stage,
                "reason": reason,
            }
            for sensor, scene_id, stage, reason in rows
        ],
        columns=REJECTED_COLUMNS,
    )


@pytest.fixture
def fronts() -> geopandas.GeoDataFrame:
    return fronts_table(
        [
            ("landsat8", "L1", "2020-03-05", -150000),
            ("landsat8", "L2", "2020-03-21", -150500),
            ("sentinel1", "S1", "2020-03-10", -150200),
        ]
    )


@pytest.fixture
def rejected() -> pandas.DataFrame:
    return rejected_table(
        [
            ("landsat8", "L4", "fetch", "ReadTimeout: server did not answer in 30 s"),
            ("landsat8", "L5", "preprocess", "valid fraction 0.12 < 0.35 over the fjord"),
            ("landsat8", "L6", "preprocess", "valid fraction 0.2 < 0.35 over the fjord"),
            ("landsat8", "L7", "preprocess", "no valid pixels over the fjord (all nodata)"),
            ("sentinel1", "S4", "vectorize", "the front crosses only 17% of the fjord's width"),
            ("sentinel1", "S5", "vectorize", "the front crosses only 34% of the fjord's width"),
            ("landsat8", "L3", "screening", "uncertainty 950 m > 500 m"),
            ("sentinel1", "S2", "screening", "temporal_outlier: off by 812.5 m > 300 m"),
        ]
    )


def legend_labels(figure: Figure) -> list[str]:
    legend = figure.axes[0].get_legend()
    return [text.get_text() for text in legend.get_texts()] if legend else []


def figure_texts(figure: Figure) -> str:
    return " ".join(text.get_text() for text in figure.axes[0].texts)


# --- position plot -------------------------------------------------------------------


def test_position_figure_colours_sensors_and_marks_screened_fronts(positions):
    figure = plots.position_figure(positions, "demo")
    ax = figure.axes[0]
    labels = legend_labels(figure)
    assert "landsat8 (2)" in labels and "sentinel1 (1)" in labels
    # One legend entry per screening test with a position; L3 has none and is left out.
    assert "screened: temporal outlier (1)" in labels
    assert "screened: same day duplicate (1)" in labels
    assert not any("uncertainty" in label for label in labels)
    assert "1 front(s) without a position not shown" in figure_texts(figure)
    assert ax.get_title() == "demo: terminus position"
    assert "(km)" in ax.get_ylabel() and "date" in ax.get_xlabel()
    # The kept fronts' joining line, in time order, in km.
    (line,) = [line for line in ax.get_lines() if line.get_linewidth() == 0.7]
    assert list(line.get_ydata()) == [1.2, 1.18, 1.15]


def test_screened_markers_are_hollow_and_grey(positions):
    figure = plots.position_figure(positions, "demo")
    containers = {c.get_label(): c for c in figure.axes[0].containers}
    screened = containers["screened: temporal outlier (1)"].lines[0]
    assert screened.get_markerfacecolor() == "none"
    assert screened.get_markeredgecolor() == plots.SCREENED_COLOUR


def test_the_position_axis_spans_the_kept_fronts_not_a_screened_one_far_away(positions):
    """S2, screened 0.8 km below the kept fronts (1.15-1.2 km), does not flatten them: the
    axis spans the kept ones with a margin, and S2 sits on its lower edge as a triangle."""
    figure = plots.position_figure(positions, "demo")
    low, high = figure.axes[0].get_ylim()
    assert low == pytest.approx(1.15 - 0.2) and high == pytest.approx(1.2 + 0.2)
    edges = [line for line in figure.axes[0].get_lines() if line.get_marker() == "v"]
    assert len(edges) == 1 and list(edges[0].get_ydata()) == [pytest.approx(low)]
    assert "1 screened front(s) beyond the axis: triangles on its edge" in figure_texts(figure)


def test_kept_fronts_flagged_uncertain_have_a_white_centre(positions):
    positions["screening_flags"] = ["uncertain", "", "", "", "", ""]
    figure = plots.position_figure(positions, "demo")
    assert "kept, flagged uncertain (1)" in legend_labels(figure)
    (centre,) = [line for line in figure.axes[0].get_lines() if line.get_color() == "white"]
    assert list(centre.get_ydata()) == [1.2]


def test_position_figure_of_empty_single_and_missing_tables(positions):
    assert "no fronts" in figure_texts(plots.position_figure(positions.iloc[:0], "demo"))
    missing = plots.position_figure(None, "demo")
    assert "no positions layer" in figure_texts(missing)
    only_nan = positions[positions["position_m"].isna()]
    assert "no front with a position" in figure_texts(plots.position_figure(only_nan, "demo"))
    single = plots.position_figure(positions.iloc[:1], "demo")
    assert legend_labels(single) == ["landsat8 (1)"]


def test_position_figure_reads_text_times_of_the_csv(positions, tmp_path):
    positions.to_csv(tmp_path / "positions.csv", index=False)
    from_csv = pandas.read_csv(tmp_path / "positions.csv", keep_default_na=False, na_values=[""])
    figure = plots.position_figure(from_csv, "demo")
    assert "landsat8 (2)" in legend_labels(figure)


# --- front map -----------------------------------------------------------------------


def test_front_map_colours_fronts_by_date_in_km(fronts):
    figure = plots.front_map_figure(fronts, FJORD, "demo")
    ax, colourbar_ax = figure.axes
    assert ax.get_aspect() == 1.0
    # The view: the fronts (x -150.5 to -150 km) with room around, within the fjord.
    (xmin, xmax), (ymin, ymax) = ax.get_xlim(), ax.get_ylim()
    assert -160.5 < xmin < -151 and -149.5 < xmax < -139.5
    assert ymin < -2204 and ymax > -2196
    assert "km, EPSG:3413" in ax.get_xlabel()
    (collection,) = [c for c in ax.collections if c.get_array() is not None]
    assert len(collection.get_segments()) == 3
    assert "date" in colourbar_ax.get_ylabel()


def test_front_map_is_framed_on_the_fronts_over_the_latest_scene_with_a_scale_bar(fronts, tmp_path):
    from affine import Affine
    from matplotlib.offsetbox import AnchoredOffsetbox

    from calvingfronts.raster_io import Raster, write_raster
    from calvingfronts.report.report_outputs import latest_scene

    # The latest kept front (L2, 21 March) has its scene on disk; the others do not.
    scene = numpy.linspace(0, 1, 200 * 400, dtype="float32").reshape(1, 200, 400)
    transform = Affine(50.0, 0, -160000.0, 0, -50.0, -2195000.0)
    (tmp_path / "landsat8").mkdir()
    write_raster(tmp_path / "landsat8" / "L2.tif", Raster(scene, transform, "EPSG:3413", None))
    background = latest_scene(fronts, tmp_path)
    assert background[1] == (-160000.0, -2205000.0, -140000.0, -2195000.0)
    assert "landsat8 2020-03-21" in background[2]
    figure = plots.front_map_figure(fronts, FJORD, "demo", background=background)
    ax = figure.axes[0]
    assert len(ax.images) == 1 and "behind: landsat8 2020-03-21" in figure_texts(figure)
    # Framed on the fronts (x -150.5 to -150 km, 8 km long): not the 20 km fjord.
    (xmin, xmax) = ax.get_xlim()
    assert xmax - xmin < 12
    bars = [a for a in ax.artists if isinstance(a, AnchoredOffsetbox)]
    assert len(bars) == 1
    # No scene on disk: no background, and the map is still drawn.
    assert latest_scene(fronts.iloc[:1], tmp_path) is None


def test_front_map_without_fronts_and_with_screened_lines(fronts):
    empty = plots.front_map_figure(fronts.iloc[:0], FJORD, "demo")
    assert "no fronts" in figure_texts(empty)
    screened = fronts.iloc[:1].assign(
        geometry=[shapely.LineString([(-145e3, -2.204e6), (-145e3, -2.196e6)])]
    )
    figure = plots.front_map_figure(fronts.iloc[:1], FJORD, "demo", screened=screened)
    assert "screened (1)" in legend_labels(figure)


# --- run statistics ------------------------------------------------------------------


def test_scene_counts_per_sensor_and_stage(fronts, rejected, positions):
    counts = run_statistics.scene_counts(fronts, rejected, positions).set_index("sensor")
    assert list(counts.columns) == [
        "scenes listed",
        "fronts kept",
        "rejected at fetch",
        "rejected at preprocess",
        "rejected at vectorize",
        "rejected at screening",
    ]
    # landsat8: 2 fronts + 5 rejections; sentinel1: 1 front + 2 vectorize + 2 screened
    # (S3 is screened in positions only, S2 in both: counted once).
    assert counts.loc["landsat8"].tolist() == [7, 2, 1, 3, 0, 1]
    assert counts.loc["sentinel1"].tolist() == [5, 1, 0, 0, 2, 2]
    assert counts.loc[run_statistics.TOTAL].tolist() == [12, 3, 1, 3, 2, 3]


def test_scene_counts_without_positions(fronts, rejected):
    counts = run_statistics.scene_counts(fronts, rejected).set_index("sensor")
    assert counts.loc["sentinel1", "scenes listed"] == 4
    assert counts.loc["sentinel1", "rejected at screening"] == 1


def test_a_screened_front_still_in_the_fronts_layer_is_not_kept(fronts, rejected):
    screened_front = fronts_table([("sentinel1", "S2", "2020-03-22", -151000)])
    counts = run_statistics.scene_counts(pandas.concat([fronts, screened_front]), rejected)
    assert counts.set_index("sensor").loc["sentinel1", "fronts kept"] == 1


def test_common_reasons_group_texts_that_differ_only_in_numbers(fronts, rejected):
    reasons = run_statistics.common_reasons(fronts, rejected)
    preprocess = reasons[(reasons["sensor"] == "landsat8") & (reasons["stage"] == "preprocess")]
    assert preprocess["reason"].tolist() == [
        "valid fraction # < # over the fjord",
        "no valid pixels over the fjord (all nodata)",
    ]
    assert preprocess["scenes"].tolist() == [2, 1]
    vectorize = reasons[reasons["stage"] == "vectorize"]
    assert vectorize["reason"].tolist() == ["the front crosses only #% of the fjord's width"]
    assert vectorize["scenes"].tolist() == [2]
    # Stages in pipeline order within a sensor.
    assert reasons[reasons["sensor"] == "landsat8"]["stage"].tolist() == [
        "fetch",
        "preprocess",
        "preprocess",
        "screening",
    ]


def test_reason_pattern():
    assert run_statistics.reason_pattern("0.12 < 0.35, 1e-3 and -4") == "# < #, # and #"
    assert run_statistics.reason_pattern(None) == "(no reason given)"
    assert run_statistics.reason_pattern("uncertainty 2.2 km above the limit 500 m") == (
        run_statistics.reason_pattern("uncertainty 510 m above the limit 500 m")
    )


def test_statistics_html_escapes_and_says_when_nothing_was_rejected(fronts):
    empty = rejected_table([])
    counts = run_statistics.scene_counts(fronts, empty)
    page = run_statistics.statistics_html(
        counts, run_statistics.common_reasons(fronts, empty), "<demo>"
    )
    assert "&lt;demo&gt;" in page and "No scene was rejected" in page


# --- the plot_fronts outputs ---------------------------------------------------------


def test_plot_outputs_are_written_with_and_without_positions(fronts, rejected, positions, tmp_path):
    gpkg = tmp_path / "demo_fronts.gpkg"
    write_time_series(fronts, rejected, gpkg)
    outputs = {
        "position_png": tmp_path / "position.png",
        "front_map_png": tmp_path / "front_map.png",
        "statistics_html": tmp_path / "run_statistics.html",
        "statistics_csv": tmp_path / "run_statistics.csv",
    }
    rows = write_plot_outputs(gpkg, FJORD, "demo", **outputs)
    assert rows == {"fronts": 3, "rejected": 8}
    for path in outputs.values():
        assert path.stat().st_size > 0
    assert outputs["position_png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pandas.read_csv(outputs["statistics_csv"])["scenes listed"].iloc[-1] == 11

    pyogrio.write_dataframe(positions, gpkg, layer="positions", driver="GPKG")
    screened = fronts_table([("sentinel1", "S2", "2020-03-22", -151000)])
    pyogrio.write_dataframe(screened, gpkg, layer="screened", driver="GPKG")
    rows = write_plot_outputs(gpkg, FJORD, "demo", **outputs)
    assert rows["positions"] == 6 and rows["screened"] == 1
    assert pandas.read_csv(outputs["statistics_csv"])["scenes listed"].iloc[-1] == 12


def test_statistics_of_a_glacier_without_scenes():
    fronts, rejected = fronts_table([]), rejected_table([])
    counts = run_statistics.scene_counts(fronts, rejected)
    assert counts.to_dict("records") == [
        {"sensor": run_statistics.TOTAL, "scenes listed": 0, "fronts kept": 0}
    ]
    assert run_statistics.common_reasons(fronts, rejected).empty
