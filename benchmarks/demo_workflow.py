"""Benchmark: the offline demo end to end, with per-rule time and memory.

    .venv/bin/python benchmarks/demo_workflow.py [--cores 2]

Runs `snakemake results/demo_fronts.gpkg` in a scratch copy of the workflow, then sums the
`benchmark:` files Snakemake wrote for every job: wall time and peak resident memory per
rule. Results are written down in benchmarks/README.md.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
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
                "--cores",
                str(args.cores),
                "--quiet",
                "results/demo_fronts.gpkg",
            ],
            cwd=workdir,
            check=True,
        )
        wall = time.perf_counter() - started
        per_rule: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for tsv in (workdir / "results" / "benchmarks").rglob("*.tsv"):
            rule = tsv.relative_to(workdir / "results" / "benchmarks").parts[1].removesuffix(".tsv")
            with open(tsv) as handle:
                row = next(csv.DictReader(handle, delimiter="\t"))
            rss = float(row["max_rss"]) if row["max_rss"] not in ("", "NA", "-") else float("nan")
            per_rule[rule].append((float(row["s"]), rss))
    print(f"demo workflow, {args.cores} cores: {wall:.1f} s wall")
    print(f"{'rule':<18} {'jobs':>5} {'total s':>9} {'mean s':>8} {'max RSS MB':>11}")
    for rule, rows in sorted(per_rule.items()):
        seconds = [s for s, _ in rows]
        print(
            f"{rule:<18} {len(rows):>5} {sum(seconds):>9.1f} {sum(seconds) / len(rows):>8.2f} "
            f"{max(r for _, r in rows):>11.0f}"
        )


if __name__ == "__main__":
    main()
