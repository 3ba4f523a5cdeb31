"""The demo's terminus positions against its synthetic truth: how often the position bound
(``position_uncertainty_m``) covers the position's true error, and how wide it is.

Needs ``results/demo_positions.csv`` and ``results/demo_synthetic_truth.gpkg``:

    .venv/bin/snakemake --cores 2 results/demo_evaluation.json
    .venv/bin/python tools/demo_positions.py

The true position of a scene is its synthetic front's crossing with the demo's centreline,
found as the workflow finds a front's (calvingfronts.timeseries.terminus.terminus_position).
"""

from __future__ import annotations

import argparse
import sys

import geopandas
import pandas
import pyogrio

from calvingfronts.config import load_config_file
from calvingfronts.glaciers.config import glacier_config
from calvingfronts.timeseries.terminus import terminus_position


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--positions", default="results/demo_positions.csv")
    parser.add_argument("--truth", default="results/demo_synthetic_truth.gpkg")
    args = parser.parse_args()
    centreline = glacier_config(load_config_file(args.config), "demo").centreline
    layer = pyogrio.list_layers(args.truth)[0][0]
    truth = geopandas.read_file(args.truth, layer=layer)
    true_position = {
        front.scene_id: terminus_position(front.geometry, centreline)
        for front in truth.itertuples()
    }
    positions = pandas.read_csv(args.positions)
    positions["true_position_m"] = positions["scene_id"].map(true_position)
    judged = positions.dropna(subset=["position_m", "position_uncertainty_m", "true_position_m"])
    if judged.empty:
        sys.exit(f"{args.positions}: no position with a bound and a true position")
    error = (judged["position_m"] - judged["true_position_m"]).abs()
    covered = error <= judged["position_uncertainty_m"]
    kept = judged["status"] == "kept"
    print(
        f"positions with a bound and a truth: {len(judged)}; covered {covered.sum()} "
        f"({covered.mean():.0%}); median error {error.median():.0f} m"
    )
    print(
        f"kept: {kept.sum()}, covered {covered[kept].sum()}; median position bound "
        f"{judged['position_uncertainty_m'][kept].median():.0f} m, median line bound "
        f"{judged['uncertainty_m'][kept].median():.0f} m, median position error "
        f"{error[kept].median():.0f} m"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
