"""Snakemake adapter: scale to one band, mask nodata, apply the histogram treatment."""

from calvingfronts import logs
from calvingfronts.config import glacier_config
from calvingfronts.pipeline import preprocess_stage
from calvingfronts.scenes import Scene

logs.configure(snakemake.log[0])
preprocess_stage(
    glacier_config(snakemake.config, snakemake.wildcards.glacier),
    Scene.from_json(snakemake.params.scene),
    snakemake.input.scene,
    snakemake.output.image,
    histogram=snakemake.params.histogram,
    min_valid_fraction=snakemake.params.min_valid_fraction,
)
