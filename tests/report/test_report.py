"""The Snakemake report of the plots, and its screenshot in headless Chromium.

Runs the real rule file (workflow/rules/report.smk), captions and workflow description on a
hand-made GeoPackage, through a small Snakefile that includes only them: the whole demo
pipeline would take minutes to give the same report.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
import yaml
from conftest import load_workflow_config
from matplotlib.image import imread
from test_plots import fronts_table, positions_table, rejected_table

from calvingfronts.timeseries.geopackage import write_time_series

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "tools" / "screenshot_report.sh"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.slow

PLOTS = ["position.png", "front_map.png", "run_statistics.html"]


def _absolute_paths(entry: dict) -> dict:
    """The glacier's settings with its outline files named from the repository."""
    return {
        key: str(REPO / value) if isinstance(value, str) and (REPO / value).is_file() else value
        for key, value in entry.items()
    }


@pytest.fixture
def report_workdir(tmp_path: Path) -> Path:
    config = load_workflow_config()
    config["glaciers"] = {"demo": _absolute_paths(config["glaciers"]["demo"])}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (tmp_path / "Snakefile").write_text(
        'configfile: "config.yaml"\n'
        f'report: "{REPO}/workflow/report/workflow.rst"\n'
        f'include: "{REPO}/workflow/rules/report.smk"\n'
    )
    fronts = fronts_table(
        [
            ("landsat8", "L1", "2020-03-05", -150000),
            ("landsat8", "L2", "2020-03-21", -150500),
            ("sentinel1", "S1", "2020-03-10", -150200),
        ]
    )
    rejected = rejected_table(
        [
            ("landsat8", "L4", "vectorize", "the front crosses only 17% of the fjord's width"),
            ("sentinel1", "S2", "screening", "temporal_outlier: off by 812.5 m > 300 m"),
        ]
    )
    positions = positions_table(
        [
            ("landsat8", "L1", "2020-03-05", 1200.0, 60.0, ""),
            ("landsat8", "L2", "2020-03-21", 1150.0, 70.0, ""),
            ("sentinel1", "S1", "2020-03-10", 1180.0, 90.0, ""),
            ("sentinel1", "S2", "2020-03-22", 400.0, 90.0, "temporal_outlier"),
        ]
    )
    write_time_series(fronts, rejected, tmp_path / "results" / "demo_fronts.gpkg")
    import pyogrio

    pyogrio.write_dataframe(
        positions, tmp_path / "results" / "demo_fronts.gpkg", layer="positions", driver="GPKG"
    )
    return tmp_path


def snakemake(workdir: Path, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stderr[-4000:]}")


def test_report_holds_the_plots_and_its_screenshot_shows_them(report_workdir):
    targets = [f"results/demo/plots/{name}" for name in PLOTS]
    snakemake(report_workdir, *targets)
    snakemake(report_workdir, "--report", "report.html", *targets)
    page = (report_workdir / "report.html").read_text()
    for name in PLOTS:
        assert f'"results/demo/plots/{name}"' in page
    assert "Terminus position of glacier <strong>demo</strong>" in page  # a rendered caption

    if CHROMIUM is None:
        pytest.skip("no chromium for the screenshot (apt-get install chromium)")
    screenshot = report_workdir / "report.png"
    subprocess.run(
        [
            str(SCREENSHOT),
            "report.html",
            str(screenshot),
            "results/demo/plots/position.png",
            "1200,800",
        ],
        cwd=report_workdir,
        check=True,
        timeout=120,
    )
    image = imread(screenshot)
    assert image.shape[:2] == (800, 1200)
    # The rendered report, not the blank page or the loading screen: the report's dark
    # sidebar on the left, and the plot's coloured markers (not only greys) on the right.
    sidebar = image[300:700, 20:200, :3]
    assert sidebar.mean() < 0.5
    # The report fills the whole screenshot, not only headless Chromium's shorter viewport.
    assert image[-20:, 20:200, :3].mean() < 0.5
    plot = image[:, 450:, :3]
    colourful = numpy.ptp(plot, axis=2) > 0.3
    assert colourful.sum() > 200
