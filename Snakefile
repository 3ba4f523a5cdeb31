# Calving-front time series of Greenland's outlet glaciers from multi-sensor satellite imagery.
# Usage: snakemake --cores 8 results/demo_fronts.gpkg   (see README.md)
from snakemake.utils import min_version, validate

from calvingfronts.config import with_catalogues

min_version("9.0")


configfile: "config/config.yaml"


# The glaciers of the catalogues (config/catalogues/) join those configured in config.yaml.
config.update(with_catalogues(config))


report: "workflow/report/workflow.rst"


validate(config, schema="workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/scenes.smk"
include: "workflow/rules/batches.smk"
include: "workflow/rules/timeseries.smk"
include: "workflow/rules/evaluation.smk"
include: "workflow/rules/training.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/dataset.smk"


# Rules run by Snakemake itself, never submitted to a cluster: listing asks the archive
# (compute nodes may have no internet), the others gather one glacier's small files, and
# each would wait in a queue longer than it runs.
localrules:
    list_scenes,
    merge_fronts,
    synthetic_truth,
    evaluate_fronts,
    plot_fronts,


onstart:
    check_slurm_status_command()


# The yield of the run per glacier and sensor, and a non-zero exit if a listing failed.
onsuccess:
    print_run_summary(exit_on_failed_listing=True)


onerror:
    print_run_summary(exit_on_failed_listing=False)


rule all:
    """The default glaciers' GeoPackages, plots and exports: what `snakemake` alone makes."""
    input:
        expand("results/{glacier}_fronts.gpkg", glacier=config["default_glaciers"]),
        [glacier_plots(glacier) for glacier in config["default_glaciers"]],
        [glacier_exports(glacier) for glacier in config["default_glaciers"]],


rule all_glaciers:
    """Every configured glacier's GeoPackage, plots and exports (calvingfronts list-glaciers)."""
    input:
        expand("results/{glacier}_fronts.gpkg", glacier=list(config["glaciers"])),
        [glacier_plots(glacier) for glacier in config["glaciers"]],
        [glacier_exports(glacier) for glacier in config["glaciers"]],
