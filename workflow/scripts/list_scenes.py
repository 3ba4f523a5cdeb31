"""Snakemake adapter: list each of one glacier's sensors' scenes into its manifest, and write
the listing record beside it (rows set aside, or why the archive could not be listed)."""

import sys
from pathlib import Path

from calvingfronts import logs
from calvingfronts.glaciers.config import glacier_config
from calvingfronts.scenes.listing import listing_record_path, write_listing_record
from calvingfronts.scenes.manifest import write_manifest
from calvingfronts.workflow.pipeline import list_stage

logs.configure(snakemake.log[0])
glacier = glacier_config(snakemake.config, snakemake.wildcards.glacier)
folder = Path(snakemake.output.manifests)
folder.mkdir(parents=True, exist_ok=True)
for sensor in snakemake.params.sensors:
    listing = list_stage(
        snakemake.config, glacier, sensor, fetched_dir=f"{snakemake.params.fetched}/{sensor}"
    )
    # A failed listing still writes both: an empty manifest lets the glacier's other sensors
    # and its merge go on; the record makes the run end non-zero and the next run list again.
    manifest = folder / f"{sensor}.csv"
    write_manifest(listing.scenes, manifest)
    failed_before = snakemake.params.failed_listings.get(sensor, 0)
    write_listing_record(listing.record(failed_before), listing_record_path(manifest))
    # Shown in Snakemake's own output: the progress a user watches.
    print(listing.summary(), file=sys.stderr)
