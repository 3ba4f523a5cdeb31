"""Snakemake adapter: the calving-front line of one scene, or why there is none."""

from calvingfronts import logs
from calvingfronts.config import glacier_config
from calvingfronts.pipeline import vectorize_stage
from calvingfronts.scenes import Scene
from calvingfronts.uncertainty import Calibration

calibration = snakemake.params.calibration

logs.configure(snakemake.log[0])
vectorize_stage(
    glacier_config(snakemake.config, snakemake.wildcards.glacier),
    Scene.from_json(snakemake.params.scene),
    snakemake.input.probability,
    snakemake.output.front,
    snakemake.params.options,
    Calibration(**calibration) if calibration else None,
)
