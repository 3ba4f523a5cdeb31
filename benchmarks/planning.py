"""Benchmark: planning a large archive. Dry run and no-op rerun, wall time and peak memory.

    .venv/bin/python benchmarks/planning.py --scenes 1000 10000 100000

A synthetic archive of ``--glaciers`` glaciers (the demo's area and fjord) with five
sensors each, every sensor a ``local`` manifest of scenes spread evenly over ten years
(2014-2023); the files themselves are never read. For each size, in a scratch folder:

1. the manifests are listed for real (``snakemake`` on the manifests: the checkpoint jobs);
2. **dry run**: ``snakemake -n`` on every glacier's GeoPackage, which plans every batch
   and merge job: what a first run of the whole archive plans;
3. stand-ins for the outputs of those jobs are written and recorded with
   ``snakemake --touch`` (so Snakemake holds the same records as after a real run: its
   metadata with each job's parameters), then
4. **no-op rerun**: ``snakemake`` on the same targets, which finds nothing to do.

Steps 2 and 4 run under ``/usr/bin/time -v``: wall time, CPU time (user and system: less
sensitive to other work on the machine than the wall time) and peak resident memory of the
Snakemake process. ``--checkout`` plans with the workflow and package of another checkout
(e.g. an older commit exported with `git archive`); the stand-ins and the no-op rerun need
this checkout's layout, so ``--dry-run-only`` skips them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SENSORS = ("landsat8", "landsat9", "sentinel2", "sentinel1", "terrasarx")
START, YEARS = date(2014, 1, 1), 10


def archive_config(base: dict, glaciers: int) -> dict:
    """The shipped config with ``glaciers`` copies of the demo glacier, each with local
    sensors whose manifests are ``archive/<glacier>/<sensor>.csv``."""
    config = json.loads(json.dumps(base, default=str))
    demo = config["glaciers"]["demo"]
    config["glaciers"] = {
        f"g{index:03d}": {
            **{key: demo[key] for key in ("aoi", "fjord", "centreline", "box", "flow_azimuth")},
            "sensors": {
                sensor: {
                    "source": "local",
                    "manifest": f"archive/g{index:03d}/{sensor}.csv",
                    "pixel_size": 60,
                    "start": START.isoformat(),
                }
                for sensor in SENSORS
            },
        }
        for index in range(glaciers)
    }
    config["default_glaciers"] = list(config["glaciers"])
    return config


def scratch_workflow(folder: Path, checkout: Path, config: dict) -> None:
    """``folder`` as a run folder of ``checkout``'s workflow with ``config``."""
    for name in ("Snakefile", "workflow", "models", "profiles"):
        (folder / name).symlink_to(checkout / name)
    shutil.copytree(checkout / "config", folder / "config")
    (folder / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def write_manifests(folder: Path, config: dict, scenes: int) -> int:
    """Local manifests with ``scenes`` scenes in all, evenly in time; the count written."""
    sensors = [(g, s) for g in config["glaciers"] for s in SENSORS]
    per_sensor = max(1, scenes // len(sensors))
    step = timedelta(days=365.25 * YEARS / per_sensor)
    for glacier, sensor in sensors:
        path = folder / "archive" / glacier / f"{sensor}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = ["path,sensor,acquired,scene_id"]
        for index in range(per_sensor):
            acquired = START + step * index + timedelta(hours=index % 24)
            rows.append(f"{sensor}/{index:06d}.tif,{sensor},{acquired.isoformat()}Z,S{index:06d}")
        path.write_text("\n".join(rows) + "\n")
    return per_sensor * len(sensors)


def snakemake(folder: Path, checkout: Path, *args: str, timed: bool = False) -> dict:
    """Run Snakemake in ``folder``; with ``timed``, its wall time and peak memory."""
    command = [sys.executable, "-m", "snakemake", "--cores", "2", *args]
    if timed:
        command = ["/usr/bin/time", "-v", *command]
    env = {**os.environ, "PYTHONPATH": str(checkout / "src")}
    result = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"snakemake {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    if not timed:
        return {}
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", result.stderr)
    hours, minutes, seconds = (float(part or 0) for part in wall.groups())
    cpu = sum(
        float(re.search(rf"{kind} time \(seconds\): ([\d.]+)", result.stderr).group(1))
        for kind in ("User", "System")
    )
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    jobs = re.findall(r"^total\s+(\d+)$", result.stdout + result.stderr, flags=re.MULTILINE)
    return {
        "wall_s": hours * 3600 + minutes * 60 + seconds,
        "cpu_s": cpu,
        "peak_gb": int(rss.group(1)) / 1024**2,
        "jobs": int(jobs[-1]) if jobs else 0,
    }


def write_stand_ins(folder: Path, config: dict) -> None:
    """Files where every batch and merge job puts its outputs, as a finished run leaves
    them (their contents do not matter to planning)."""
    from calvingfronts.scenes.manifest import read_manifest
    from calvingfronts.workflow.batches import batch_output, group_by_batch

    period = config["batches"]["period"]
    for glacier in config["glaciers"]:
        for sensor in SENSORS:
            manifest = folder / "results" / glacier / "manifests" / f"{sensor}.csv"
            for batch in group_by_batch(read_manifest(manifest), period):
                path = folder / batch_output(glacier, sensor, batch)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text('{"records": []}')
        for name in ("fronts.gpkg", "positions.csv", "positions.parquet"):
            (folder / "results" / f"{glacier}_{name}").write_text("")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--glaciers", type=int, default=20)
    parser.add_argument("--checkout", type=Path, default=REPO)
    parser.add_argument("--dry-run-only", action="store_true")
    parser.add_argument("--period", help="batches.period (default: the shipped config's)")
    args = parser.parse_args()
    checkout = args.checkout.resolve()
    base = yaml.safe_load((checkout / "config" / "config.yaml").read_text())
    config = archive_config(base, args.glaciers)
    if args.period:
        config["batches"]["period"] = args.period
    print(
        "| scenes | jobs planned | dry run: wall s | CPU s | peak GB "
        "| no-op rerun: wall s | CPU s | peak GB |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for scenes in args.scenes:
        with tempfile.TemporaryDirectory(prefix="planning.") as scratch:
            folder = Path(scratch)
            scratch_workflow(folder, checkout, config)
            written = write_manifests(folder, config, scenes)
            # Each glacier's listing (one checkpoint job a glacier, every sensor in it).
            listings = [f"results/{glacier}/manifests" for glacier in config["glaciers"]]
            snakemake(folder, checkout, *listings)
            targets = [f"results/{glacier}_fronts.gpkg" for glacier in config["glaciers"]]
            dry = snakemake(folder, checkout, "-n", *targets, timed=True)
            noop = {"wall_s": float("nan"), "cpu_s": float("nan"), "peak_gb": float("nan")}
            if not args.dry_run_only:
                write_stand_ins(folder, config)
                snakemake(folder, checkout, "--touch", *targets)
                noop = snakemake(folder, checkout, *targets, timed=True)
            print(
                f"| {written:,} | {dry['jobs']:,} | {dry['wall_s']:.1f} | {dry['cpu_s']:.1f} "
                f"| {dry['peak_gb']:.2f} | {noop['wall_s']:.1f} | {noop['cpu_s']:.1f} "
                f"| {noop['peak_gb']:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
