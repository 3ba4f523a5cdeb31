# Plots of a glacier's time series and the run's statistics, for `snakemake --report`.
# Each output is wrapped in report(): the HTML report shows it under the glacier's category
# with the caption from workflow/report/.


rule plot_fronts:
    """A glacier's position plot, front map and run statistics, for the report."""
    input:
        gpkg="results/{glacier}_fronts.gpkg",
        fjord=lambda wildcards: config["glaciers"][wildcards.glacier]["fjord"],
    output:
        position=report(
            "results/{glacier}/plots/position.png",
            caption="../report/position.rst",
            category="{glacier}",
            labels={"figure": "terminus position"},
        ),
        front_map=report(
            "results/{glacier}/plots/front_map.png",
            caption="../report/front_map.rst",
            category="{glacier}",
            labels={"figure": "front map"},
        ),
        statistics=report(
            "results/{glacier}/plots/run_statistics.html",
            caption="../report/run_statistics.rst",
            category="{glacier}",
            labels={"figure": "run statistics"},
        ),
        statistics_csv="results/{glacier}/plots/run_statistics.csv",
    log:
        "results/logs/{glacier}/plot_fronts.log",
    benchmark:
        "results/benchmarks/{glacier}/plot_fronts.tsv"
    conda:
        "../../envs/workflow.yaml"
    params:
        # The latest kept front's scene is drawn behind the fronts where it is on disk.
        scenes=lambda wildcards: f"results/{wildcards.glacier}/scenes",
    script:
        "../scripts/plot_fronts.py"
