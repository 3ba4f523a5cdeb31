"""Snakemake adapter: a glacier's GeoPackage exported in every format."""

import logging

from calvingfronts import logs
from calvingfronts.dataset.export import read_export_table, write_export

logs.configure(snakemake.log[0])
table = read_export_table(snakemake.input.gpkg, snakemake.params.termpicks_id)
write_export(
    table,
    {
        "shapefile": snakemake.output.shapefile,
        "geojson": snakemake.output.geojson,
        "geoparquet": snakemake.output.geoparquet,
        "csv": snakemake.output.csv,
    },
)
logging.getLogger("export_fronts").info("%d fronts exported", len(table))
