rule merge_fronts:
    """A glacier's fronts, screened, with rejections and positions: the GeoPackage."""
    input:
        batches=glacier_batch_records,
        listings=glacier_listings,
        outlines=glacier_outline_files,
    output:
        gpkg="results/{glacier}_fronts.gpkg",
        positions_csv="results/{glacier}_positions.csv",
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
    script:
        "../scripts/merge_fronts.py"
