# Input functions and settings shared by the rules.
import functools
import hashlib
import json
import os
import sys
import time
from datetime import date
from pathlib import Path

from calvingfronts.config import (
    ConfigError,
    check_config,
    enabled_sensors,
    glacier_config,
)
from calvingfronts.fetch_key import fetch_key
from calvingfronts.listing import failed_listings, listing_record_path
from calvingfronts.pipeline import fetch_attempts
from calvingfronts.run_summary import GlacierOutputs, end_of_run
from calvingfronts.scenes import read_manifest
from calvingfronts.slurm_status import slurm_status_problem
from calvingfronts.uncertainty import read_calibration

# What this run wrote is what its end-of-run summary reports (print_run_summary).
RUN_STARTED = time.time()

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
    """The glacier's sensors, less those switched off with `enabled: false`."""
    return enabled_sensors(config["glaciers"][glacier])


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


def listed_scene(wildcards):
    scenes = listed_scenes(wildcards.glacier, wildcards.sensor)
    if wildcards.scene_id not in scenes:
        raise WorkflowError(
            f"scene {wildcards.scene_id} is not listed in "
            f"{manifest_path(wildcards.glacier, wildcards.sensor)}"
        )
    return scenes[wildcards.scene_id]


def scene_json(wildcards):
    """The scene's manifest record: a job reruns only when its own record changes."""
    return listed_scene(wildcards).to_json()


def fetched_scene_json(wildcards):
    """The scene's record, for a local file with its size and time stamp: a file added or
    replaced after its fetch (e.g. after a rejection) is fetched again on the next run.
    """
    return fetch_key(listed_scene(wildcards))


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


def glacier_listings(wildcards):
    """The listing record of each of a glacier's sensors: rows set aside, failed archives."""
    return [
        str(listing_record_path(manifest_path(wildcards.glacier, sensor)))
        for sensor in glacier_sensors(wildcards.glacier)
    ]


def failed_listings_so_far(wildcards):
    """Failed listings of the sensor so far: a new failure changes it, and Snakemake
    reruns a job whose parameters changed, so the next run lists the sensor again."""
    return failed_listings(
        listing_record_path(manifest_path(wildcards.glacier, wildcards.sensor))
    )


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


# Start of the run (`onstart:` in the Snakefile).
def check_slurm_status_command():
    """Under the SLURM executor, stop before the first job where a cancelled job would be
    taken for a running one (calvingfronts.slurm_status): the run would never end."""
    plugin = workflow.executor_plugin
    if plugin is None or plugin.name != "slurm":
        return
    from snakemake_executor_plugin_slurm.job_status_query import (
        get_min_job_age,
        is_query_tool_available,
    )

    settings = workflow.executor_settings
    problem = slurm_status_problem(
        settings.status_command,
        settings.init_seconds_before_status_checks,
        get_min_job_age(),
        is_query_tool_available("sacct"),
    )
    if problem:
        raise WorkflowError(problem)


# End of the run (`onsuccess:`/`onerror:` in the Snakefile).
def print_run_summary(exit_on_failed_listing):
    """Print what became of the scenes of each glacier this run touched; a failed listing
    ends the run with a non-zero exit and one line naming the sensors (no traceback)."""
    glaciers = [
        GlacierOutputs.of(glacier, glacier_sensors(glacier))
        for glacier in config["glaciers"]
    ]
    text, failed = end_of_run(glaciers, RUN_STARTED)
    if text:
        print(text, file=sys.stderr)
    if failed and exit_on_failed_listing:
        sys.exit(failed)
    if failed:
        print(failed, file=sys.stderr)
