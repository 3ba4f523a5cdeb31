# Input functions and settings shared by the rules.
import functools
import hashlib
import json
import os
from datetime import date
from pathlib import Path

from calvingfronts.config import ConfigError, check_config, glacier_config
from calvingfronts.pipeline import fetch_attempts
from calvingfronts.scenes import read_manifest
from calvingfronts.uncertainty import read_calibration

# Refuse an invalid configuration before any job runs, naming the key.
try:
    check_config(config)
except ConfigError as error:
    raise WorkflowError(f"invalid configuration: {error}")


wildcard_constraints:
    glacier=r"[a-z0-9_]+",
    sensor=r"[a-z0-9]+",
    scene_id=r"[A-Za-z0-9][A-Za-z0-9_.\-]*",


# Sources that read live archives: their scene lists grow by themselves.
LIVE_SOURCES = {"stac", "asf"}


def glacier_sensors(glacier):
    return list(config["glaciers"][glacier].get("sensors") or {})


def listing_params(wildcards):
    """What the scene list depends on; a change re-lists the scenes.

    A live archive with an open-ended date range is re-listed once a day, so re-running the
    target picks up new acquisitions without asking the archive again within the day.
    """
    settings = config["glaciers"][wildcards.glacier]["sensors"][wildcards.sensor]
    params = {
        "settings": settings,
        "source_options": config.get("sources", {}).get(settings["source"]),
    }
    if settings["source"] in LIVE_SOURCES and settings.get("end") is None:
        params["listed_on"] = date.today().isoformat()
    return json.dumps(params, sort_keys=True, default=str)


def local_manifest(wildcards):
    """The user's manifest CSV for the local source, so editing it re-lists the scenes."""
    settings = config["glaciers"][wildcards.glacier]["sensors"][wildcards.sensor]
    return [settings["manifest"]] if settings["source"] == "local" else []


@functools.lru_cache(maxsize=None)
def _manifest_scenes(path, modified):
    return {scene.scene_id: scene for scene in read_manifest(path)}


def manifest_path(glacier, sensor):
    return f"results/{glacier}/manifests/{sensor}.csv"


def listed_scenes(glacier, sensor):
    """The scenes of a manifest, read once per version of the file."""
    path = manifest_path(glacier, sensor)
    if not os.path.exists(path):
        raise WorkflowError(
            f"{path} does not exist yet: list the scenes first "
            f"(snakemake {path}, or the glacier's target results/{glacier}_fronts.gpkg)"
        )
    return _manifest_scenes(path, os.stat(path).st_mtime_ns)


def scene_manifest(wildcards):
    """The manifest that lists a scene: its time stamp never triggers a rerun (ancient),
    so re-listing a glacier recomputes only the scenes whose own record changed."""
    return ancient(manifest_path(wildcards.glacier, wildcards.sensor))


def scene_json(wildcards):
    """The scene's manifest record: a job reruns only when its own record changes."""
    scenes = listed_scenes(wildcards.glacier, wildcards.sensor)
    if wildcards.scene_id not in scenes:
        raise WorkflowError(
            f"scene {wildcards.scene_id} is not listed in "
            f"{manifest_path(wildcards.glacier, wildcards.sensor)}"
        )
    return scenes[wildcards.scene_id].to_json()


def glacier_front_records(wildcards):
    """Every scene's front record of a glacier, over all its sensors (known after listing)."""
    records = []
    for sensor in glacier_sensors(wildcards.glacier):
        # Waits for the checkpoint: the scenes are known once the archive was asked.
        checkpoints.list_scenes.get(glacier=wildcards.glacier, sensor=sensor)
        scenes = listed_scenes(wildcards.glacier, sensor)
        records += [
            f"results/{wildcards.glacier}/fronts/{sensor}/{scene_id}.json"
            for scene_id in scenes
        ]
    return records


def glacier_manifests(wildcards):
    return [
        f"results/{wildcards.glacier}/manifests/{sensor}.csv"
        for sensor in glacier_sensors(wildcards.glacier)
    ]


GEOMETRY_KEYS = ("fjord", "centreline", "box", "flow_azimuth")


def glacier_outline_files(wildcards):
    """The glacier's outline files: an edited centreline or box re-measures the positions."""
    entry = config["glaciers"][wildcards.glacier]
    return [entry[key] for key in GEOMETRY_KEYS[:3] if isinstance(entry.get(key), str)]


def glacier_geometry(wildcards):
    """The glacier's geometry settings (inline outlines included), as a rerun trigger."""
    entry = config["glaciers"][wildcards.glacier]
    return json.dumps({key: entry.get(key) for key in GEOMETRY_KEYS}, sort_keys=True)


def vectorize_options(glacier):
    """Front extraction settings: the global ones overlaid with the glacier's own."""
    return {**config["vectorize"], **config["glaciers"][glacier].get("vectorize", {})}


def failed_fetch_attempts(wildcards):
    """Failed attempts of a scene whose archive faulted; a new failure makes the next run retry."""
    return fetch_attempts(
        f"results/{wildcards.glacier}/scenes/{wildcards.sensor}/{wildcards.scene_id}.tif"
    )


def model_identity(model_path):
    """The model file and its content hash: a new model reruns inference (a parameter), but
    inference never asks Snakemake to (re)train it, as a file input would."""
    path = Path(model_path)
    return {"path": str(path), "sha256": _sha256(str(path), path.stat().st_mtime_ns)}


def model_calibration(model_path, members):
    """The model's uncertainty calibration for this many members (a dict), or None: a new
    calibration re-runs the vectorize stage, nothing before it."""
    calibration = read_calibration(model_path, members)
    return None if calibration is None else calibration.as_dict()


@functools.lru_cache(maxsize=None)
def _sha256(path, modified):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# Training (rule `train` in training.smk).
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


# Plots (rule `plot_fronts` in report.smk).
def glacier_plots(glacier):
    """A glacier's plots and run statistics: what `rule all` and the report ask for."""
    return [
        f"results/{glacier}/plots/{name}"
        for name in ("position.png", "front_map.png", "run_statistics.html")
    ]
