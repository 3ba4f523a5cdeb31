"""Snakemake adapter for ``rule train``: snakemake.params/output/log -> training.train.train.

Also usable directly, with a JSON file of training settings or a workflow config YAML (its
``training`` section), and KEY=VALUE overrides (values parsed as JSON where they can be):

    python workflow/scripts/train_model.py config/config.yaml max_minutes=15 name=my-model
"""

import json
import logging
import sys


def _from_snakemake(smk) -> dict:
    config = dict(smk.params.training)
    config["output"] = str(smk.output.model)
    config["card"] = str(smk.output.card)
    return config


def main(config: dict, log_path: str | None = None) -> None:
    from calvingfronts.training.train import train

    handlers = [logging.StreamHandler()]
    if log_path:
        handlers.append(logging.FileHandler(log_path))
    logging.basicConfig(
        level=logging.INFO,
        handlers=handlers,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    result = train(config)
    summary = {
        "onnx": str(result.onnx),
        "card": str(result.card),
        "best_epoch": result.best_epoch,
        "minutes": round(result.minutes, 1),
        "held_out_mean_m": (result.validation or {}).get("mean_m"),
    }
    logging.getLogger("train_model").info("done %s", json.dumps(summary))


if "snakemake" in globals():
    main(_from_snakemake(snakemake), str(snakemake.log[0]))
elif __name__ == "__main__":
    overrides = dict(arg.split("=", 1) for arg in sys.argv[2:])
    with open(sys.argv[1]) as handle:
        if sys.argv[1].endswith((".yaml", ".yml")):
            import yaml

            settings = yaml.safe_load(handle)
            settings = settings.get("training", settings)
        else:
            settings = json.load(handle)
    for key, value in overrides.items():
        try:
            settings[key] = json.loads(value)
        except json.JSONDecodeError:  # a bare string, e.g. name=my-model
            settings[key] = value
    main(settings)
