"""What became of a glacier's scenes: per sensor, scenes listed, fronts kept, rejections.

From the GeoPackage's tables (``fronts``, ``rejected`` and, where present, ``positions``):

- :func:`scene_counts`: one row per sensor (and a total row) with the scenes listed, the
  fronts kept and the scenes rejected at each stage;
- :func:`common_reasons`: the most frequent rejection reasons per sensor and stage, with
  the numbers taken out of the texts so that "crosses only 17% ..." and "crosses only 34%
  ..." count as one reason.
"""

from __future__ import annotations

import html
import numbers
import re

import pandas

# The stages in pipeline order; a stage seen in the data but not here is appended.
STAGES = ["list", "fetch", "preprocess", "inference", "vectorize", "screening"]
TOTAL = "all sensors"
# Numbers (integers, decimals, exponents) in a reason: the figures that differ per scene.
NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
DISTANCE = re.compile(r"# k?m\b")


def reason_pattern(reason: str | None) -> str:
    """A reason with every number replaced by '#' (and km by m), so that reasons differing
    only in their per-scene figures group together."""
    if reason is None or (isinstance(reason, float) and pandas.isna(reason)):
        return "(no reason given)"
    # A distance is one figure whichever unit it was printed in ("2.2 km", "510 m").
    return DISTANCE.sub("# m", NUMBER.sub("#", str(reason))).strip()


def scene_fates(
    fronts: pandas.DataFrame,
    rejected: pandas.DataFrame,
    positions: pandas.DataFrame | None = None,
) -> pandas.DataFrame:
    """One row per scene (sensor, scene_id, stage, reason); stage "kept" for a kept front.

    Screened fronts count once at stage "screening", whether the merge lists them in
    ``rejected``, marks them in ``positions``, or (before screening existed) both.
    """
    # Listed in order of precedence: a scene's first row is its fate (a rejection outranks
    # "kept", so a screened front still in the fronts layer counts as screened).
    rows = [rejected[["sensor", "scene_id", "stage", "reason"]]]
    if positions is not None and len(positions):
        screened = positions[positions["status"] == "screened"]
        rows.append(
            pandas.DataFrame(
                {
                    "sensor": screened["sensor"],
                    "scene_id": screened["scene_id"],
                    "stage": "screening",
                    # As the merge words it in the rejected layer: "test: reason".
                    "reason": screened["screening_test"].astype(str)
                    + ": "
                    + screened["screening_reason"].astype(str),
                }
            )
        )
    rows.append(
        pandas.DataFrame(
            {
                "sensor": fronts["sensor"],
                "scene_id": fronts["scene_id"],
                "stage": "kept",
                "reason": None,
            }
        )
    )
    rows = [frame for frame in rows if len(frame)]
    if not rows:
        return pandas.DataFrame(columns=["sensor", "scene_id", "stage", "reason"])
    fates = pandas.concat(rows, ignore_index=True)
    # A manifest row set aside at listing is no scene of the run (its scene_id may be empty
    # or repeat a listed scene's): each counts on its own.
    listing = fates["stage"] == "list"
    scenes = fates[~listing].drop_duplicates(["sensor", "scene_id"], keep="first")
    return pandas.concat([fates[listing], scenes]).reset_index(drop=True)


def _stages(fates: pandas.DataFrame) -> list[str]:
    seen = set(fates["stage"]) - {"kept"}
    return [s for s in STAGES if s in seen] + sorted(seen - set(STAGES))


def scene_counts(
    fronts: pandas.DataFrame,
    rejected: pandas.DataFrame,
    positions: pandas.DataFrame | None = None,
) -> pandas.DataFrame:
    """Per sensor: scenes listed, fronts kept, and ``rejected at <stage>`` for each stage
    where any scene was rejected; the last row sums all sensors."""
    fates = scene_fates(fronts, rejected, positions)
    stages = _stages(fates)
    columns = ["scenes listed", "fronts kept", *[f"rejected at {s}" for s in stages]]
    counts = []
    for sensor, group in fates.groupby("sensor", sort=True):
        stage_counts = group["stage"].value_counts()
        counts.append(
            [sensor, len(group), int(stage_counts.get("kept", 0))]
            + [int(stage_counts.get(s, 0)) for s in stages]
        )
    table = pandas.DataFrame(counts, columns=["sensor", *columns])
    total = {"sensor": TOTAL, **{c: int(table[c].sum()) for c in columns}}
    return pandas.concat([table, pandas.DataFrame([total])], ignore_index=True)


def common_reasons(
    fronts: pandas.DataFrame,
    rejected: pandas.DataFrame,
    positions: pandas.DataFrame | None = None,
    top: int = 3,
) -> pandas.DataFrame:
    """The ``top`` most frequent reason patterns per sensor and stage, with one example."""
    fates = scene_fates(fronts, rejected, positions)
    fates = fates[fates["stage"] != "kept"].assign(
        pattern=lambda frame: frame["reason"].map(reason_pattern)
    )
    columns = ["sensor", "stage", "scenes", "reason", "example"]
    if fates.empty:
        return pandas.DataFrame(columns=columns)
    order = {stage: i for i, stage in enumerate(_stages(fates))}
    grouped = (
        fates.groupby(["sensor", "stage", "pattern"], sort=False)
        .agg(scenes=("scene_id", "size"), example=("reason", "first"))
        .reset_index()
        .rename(columns={"pattern": "reason"})
    )
    grouped["stage_order"] = grouped["stage"].map(order)
    grouped = grouped.sort_values(
        ["sensor", "stage_order", "scenes", "reason"], ascending=[True, True, False, True]
    )
    grouped = grouped.groupby(["sensor", "stage"], sort=False).head(top)
    return grouped[columns].reset_index(drop=True)


def statistics_html(counts: pandas.DataFrame, reasons: pandas.DataFrame, glacier: str) -> str:
    """A small self-contained HTML page with both tables (for the Snakemake report)."""
    style = (
        "body{font-family:sans-serif;font-size:14px;margin:1em}"
        "table{border-collapse:collapse;margin-bottom:1.5em}"
        "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}"
        "td.n{text-align:right}th{background:#eee}"
    )
    # One real reason per kind, with its figures: the '#' pattern that groups them is for
    # counting, and reads as a placeholder.
    shown = reasons.drop(columns="reason").rename(columns={"example": "reason (an example)"})
    reasons_html = _table_html(shown) if len(shown) else "<p>No scene was rejected or screened.</p>"
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(glacier)}: run statistics</title><style>{style}</style></head>"
        f"<body><h2>{html.escape(glacier)}: what became of the scenes</h2>"
        f"{_table_html(counts)}<h3>Most common reasons (the figures differ from scene to "
        "scene)</h3>"
        f"{reasons_html}</body></html>\n"
    )


def _table_html(table: pandas.DataFrame) -> str:
    header = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    rows = []
    for values in table.itertuples(index=False):
        cells = "".join(
            f"<td class='n'>{value}</td>"
            if isinstance(value, numbers.Number)
            else f"<td>{html.escape(str(value))}</td>"
            for value in values
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
