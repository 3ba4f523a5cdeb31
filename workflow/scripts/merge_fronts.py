"""Snakemake adapter: merge a glacier's per-scene records, measure and screen the fronts,
and write the GeoPackage and the positions table."""

import logging
import sys

from calvingfronts import logs
from calvingfronts.glaciers.config import glacier_config
from calvingfronts.scenes.listing import listing_rejections, nothing_listed, read_listing_record
from calvingfronts.timeseries.geopackage import (
    build_time_series,
    screen_time_series,
    write_positions,
    write_time_series,
)
from calvingfronts.timeseries.screening import ScreeningSettings
from calvingfronts.workflow.batches import read_batch_records

logs.configure(snakemake.log[0])
log = logging.getLogger("merge_fronts")
listings = [read_listing_record(path) for path in snakemake.params.listings]
for listing in listings:
    if listing["status"] == "failed":
        log.error("%s: not listed: %s", listing["sensor"], listing["reason"])
# An empty GeoPackage would look like a result: a glacier without any listing has none.
reason = nothing_listed(listings)
if reason:
    log.error("%s: %s", snakemake.wildcards.glacier, reason)
    sys.exit(f"{snakemake.wildcards.glacier}: {reason}")
# Manifest rows the listing set aside join the scenes' records (stage "list").
records = read_batch_records(snakemake.input.batches) + listing_rejections(listings)
fronts, rejected = build_time_series(records)
series = screen_time_series(
    fronts,
    rejected,
    glacier_config(snakemake.config, snakemake.wildcards.glacier),
    ScreeningSettings.from_dict(snakemake.params.screening),
)
write_time_series(
    series.fronts,
    series.rejected,
    snakemake.output.gpkg,
    screened=series.screened,
    positions=series.positions,
)
write_positions(
    series.positions, snakemake.output.positions_csv, snakemake.output.positions_parquet
)
log.info(
    "%s: %d front(s) kept, %d screened, %d rejected scene(s)",
    snakemake.output.gpkg,
    len(series.fronts),
    len(series.screened),
    len(series.rejected) - len(series.screened),
)
for test, count in series.positions["screening_test"].value_counts().items():
    if test:
        log.info("screened by %s: %d", test, count)
