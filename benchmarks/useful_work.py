"""Benchmark: the share of a workflow run's wall time that is useful work.

    .venv/bin/python benchmarks/useful_work.py --scenes demo
    .venv/bin/python benchmarks/useful_work.py --scenes 1000
    .venv/bin/python benchmarks/useful_work.py --scenes demo --checkout /tmp/base

Runs `snakemake --cores N` on the glaciers' GeoPackages in a scratch copy of the workflow
(``--checkout``: the workflow and package of another checkout, e.g. an older commit exported
with `git archive`), then calls the same stage functions for the same scenes in one Python
process, in a second scratch folder: listing, fetch, preprocess, inference (the model loaded
once), vectorize and the merge into the GeoPackage. That second time is the useful work;
its share of the Snakemake run's wall time is what the run spends on the science rather than
on start-up, imports, bookkeeping and idle gaps.

``--scenes demo`` is the offline demo (38 synthetic scenes); a number N is a synthetic
archive of about N scenes: copies of the demo glacier (Landsat-8 every 8 days, Sentinel-1
every 12 days) over as many years as it takes.
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
import time
from datetime import date, timedelta
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
# Scenes a year of one demo copy gives: Landsat-8 every 8 days and Sentinel-1 every 12.
SCENES_PER_GLACIER_YEAR = 365 / 8 + 365 / 12
GLACIER_COPIES = 4


def synthetic_config(base: dict, scenes: int) -> dict:
    """The shipped config with ``GLACIER_COPIES`` copies of the demo glacier whose date
    ranges give about ``scenes`` scenes in all."""
    config = json.loads(json.dumps(base, default=str))
    demo = config["glaciers"]["demo"]
    start = date(2020, 3, 1)
    days = round(scenes / GLACIER_COPIES / SCENES_PER_GLACIER_YEAR * 365)
    end = start + timedelta(days=days - 1)
    glaciers = {}
    for index in range(GLACIER_COPIES):
        copy = json.loads(json.dumps(demo))
        for settings in copy["sensors"].values():
            settings.update(start=start.isoformat(), end=end.isoformat())
        glaciers["demo" if index == 0 else f"demo{index + 1}"] = copy
    config["glaciers"] = glaciers
    config["default_glaciers"] = list(glaciers)
    return config


def scratch_workflow(folder: Path, checkout: Path, config: dict) -> None:
    for name in ("Snakefile", "workflow", "models", "profiles"):
        (folder / name).symlink_to(checkout / name)
    shutil.copytree(checkout / "config", folder / "config")
    (folder / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def run_snakemake(
    folder: Path, checkout: Path, cores: int, targets: list[str], options: list[str]
) -> tuple[float, int]:
    """Wall seconds of the run and the number of jobs it ran."""
    env = {**os.environ, "PYTHONPATH": str(checkout / "src")}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", str(cores), *targets, *options],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"snakemake failed in {folder}:\n{result.stderr[-3000:]}")
    done = re.findall(r"(\d+) of (\d+) steps", result.stderr)
    return wall, int(done[-1][1]) if done else 0


def run_in_one_process(folder: Path, checkout: Path, threads: int) -> dict[str, float]:
    """The stage functions for every scene in one process (a subprocess with the
    checkout's package), timed per stage."""
    env = {**os.environ, "PYTHONPATH": str(checkout / "src")}
    result = subprocess.run(
        [sys.executable, __file__, "--in-process", str(folder), "--cores", str(threads)],
        cwd=folder,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


def stages_in_one_process(folder: Path, threads: int) -> dict[str, float]:
    """Run inside ``folder``: list, fetch, preprocess, infer, vectorize every scene of every
    configured glacier, then merge each glacier, with one model; seconds per stage."""
    from calvingfronts.fronts.uncertainty import Calibration, read_calibration
    from calvingfronts.glaciers.config import glacier_config
    from calvingfronts.inference.front_model import FrontModel
    from calvingfronts.scenes.listing import listing_rejections
    from calvingfronts.timeseries.geopackage import (
        build_time_series,
        read_records,
        screen_time_series,
        write_positions,
        write_time_series,
    )
    from calvingfronts.timeseries.screening import ScreeningSettings
    from calvingfronts.workflow.pipeline import (
        fetch_stage,
        inference_stage,
        list_stage,
        preprocess_stage,
        vectorize_stage,
    )

    config = yaml.safe_load((folder / "config" / "config.yaml").read_text())
    seconds: dict[str, float] = {}

    def timed(stage, function, *args, **kwargs):
        started = time.perf_counter()
        value = function(*args, **kwargs)
        seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - started
        return value

    inference = config["inference"]
    model = timed("model", FrontModel, config["model"], device=inference["device"], threads=threads)
    calibration = read_calibration(config["model"], inference["members"])
    calibration = Calibration(**calibration.as_dict()) if calibration else None
    scenes = 0
    for name in config["glaciers"]:
        glacier = glacier_config(config, name)
        options = {**config["vectorize"], **config["glaciers"][name].get("vectorize", {})}
        records, listings = [], []
        for sensor in glacier.sensors:
            listing = timed("list", list_stage, config, glacier, sensor)
            listings.append(listing.record(0))
            for scene in listing.scenes:
                scenes += 1
                base = Path("results") / name
                fetched = str(base / "scenes" / sensor / f"{scene.scene_id}.tif")
                image = str(base / "preprocessed" / sensor / f"{scene.scene_id}.tif")
                probability = str(base / "probability" / sensor / f"{scene.scene_id}.tif")
                record = str(base / "fronts" / sensor / f"{scene.scene_id}.json")
                timed("fetch", fetch_stage, config, glacier, scene, fetched)
                timed(
                    "preprocess",
                    preprocess_stage,
                    glacier,
                    scene,
                    fetched,
                    image,
                    histogram=config["histogram"],
                    min_valid_fraction=config["preprocess"]["min_valid_fraction"],
                )
                timed(
                    "inference",
                    inference_stage,
                    model,
                    scene,
                    image,
                    probability,
                    tile_size=inference["tile_size"],
                    overlap=inference["overlap"],
                    members=inference["members"],
                )
                os.unlink(image)
                timed(
                    "vectorize",
                    vectorize_stage,
                    glacier,
                    scene,
                    probability,
                    record,
                    options,
                    calibration,
                )
                records.append(record)

        def merge(name=name, glacier=glacier, records=records, listings=listings):
            rows = read_records(records) + listing_rejections(listings)
            fronts, rejected = build_time_series(rows)
            series = screen_time_series(
                fronts, rejected, glacier, ScreeningSettings.from_dict(config["screening"])
            )
            write_time_series(
                series.fronts,
                series.rejected,
                f"results/{name}_fronts.gpkg",
                screened=series.screened,
                positions=series.positions,
            )
            write_positions(
                series.positions,
                f"results/{name}_positions.csv",
                f"results/{name}_positions.parquet",
            )

        timed("merge", merge)
    seconds["scenes"] = scenes
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", default="demo", help="demo, or about how many scenes")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--checkout", type=Path, default=REPO, help="workflow and package to run")
    parser.add_argument("--keep", type=Path, help="keep the scratch folders under this folder")
    parser.add_argument(
        "--set-threads", nargs="+", default=[], help="RULE=THREADS, as Snakemake takes it"
    )
    parser.add_argument("--in-process", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        os.chdir(args.in_process)
        print(json.dumps(stages_in_one_process(args.in_process, args.cores)))
        return
    checkout = args.checkout.resolve()
    base = yaml.safe_load((checkout / "config" / "config.yaml").read_text())
    if args.scenes == "demo":
        config = {**base, "glaciers": {"demo": base["glaciers"]["demo"]}}
    else:
        config = synthetic_config(base, int(args.scenes))
    scratch = Path(tempfile.mkdtemp(prefix="useful_work.", dir=args.keep))
    try:
        run_dir, stage_dir = scratch / "snakemake", scratch / "one_process"
        run_dir.mkdir()
        stage_dir.mkdir()
        scratch_workflow(run_dir, checkout, config)
        scratch_workflow(stage_dir, checkout, config)
        targets = [f"results/{name}_fronts.gpkg" for name in config["glaciers"]]
        options = ["--set-threads", *args.set_threads] if args.set_threads else []
        wall, jobs = run_snakemake(run_dir, checkout, args.cores, targets, options)
        useful = run_in_one_process(stage_dir, checkout, args.cores)
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
    scenes = int(useful.pop("scenes"))
    work = sum(useful.values())
    threads = f" --set-threads {' '.join(args.set_threads)}" if args.set_threads else ""
    print(f"checkout {checkout}, {scenes} scenes, --cores {args.cores}{threads}")
    print(f"snakemake: {wall:.1f} s wall, {jobs} jobs")
    print(
        "one process: "
        + ", ".join(f"{stage} {value:.1f} s" for stage, value in useful.items())
        + f"; {work:.1f} s in all"
    )
    print(f"useful work: {work / wall:.0%} of the wall time")


if __name__ == "__main__":
    main()
