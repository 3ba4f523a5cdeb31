"""Benchmark: screening a glacier's time series (calvingfronts.timeseries.screening).

    .venv/bin/python benchmarks/screening_speed.py --fronts 1000 10000 100000
    .venv/bin/python benchmarks/screening_speed.py --fronts 1000 10000 --checkout /tmp/base

A synthetic record of ``--fronts`` fronts, ``--per-day`` a day on average over as many
years as that takes, from three sensors: a seasonal cycle with a retreat trend and 60 m of
noise, 8 % gross errors (0.4-3 km off), 2 % without a position, bounds of 100-900 m. Each
size is screened ``--repeats`` times with the shipped settings (the centreline's tests on);
the best time is reported with the counts by test, which any two implementations must
share. ``--checkout`` screens with another checkout's package (an older commit exported
with `git archive`), for a before/after table.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

import numpy as np
import pandas


def synthetic_record(fronts: int, per_day: float, seed: int = 9) -> pandas.DataFrame:
    rng = np.random.default_rng(seed)
    days = np.sort(rng.uniform(0, fronts / per_day, fronts))
    acquired = pandas.Timestamp("1990-01-01", tz="UTC") + pandas.to_timedelta(days, unit="D")
    position = 1000 * np.sin(2 * np.pi * days / 365.25) - 0.5 * days + rng.normal(0, 60, fronts)
    gross = rng.random(fronts) < 0.08
    position[gross] += rng.choice([-1, 1], gross.sum()) * rng.uniform(400, 3000, gross.sum())
    position[rng.random(fronts) < 0.02] = np.nan
    return pandas.DataFrame(
        {
            "acquired": acquired,
            "sensor": rng.choice(["landsat8", "sentinel1", "sentinel2"], fronts),
            "scene_id": [f"S{i:07d}" for i in range(fronts)],
            "position_m": position,
            "uncertainty_m": rng.uniform(100, 900, fronts),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fronts", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--per-day", type=float, default=2.0, help="fronts a day on average")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--checkout", help="screen with the package of this checkout")
    args = parser.parse_args()
    if args.checkout:
        sys.path.insert(0, f"{args.checkout}/src")
    screening = importlib.import_module("calvingfronts.timeseries.screening")
    print(f"package: {screening.__file__}")
    print("| fronts | years | best s | screened by test |")
    print("| --- | --- | --- | --- |")
    for count in args.fronts:
        table = synthetic_record(count, args.per_day)
        best = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            result = screening.screen_fronts(
                table, screening.ScreeningSettings(), on_centreline=True
            )
            best = min(best, time.perf_counter() - start)
        tests = result.loc[result.status == "screened", "screening_test"].value_counts()
        years = count / args.per_day / 365.25
        counts = ", ".join(f"{k} {v}" for k, v in sorted(tests.items()))
        print(f"| {count:,} | {years:.0f} | {best:.2f} | {counts} |", flush=True)


if __name__ == "__main__":
    main()
