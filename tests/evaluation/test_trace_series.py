"""The real Jakobshavn traces through positions and screening: a manually checked record
is hardly screened, the 2002-2003 break-up survives, and the seasonal cycle shows."""

import json

import pandas
import pytest
from conftest import load_workflow_config

from calvingfronts.cli import main
from calvingfronts.evaluation.trace_series import read_traces, trace_summary
from calvingfronts.glaciers.config import glacier_config
from calvingfronts.timeseries.positions import front_positions
from calvingfronts.timeseries.screening import ScreeningSettings

TRACES = "jakobshavn_termini/jakobshavn_1990_2023_TP.shp"


@pytest.fixture(scope="module")
def positions(shared_data, repo):
    config = load_workflow_config()
    glacier = glacier_config(config, "jakobshavn", repo)
    traces = read_traces(shared_data / TRACES)
    return front_positions(
        traces, glacier.centreline, glacier.box, ScreeningSettings.from_dict(config["screening"])
    )


def test_every_trace_has_a_position_and_a_box_area(positions):
    assert len(positions) == 414
    assert positions.position_m.notna().all() and positions.area_change_m2.notna().all()


def test_screening_flags_at_most_two_percent_of_manual_traces(positions):
    screened = positions[positions.status == "screened"]
    assert len(screened) <= 0.02 * len(positions), screened.screening_reason.tolist()


def test_the_2002_2003_break_up_survives_screening(positions):
    years = pandas.to_datetime(positions.acquired, utc=True).dt.year
    around = positions[(years >= 2001) & (years <= 2004)]
    assert (around.status == "kept").all()
    # The floating tongue's loss: the front moved back more than 10 km from the 1990s to
    # the 2010s (Joughin et al. 2004, 2014), and 4 km between 2001 and 2004 alone.
    median = positions.groupby(years).position_m.median()
    assert median.loc[1990:1999].median() - median.loc[2010:2014].median() > 10_000
    assert median.loc[2001] - median.loc[2004] > 4_000


def test_the_seasonal_cycle_is_kilometres(positions):
    summary = trace_summary(positions)
    # Winter advance, summer retreat of several km (Joughin et al. 2020).
    assert summary["median_seasonal_amplitude_m"] > 2_000
    winters = summary["winter_maxima_m"]
    assert min(winters["2016-2017"], winters["2017-2018"]) > max(
        winters["2013-2014"], winters["2015-2016"]
    )


def test_the_command_writes_table_plots_and_summary(shared_data, tmp_path, monkeypatch, repo):
    monkeypatch.chdir(repo)
    code = main(
        [
            "trace-series",
            "--traces",
            str(shared_data / TRACES),
            "--glacier",
            "jakobshavn",
            "--out-dir",
            str(tmp_path),
        ]
    )
    assert code == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["traces"] == 414
    assert len(pandas.read_csv(tmp_path / "positions.csv")) == 414
    for name in ("position.png", "seasonal_cycle.png"):
        assert (tmp_path / name).stat().st_size > 10_000
