# One job a glacier, not a sensor: a job's start and Snakemake's look at the DAG after each
# checkpoint cost more than a listing (benchmarks/README.md "Listing").
checkpoint list_scenes:
    """Each of one glacier's sensors' scenes, asked of their archives: the scene lists."""
    input:
        local_manifests=local_manifests,
    output:
        manifests=directory("results/{glacier}/manifests"),
    log:
        "results/logs/{glacier}/list_scenes.log",
    benchmark:
        "results/benchmarks/{glacier}/list_scenes.tsv"
    conda:
        "../../envs/workflow.yaml"
    params:
        listing=listing_params,
        sensors=lambda wildcards: glacier_sensors(wildcards.glacier),
        fetched=lambda wildcards: f"results/{wildcards.glacier}/scenes",
        # A failed listing raises its sensor's count: the next run lists the glacier again.
        failed_listings=failed_listings_so_far,
    script:
        "../scripts/list_scenes.py"
