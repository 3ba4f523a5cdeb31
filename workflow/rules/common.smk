# Input functions and settings shared by the rules.
import functools
import hashlib
import json
import os
import sys
import time
from datetime import date
from pathlib import Path

from calvingfronts.workflow.batches import (
    BATCH_ID_PATTERN,
    batch_output,
    digest,
    group_by_batch,
)
from calvingfronts.glaciers.config import ConfigError, enabled_sensors, glacier_config
from calvingfronts.config import check_config
from calvingfronts.scenes.fetch_key import fetch_key
from calvingfronts.scenes.listing import failed_listings, listing_record_path
from calvingfronts.workflow.pipeline import ATTEMPTS_SUFFIX, fetch_attempts
from calvingfronts.report.run_summary import GlacierOutputs, end_of_run
from calvingfronts.scenes.manifest import read_manifest
from calvingfronts.workflow.slurm_status import slurm_status_problem
from calvingfronts.fronts.uncertainty import read_calibration

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
    batch=BATCH_ID_PATTERN,


# Sources that read live archives: their scene lists grow by themselves.
LIVE_SOURCES = {"stac", "asf"}


def glacier_sensors(glacier):
    """The glacier's sensors, less those switched off with `enabled: false`."""
    return enabled_sensors(config["glaciers"][glacier])


def _sensor_listing_params(glacier, sensor):
    """What one sensor's scene list depends on. A live archive with an open-ended date
    range is re-listed once a day, so re-running the target picks up new acquisitions
    without asking the archive again within the day."""
    settings = config["glaciers"][glacier]["sensors"][sensor]
    params = {
        "settings": settings,
        "source_options": config.get("sources", {}).get(settings["source"]),
    }
    if settings["source"] in LIVE_SOURCES and settings.get("end") is None:
        params["listed_on"] = date.today().isoformat()
    return params


def listing_params(wildcards):
    """What the glacier's scene lists depend on, sensor by sensor; a change re-lists them."""
    return json.dumps(
        {
            sensor: _sensor_listing_params(wildcards.glacier, sensor)
            for sensor in glacier_sensors(wildcards.glacier)
        },
        sort_keys=True,
        default=str,
    )


def local_manifests(wildcards):
    """The user's manifest CSVs of the glacier's local sensors, so editing one re-lists."""
    sensors = config["glaciers"][wildcards.glacier]["sensors"]
    return sorted(
        {
            sensors[sensor]["manifest"]
            for sensor in glacier_sensors(wildcards.glacier)
            if sensors[sensor]["source"] == "local"
        }
    )


def manifests_folder(glacier):
    """The listing's output: every sensor's manifest and listing record."""
    return f"results/{glacier}/manifests"


def manifest_path(glacier, sensor):
    return f"{manifests_folder(glacier)}/{sensor}.csv"


@functools.lru_cache(maxsize=None)
def _manifest_batches(path, modified, period):
    return group_by_batch(read_manifest(path), period)


def sensor_batches(glacier, sensor):
    """The scenes of a manifest by batch (batches.period), read once per version of the file."""
    path = manifest_path(glacier, sensor)
    if not os.path.exists(path):
        raise WorkflowError(
            f"{path} does not exist yet: list the scenes first "
            f"(snakemake {manifests_folder(glacier)}, or the glacier's target "
            f"results/{glacier}_fronts.gpkg)"
        )
    return _manifest_batches(
        path, os.stat(path).st_mtime_ns, config["batches"]["period"]
    )


def batch_listing(wildcards):
    """The glacier's listing folder, as a batch's input: its time stamp never triggers a
    rerun (ancient), so re-listing a glacier reruns only the batches whose scenes changed.
    """
    return ancient(glacier_listing(wildcards))


def batch_scenes(wildcards):
    batches = sensor_batches(wildcards.glacier, wildcards.sensor)
    if wildcards.batch not in batches:
        raise WorkflowError(
            f"no scene of {manifest_path(wildcards.glacier, wildcards.sensor)} falls in "
            f"batch {wildcards.batch} (batches.period: {config['batches']['period']})"
        )
    return batches[wildcards.batch]


@functools.lru_cache(maxsize=None)
def _scenes_with_failed_fetches(folder):
    """Scene ids with a count of failed fetch attempts in a folder of fetched scenes: one
    listing of the folder instead of a look for each scene."""
    suffix = f".tif{ATTEMPTS_SUFFIX}"
    try:
        with os.scandir(folder) as entries:
            return frozenset(
                entry.name.removesuffix(suffix)
                for entry in entries
                if entry.name.endswith(suffix)
            )
    except FileNotFoundError:
        return frozenset()


def batch_inputs(wildcards):
    """A digest of what the batch's scenes are fetched from: each scene's record (a local
    file with its size and time stamp) and its failed fetch attempts. A new scene, a changed
    record or file, or a new failure of the archive reruns the batch (and, in it, only
    those scenes)."""
    folder = f"results/{wildcards.glacier}/scenes/{wildcards.sensor}"
    failed = _scenes_with_failed_fetches(folder)
    return digest(
        [
            (
                fetch_key(scene),
                (
                    fetch_attempts(f"{folder}/{scene.scene_id}.tif")
                    if scene.scene_id in failed
                    else 0
                ),
            )
            for scene in batch_scenes(wildcards)
        ]
    )


def glacier_batch_records(wildcards):
    """The record file of every batch of a glacier, over all its sensors (known after
    listing), in time order per sensor."""
    # Waits for the checkpoint: the scenes are known once the archives were asked.
    checkpoints.list_scenes.get(glacier=wildcards.glacier)
    records = []
    for sensor in glacier_sensors(wildcards.glacier):
        records += [
            batch_output(wildcards.glacier, sensor, batch)
            for batch in sensor_batches(wildcards.glacier, sensor)
        ]
    return records


def glacier_listing(wildcards):
    """The glacier's listing folder, as an input: a rule that reads its files runs after
    the listing, and again after a new one."""
    return manifests_folder(wildcards.glacier)


def glacier_manifests(wildcards):
    """The manifest of each of a glacier's sensors, in its listing folder."""
    return [
        manifest_path(wildcards.glacier, s) for s in glacier_sensors(wildcards.glacier)
    ]


def glacier_listings(wildcards):
    """The listing record of each of a glacier's sensors: rows set aside, failed archives."""
    return [
        str(listing_record_path(manifest_path(wildcards.glacier, sensor)))
        for sensor in glacier_sensors(wildcards.glacier)
    ]


def failed_listings_so_far(wildcards):
    """Failed listings of each of the glacier's sensors so far: a new failure changes them,
    and Snakemake reruns a job whose parameters changed, so the next run lists again. Read
    here, before the job: the listing's folder is emptied when it reruns."""
    return {
        sensor: failed_listings(
            listing_record_path(manifest_path(wildcards.glacier, sensor))
        )
        for sensor in glacier_sensors(wildcards.glacier)
    }


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


def model_identity(model_path):
    """The model file and its content hash: a new model reruns inference (a parameter), but
    inference never asks Snakemake to (re)train it, as a file input would."""
    path = Path(model_path)
    return {"path": str(path), "sha256": _sha256(str(path), path.stat().st_mtime_ns)}


def adaptive_views(config):
    """The adaptive views' settings with the calibration of the first views, or None."""
    adaptive = config["inference"].get("adaptive")
    if not adaptive:
        return None
    first = adaptive["first_members"]
    return {**adaptive, "first_calibration": model_calibration(config["model"], first)}


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


def glacier_exports(glacier):
    """A glacier's export in every format (rule export_fronts)."""
    return [
        f"results/{glacier}/export/{glacier}_fronts{suffix}"
        for suffix in (".shp.zip", ".geojson", ".parquet", ".csv")
    ]


# Start of the run (`onstart:` in the Snakefile).
def check_slurm_status_command():
    """Under the SLURM executor, stop before the first job where a cancelled job would be
    taken for a running one (calvingfronts.workflow.slurm_status): the run would never end.
    """
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
