"""Training configuration: one flat, documented set of keys (the workflow's
``config["training"]`` maps onto it one to one)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

# Keys a stage of a staged run cannot override: they name the run and where it goes.
STAGE_FIXED_KEYS = ("name", "run_dir", "output", "card", "export", "stages", "resume")


def is_onnx_path(path) -> bool:
    """Whether ``init_from`` names an exported ONNX model rather than a checkpoint."""
    return bool(path) and str(path).lower().endswith(".onnx")


@dataclass
class TrainConfig:
    """Everything a training run depends on; saved with every checkpoint."""

    name: str = "demo-drn-deeplabv3plus"  # -> models/<name>.onnx and .md
    model: str = "deeplabv3plus-drn-d-22"  # a key of calvingfronts.models.MODELS
    width: float = 0.25  # channel multiplier
    model_version: str = "0.1.0"
    histogram: str = "equalize"  # equalize | linear | none (preprocess.normalize)
    # Data sources, each {"kind": frontlearning|caffe|geotiff|synthetic, "path": ...,
    # "weight": share of training examples drawn from it, ...kind-specific keys}.
    data: list[dict] = field(
        default_factory=lambda: [
            {"kind": "frontlearning", "path": "../shared/data/frontlearning/train"}
        ]
    )
    validation_glaciers: list[str] = field(default_factory=lambda: ["jakobshavn"])
    # Leave-one-glacier-out cross-validation (training.cross_validation): one fold per
    # glacier named here, each the same recipe with that glacier held out.
    cross_validation_glaciers: list[str] = field(default_factory=list)
    epochs: int = 20
    steps_per_epoch: int = 50
    batch_size: int = 8
    crop_size: int = 256  # multiple of 32
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    warmup_fraction: float = 0.05
    pos_weight: float = 10.0  # BCE weight of front pixels
    dice_weight: float = 1.0
    zone_weight: float = 0.0  # >0 adds a zone head (rock/glacier/ocean) where labels exist
    front_width_px: float = 3.0  # width of the front label, in output pixels
    augment: dict = field(default_factory=dict)  # overrides of augment.AugmentConfig
    # Export the epoch with the best validation score (True) or the last one (False: the
    # held-out error is then not inflated by choosing on the same images).
    select_best: bool = True
    # Export the mean of the weights of the last this-many epochs, with BatchNorm statistics
    # measured afresh (stochastic weight averaging; calvingfronts.training.averaging); 0 or 1
    # exports the last epoch's own weights. Not together with select_best.
    average_epochs: int = 0
    missing_penalty_px: float = 20.0  # validation: cost of an image with no front found
    seed: int = 0
    # Networks trained with seeds seed, seed + 1, ... and exported as one model that
    # averages their front probabilities (calvingfronts.training.ensemble); 1: one network.
    ensemble: int = 1
    threads: int = 2
    # Where the network trains: "auto" takes a CUDA GPU when torch sees one, else the CPU;
    # "cpu" or "cuda" force it. The card records which was used.
    device: str = "auto"
    # Processes that draw and augment batches ahead of the network (0: in the training
    # process). A GPU outruns one process drawing crops, so give it several; batches stay
    # the same whatever this is (each is seeded by its step).
    loader_workers: int = 0
    max_minutes: float | None = None  # stop early (checkpointed) when the wall time is up
    run_dir: str = "training_runs/{name}"
    output: str = "models/{name}.onnx"
    card: str = "models/{name}.md"
    resume: bool = True
    # Start from the weights of an earlier run's checkpoint (``last.pt``/``best.pt``) instead
    # of a random initialisation, e.g. a second stage with other augmentation. The card
    # records it and counts the earlier run's steps and time. An ONNX model (``.onnx``, e.g.
    # a shipped one) works too: network ``init_member`` of it (member k of an ensemble
    # starts from network init_member + k), with its BatchNorm statistics frozen, since the
    # export folded them into the convolutions (calvingfronts.training.warm_start).
    init_from: str | None = None
    init_member: int = 0
    export: bool = True
    # Earlier stages of a staged run, in order, e.g. a long first stage over a wide zoom range
    # and then one at the workflow's pixel sizes. Each entry overrides keys of this config for
    # one stage, which starts from the previous stage's last weights (the first from
    # ``init_from``) and is checkpointed in ``<run_dir>/stage<i>``; the final stage is this
    # config itself and the only one exported. ``snakemake train`` regenerates a staged
    # model in one go, and each stage resumes on its own.
    stages: list[dict] = field(default_factory=list)

    @classmethod
    def from_dict(cls, values: dict | None) -> TrainConfig:
        """Build from a mapping, rejecting unknown keys (a typo must not be ignored)."""
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training config keys {unknown}; known: {sorted(known)}")
        config = cls(**values)
        config.check()
        return config

    def check(self) -> None:
        if self.crop_size % 32:
            raise ValueError("crop_size must be a multiple of 32")
        if self.histogram not in ("equalize", "linear", "none"):
            raise ValueError(f"histogram must be equalize, linear or none, not {self.histogram}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, not {self.device!r}")
        if self.loader_workers < 0:
            raise ValueError("loader_workers must be >= 0")
        if self.init_member < 0:
            raise ValueError(f"init_member must be >= 0 (a network index), got {self.init_member}")
        if self.ensemble < 1:
            raise ValueError(f"ensemble must be >= 1 (networks averaged), got {self.ensemble}")
        if self.batch_size < 2:
            raise ValueError("batch_size must be >= 2 (BatchNorm, ASPP image pooling)")
        if self.select_best and self.average_epochs > 1:
            raise ValueError("select_best and average_epochs exclude each other: pick one")
        from calvingfronts.training.augment import AugmentConfig
        from calvingfronts.training.data import check_data_entry

        for i, entry in enumerate(self.data, 1):
            check_data_entry(entry, f"training data entry {i}")
        augment_keys = {f.name for f in fields(AugmentConfig)}
        for where, augment in [("augment", self.augment)] + [
            (f"stage {i} augment", stage.get("augment") or {})
            for i, stage in enumerate(self.stages, 1)
        ]:
            wrong = sorted(set(augment) - augment_keys)
            if wrong:
                raise ValueError(
                    f"training {where}: unknown keys {wrong}; known: {sorted(augment_keys)}"
                )
        known = {f.name for f in fields(self)} - set(STAGE_FIXED_KEYS)
        for i, stage in enumerate(self.stages, 1):
            wrong = sorted(set(stage) - known)
            if wrong:
                raise ValueError(
                    f"training stage {i}: keys {wrong} cannot be set per stage "
                    f"(fixed per run: {list(STAGE_FIXED_KEYS)}; known: {sorted(known)})"
                )

    @property
    def init_from_onnx(self) -> bool:
        """Whether the run starts from an exported ONNX model (frozen BatchNorm statistics)."""
        return is_onnx_path(self.init_from)

    def path(self, key: str) -> Path:
        """``run_dir``, ``output`` or ``card`` with ``{name}`` filled in."""
        return Path(getattr(self, key).format(name=self.name))

    def to_dict(self) -> dict:
        return asdict(self)
