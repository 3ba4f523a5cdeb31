"""The real `jakobshavn` target run by Snakemake against the loopback archives.

Only the STAC API address is overridden (a small extra config file); everything else is the
shipped configuration. The archive then gains scenes, and a second run fetches only those.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas
import pytest
import yaml

# The loopback archives (tests/servers); tests/conftest.py may import the same fixtures.
pytest_plugins = ["servers.fixtures"]

REPO = Path(__file__).resolve().parents[2]
TARGET = "results/jakobshavn_fronts.gpkg"
FIRST = {  # published for the first run; the rest of the catalogue appears afterwards
    "S2A_22WEC_20220701_0_L2A",
    "S2A_22WEC_20230701_0_L2A",
    "S2B_22WEC_20230704_0_L2A",
    "LC08_L2SP_009011_20230702_02_T1",
    "S1A_EW_GRDM_1SDH_20230705T101010_20230705T101110_049000_05E4A1",
}

pytestmark = pytest.mark.slow


def snakemake(workdir: Path, *options: str) -> subprocess.CompletedProcess:
    """Run the target with the loopback override (targets first: several options take lists)."""
    command = [sys.executable, "-m", "snakemake", TARGET, "--cores", "2", *options]
    command += ["--configfile", "config/config.yaml", "loopback.yaml"]
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=1500)
    if result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(options)} failed:\n{result.stderr[-5000:]}")
    return result


def planned_jobs(workdir: Path, *options: str) -> dict[str, int]:
    output = snakemake(workdir, "--dry-run", *options).stdout
    return {
        rule: int(count)
        for rule, count in re.findall(r"^(\w+)\s+(\d+)$", output, flags=re.MULTILINE)
        if rule != "total"
    }


def fetched(workdir: Path) -> set[str]:
    return {p.stem for p in (workdir / "results" / "jakobshavn" / "scenes").glob("*/*.tif")}


def test_jakobshavn_from_loopback_archives(stac_archive, tmp_path):
    model = REPO / yaml.safe_load((REPO / "config" / "config.yaml").read_text())["model"]
    if not model.exists():
        pytest.skip(f"the front model {model.name} has not been built yet")
    workdir = tmp_path / "run"
    workdir.mkdir()
    for name in ("Snakefile", "workflow", "models", "profiles", "config"):
        (workdir / name).symlink_to(REPO / name)
    # Only the API address changes; signing a loopback URL is a no-op.
    override = {"sources": {"stac": {"url": stac_archive.url}}}
    (workdir / "loopback.yaml").write_text(yaml.safe_dump(override))

    stac_archive.publish(FIRST)
    snakemake(workdir)
    first = fetched(workdir)
    assert first == FIRST - {"S2B_22WEC_20230704_0_L2A"}  # 96 % cloudy: never listed
    gpkg = workdir / TARGET
    fronts = geopandas.read_file(gpkg, layer="fronts")
    rejected = geopandas.read_file(gpkg, layer="rejected")
    assert len(fronts) + len(rejected) == len(first)

    # The archive gains scenes. Re-listing (forced here: an open-ended listing is otherwise
    # refreshed once a day) must fetch only the new ones.
    stac_archive.publish(stac_archive.items)
    stac_archive.file_server.requests.clear()
    snakemake(workdir, "--forcerun", "list_scenes")
    new = fetched(workdir) - first
    assert new == {
        "S2A_22WEC_20230711_0_L2A",
        "S2B_22WEC_20230714_0_L2A",
        "S2A_22WEC_20230721_0_L2A",
        "S2B_22WEC_20230724_0_L2A",
        "LC08_L2SP_009011_20230718_02_T1",
        # Landsat 9's scene is its own sensor's (landsat9), never landsat8's.
        "LC09_L2SP_009011_20230703_02_T1",
        "S1A_IW_GRDH_1SDV_20230709T101010_20230709T101110_049060_05E6B2",
    }
    scenes = workdir / "results" / "jakobshavn" / "scenes"
    assert (scenes / "landsat9" / "LC09_L2SP_009011_20230703_02_T1.tif").exists()
    assert not list((scenes / "landsat8").glob("LC09*"))
    read_paths = {r.path.split("/")[1] for r in stac_archive.file_server.requests}
    assert read_paths <= new  # nothing fetched again
    rejected = geopandas.read_file(gpkg, layer="rejected")
    fronts = geopandas.read_file(gpkg, layer="fronts")
    assert len(fronts) + len(rejected) == len(first | new)
    reasons = dict(zip(rejected.scene_id, rejected.reason, strict=True))
    assert "no valid pixels" in reasons["S2B_22WEC_20230714_0_L2A"]
    for broken in ("S2A_22WEC_20230721_0_L2A", "S2B_22WEC_20230724_0_L2A"):
        assert "could not read asset 'red'" in reasons[broken]  # truncated, corrupt
    print("\nrejected:", reasons)
    assert planned_jobs(workdir) == {}
    shutil.rmtree(workdir / ".snakemake", ignore_errors=True)
