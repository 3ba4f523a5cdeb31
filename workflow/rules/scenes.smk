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


rule fetch_scene:
    """One scene's pixels resampled onto the glacier's grid; archive faults are retried."""
    input:
        manifest=scene_manifest,
    output:
        scene="results/{glacier}/scenes/{sensor}/{scene_id}.tif",
    log:
        "results/logs/{glacier}/fetch_scene/{sensor}/{scene_id}.log",
    benchmark:
        "results/benchmarks/{glacier}/fetch_scene/{sensor}/{scene_id}.tsv"
    retries: 1
    conda:
        "../../envs/workflow.yaml"
    params:
        # With a local file's size and time stamp: a file fixed after its rejection is retried.
        scene=fetched_scene_json,
        failed_attempts=failed_fetch_attempts,
    script:
        "../scripts/fetch_scene.py"
