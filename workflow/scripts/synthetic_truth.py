"""Snakemake adapter: the true fronts of a glacier's synthetic scenes, for evaluation."""

from calvingfronts import logs
from calvingfronts.glaciers.config import glacier_config
from calvingfronts.scenes.manifest import read_manifest
from calvingfronts.synthetic.scenes import write_truth

logs.configure(snakemake.log[0])
glacier = glacier_config(snakemake.config, snakemake.wildcards.glacier)
scenes = [scene for path in snakemake.params.manifests for scene in read_manifest(path)]
write_truth(glacier, scenes, snakemake.output.truth)
