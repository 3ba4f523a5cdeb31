"""Snakemake adapter: the per-scene stages for one batch of scenes, in one process."""

from calvingfronts import logs
from calvingfronts.glaciers.config import glacier_config
from calvingfronts.scenes.manifest import read_manifest
from calvingfronts.workflow.batch_run import BatchRun, BatchSettings
from calvingfronts.workflow.batches import group_by_batch

logs.configure(snakemake.log[0])
wildcards, params, config = snakemake.wildcards, snakemake.params, snakemake.config
period = config["batches"]["period"]
scenes = group_by_batch(read_manifest(params.manifest), period)[wildcards.batch]
settings = BatchSettings(
    histogram=params.histogram,
    min_valid_fraction=params.min_valid_fraction,
    model=params.model,
    device=params.device,
    tile_size=params.tile_size,
    overlap=params.overlap,
    members=params.members,
    batch_size=config["inference"]["batch_size"],
    vectorize=params.vectorize,
    calibration=params.calibration,
    fetch_threads=config["batches"]["fetch_threads"],
    threads=snakemake.threads,
    **(params.adaptive or {}),
)
batch = BatchRun(
    config,
    glacier_config(config, wildcards.glacier),
    scenes,
    snakemake.output.records,
    settings,
)
records = batch.run()
batch.write_records(
    records,
    {"glacier": wildcards.glacier, "sensor": wildcards.sensor, "batch": wildcards.batch},
)
