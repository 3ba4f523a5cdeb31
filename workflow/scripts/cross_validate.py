"""Snakemake adapter for ``rule cross_validate``: train every fold, then score each fold's
model on its held-out glacier (calvingfronts.training.cross_validation)."""

import logging

from calvingfronts.training.cross_validation import run_folds

logging.basicConfig(
    level=logging.INFO,
    handlers=[logging.StreamHandler(), logging.FileHandler(str(snakemake.log[0]))],
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
run_folds(dict(snakemake.params.training), str(snakemake.output.report))
