"""Conditional calibrations of the bound, leave-one-glacier-out on the folds' evidence.

    .venv/bin/python tools/conditional_calibration.py docs/trust/fold-evidence-2026-12-03/*.json

Each fold report (tools/fold_evidence.py) holds the fronts of a glacier that its model never
saw. Every calibration is fitted on two glaciers and scored on the third, for the line's
mean distance error and for the terminus position's error along the flow:

- ``shipped``: the workflow's form, hypot(floor px x pixel, scale x spread), fitted by
  calvingfronts.fronts.uncertainty.fit_calibration;
- ``conformal``: normalized split-conformal. A scale sigma(x) = exp(beta . x) is fitted by
  least squares of log(error) on the evidence x (log spread in pixels, the mean probability
  along the line, the share above the threshold, the span of the fjord, the members without
  a front); the bound is sigma(x) times the 90 % quantile of error / sigma on the fitting
  glaciers (with the finite-sample correction);
- ``spread only``: the same, with log spread alone.

Printed per held-out glacier and pooled: coverage, sharpness (median bound / median error)
and Spearman's rank correlation of bound and error.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from calvingfronts.fronts.uncertainty import fit_calibration

PIXEL_M = 49.0
COVERAGE = 0.9
FEATURES = (
    "log_spread_px",
    "mean_probability",
    "fraction_above_threshold",
    "span_fraction",
    "members_without_front",
)


def fronts_of(paths: list[Path]) -> list[dict]:
    fronts = []
    for path in paths:
        report = json.loads(path.read_text())
        for entry in report["per_image"]:
            if not entry.get("front_found") or "spread_m" not in entry:
                continue
            row = {
                "glacier": report["glacier"],
                "image": entry["image"],
                "error_m": entry["mean_m"],
                "spread_m": entry["spread_m"],
                "position_error_m": entry.get("position_error_m"),
                "log_spread_px": math.log(1.0 + entry["spread_m"] / PIXEL_M),
            }
            for key in FEATURES[1:]:
                row[key] = float(entry.get(key) if entry.get(key) is not None else 1.0)
            fronts.append(row)
    return fronts


def design(rows: list[dict], features) -> np.ndarray:
    return np.column_stack([np.ones(len(rows))] + [[r[f] for r in rows] for f in features])


def conformal(train: list[dict], test: list[dict], target: str, features) -> np.ndarray:
    errors = np.array([abs(r[target]) for r in train]) + 1.0  # 1 m: log of an exact front
    x_train, x_test = design(train, features), design(test, features)
    beta, *_ = np.linalg.lstsq(x_train, np.log(errors), rcond=None)
    scores = errors / np.exp(x_train @ beta)
    rank = min(len(scores), math.ceil((len(scores) + 1) * COVERAGE))
    quantile = np.sort(scores)[rank - 1]
    return quantile * np.exp(x_test @ beta)


def shipped(train: list[dict], test: list[dict], target: str) -> np.ndarray:
    fit = fit_calibration(
        [r["spread_m"] for r in train],
        [abs(r[target]) for r in train],
        [PIXEL_M] * len(train),
        coverage=COVERAGE,
    )
    return np.array([fit.uncertainty_m(r["spread_m"], PIXEL_M) for r in test])


METHODS = {
    "shipped": shipped,
    "conformal": lambda train, test, target: conformal(train, test, target, FEATURES),
    "spread only": lambda train, test, target: conformal(train, test, target, FEATURES[:1]),
}


def scores(bounds: np.ndarray, errors: np.ndarray) -> str:
    coverage = float(np.mean(errors <= bounds))
    sharpness = float(np.median(bounds) / max(np.median(errors), 1e-9))
    rho = spearmanr(bounds, errors).statistic if len(errors) > 2 else float("nan")
    return f"{coverage:.0%} | {sharpness:.2f} | {rho:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path)
    args = parser.parse_args()
    fronts = fronts_of(args.reports)
    glaciers = sorted({r["glacier"] for r in fronts})
    for target, what in (("error_m", "line (mean distance)"), ("position_error_m", "position")):
        usable = [r for r in fronts if r[target] is not None]
        print(f"\n### {what}: {len(usable)} fronts\n")
        print("| method | held out | fronts | coverage | sharpness | Spearman |")
        print("| --- | --- | --- | --- | --- | --- |")
        for name, method in METHODS.items():
            pooled_bounds, pooled_errors = [], []
            for glacier in glaciers:
                train = [r for r in usable if r["glacier"] != glacier]
                test = [r for r in usable if r["glacier"] == glacier]
                bounds = method(train, test, target)
                errors = np.array([abs(r[target]) for r in test])
                pooled_bounds.append(bounds)
                pooled_errors.append(errors)
                print(f"| {name} | {glacier} | {len(test)} | {scores(bounds, errors)} |")
            bounds, errors = np.concatenate(pooled_bounds), np.concatenate(pooled_errors)
            print(f"| {name} | pooled | {len(errors)} | {scores(bounds, errors)} |")


if __name__ == "__main__":
    main()
