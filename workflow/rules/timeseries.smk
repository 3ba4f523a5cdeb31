rule merge_fronts:
    input:
        fronts=glacier_front_records,
    output:
        gpkg="results/{glacier}_fronts.gpkg",
    log:
        "results/logs/{glacier}/merge_fronts.log",
    benchmark:
        "results/benchmarks/{glacier}/merge_fronts.tsv"
    conda:
        "../../envs/workflow.yaml"
    script:
        "../scripts/merge_fronts.py"
