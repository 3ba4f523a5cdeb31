"""Snakemake adapter: list one sensor's scenes of a glacier into the manifest."""

import sys

from calvingfronts import logs
from calvingfronts.config import glacier_config
from calvingfronts.pipeline import list_stage
from calvingfronts.scenes import write_manifest

logs.configure(snakemake.log[0])
glacier = glacier_config(snakemake.config, snakemake.wildcards.glacier)
scenes, summary = list_stage(
    snakemake.config, glacier, snakemake.wildcards.sensor, fetched_dir=snakemake.params.fetched
)
write_manifest(scenes, snakemake.output.manifest)
# Shown in Snakemake's own output: the progress a user watches.
print(summary, file=sys.stderr)
