rule merge_fronts:
    """A glacier's fronts, screened, with rejections and positions: the GeoPackage."""
    input:
        batches=glacier_batch_records,
        listing=glacier_listing,
        outlines=glacier_outline_files,
    output:
        gpkg=report(
            "results/{glacier}_fronts.gpkg",
            caption="../report/geopackage.rst",
            category="{glacier}",
            labels={"file": "GeoPackage"},
        ),
        positions_csv=report(
            "results/{glacier}_positions.csv",
            caption="../report/positions.rst",
            category="{glacier}",
            labels={"file": "positions table"},
        ),
        positions_parquet="results/{glacier}_positions.parquet",
    log:
        "results/logs/{glacier}/merge_fronts.log",
    benchmark:
        "results/benchmarks/{glacier}/merge_fronts.tsv"
    conda:
        "../../envs/workflow.yaml"
    params:
        screening=config["screening"],
        geometry=glacier_geometry,
        # In the listing folder (the input): rows set aside, failed archives.
        listings=glacier_listings,
    script:
        "../scripts/merge_fronts.py"
