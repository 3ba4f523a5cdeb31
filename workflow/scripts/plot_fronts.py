"""Snakemake adapter: a glacier's position plot, front map and run statistics."""

import logging

from calvingfronts import logs
from calvingfronts.glaciers.config import glacier_config
from calvingfronts.report.report_outputs import write_plot_outputs

logs.configure(snakemake.log[0])
glacier = snakemake.wildcards.glacier
rows = write_plot_outputs(
    snakemake.input.gpkg,
    glacier_config(snakemake.config, glacier).fjord,
    glacier,
    position_png=snakemake.output.position,
    front_map_png=snakemake.output.front_map,
    statistics_html=snakemake.output.statistics,
    statistics_csv=snakemake.output.statistics_csv,
    scenes_dir=snakemake.params.scenes,
)
logging.getLogger("plot_fronts").info("%s: rows per layer %s", snakemake.input.gpkg, rows)
