"""Snakemake adapter: merge a glacier's per-scene records into the GeoPackage."""

import logging

from calvingfronts import logs
from calvingfronts.timeseries import build_time_series, read_records, write_time_series

logs.configure(snakemake.log[0])
fronts, rejected = build_time_series(read_records(snakemake.input.fronts))
write_time_series(fronts, rejected, snakemake.output.gpkg)
logging.getLogger("merge_fronts").info(
    "%s: %d front(s), %d rejected scene(s)", snakemake.output.gpkg, len(fronts), len(rejected)
)
