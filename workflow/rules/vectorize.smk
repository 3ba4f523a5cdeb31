rule vectorize_front:
    """The front line of one scene with its quality and uncertainty, or why none."""
    input:
        manifest=scene_manifest,
        probability="results/{glacier}/probability/{sensor}/{scene_id}.tif",
    output:
        front="results/{glacier}/fronts/{sensor}/{scene_id}.json",
    log:
        "results/logs/{glacier}/vectorize_front/{sensor}/{scene_id}.log",
    benchmark:
        "results/benchmarks/{glacier}/vectorize_front/{sensor}/{scene_id}.tsv"
    conda:
        "../../envs/workflow.yaml"
    params:
        scene=scene_json,
        options=lambda wildcards: vectorize_options(wildcards.glacier),
        calibration=model_calibration(config["model"], config["inference"]["members"]),
    script:
        "../scripts/vectorize_front.py"
