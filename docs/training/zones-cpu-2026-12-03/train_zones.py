"""Train the zone-and-front candidate of one fold on the CPU: the shipped recipe with the
FrontLearning zones derived from the fronts (zone head on real images too), or its matched
control (the same recipe, budget and seed without the FrontLearning zones).

    python docs/training/zones-cpu-2026-12-03/train_zones.py kangerlussuaq MINUTES THREADS
    python docs/training/zones-cpu-2026-12-03/train_zones.py kangerlussuaq MINUTES THREADS control
"""

import sys
from pathlib import Path

import yaml

from calvingfronts.training.cross_validation import fold_config
from calvingfronts.training.train import train

settings = yaml.safe_load(Path("config/config.yaml").read_text())["training"]
glacier, minutes, threads = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
control = sys.argv[4:] == ["control"]
settings = {
    **settings,
    "name": settings["name"] + ("-control" if control else "-zones"),
    "data": [
        {**entry, "zones": True} if entry["kind"] == "frontlearning" and not control else entry
        for entry in settings["data"]
    ],
}
config = settings if glacier == "all" else fold_config(settings, glacier)
# Network 0 of the fold only (the recipe's ensemble would go on to train network 1).
config.update(device="cpu", loader_workers=0, threads=threads, max_minutes=minutes, ensemble=1)
print("training", config["name"], config["run_dir"], "seed", config["seed"], flush=True)
train(config)
