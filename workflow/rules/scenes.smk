checkpoint list_scenes:
    # The one place where the scene list is dynamic: it depends on the archive.
    input:
        local_manifest=local_manifest,
    output:
        manifest="results/{glacier}/manifests/{sensor}.csv",
    log:
        "results/logs/{glacier}/list_scenes/{sensor}.log",
    benchmark:
        "results/benchmarks/{glacier}/list_scenes/{sensor}.tsv"
    conda:
        "../../envs/workflow.yaml"
    params:
        listing=listing_params,
        fetched=lambda wildcards: f"results/{wildcards.glacier}/scenes/{wildcards.sensor}",
    script:
        "../scripts/list_scenes.py"


rule fetch_scene:
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
        scene=scene_json,
        failed_attempts=failed_fetch_attempts,
    script:
        "../scripts/fetch_scene.py"
