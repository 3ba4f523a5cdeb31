rule synthetic_truth:
    """The true fronts of a glacier whose scenes come from the synthetic source."""
    input:
        listing=glacier_listing,
    output:
        truth="results/{glacier}_synthetic_truth.gpkg",
    log:
        "results/logs/{glacier}/synthetic_truth.log",
    benchmark:
        "results/benchmarks/{glacier}/synthetic_truth.tsv"
    conda:
        "../../envs/workflow.yaml"
    params:
        # In the listing folder (the input).
        manifests=glacier_manifests,
    script:
        "../scripts/synthetic_truth.py"


rule evaluate_fronts:
    """Distances between a glacier's fronts and its synthetic true fronts, as JSON."""
    input:
        fronts="results/{glacier}_fronts.gpkg",
        truth="results/{glacier}_synthetic_truth.gpkg",
    output:
        report="results/{glacier}_evaluation.json",
    log:
        "results/logs/{glacier}/evaluate_fronts.log",
    conda:
        "../../envs/workflow.yaml"
    script:
        "../scripts/evaluate_fronts.py"
