"""The evidence of every fold front: each leave-one-glacier-out fold model on the glacier
it held out, through evaluate-images with the workflow's tests of a front, one JSON report
per fold (per image: the error, the members' spread, the quality figures, the members
without a front, the terminus position error along the flow).

    .venv/bin/python tools/fold_evidence.py --out-dir docs/trust/fold-evidence-2026-12-03

The input of tools/conditional_calibration.py.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from calvingfronts.evaluation.evaluate_images import (
    WORKFLOW_MIN_ANGLE_TO_FLOW,
    WORKFLOW_MIN_LENGTH_M,
    evaluate_folder,
)
from calvingfronts.raster_io import atomic_path

DATA = Path("../shared/data/frontlearning/train")
FOLD = "models/folds/frontlearning-all-drn-deeplabv3plus-without-{glacier}.onnx"
GLACIERS = ("jakobshavn", "kangerlussuaq", "northwest")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--glaciers", nargs="+", default=list(GLACIERS))
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for glacier in args.glaciers:
        report = evaluate_folder(
            DATA / "images",
            DATA / "labels",
            49.0,
            Path(FOLD.format(glacier=glacier)),
            glacier=glacier,
            members=args.members,
            rejections={
                "min_angle_to_flow": WORKFLOW_MIN_ANGLE_TO_FLOW,
                "min_length_m": WORKFLOW_MIN_LENGTH_M,
            },
        )
        report.update(glacier=glacier, members=args.members, model=FOLD.format(glacier=glacier))
        out = args.out_dir / f"{glacier}.members{args.members}.json"
        with atomic_path(out) as tmp:
            Path(tmp).write_text(json.dumps(report, indent=1) + "\n")
        print(glacier, report["mean_m"], report["n_no_front"], "->", out, flush=True)


if __name__ == "__main__":
    main()
