"""Benchmark: the offline demo end to end, with per-rule time and memory.

    .venv/bin/python benchmarks/demo_workflow.py [--cores 2]

Runs `snakemake results/demo_fronts.gpkg` in a scratch copy of the workflow, then sums the
`benchmark:` files Snakemake wrote for every job: wall time and peak resident memory per
rule. Results are written down in benchmarks/README.md.

The machine's float32 GEMM rate (NumPy, the run's cores as threads) is measured right
before and after the run; the run's cost in FLOP-equivalents is its wall time times the
mean of the two rates, a figure that compares runs on machines of different speeds.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def gemm_rate(threads: int, size: int = 2048, repeats: int = 5) -> float:
    """This machine's float32 matrix-multiply rate, FLOP/s (best of ``repeats``)."""
    import os

    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    import numpy as np

    a = np.random.default_rng(0).random((size, size), dtype=np.float32)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return 2.0 * size**3 / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    rate_before = gemm_rate(args.cores)
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        for name in ("Snakefile", "workflow", "models"):
            (workdir / name).symlink_to(REPO / name)
        shutil.copytree(REPO / "config", workdir / "config")
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "snakemake",
                "results/demo_fronts.gpkg",
                "--cores",
                str(args.cores),
            ],
            cwd=workdir,
            check=True,
            capture_output=True,
        )
        wall = time.perf_counter() - started
        per_rule: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for tsv in (workdir / "results" / "benchmarks").rglob("*.tsv"):
            rule = tsv.relative_to(workdir / "results" / "benchmarks").parts[1].removesuffix(".tsv")
            with open(tsv) as handle:
                row = next(csv.DictReader(handle, delimiter="\t"))
            rss = float(row["max_rss"]) if row["max_rss"] not in ("", "NA", "-") else float("nan")
            per_rule[rule].append((float(row["s"]), rss))
    rate = 0.5 * (rate_before + gemm_rate(args.cores))
    print(
        f"demo workflow, {args.cores} cores: {wall:.1f} s wall; GEMM {rate / 1e9:.0f} GFLOP/s; "
        f"{wall * rate / 1e12:.1f} TFLOP-equivalents"
    )
    print(f"{'rule':<18} {'jobs':>5} {'total s':>9} {'mean s':>8} {'max RSS MB':>11}")
    for rule, rows in sorted(per_rule.items()):
        seconds = [s for s, _ in rows]
        print(
            f"{rule:<18} {len(rows):>5} {sum(seconds):>9.1f} {sum(seconds) / len(rows):>8.2f} "
            f"{max(r for _, r in rows):>11.0f}"
        )


if __name__ == "__main__":
    main()
