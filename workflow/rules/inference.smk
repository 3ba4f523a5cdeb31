rule infer_front:
    """Front probability of one scene from the ONNX model and its member views."""
    input:
        manifest=scene_manifest,
        image="results/{glacier}/preprocessed/{sensor}/{scene_id}.tif",
    output:
        probability="results/{glacier}/probability/{sensor}/{scene_id}.tif",
    log:
        "results/logs/{glacier}/infer_front/{sensor}/{scene_id}.log",
    benchmark:
        "results/benchmarks/{glacier}/infer_front/{sensor}/{scene_id}.tsv"
    conda:
        "../../envs/inference.yaml"
    # A workstation's share; profiles/slurm sets the cluster's (a GPU, its memory).
    threads: 2
    resources:
        mem_mb=4000,
    params:
        scene=scene_json,
        model=model_identity(config["model"]),
        device=config["inference"]["device"],
        tile_size=config["inference"]["tile_size"],
        overlap=config["inference"]["overlap"],
        members=config["inference"]["members"],
    script:
        "../scripts/infer_front.py"
