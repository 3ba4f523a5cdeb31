"""Fine-tune a shipped fold network with the FrontLearning zones, on the CPU: the shipped
fold model (models/folds/...-without-GLACIER.onnx, network K of its pair) as the start
(calvingfronts.training.warm_start: BatchNorm statistics frozen), the shipped recipe's data
with the zones derived from the fronts (zone head on real images too), a quarter of its
learning rate, for MINUTES of wall time on THREADS threads.

    python docs/training/zones-finetune-2026-12-03/finetune_zones.py GLACIER MINUTES THREADS [K]
"""

import sys
from pathlib import Path

import yaml

from calvingfronts.training.cross_validation import fold_config
from calvingfronts.training.train import train

settings = yaml.safe_load(Path("config/config.yaml").read_text())["training"]
glacier, minutes, threads = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
member = int(sys.argv[4]) if len(sys.argv) > 4 else 0
start = f"models/folds/{settings['name']}-without-{glacier}.onnx"
settings = {
    **settings,
    "name": settings["name"] + f"-zones-finetuned-member{member}",
    "data": [
        {**entry, "zones": True} if entry["kind"] == "frontlearning" else entry
        for entry in settings["data"]
    ],
}
config = fold_config(settings, glacier)
config.update(
    device="cpu",
    loader_workers=0,
    threads=threads,
    max_minutes=minutes,
    ensemble=1,
    init_from=start,
    init_member=member,
    learning_rate=settings["learning_rate"] / 4,
    warmup_fraction=0.05,
    # Short epochs, so that the mean of the last three (the recipe's averaging) covers the
    # last part of a run that the time budget ends.
    steps_per_epoch=100,
    epochs=20,
)
print("fine-tuning", config["name"], config["run_dir"], "from", start, member, flush=True)
train(config)
