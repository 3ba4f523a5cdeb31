# Training of the front-detection network: `snakemake --cores 2 train` (never part of `all`).
# Settings come from config["training"] (keys: calvingfronts.training.config.TrainConfig);
# the result is models/<name>.onnx with its model card, which `model:` can then point to.


rule train:
    """Train the front-detection network and export it as ONNX with its model card."""
    input:
        data=training_data,
    output:
        model=f"models/{training_name()}.onnx",
        card=f"models/{training_name()}.md",
    log:
        f"results/logs/train/{training_name()}.log",
    benchmark:
        f"results/benchmarks/train/{training_name()}.tsv"
    conda:
        "../../envs/training.yaml"
    # Deferred: workflow.cores raises where no --cores is given (--unlock, --report, --dag).
    threads: lambda wildcards: workflow.cores
    resources:
        mem_mb=8000,
    params:
        training=lambda wildcards, threads: {**training_settings(), "threads": threads},
    script:
        "../scripts/train_model.py"


rule cross_validate:
    """Leave-one-glacier-out cross-validation of the training recipe, one fold per glacier."""
    input:
        data=training_data,
    output:
        report=f"training_runs/{training_name()}/cross_validation.json",
    log:
        f"results/logs/train/{training_name()}.cross_validation.log",
    benchmark:
        f"results/benchmarks/train/{training_name()}.cross_validation.tsv"
    conda:
        "../../envs/training.yaml"
    threads: lambda wildcards: workflow.cores
    resources:
        mem_mb=8000,
    params:
        training=lambda wildcards, threads: {**training_settings(), "threads": threads},
    script:
        "../scripts/cross_validate.py"
