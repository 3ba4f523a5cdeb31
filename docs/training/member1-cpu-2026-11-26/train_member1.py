"""Train ensemble member 1 of the shipped recipe's folds on the CPU (seed + 1)."""

import sys
from pathlib import Path

import yaml

from calvingfronts.training.cross_validation import fold_config
from calvingfronts.training.ensemble import member_config
from calvingfronts.training.train import train

settings = yaml.safe_load(Path("config/config.yaml").read_text())["training"]
for glacier in sys.argv[1:]:
    base = settings if glacier == "all" else fold_config(settings, glacier)
    config = member_config(base, 1)
    config.update(device="cpu", loader_workers=0, threads=2)
    print("training", config["name"], config["run_dir"], "seed", config["seed"], flush=True)
    train(config)
