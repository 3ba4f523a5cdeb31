"""What uncertainty costs: inference and front extraction time against the number of members.

    .venv/bin/python benchmarks/members_cost.py --threads 2 --height 1000 --width 1333

For each count of ``inference.members``: seconds to predict a whole scene (the workflow's
tiling, the members of a tile in one batch per tile shape) and seconds to extract the
consensus front and every member's front (the vectorize stage's extra work), on a synthetic
scene of the demo fjord's kind scaled up to the given grid. Timings depend on the machine:
they are kept here, never in the tests.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
from affine import Affine
from shapely.geometry import box

from calvingfronts.fronts.scene_front import scene_front
from calvingfronts.inference.front_model import FrontModel


def scene(height: int, width: int) -> np.ndarray:
    """A bright glacier, a dark fjord and a wavy front between them, with noise."""
    rng = np.random.default_rng(0)
    rows = np.arange(height)[:, None]
    cols = np.arange(width)[None, :]
    front = 0.5 * height + 0.05 * height * np.sin(cols / width * 6.0)
    image = np.where(rows > front, 0.75, 0.25) + rng.normal(0.0, 0.08, (height, width))
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="models/frontlearning-all-drn-deeplabv3plus.onnx")
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--width", type=int, default=1333)
    parser.add_argument("--pixel-size", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--members", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--tile-size", type=int, default=1024)
    parser.add_argument("--overlap", type=int, default=128)
    args = parser.parse_args()
    model = FrontModel(args.model, device="cpu", threads=args.threads)
    image = scene(args.height, args.width)
    transform = Affine(args.pixel_size, 0, 0, 0, -args.pixel_size, args.height * args.pixel_size)
    fjord = box(0, 0, args.width * args.pixel_size, args.height * args.pixel_size)
    model.predict_members(image[:256, :256], 256, 32, 1)  # warm-up
    print(json.dumps({"machine": platform.processor() or platform.machine(), **vars(args)}))
    for members in args.members:
        start = time.perf_counter()
        probabilities = model.predict_members(image, args.tile_size, args.overlap, members)
        inference_s = time.perf_counter() - start
        start = time.perf_counter()
        _, spread, _ = scene_front(probabilities, transform, fjord, flow_azimuth=180.0)
        vectorize_s = time.perf_counter() - start
        print(
            json.dumps(
                {
                    "members": members,
                    "inference_s": round(inference_s, 2),
                    "vectorize_s": round(vectorize_s, 2),
                    "spread_m": None if spread is None else round(spread, 1),
                }
            )
        )


if __name__ == "__main__":
    main()
