rule preprocess_scene:
    """One scene as a normalized band in [0, 1]; too little valid area rejects it."""
    input:
        manifest=scene_manifest,
        scene="results/{glacier}/scenes/{sensor}/{scene_id}.tif",
    output:
        image=temp("results/{glacier}/preprocessed/{sensor}/{scene_id}.tif"),
    log:
        "results/logs/{glacier}/preprocess_scene/{sensor}/{scene_id}.log",
    benchmark:
        "results/benchmarks/{glacier}/preprocess_scene/{sensor}/{scene_id}.tsv"
    conda:
        "../../envs/workflow.yaml"
    params:
        scene=scene_json,
        histogram=config["histogram"],
        min_valid_fraction=config["preprocess"]["min_valid_fraction"],
    script:
        "../scripts/preprocess_scene.py"
