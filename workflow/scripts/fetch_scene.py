"""Snakemake adapter: fetch one scene's pixels onto the glacier's grid."""

from calvingfronts import logs
from calvingfronts.config import glacier_config
from calvingfronts.pipeline import fetch_stage
from calvingfronts.scenes import Scene

logs.configure(snakemake.log[0])
fetch_stage(
    snakemake.config,
    glacier_config(snakemake.config, snakemake.wildcards.glacier),
    Scene.from_json(snakemake.params.scene),
    snakemake.output.scene,
)
