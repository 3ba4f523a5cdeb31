"""Benchmark: listing many scenes through Snakemake, one checkpoint job a glacier.

    .venv/bin/python benchmarks/listing.py [--scenes 100000] [--glaciers 20] [--checkout DIR]

``planning.py``'s archive (``--glaciers`` copies of the demo glacier, five local sensors
each, ``--scenes`` scenes in all) in a scratch folder, listed by ``snakemake --cores 2`` on
every glacier's listing folder (``results/<glacier>/manifests``). Prints the wall time, the
manifests written and the listing jobs' own time from their benchmark files.
``--checkout`` runs another checkout's workflow (one from before 2026-12-04 lists per
sensor: ``--per-sensor`` names its targets, ``results/<glacier>/manifests/<sensor>.csv``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from planning import SENSORS, archive_config, scratch_workflow, write_manifests

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=100_000)
    parser.add_argument("--glaciers", type=int, default=20)
    parser.add_argument("--checkout", type=Path, default=REPO)
    parser.add_argument("--per-sensor", action="store_true")
    args = parser.parse_args()
    checkout = args.checkout.resolve()
    base = yaml.safe_load((checkout / "config" / "config.yaml").read_text())
    config = archive_config(base, args.glaciers)
    with tempfile.TemporaryDirectory(prefix="listing.") as scratch:
        folder = Path(scratch)
        scratch_workflow(folder, checkout, config)
        written = write_manifests(folder, config, args.scenes)
        if args.per_sensor:
            targets = [
                f"results/{glacier}/manifests/{sensor}.csv"
                for glacier in config["glaciers"]
                for sensor in SENSORS
            ]
        else:
            targets = [f"results/{glacier}/manifests" for glacier in config["glaciers"]]
        env = {**os.environ, "PYTHONPATH": str(checkout / "src")}
        start = time.perf_counter()
        command = [sys.executable, "-m", "snakemake", "--cores", "2", *targets]
        run = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if run.returncode:
            raise SystemExit(f"snakemake failed:\n{run.stderr[-3000:]}")
        manifests = sum(1 for _ in (folder / "results").rglob("manifests/*.csv"))
        benchmarks = [
            path
            for path in (folder / "results" / "benchmarks").rglob("*.tsv")
            if "list_scenes" in path.relative_to(folder).as_posix()
        ]
        job_s = [float(p.read_text().splitlines()[1].split()[0]) for p in benchmarks]
        print(
            f"{written:,} scenes, {manifests} manifests: {wall:.1f} s wall; "
            f"{len(job_s)} listing jobs, {sum(job_s):.1f} s of job time "
            f"({sum(job_s) / max(len(job_s), 1):.2f} s each)"
        )


if __name__ == "__main__":
    main()
