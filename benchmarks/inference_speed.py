"""Inference speed of exported models with ONNX Runtime (CPU by default).

    python benchmarks/inference_speed.py models/*.onnx --size 1024 --threads 2

For each model: mean and best seconds per (1, 1, size, size) tile after a warm-up run, and
megapixels per second. Kept out of the unit tests on purpose: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np


def time_model(path: str, size: int, threads: int, repeats: int, provider: str) -> dict:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(path, sess_options=options, providers=[provider])
    image = np.random.default_rng(0).random((1, 1, size, size), dtype=np.float32)
    session.run(None, {"image": image})  # warm-up: memory planning, kernel selection
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, {"image": image})
        times.append(time.perf_counter() - start)
    meta = session.get_modelmeta().custom_metadata_map
    return {
        "model": path,
        "architecture": meta.get("architecture"),
        "tile": size,
        "threads": threads,
        "provider": provider,
        "mean_s": round(float(np.mean(times)), 3),
        "best_s": round(float(np.min(times)), 3),
        "megapixels_per_s": round(size * size / 1e6 / float(np.mean(times)), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("models", nargs="+")
    parser.add_argument("--size", type=int, default=1024, help="tile edge (multiple of 32)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--provider", default="CPUExecutionProvider")
    args = parser.parse_args()
    print(json.dumps({"machine": f"{platform.processor() or platform.machine()}"}))
    for path in args.models:
        print(json.dumps(time_model(path, args.size, args.threads, args.repeats, args.provider)))


if __name__ == "__main__":
    main()
