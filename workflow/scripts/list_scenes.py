"""Snakemake adapter: list one sensor's scenes of a glacier into the manifest, and write the
listing record beside it (rows set aside, or why the archive could not be listed)."""

import sys

from calvingfronts import logs
from calvingfronts.glaciers.config import glacier_config
from calvingfronts.scenes.listing import write_listing_record
from calvingfronts.scenes.manifest import write_manifest
from calvingfronts.workflow.pipeline import list_stage

logs.configure(snakemake.log[0])
glacier = glacier_config(snakemake.config, snakemake.wildcards.glacier)
listing = list_stage(
    snakemake.config, glacier, snakemake.wildcards.sensor, fetched_dir=snakemake.params.fetched
)
# A failed listing still writes both: an empty manifest lets the glacier's other sensors and
# its merge go on; the record makes the run end non-zero and the next run list again.
write_manifest(listing.scenes, snakemake.output.manifest)
write_listing_record(listing.record(snakemake.params.failed_listings), snakemake.output.listing)
# Shown in Snakemake's own output: the progress a user watches.
print(listing.summary(), file=sys.stderr)
