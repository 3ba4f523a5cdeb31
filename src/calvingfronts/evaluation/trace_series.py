"""trace-series: run terminus traces (not the workflow's fronts) through positions and screening.

    calvingfronts trace-series --traces FILE --glacier NAME [--config config/config.yaml]
                               [--out-dir results/traces/NAME]

Manual or published traces (MEaSUREs, TermPicks, CALFIN, one's own digitising) go through
exactly the code the workflow's fronts go through: the position along the glacier's
centreline, the box method and the temporal screening (no uncertainty: traces have none).
This validates that code on real fronts - a manually checked record should hardly be
screened, and real events such as a floating tongue's break-up must survive - and gives
users of trace collections the same table and plots as the workflow's output.

Writes ``positions.csv``, ``position.png`` (the record), ``seasonal_cycle.png`` (positions
against the day of year, each year's median removed) and ``summary.json`` (counts, the share
screened, yearly medians, winter maxima and seasonal amplitudes).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import geopandas
import numpy as np
import pandas

from calvingfronts.grid import GLACIER_CRS
from calvingfronts.help_text import plain
from calvingfronts.raster_io import atomic_path
from calvingfronts.timeseries.positions import front_positions
from calvingfronts.timeseries.screening import ScreeningSettings

# Column names for a trace's date and identity in common trace collections, in order.
DATE_COLUMNS = ("Date", "date", "acquired", "DATE", "Acq_Date")
ID_COLUMNS = ("Image_ID", "scene_id", "ImageID", "image_id")
SOURCE_COLUMNS = ("Dataset", "sensor", "Satellite", "source")


def read_traces(path: str | Path) -> geopandas.GeoDataFrame:
    """Traces as a fronts table (``acquired``, ``sensor``, ``scene_id``, LineStrings in
    EPSG:3413); multi-part traces keep their longest part."""
    frame = geopandas.read_file(path)
    if frame.crs is None:
        raise ValueError(f"{path}: no coordinate reference system")
    date_column = next((c for c in DATE_COLUMNS if c in frame), None)
    if date_column is None:
        raise ValueError(f"{path}: no date column (looked for {', '.join(DATE_COLUMNS)})")
    acquired = pandas.to_datetime(frame[date_column].astype(str).str.replace("/", "-"), utc=True)
    id_column = next((c for c in ID_COLUMNS if c in frame), None)
    source_column = next((c for c in SOURCE_COLUMNS if c in frame), None)
    frame = frame.to_crs(GLACIER_CRS)
    geometry = [
        max(g.geoms, key=lambda part: part.length) if g.geom_type == "MultiLineString" else g
        for g in frame.geometry
    ]
    table = geopandas.GeoDataFrame(
        {
            "glacier": Path(path).stem,
            "sensor": frame[source_column].astype(str) if source_column else "trace",
            # Some collections end their ids with a line break.
            "scene_id": frame[id_column].astype(str).str.strip()
            if id_column
            else frame.index.astype(str),
            "acquired": acquired,
        },
        geometry=geometry,
        crs=GLACIER_CRS,
    )
    return table.sort_values("acquired", ignore_index=True)


def yearly_medians(positions: pandas.DataFrame) -> dict[int, dict]:
    """Per year: traces, median, lowest and highest kept position (m)."""
    kept = positions[(positions.status == "kept") & positions.position_m.notna()]
    years = {}
    for year, group in kept.groupby(pandas.to_datetime(kept.acquired, utc=True).dt.year):
        values = group.position_m
        years[int(year)] = {
            "traces": int(len(values)),
            "median_m": round(float(values.median())),
            "min_m": round(float(values.min())),
            "max_m": round(float(values.max())),
        }
    return years


def winter_maxima(positions: pandas.DataFrame) -> dict[str, float]:
    """The furthest advance of each winter (November to June, named by its spring's year):
    where winter mélange lets the front advance, this is the season's extreme."""
    kept = positions[(positions.status == "kept") & positions.position_m.notna()]
    times = pandas.to_datetime(kept.acquired, utc=True)
    winter = times.dt.month.isin([11, 12, 1, 2, 3, 4, 5, 6])
    season = times.dt.year + (times.dt.month >= 11).astype(int)
    grouped = kept[winter].groupby(season[winter]).position_m.max()
    return {f"{int(year) - 1}-{int(year)}": round(float(value)) for year, value in grouped.items()}


def seasonal_amplitudes(positions: pandas.DataFrame, min_traces: int = 6) -> dict[int, float]:
    """Each well-observed year's range of kept positions (m): its seasonal cycle."""
    kept = positions[(positions.status == "kept") & positions.position_m.notna()]
    years = pandas.to_datetime(kept.acquired, utc=True).dt.year
    return {
        int(year): round(float(group.max() - group.min()))
        for year, group in kept.position_m.groupby(years)
        if len(group) >= min_traces
    }


def trace_summary(positions: pandas.DataFrame) -> dict:
    screened = positions[positions.status == "screened"]
    amplitudes = seasonal_amplitudes(positions)
    return {
        "traces": int(len(positions)),
        "with_position": int(positions.position_m.notna().sum()),
        "screened": int(len(screened)),
        "screened_share": round(len(screened) / max(len(positions), 1), 4),
        "screened_by_test": {k: int(v) for k, v in screened.screening_test.value_counts().items()},
        "screened_traces": [
            {
                "date": row.date,
                "scene_id": row.scene_id,
                "test": row.screening_test,
                "reason": row.screening_reason,
            }
            for row in screened.itertuples()
        ],
        "yearly": yearly_medians(positions),
        "winter_maxima_m": winter_maxima(positions),
        "seasonal_amplitude_m": amplitudes,
        "median_seasonal_amplitude_m": (
            round(float(np.median(list(amplitudes.values())))) if amplitudes else None
        ),
    }


def trace_series_main(argv: list[str] | None = None) -> int:
    from calvingfronts.config import load_config_file
    from calvingfronts.glaciers.config import ConfigError, glacier_config
    from calvingfronts.report.plots import position_figure, save_png, seasonal_cycle_figure
    from calvingfronts.timeseries.geopackage import write_positions

    parser = argparse.ArgumentParser(
        prog="calvingfronts trace-series",
        description=plain(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--traces", required=True, type=Path, help="vector file of traces with a date column"
    )
    parser.add_argument("--glacier", required=True, help="configured glacier (its centreline)")
    parser.add_argument(
        "--config",
        default="config/config.yaml",
        help="the workflow's configuration (default: config/config.yaml)",
    )
    parser.add_argument(
        "--out-dir", type=Path, help="folder of the outputs (default: results/traces/GLACIER)"
    )
    args = parser.parse_args(argv)
    config = load_config_file(args.config)
    try:
        glacier = glacier_config(config, args.glacier)
        screening = ScreeningSettings.from_dict(config.get("screening"))
    except (ConfigError, ValueError) as error:
        print(f"trace-series: {args.config}: {error}", file=sys.stderr)
        return 1
    try:
        traces = read_traces(args.traces)
    except (ValueError, OSError) as error:
        print(f"trace-series: {error}", file=sys.stderr)
        return 1
    traces["glacier"] = glacier.name
    positions = front_positions(traces, glacier.centreline, glacier.box, screening)
    out_dir = args.out_dir or Path("results") / "traces" / glacier.name
    out_dir.mkdir(parents=True, exist_ok=True)
    write_positions(positions, out_dir / "positions.csv", out_dir / "positions.parquet")
    save_png(position_figure(positions, f"{glacier.name} (traces)"), out_dir / "position.png")
    save_png(seasonal_cycle_figure(positions, glacier.name), out_dir / "seasonal_cycle.png")
    summary = {"traces_file": str(args.traces), "glacier": glacier.name, **trace_summary(positions)}
    with atomic_path(out_dir / "summary.json") as tmp:
        Path(tmp).write_text(json.dumps(summary, indent=1) + "\n")
    print(
        f"{summary['traces']} traces, {summary['with_position']} with a position, "
        f"{summary['screened']} screened ({summary['screened_share']:.1%}); written to {out_dir}"
    )
    return 0
