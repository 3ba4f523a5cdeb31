checkpoint list_scenes:
    """The scenes of one glacier and sensor, asked of its archive: the dynamic scene list."""
    input:
        local_manifest=local_manifest,
    output:
        manifest="results/{glacier}/manifests/{sensor}.csv",
        listing="results/{glacier}/manifests/{sensor}.listing.json",
    log:
        "results/logs/{glacier}/list_scenes/{sensor}.log",
    benchmark:
        "results/benchmarks/{glacier}/list_scenes/{sensor}.tsv"
    conda:
        "../../envs/workflow.yaml"
    params:
        listing=listing_params,
        fetched=lambda wildcards: f"results/{wildcards.glacier}/scenes/{wildcards.sensor}",
        # A failed listing raises the count: the next run lists the sensor again.
        failed_listings=failed_listings_so_far,
    script:
        "../scripts/list_scenes.py"
