# Training of the front-detection network: `snakemake --cores 2 train` (never part of `all`).
# Settings come from config["training"] (keys: calvingfronts.training.config.TrainConfig);
# the result is models/<name>.onnx with its model card, which `model:` can then point to.


def training_settings():
    return dict(config.get("training") or {})


def training_name():
    return training_settings().get("name", "demo-drn-deeplabv3plus")


def training_data(wildcards):
    """The data folders/files named in the training config (not config.yaml itself: an edit
    to the workflow's configuration must not look like new training data)."""
    paths = []
    for entry in training_settings().get("data", []):
        paths += [entry[key] for key in ("path", "fronts") if key in entry]
    return paths


rule train:
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
    threads: workflow.cores
    params:
        training=lambda wildcards, threads: {**training_settings(), "threads": threads},
    script:
        "../scripts/train_model.py"
