"""profiles/slurm as shipped, on a real one-node SLURM with accounting (tools/slurm/up.sh).

The demo, cut to three Landsat scenes, runs through the cluster profile and gives the same
GeoPackage as on the workstation; its jobs get what the profile asks for (a GPU for
inference, the rules' threads as CPUs) although profiles/default is read too; a job stopped
with `scancel` is retried and the dataset still completes; and a run that would miss a
cancelled job stops at its start.

Where the test process is root and has apt-get (CI), the cluster is brought up here and torn
down after these tests; elsewhere they skip with the reason. `pytest -m "not slurm"` leaves
them out.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import geopandas
import pandas
import pyogrio
import pytest
import yaml
from conftest import load_workflow_config

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
CLUSTER_NAME = "calvingfronts-ci"  # ClusterName in tools/slurm/up.sh's slurm.conf
SLURMCTLD_PID_FILE = Path("/run/slurm/slurmctld.pid")  # SlurmctldPidFile there
DEMO_TARGET = "results/demo_fronts.gpkg"
# One run of the three-scene demo through SLURM takes about 2 min here; a hung run fails.
RUN_TIMEOUT_S = 600
# The plugin's first status check after a submission, in seconds (40 by default): jobs of
# the demo run for about 12 s.
STATUS_CHECK_ARGS = ["--slurm-init-seconds-before-status-checks", "1"]

pytestmark = [pytest.mark.slow, pytest.mark.slurm]


def _our_cluster_answers() -> bool:
    """Whether the one-node SLURM of tools/slurm/up.sh is already up (started by hand)."""
    # up.sh's slurmctld writes this file; without it, scontrol would take 9 s to fail.
    if not SLURMCTLD_PID_FILE.exists() or shutil.which("scontrol") is None:
        return False
    try:
        config = subprocess.run(
            ["scontrol", "show", "config"], capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        return False
    return (
        config.returncode == 0
        and re.search(rf"^ClusterName\s*=\s*{CLUSTER_NAME}$", config.stdout, re.MULTILINE)
        is not None
    )


@pytest.fixture(scope="module")
def slurm_cluster():
    """A SLURM to submit to: tools/slurm/up.sh's, started here and stopped after this
    module's tests (or left running where it was already up)."""
    if _our_cluster_answers():
        yield
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip(
            "a one-node SLURM is brought up only as root with apt-get (as in CI): "
            "tools/slurm/up.sh installs slurm-wlm, slurmdbd, munge and mariadb-server"
        )
    up = subprocess.run(
        [str(REPO / "tools" / "slurm" / "up.sh")], capture_output=True, text=True, timeout=900
    )
    if up.returncode != 0:
        pytest.fail(
            f"tools/slurm/up.sh failed (exit {up.returncode}):\n"
            f"{up.stdout[-3000:]}\n{up.stderr[-3000:]}"
        )
    try:
        yield
    finally:
        subprocess.run([str(REPO / "tools" / "slurm" / "down.sh")], check=True, timeout=120)


def _three_scene_workdir(path: Path) -> Path:
    """The demo with only its first three Landsat scenes, in a scratch working directory."""
    config = load_workflow_config()
    demo = config["glaciers"]["demo"]["sensors"]
    demo["landsat8"]["end"] = "2020-03-21"
    demo["sentinel1"]["enabled"] = False
    for name in ("Snakefile", "workflow", "models", "profiles"):
        (path / name).symlink_to(REPO / name)
    shutil.copytree(REPO / "config", path / "config")
    (path / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _run(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [*SNAKEMAKE, *args], cwd=workdir, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
    )
    assert result.returncode == 0, f"snakemake {' '.join(args)} failed:\n{result.stderr[-4000:]}"
    return result


def _layers(gpkg: Path) -> dict[str, pandas.DataFrame]:
    """Every layer of a GeoPackage as a table, geometries as WKB, rows sorted."""
    layers = {}
    for name, _ in pyogrio.list_layers(gpkg):
        frame = geopandas.read_file(gpkg, layer=name)
        table = pandas.DataFrame(frame.drop(columns="geometry", errors="ignore"))
        if "geometry" in frame:
            table["geometry"] = frame.geometry.to_wkb(hex=True)
        layers[name] = table.sort_values(list(table.columns)).reset_index(drop=True)
    return layers


def assert_same_layers(gpkg: Path, reference: Path) -> None:
    layers, expected = _layers(gpkg), _layers(reference)
    assert sorted(layers) == sorted(expected)
    for name in expected:
        pandas.testing.assert_frame_equal(layers[name], expected[name], obj=f"layer {name}")


def _slurm_run_id(log: str) -> str:
    found = re.search(r"SLURM run ID: (\S+)", log)
    assert found, "the SLURM executor did not log its run ID"
    return found.group(1)


def _slurm_jobs(run_id: str) -> pandas.DataFrame:
    """The run's jobs as SLURM's accounting recorded them (the job name is the run ID)."""
    fields = ["JobIDRaw", "Comment", "Partition", "ReqTRES", "AllocTRES", "State"]
    listing = subprocess.run(
        [
            "sacct",
            "-X",
            "--parsable2",
            "--noheader",
            "--name",
            run_id,
            "--starttime",
            "now-1days",
            f"--format={','.join(fields)}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [line.split("|") for line in listing.stdout.splitlines() if line]
    jobs = pandas.DataFrame(rows, columns=fields)
    jobs["rule"] = jobs.Comment.str.extract(r"^rule_(\w+?)(?:_wildcards_|$)", expand=False)
    return jobs


@pytest.fixture(scope="module")
def local_reference(tmp_path_factory):
    """The three-scene demo run on this machine without SLURM: what a cluster must match."""
    workdir = _three_scene_workdir(tmp_path_factory.mktemp("local"))
    _run(workdir, "--cores", "2", DEMO_TARGET)
    return workdir / DEMO_TARGET


def test_demo_through_the_cluster_profile_equals_the_local_run(
    slurm_cluster, local_reference, tmp_path
):
    workdir = _three_scene_workdir(tmp_path)
    # As the README runs it: profiles/default, the workflow profile, is read as well.
    result = _run(workdir, "--profile", "profiles/slurm", *STATUS_CHECK_ARGS, DEMO_TARGET)
    assert "workflow specific profile profiles/default" in result.stderr
    assert_same_layers(workdir / DEMO_TARGET, local_reference)
    fronts = geopandas.read_file(workdir / DEMO_TARGET, layer="fronts")
    rejected = geopandas.read_file(workdir / DEMO_TARGET, layer="rejected")
    assert len(fronts) + len(rejected) == 3

    jobs = _slurm_jobs(_slurm_run_id(result.stdout + result.stderr))
    assert (jobs.State == "COMPLETED").all(), jobs
    # The local rules never reach SLURM: only the batches of the three scenes do.
    assert set(jobs.rule) == {"process_batch"}, jobs
    batches = jobs
    # The GPU request of profiles/slurm, and its 2 threads as --cpus-per-task.
    assert (batches.Partition == "gpu").all(), batches
    assert batches.AllocTRES.str.contains(r"(?:^|,)gres/gpu=1(?:,|$)").all(), batches
    assert batches.AllocTRES.str.contains(r"(?:^|,)cpu=2(?:,|$)").all(), batches
    assert batches.AllocTRES.str.contains(r"(?:^|,)mem=16000M(?:,|$)").all(), batches


def test_a_cancelled_job_is_retried_and_the_dataset_completes(
    slurm_cluster, local_reference, tmp_path
):
    workdir = _three_scene_workdir(tmp_path)
    # The log goes to a file: a pipe left unread while waiting would block the run.
    log_path = tmp_path / "snakemake.log"
    with log_path.open("w") as log_file:
        run = subprocess.Popen(
            [*SNAKEMAKE, "--profile", "profiles/slurm", *STATUS_CHECK_ARGS, DEMO_TARGET],
            cwd=workdir,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            cancelled = _cancel_first_running_job("rule_process_batch", run, log_path)
            try:
                run.wait(timeout=RUN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pytest.fail(
                    f"the run did not end within {RUN_TIMEOUT_S} s after job {cancelled} was "
                    f"cancelled:\n{log_path.read_text()[-4000:]}"
                )
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
    log = log_path.read_text()
    assert run.returncode == 0, log[-4000:]

    # The plugin reported the job as failed and Snakemake submitted it again (`retries`).
    jobs = _slurm_jobs(_slurm_run_id(log))
    batches = jobs[jobs.rule == "process_batch"]
    states = sorted(batches.State.str.split().str[0])
    # The cancelled batch once, then every batch completed (the cancelled one on its retry).
    assert states.count("CANCELLED") == 1 and set(states) == {"CANCELLED", "COMPLETED"}, jobs
    assert batches.set_index("JobIDRaw").State[cancelled].startswith("CANCELLED"), jobs
    assert "Trying to restart job" in log
    # Nothing lost: the same fronts and rejections as without the cancellation.
    assert_same_layers(workdir / DEMO_TARGET, local_reference)


def _cancel_first_running_job(comment_prefix: str, run: subprocess.Popen, log: Path) -> str:
    """scancel the first job whose comment starts with the prefix, once it runs."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        if run.poll() is not None:
            pytest.fail(f"the run ended before a {comment_prefix} job ran:\n{log.read_text()}")
        queue = subprocess.run(
            ["squeue", "--noheader", "--states=RUNNING", "--format=%i|%k"],
            capture_output=True,
            text=True,
            check=True,
        )
        for line in queue.stdout.splitlines():
            job_id, comment = line.split("|", 1)
            if comment.startswith(comment_prefix):
                subprocess.run(["scancel", job_id], check=True)
                return job_id
        time.sleep(0.2)
    pytest.fail(f"no {comment_prefix} job ran within {RUN_TIMEOUT_S} s")


def test_a_run_that_would_miss_a_cancelled_job_stops_at_its_start(slurm_cluster, tmp_path):
    workdir = _three_scene_workdir(tmp_path)
    result = subprocess.run(
        [*SNAKEMAKE, "--profile", "profiles/slurm", "--slurm-status-command", "sacct", DEMO_TARGET],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )
    assert result.returncode != 0
    assert "'CANCELLED by <uid>'" in result.stderr
    assert "slurm-status-command: squeue" in result.stderr
    assert not (workdir / ".snakemake" / "slurm_logs").exists(), "a job was submitted"
