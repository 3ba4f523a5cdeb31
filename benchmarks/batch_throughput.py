"""Benchmark: scenes per second of one batch job, per device and inference batch size.

    .venv/bin/python benchmarks/batch_throughput.py --devices cpu --batch-sizes 4
    .venv/bin/python benchmarks/batch_throughput.py --devices cpu cuda --batch-sizes 4 32 \
        --scenes 60

Runs one batch (:class:`calvingfronts.workflow.batch_run.BatchRun`, as the `process_batch` rule
does)
of the demo glacier's synthetic scenes (Landsat-8 at 50 m: one 400 x 300 tile each; with
``--pixel-size 20``, 1000 x 750) in a scratch folder for each device and
``inference.batch_size``, all in this one process, and prints scenes per second of the
whole batch (fetch, preprocess, inference, vectorize) and of preprocess, inference and
vectorize alone (the same batch again with only the model's identity changed: the fetched
scenes are reused).
``cuda`` needs onnxruntime-gpu and a GPU.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    from calvingfronts.glaciers.config import glacier_config
    from calvingfronts.sources import synthetic
    from calvingfronts.workflow.batch_run import BatchRun, BatchSettings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", nargs="+", default=["cpu"])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[4])
    parser.add_argument("--scenes", type=int, default=20)
    parser.add_argument("--pixel-size", type=float, default=50)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the scenes' rejections are not the point here
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    sensor = config["glaciers"]["demo"]["sensors"]["landsat8"]
    sensor.update(pixel_size=args.pixel_size, end="2030-12-31")
    glacier = glacier_config(config, "demo", REPO)
    scenes = synthetic.list_scenes(glacier, glacier.sensors["landsat8"], {"seed": 2021})
    scenes = scenes[: args.scenes]
    inference = config["inference"]
    model = REPO / config["model"]
    shape = glacier.grid("landsat8").shape
    print(f"{len(scenes)} scenes of {shape} px, {inference['members']} members")
    print("| device | batch_size | whole batch: scenes/s | inference and vectorize: scenes/s |")
    print("| --- | --- | --- | --- |")
    for device in args.devices:
        for batch_size in args.batch_sizes:
            settings = BatchSettings(
                histogram=config["histogram"],
                min_valid_fraction=config["preprocess"]["min_valid_fraction"],
                model={"path": str(model), "sha256": device},
                device=device,
                tile_size=inference["tile_size"],
                overlap=inference["overlap"],
                members=inference["members"],
                batch_size=batch_size,
                vectorize=config["vectorize"],
                fetch_threads=config["batches"]["fetch_threads"],
                threads=args.threads,
            )
            with tempfile.TemporaryDirectory(prefix="throughput.") as scratch:
                output = f"{scratch}/batch.json"
                results = f"{scratch}/results"
                started = time.perf_counter()
                BatchRun(config, glacier, scenes, output, settings, results).run()
                whole = time.perf_counter() - started
                # The same scenes with another model identity: inference and vectorize again.
                again = replace(settings, model={**settings.model, "sha256": "again"})
                started = time.perf_counter()
                BatchRun(config, glacier, scenes, output, again, results).run()
                compute = time.perf_counter() - started
            print(
                f"| {device} | {batch_size} | {len(scenes) / whole:.2f} "
                f"| {len(scenes) / compute:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
