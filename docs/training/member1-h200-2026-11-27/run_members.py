"""Train ensemble member 1 (seed + 1) of the shipped recipe for one glacier fold or 'all'."""

import os
import sys
from pathlib import Path

import yaml

from calvingfronts.training.cross_validation import fold_config
from calvingfronts.training.ensemble import member_config
from calvingfronts.training.train import train

glacier = sys.argv[1]
settings = yaml.safe_load(Path("config/config.yaml").read_text())["training"]
for entry in settings["data"]:
    if entry["kind"] == "frontlearning":
        entry["path"] = os.environ.get("FRONTLEARNING", ".gpu/frontlearning/train")
    if os.environ.get("SMOKE") and entry["kind"] == "synthetic":
        entry["count"] = 3
if glacier == "render":  # the synthetic scenes' cache, drawn once before runs side by side
    from calvingfronts.training.data import load_data

    load_data(settings["data"], [])
    sys.exit(0)
base = settings if glacier == "all" else fold_config(settings, glacier)
config = member_config(base, 1)
config.update(
    device=os.environ.get("DEVICE", "auto"),
    loader_workers=int(os.environ.get("WORKERS", "6")),
    threads=1,
    max_minutes=float(os.environ.get("MAX_MINUTES", "6.5")),
)
if os.environ.get("SMOKE"):
    config.update(
        epochs=1,
        steps_per_epoch=2,
        average_epochs=1,
        run_dir=config["run_dir"] + "-smoke",
        output=config["output"].replace(".onnx", "-smoke.onnx"),
        card=config["card"].replace(".md", "-smoke.md"),
    )
print("training", config["name"], config["run_dir"], "seed", config["seed"], flush=True)
train(config)
print("done", glacier, flush=True)
