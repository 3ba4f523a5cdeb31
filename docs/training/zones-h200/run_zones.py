"""Train network 0 of the zone-and-front recipe (the shipped recipe with the FrontLearning
zones derived from the fronts) for one glacier fold or 'all', on the lent GPU.

    python3 .gpu/run_zones.py render     # the synthetic scenes' cache, once, first
    python3 .gpu/run_zones.py jakobshavn # ... kangerlussuaq, northwest, all

Environment: FRONTLEARNING (the images' folder), DEVICE, WORKERS, MAX_MINUTES, SMOKE (2
steps and 3 synthetic scenes, to try the script on a CPU).
"""

import os
import sys
from pathlib import Path

import yaml

from calvingfronts.training.cross_validation import fold_config
from calvingfronts.training.ensemble import member_config
from calvingfronts.training.train import train

glacier = sys.argv[1]
settings = yaml.safe_load(Path("config/config.yaml").read_text())["training"]
settings["name"] += "-zones"
for entry in settings["data"]:
    if entry["kind"] == "frontlearning":
        entry["path"] = os.environ.get("FRONTLEARNING", ".gpu/frontlearning/train")
        entry["zones"] = True
    if os.environ.get("SMOKE") and entry["kind"] == "synthetic":
        entry["count"] = 3
if glacier == "render":
    from calvingfronts.training.data import load_data

    load_data(settings["data"], [])
    sys.exit(0)
base = settings if glacier == "all" else fold_config(settings, glacier)
config = member_config(base, 0)
config.update(
    device=os.environ.get("DEVICE", "auto"),
    loader_workers=int(os.environ.get("WORKERS", "3")),
    threads=1,
    max_minutes=float(os.environ.get("MAX_MINUTES", "7")),
)
if os.environ.get("SMOKE"):
    config.update(
        epochs=1, steps_per_epoch=2, average_epochs=1, run_dir=config["run_dir"] + "-smoke"
    )
print("training", config["name"], config["run_dir"], "seed", config["seed"], flush=True)
train(config)
print("done", glacier, flush=True)
