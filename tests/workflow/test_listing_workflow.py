"""One archive's outage does not stop the other sensors: the `jakobshavn` target run by
Snakemake with landsat8's archive down and the others on the loopback STAC API."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import geopandas
import pytest
import yaml
from servers.http_server import LoopbackServer

pytest_plugins = ["servers.fixtures"]

REPO = Path(__file__).resolve().parents[2]
TARGET = "results/jakobshavn_fronts.gpkg"
SCENE = "S2A_22WEC_20220701_0_L2A"  # the one scene the loopback archive publishes

pytestmark = pytest.mark.slow


def snakemake(workdir: Path, *options: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", TARGET, "--cores", "2", *options]
    command += ["--configfile", "config/config.yaml", "loopback.yaml"]
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=1500)


def _workdir_and_refused_archive(tmp_path: Path) -> tuple[Path, str, dict]:
    """A scratch run folder linked to the checkout, the URL of an archive that refuses
    every connection, and HTTP settings that give up on it fast."""
    workdir = tmp_path / "run"
    workdir.mkdir()
    for name in ("Snakefile", "workflow", "models", "profiles", "config"):
        (workdir / name).symlink_to(REPO / name)
    with LoopbackServer() as gone:
        down = gone.url + "/"  # refused from here on
    return workdir, down, {"timeout": 2, "retries": 1, "backoff": 0.05}


def test_an_archive_down_fails_its_sensor_only_and_the_run_says_so(stac_archive, tmp_path):
    model = REPO / yaml.safe_load((REPO / "config" / "config.yaml").read_text())["model"]
    if not model.exists():
        pytest.skip(f"the front model {model.name} has not been built yet")
    workdir, down, fast = _workdir_and_refused_archive(tmp_path)
    override = {
        "sources": {"stac": {"url": stac_archive.url, **fast}},
        "glaciers": {"jakobshavn": {"sensors": {"landsat8": {"url": down}}}},
    }
    (workdir / "loopback.yaml").write_text(yaml.safe_dump(override))
    stac_archive.publish({SCENE})

    run = snakemake(workdir)
    print("\n" + run.stderr[-2500:])  # the end of the run as a user sees it (pytest -s)
    assert run.returncode == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("1 listing(s) failed: jakobshavn/landsat8"), run.stderr[-3000:]
    assert re.search(r"landsat8 +NOT LISTED: STAC search at http://127\.0\.0\.1", run.stderr)
    assert re.search(r"sentinel2 +1 listed, \d kept", run.stderr), run.stderr[-3000:]
    # The sensors that worked are in the GeoPackage.
    gpkg = workdir / TARGET
    fronts = geopandas.read_file(gpkg, layer="fronts")
    rejected = geopandas.read_file(gpkg, layer="rejected")
    assert set(fronts.scene_id) | set(rejected.scene_id) == {SCENE}

    # The next run lists the glacier again by itself (one job for its sensors).
    plan = snakemake(workdir, "--dry-run", "--quiet", "rules")
    assert plan.returncode == 0, plan.stderr[-3000:]
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", plan.stdout, flags=re.MULTILINE))
    assert jobs.get("list_scenes") == "1", plan.stdout


def test_a_glacier_whose_every_listing_failed_gets_no_geopackage(tmp_path):
    """Offline (every archive unreachable): the run exits 1 saying why, and writes no
    GeoPackage that would look like a result."""
    workdir, down, fast = _workdir_and_refused_archive(tmp_path)
    (workdir / "loopback.yaml").write_text(
        yaml.safe_dump({"sources": {"stac": {"url": down, **fast}}})
    )

    run = snakemake(workdir)
    print("\n" + run.stderr[-2500:])
    assert run.returncode == 1, run.stderr[-3000:]
    assert not (workdir / TARGET).exists()
    assert "jakobshavn: every listing failed, so no GeoPackage was written" in run.stderr
    assert "  no GeoPackage: no sensor could be listed" in run.stderr
    # The summary's last line; Snakemake then adds that a job did not complete.
    line = next(x for x in run.stderr.splitlines() if x.startswith("4 listing(s) failed"))
    assert "jakobshavn/landsat8" in line and "no GeoPackage was written for jakobshavn" in line
    assert "are in the GeoPackage" not in run.stderr
