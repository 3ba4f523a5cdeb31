"""The workflow configuration as a whole, checked with errors that name the bad key.

The JSON schema (``workflow/schemas/config.schema.yaml``) checks shapes and types; the checks
here are the ones a schema cannot express, across the whole file: the model and its histogram
treatment, the ``sources.<name>`` blocks (no key that nothing reads), the inference and batch
keys, every glacier (:mod:`calvingfronts.glaciers.config`), screening, the uncertainty
calibration the screening needs, and the training settings.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from calvingfronts.glaciers.config import ConfigError, glacier_config, refuse_unknown_keys
from calvingfronts.preprocess.normalize import HISTOGRAM_TREATMENTS

INFERENCE_KEYS = frozenset(
    {"device", "tile_size", "overlap", "members", "batch_size", "environment", "adaptive"}
)
BATCHES_KEYS = frozenset({"period", "fetch_threads"})


def check_source_blocks(config: dict) -> None:
    """``sources.<name>``: known sources, each with only the options it reads."""
    from calvingfronts.sources import SOURCE_MODULES, known_options

    for source, block in (config.get("sources") or {}).items():
        key = f"sources.{source}"
        if source not in SOURCE_MODULES:
            raise ConfigError(key, f"unknown source; known: {', '.join(sorted(SOURCE_MODULES))}")
        refuse_unknown_keys(block or {}, known_options(source), key)


def check_batches(config: dict) -> None:
    """``inference`` and ``batches``: known keys, a known period, positive counts."""
    from calvingfronts.workflow.batches import PERIODS

    inference = config.get("inference") or {}
    batches = config.get("batches") or {}
    refuse_unknown_keys(inference, INFERENCE_KEYS, "inference")
    refuse_unknown_keys(batches, BATCHES_KEYS, "batches")
    if batches.get("period", "year") not in PERIODS:
        raise ConfigError("batches.period", f"must be one of {', '.join(PERIODS)}")
    for key, value in (
        ("inference.batch_size", inference.get("batch_size", 1)),
        ("batches.fetch_threads", batches.get("fetch_threads", 1)),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(key, f"must be a whole number of at least 1, got {value!r}")
    if inference.get("environment", "cpu") not in ("cpu", "gpu"):
        raise ConfigError("inference.environment", "must be cpu or gpu")


def model_histogram(path: Path) -> str | None:
    """The histogram treatment recorded in an ONNX model's metadata, if any."""
    import onnxruntime

    try:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own untyped errors
        raise ConfigError("model", f"{path} is not a readable ONNX model: {error}") from None
    return session.get_modelmeta().custom_metadata_map.get("histogram")


def require_calibration(model: Path, members: int, key: str, advice: str) -> None:
    """Raise ConfigError (at ``key``) unless the model has an uncertainty calibration for
    ``members`` members, made for this version of its file."""
    from calvingfronts.fronts.uncertainty import calibration_path, read_calibration

    try:
        calibration = read_calibration(model, members)
    except ValueError as error:
        raise ConfigError("model", str(error)) from None
    if calibration is None:
        raise ConfigError(
            key,
            f"{model} has no uncertainty calibration for {members} members "
            f"({calibration_path(model)}): {advice}",
        )


def check_config(config: dict, base_dir: str | Path = ".") -> None:
    """Raise ConfigError for the first semantic problem; the schema has checked the shapes."""
    if config.get("histogram") not in HISTOGRAM_TREATMENTS:
        raise ConfigError("histogram", f"must be one of {', '.join(HISTOGRAM_TREATMENTS)}")
    model = Path(config["model"])
    if not model.is_absolute():
        model = Path(base_dir) / model
    if not model.exists():
        raise ConfigError("model", f"model file {model} does not exist")
    trained_with = model_histogram(model)
    if trained_with is not None and trained_with != config["histogram"]:
        raise ConfigError(
            "histogram",
            f"'{config['histogram']}' differs from '{trained_with}', the treatment that "
            f"{model} was trained with; the network only knows images prepared like its own",
        )
    check_source_blocks(config)
    check_batches(config)
    for name in config.get("glaciers") or {}:
        glacier = glacier_config(config, name, base_dir)
        for sensor, settings in glacier.sensors.items():
            if settings.source == "synthetic" and glacier.flow_azimuth is None:
                raise ConfigError(
                    f"glaciers.{name}.flow_azimuth",
                    f"the synthetic source (sensor {sensor}) needs the direction of ice flow",
                )
            if settings.source == "local" and "manifest" not in settings.options:
                raise ConfigError(
                    f"glaciers.{name}.sensors.{sensor}.manifest",
                    "the local source needs a manifest CSV (path,sensor,acquired[,scene_id])",
                )
    from calvingfronts.timeseries.screening import ScreeningSettings

    try:
        ScreeningSettings.from_dict(config.get("screening"))
    except ValueError as error:
        raise ConfigError("screening", str(error)) from None
    members = config.get("inference", {}).get("members", 1)
    if (config.get("screening") or {}).get("max_uncertainty_m") is not None and members > 1:
        require_calibration(
            model,
            members,
            "inference.members",
            f"run `calvingfronts calibrate-uncertainty --members {members} --write` on a "
            "glacier it was not trained on, or set screening.max_uncertainty_m to null",
        )
    adaptive = config.get("inference", {}).get("adaptive")
    if adaptive:
        first = adaptive.get("first_members")
        if not isinstance(first, int) or not 2 <= first < members:
            raise ConfigError(
                "inference.adaptive.first_members",
                f"must be a whole number from 2 to inference.members - 1 ({members - 1})",
            )
        require_calibration(
            model,
            first,
            "inference.adaptive.first_members",
            "a front's bound decides whether it gets every view",
        )
    if config.get("training"):
        # A typo in the training settings should fail now, not after the scenes are built.
        from calvingfronts.training.config import TrainConfig  # plain dataclass, no torch

        try:
            TrainConfig.from_dict(config["training"])
        except (TypeError, ValueError) as error:
            raise ConfigError("training", str(error)) from None


def with_catalogues(config: dict, base_dir: str | Path = ".") -> dict:
    """The configuration with the glaciers of its ``catalogues`` files added: a catalogue
    entry is the base, and an entry of the same name under ``glaciers`` overrides it key by
    key (as Snakemake merges a --configfile), so a user corrects a drafted entry in place."""
    catalogues = config.get("catalogues") or []
    if not catalogues:
        return config
    glaciers: dict = {}
    for value in catalogues:
        path = Path(value) if Path(value).is_absolute() else Path(base_dir) / value
        try:
            document = yaml.safe_load(path.read_text())
        except OSError as error:
            raise ConfigError("catalogues", f"{path} cannot be read: {error}") from None
        except yaml.YAMLError as error:
            raise ConfigError("catalogues", f"{path} is not valid YAML: {error}") from None
        if not isinstance(document, dict) or set(document) != {"glaciers"}:
            raise ConfigError("catalogues", f"{path} must hold one mapping, glaciers:")
        for name, entry in (document["glaciers"] or {}).items():
            if name in glaciers:
                raise ConfigError("catalogues", f"glacier {name!r} is in two catalogues")
            glaciers[name] = entry
    own = config.get("glaciers") or {}
    merged = {name: _merged(glaciers.get(name, {}), entry) for name, entry in own.items()}
    merged.update({name: entry for name, entry in glaciers.items() if name not in own})
    return {**config, "glaciers": merged}


def _merged(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_config_file(path: str) -> dict:
    """The workflow configuration at ``path``, checked against the workflow's schema where
    it is found; a missing file, bad YAML or a key the schema refuses exits naming it."""
    config_path = Path(path)
    if not config_path.exists():
        raise SystemExit(f"config file {config_path} does not exist")
    try:
        config = yaml.safe_load(config_path.read_text())
    except yaml.YAMLError as error:
        raise SystemExit(f"{config_path} is not valid YAML: {error}") from None
    if isinstance(config, dict):
        try:
            config = with_catalogues(config)
        except ConfigError as error:
            raise SystemExit(f"{config_path}: {error}") from None
    schema = Path("workflow/schemas/config.schema.yaml")
    if schema.exists():
        import jsonschema

        try:
            jsonschema.validate(config, yaml.safe_load(schema.read_text()))
        except jsonschema.ValidationError as error:
            key = ".".join(str(p) for p in error.absolute_path) or "(top level)"
            raise SystemExit(f"{config_path}: config key '{key}': {error.message}") from None
    return config
