"""The evaluate_fronts rule's adapter: a failed evaluation fails the job, never leaving an
empty report that Snakemake would take for a finished one."""

import logging
import runpy
from types import SimpleNamespace

import geopandas as gpd
import pytest
from conftest import REPO
from shapely.geometry import LineString

SCRIPT = REPO / "workflow" / "scripts" / "evaluate_fronts.py"


def _run(tmp_path, fronts, truth):
    smk = SimpleNamespace(
        input=SimpleNamespace(fronts=str(fronts), truth=str(truth)),
        output=SimpleNamespace(report=str(tmp_path / "evaluation.json")),
        log=[str(tmp_path / "evaluate.log")],
    )
    try:
        runpy.run_path(str(SCRIPT), init_globals={"snakemake": smk})
    finally:
        logging.getLogger().handlers.clear()  # the adapter logs to a file of tmp_path
    return tmp_path / "evaluation.json"


def test_an_empty_geopackage_fails_the_job_and_leaves_no_report(tmp_path, capsys):
    columns = {"scene_id": ["a"], "acquired": ["2020-01-01T00:00:00Z"]}
    truth = gpd.GeoDataFrame(columns, geometry=[LineString([(0, 0), (1000, 0)])], crs=3413)
    truth.to_file(tmp_path / "truth.gpkg", layer="fronts")
    empty = truth.iloc[:0]
    empty.to_file(tmp_path / "fronts.gpkg", layer="fronts")
    with pytest.raises(SystemExit) as stopped:
        _run(tmp_path, tmp_path / "fronts.gpkg", tmp_path / "truth.gpkg")
    assert stopped.value.code == 1
    assert "is empty (no features)" in capsys.readouterr().err
    assert not (tmp_path / "evaluation.json").exists()
