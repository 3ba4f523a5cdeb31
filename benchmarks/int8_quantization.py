"""int8 inference on the CPU: a shipped model quantized with ONNX Runtime, against float32.

    .venv/bin/python benchmarks/int8_quantization.py --glacier kangerlussuaq [--keep-float 3]

Quantizes the fold model that never saw ``--glacier`` (static, QDQ, per-channel int8
weights, uint8 activations; ONNX Runtime's own quantizer) with activation ranges measured
on 10 images of the other glaciers, keeps each network's first convolution and its last
``--keep-float`` ones in float32, and reports, both models on one thread:

- seconds for one 1024 x 1024 tile (the mean of 2 runs after a warm-up);
- the probability's largest and mean difference from float32, and the share of pixels that
  cross 0.5 one way but not the other, on 6 more images of the other glaciers;
- the held-out glacier's front error at 1 view, drawn as the workflow draws fronts
  (docs/training/zones-cpu-2026-12-03/score_readings.py's scoring, both directions).

Timings depend on the machine: they are kept in benchmarks/README.md, never in the tests.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import runpy
import tempfile
import time
from pathlib import Path

import numpy as np

DATA = Path("../shared/data/frontlearning/train")
FOLD = "models/folds/frontlearning-all-drn-deeplabv3plus-without-{glacier}.onnx"
SCORER = "docs/training/zones-cpu-2026-12-03/score_readings.py"


def images_of_other_glaciers(glacier: str, count: int = 16) -> list[np.ndarray]:
    """``count`` FrontLearning images not of ``glacier``, evenly spread over them in name
    order, normalized as inference normalizes them and cut to multiples of 32 pixels."""
    from calvingfronts.evaluation.evaluate_images import labelled_images, read_image
    from calvingfronts.evaluation.frontlearning import glacier_of_frontlearning
    from calvingfronts.preprocess.normalize import normalize

    paths = [
        path
        for path, _ in labelled_images(DATA / "images", DATA / "labels")
        if glacier_of_frontlearning(path.name) != glacier
    ]
    images = []
    for index in np.linspace(0, len(paths) - 1, count).round().astype(int):
        gray = read_image(paths[index]).astype(np.float32)
        gray /= 255.0 if gray.max() > 1.0 else 1.0
        image = normalize(gray, np.ones(gray.shape, bool), "equalize", (0.0, 1.0))
        height, width = (image.shape[0] // 32) * 32, (image.shape[1] // 32) * 32
        images.append(image[:height, :width].astype(np.float32))
    return images


def quantize(source: Path, target: Path, calibration: list[np.ndarray], keep_float: int):
    """``source`` as int8 QDQ at ``target``; each network's first and last ``keep_float``
    convolutions stay float32 (the stem sees the raw band, the last layers draw the thin
    front: quantized, they moved 0.65 % of the pixels across 0.5)."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.images = iter(calibration)

        def get_next(self):
            image = next(self.images, None)
            return None if image is None else {"image": image[None, None]}

    prepared = target.with_suffix(".pre.onnx")
    quant_pre_process(str(source), str(prepared))
    convolutions = [n.name for n in onnx.load(str(prepared)).graph.node if n.op_type == "Conv"]
    networks = sorted({n.split("/")[0] for n in convolutions if n.startswith("member")}) or [""]
    excluded = []
    for prefix in networks:
        own = [n for n in convolutions if n.startswith(prefix)]
        excluded += own[:1] + (own[-keep_float:] if keep_float else [])
    quantize_static(
        str(prepared),
        str(target),
        Reader(),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        per_channel=True,
        nodes_to_exclude=excluded,
    )
    return len(excluded), len(convolutions)


def tile_seconds(session, image: np.ndarray, repeats: int = 2) -> float:
    tile = np.zeros((1, 1, 1024, 1024), np.float32)
    part = image[:1024, :1024]
    tile[0, 0, : part.shape[0], : part.shape[1]] = part
    session.run(None, {"image": tile})
    started = time.perf_counter()
    for _ in range(repeats):
        session.run(None, {"image": tile})
    return (time.perf_counter() - started) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--glacier", default="kangerlussuaq")
    parser.add_argument("--keep-float", type=int, default=3)
    args = parser.parse_args()
    import onnxruntime

    source = Path(FOLD.format(glacier=args.glacier))
    images = images_of_other_glaciers(args.glacier)
    calibration, checks = images[:10], images[10:16]
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "int8.onnx"
        excluded, total = quantize(source, target, calibration, args.keep_float)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        sessions = {
            name: onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
            for name, path in (("float32", source), ("int8", target))
        }
        seconds = {name: tile_seconds(s, checks[-1]) for name, s in sessions.items()}
        largest, mean, crossed = [], [], []
        for image in checks:
            a, b = (s.run(None, {"image": image[None, None]})[0] for s in sessions.values())
            largest.append(float(np.abs(a - b).max()))
            mean.append(float(np.abs(a - b).mean()))
            crossed.append(float(np.mean((a > 0.5) != (b > 0.5))))
        scorer = runpy.run_path(SCORER)
        errors = {}
        for name, path in (("float32", source), ("int8", target)):
            out = Path(folder) / f"{name}.json"
            with contextlib.redirect_stdout(io.StringIO()):  # the scorer prints its summary
                scorer["main"](str(path), args.glacier, "5", "1", str(out))
            errors[name] = json.loads(out.read_text())["summary"]["head"]
    print(
        json.dumps(
            {
                "model": str(source),
                "held_out": args.glacier,
                "float_convolutions": f"{excluded} of {total}",
                "tile_1024_seconds_one_thread": seconds,
                "max_abs_difference": max(largest),
                "mean_abs_difference": float(np.mean(mean)),
                "share_crossing_0.5": float(np.mean(crossed)),
                "held_out_error_1_view": errors,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
