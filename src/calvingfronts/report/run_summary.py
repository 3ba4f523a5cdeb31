"""The few lines a run ends with: per glacier and sensor, what became of the scenes.

The workflow's ``onsuccess``/``onerror`` handlers print this, so the yield of a run (scenes
listed, fronts kept, rejections by stage and their most common reasons) is on the console
instead of only in log files, and a sensor whose archive could not be listed is named with
the reason. The counts come from :mod:`calvingfronts.report.run_statistics`, as in the report.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas

from calvingfronts.report import run_statistics
from calvingfronts.scenes.listing import listing_record_path, read_listing_record, short_failure

# Reasons are cut to keep one line each; the run statistics page has them whole.
REASON_WIDTH = 90
TOP_REASONS = 2


@dataclass(frozen=True)
class GlacierOutputs:
    """Where a glacier's GeoPackage and its sensors' listing records are."""

    glacier: str
    gpkg: Path
    listings: dict[str, Path]  # sensor -> listing record

    @classmethod
    def of(cls, glacier: str, sensors: list[str], results: str | os.PathLike = "results"):
        results = Path(results)
        return cls(
            glacier,
            results / f"{glacier}_fronts.gpkg",
            {
                sensor: listing_record_path(results / glacier / "manifests" / f"{sensor}.csv")
                for sensor in sensors
            },
        )

    def touched_since(self, started: float) -> bool:
        """Whether this run wrote the GeoPackage or listed any of the sensors."""
        return any(_modified(path) >= started for path in [self.gpkg, *self.listings.values()])


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return float("-inf")


def read_listings(outputs: GlacierOutputs) -> dict[str, dict]:
    """The sensors' listing records that exist (a sensor not listed yet has none)."""
    records = {}
    for sensor, path in outputs.listings.items():
        try:
            records[sensor] = read_listing_record(path)
        except ValueError:
            continue
    return records


def read_tables(gpkg: Path) -> tuple[pandas.DataFrame, pandas.DataFrame, pandas.DataFrame | None]:
    """The fronts, rejected and positions tables of a GeoPackage (no geometry needed)."""
    import pyogrio

    layers = {name for name, _ in pyogrio.list_layers(gpkg)}

    def table(layer):
        return pyogrio.read_dataframe(gpkg, layer=layer, read_geometry=False)

    positions = table("positions") if "positions" in layers else None
    return table("fronts"), table("rejected"), positions


def glacier_summary(
    glacier: str,
    listings: dict[str, dict],
    fronts: pandas.DataFrame | None = None,
    rejected: pandas.DataFrame | None = None,
    positions: pandas.DataFrame | None = None,
    gpkg: str | os.PathLike | None = None,
) -> list[str]:
    """The glacier's lines: one per sensor (listed, kept, rejected by stage), its most
    common reasons, and a failed listing with why."""
    lines = [f"{glacier}: {gpkg}" if gpkg else f"{glacier}:"]
    counts = reasons = None
    if fronts is not None and rejected is not None:
        counts = run_statistics.scene_counts(fronts, rejected, positions).set_index("sensor")
        reasons = run_statistics.common_reasons(fronts, rejected, positions, top=TOP_REASONS)
    in_gpkg = set(counts.index) - {run_statistics.TOTAL} if counts is not None else set()
    sensors = sorted(set(listings) | in_gpkg)
    width = max((len(s) for s in sensors), default=0)
    for sensor in sensors:
        listing = listings.get(sensor, {})
        label = f"  {sensor:<{width}}  "
        if listing.get("status") == "failed":
            lines.append(
                f"{label}NOT LISTED: {short_failure(listing.get('reason') or '')} "
                "(re-run the target to try again)"
            )
            continue
        if counts is None or sensor not in counts.index:
            listed = listing.get("scenes", 0)
            later = "no GeoPackage yet" if counts is None else "none in the GeoPackage yet"
            lines.append(f"{label}{listed} listed" + (f", {later}" if listed else ""))
            continue
        row = counts.loc[sensor]
        stages = [
            f"{int(row[column])} at {column.removeprefix('rejected at ')}"
            for column in counts.columns
            if column.startswith("rejected at ") and row[column]
        ]
        text = f"{label}{int(row['scenes listed'])} listed, {int(row['fronts kept'])} kept"
        lines.append(text + (f", rejected: {', '.join(stages)}" if stages else ""))
        for reason in reasons[reasons["sensor"] == sensor].itertuples(index=False):
            # An example reads better than the pattern with its numbers taken out.
            lines.append(f"      {reason.stage} ({reason.scenes}): {_cut(reason.example)}")
    return lines


def _cut(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= REASON_WIDTH else text[: REASON_WIDTH - 3] + "..."


def failed_sensors(listings: dict[str, dict]) -> list[str]:
    return sorted(sensor for sensor, record in listings.items() if record["status"] == "failed")


def end_of_run(glaciers: list[GlacierOutputs], started: float) -> tuple[str, str | None]:
    """The summary of the glaciers this run touched, and, when any of their listings failed,
    the one-line error the run exits with (None when nothing failed)."""
    blocks, failed, unlisted = [], [], []
    for outputs in glaciers:
        if not outputs.touched_since(started):
            continue
        listings = read_listings(outputs)
        if listings and not set(listings) - set(failed_sensors(listings)):
            # Every listing failed: no GeoPackage is written (merge_fronts), and an older one
            # is not this run's result.
            unlisted.append(outputs.glacier)
            blocks += glacier_summary(outputs.glacier, listings)
            blocks.append("  no GeoPackage: no sensor could be listed")
        else:
            tables = read_tables(outputs.gpkg) if outputs.gpkg.exists() else (None, None, None)
            blocks += glacier_summary(outputs.glacier, listings, *tables, gpkg=outputs.gpkg)
        failed += [f"{outputs.glacier}/{sensor}" for sensor in failed_sensors(listings)]
    if not blocks:
        return "", None
    heading = "What became of the scenes (per sensor: listed, kept, rejected; common reasons):"
    text = "\n".join([heading, *blocks])
    error = None
    if failed:
        if unlisted and len(unlisted) == len({f.split("/")[0] for f in failed}):
            outcome = f"no GeoPackage was written for {', '.join(unlisted)}"
        elif unlisted:
            outcome = (
                f"no GeoPackage was written for {', '.join(unlisted)}; the other glaciers' "
                "listed sensors' fronts are in their GeoPackages"
            )
        else:
            outcome = "the other sensors' fronts are in the GeoPackage"
        error = (
            f"{len(failed)} listing(s) failed: {', '.join(failed)}: the archive could not be "
            f"asked (see above); {outcome}. Re-running the target lists the failed sensors "
            "again."
        )
    return text, error
