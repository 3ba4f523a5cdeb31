"""Snakemake adapter: front probability with ONNX Runtime."""

from calvingfronts import logs
from calvingfronts.inference import FrontModel
from calvingfronts.pipeline import inference_stage
from calvingfronts.scenes import Scene

logs.configure(snakemake.log[0])
model = FrontModel(
    snakemake.params.model["path"], device=snakemake.params.device, threads=snakemake.threads
)
inference_stage(
    model,
    Scene.from_json(snakemake.params.scene),
    snakemake.input.image,
    snakemake.output.probability,
    tile_size=snakemake.params.tile_size,
    overlap=snakemake.params.overlap,
    members=snakemake.params.members,
)
