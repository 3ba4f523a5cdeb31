"""A local scene fixed after its rejection is fetched again on the next run (slow).

The fetch of a local scene depends on its file's size and time stamp
(:mod:`calvingfronts.scenes.fetch_key`): before, adding a missing file and re-running the target
said "Nothing to be done" and the scene stayed rejected.
"""

from __future__ import annotations

import geopandas
import pytest
from conftest import add_local_glacier, load_workflow_config
from test_workflow import REPO, _workdir, _write_in_crs, jobs_run, snakemake

pytestmark = pytest.mark.slow


def test_a_missing_local_file_added_later_is_fetched(tmp_path):
    from calvingfronts.glaciers.config import glacier_config
    from calvingfronts.sources import synthetic

    workflow_config = load_workflow_config()
    workdir = _workdir(tmp_path, workflow_config)
    scenes_dir = workdir / "my_scenes"
    scenes_dir.mkdir()
    demo = glacier_config(workflow_config, "demo", REPO)
    listed = synthetic.list_scenes(
        demo, demo.sensors["sentinel1"], workflow_config["sources"]["synthetic"]
    )
    rasters = [synthetic.fetch_scene(s, demo, demo.grid("sentinel1"), {}) for s in listed[:2]]
    _write_in_crs(scenes_dir / "tsx_0.tif", rasters[0], "EPSG:3413")
    rows = [f"tsx_{i}.tif,terrasarx,{s.acquired.isoformat()}" for i, s in enumerate(listed[:2])]
    (scenes_dir / "manifest.csv").write_text("path,sensor,acquired\n" + "\n".join(rows) + "\n")
    add_local_glacier(workdir)
    gpkg = workdir / "results" / "mine_fronts.gpkg"

    snakemake(workdir, str(gpkg.relative_to(workdir)))
    rejected = geopandas.read_file(gpkg, layer="rejected").set_index("scene_id")
    assert "file not found" in rejected.loc["tsx_1", "reason"]

    _write_in_crs(scenes_dir / "tsx_1.tif", rasters[1], "EPSG:3413")
    rerun = snakemake(workdir, str(gpkg.relative_to(workdir)))
    # The scene's batch runs again, and in it only the scene whose file changed.
    assert jobs_run(rerun) == {"process_batch": 1, "merge_fronts": 1}
    log = (workdir / "results" / "logs" / "mine" / "process_batch" / "terrasarx").glob("*.log")
    assert "1 fetched, 1 inferred, 1 vectorized, 1 reused whole" in next(log).read_text()
    fronts = geopandas.read_file(gpkg, layer="fronts")
    rejected = geopandas.read_file(gpkg, layer="rejected")
    assert "tsx_1" not in set(rejected.scene_id)
    assert "tsx_1" in set(fronts.scene_id)

    assert jobs_run(snakemake(workdir, str(gpkg.relative_to(workdir)))) == {}
