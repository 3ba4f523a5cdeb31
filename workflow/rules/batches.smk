rule process_batch:
    """Fetch, preprocess, infer and vectorize one period's scenes of a sensor in one process."""
    input:
        listing=batch_listing,
    output:
        records="results/{glacier}/batches/{sensor}/{batch}.json",
    log:
        "results/logs/{glacier}/process_batch/{sensor}/{batch}.log",
    benchmark:
        "results/benchmarks/{glacier}/process_batch/{sensor}/{batch}.tsv"
    conda:
        (
            "../../envs/batch_gpu.yaml"
            if config["inference"]["environment"] == "gpu"
            else "../../envs/batch.yaml"
        )
    # A workstation's share: one core a batch, so two batches run side by side on 2 cores
    # while each scene's fetch and vectorize keep one core (benchmarks/README.md "useful
    # work"); profiles/slurm sets the cluster's (threads, a GPU, its memory).
    threads: 1
    resources:
        mem_mb=4000,
    params:
        # What the scenes are fetched from; the batch recomputes only what changed. How the
        # work is spread (batches.fetch_threads, inference.batch_size) is read from the
        # config by the script: it changes no product, so it reruns no batch.
        scenes=batch_inputs,
        # In the listing folder (the input).
        manifest=lambda wildcards: manifest_path(wildcards.glacier, wildcards.sensor),
        histogram=config["histogram"],
        min_valid_fraction=config["preprocess"]["min_valid_fraction"],
        model=model_identity(config["model"]),
        device=config["inference"]["device"],
        tile_size=config["inference"]["tile_size"],
        overlap=config["inference"]["overlap"],
        members=config["inference"]["members"],
        vectorize=lambda wildcards: vectorize_options(wildcards.glacier),
        calibration=model_calibration(config["model"], config["inference"]["members"]),
        adaptive=adaptive_views(config),
    script:
        "../scripts/process_batch.py"
