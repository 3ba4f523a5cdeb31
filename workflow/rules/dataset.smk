# A glacier's fronts for others: the export in four formats and the publishable dataset.


rule export_fronts:
    """A glacier's fronts as a zipped shapefile, GeoJSON, GeoParquet and CSV (README)."""
    input:
        gpkg="results/{glacier}_fronts.gpkg",
    output:
        shapefile=report(
            "results/{glacier}/export/{glacier}_fronts.shp.zip",
            caption="../report/export.rst",
            category="{glacier}",
            labels={"file": "fronts, shapefile"},
        ),
        geojson=report(
            "results/{glacier}/export/{glacier}_fronts.geojson",
            caption="../report/export.rst",
            category="{glacier}",
            labels={"file": "fronts, GeoJSON"},
        ),
        geoparquet="results/{glacier}/export/{glacier}_fronts.parquet",
        csv=report(
            "results/{glacier}/export/{glacier}_fronts.csv",
            caption="../report/export.rst",
            category="{glacier}",
            labels={"file": "fronts, CSV"},
        ),
    log:
        "results/logs/{glacier}/export_fronts.log",
    conda:
        "../../envs/workflow.yaml"
    params:
        termpicks_id=lambda wildcards: config["glaciers"][wildcards.glacier].get(
            "termpicks_id"
        ),
    script:
        "../scripts/export_fronts.py"


rule dataset:
    """A glacier's publishable dataset: a STAC Collection, its Item and files, a README."""
    input:
        fronts="results/{glacier}/export/{glacier}_fronts.parquet",
        geopackage="results/{glacier}_fronts.gpkg",
        positions_csv="results/{glacier}_positions.csv",
        positions_parquet="results/{glacier}_positions.parquet",
        shapefile="results/{glacier}/export/{glacier}_fronts.shp.zip",
        geojson="results/{glacier}/export/{glacier}_fronts.geojson",
        csv="results/{glacier}/export/{glacier}_fronts.csv",
        position_png="results/{glacier}/plots/position.png",
        front_map_png="results/{glacier}/plots/front_map.png",
    output:
        collection="results/{glacier}/dataset/collection.json",
    log:
        "results/logs/{glacier}/dataset.log",
    conda:
        "../../envs/workflow.yaml"
    params:
        # A path, not an input: the fronts already depend on the model, and an input would
        # tie this rule to the training rule that makes the model.
        model=config["model"],
    script:
        "../scripts/build_dataset.py"
