"""The gross-error suite: each kind of error is what it says, and the screening catches
most of them on the real Jakobshavn traces while flagging few of the real ones."""

import geopandas
import numpy as np
import pandas
import pytest
from conftest import load_workflow_config
from shapely.geometry import LineString, box

from calvingfronts.evaluation.gross_errors import (
    GROSS_ERROR_KINDS,
    inject_gross_errors,
    score_summary,
    screening_scores,
)
from calvingfronts.evaluation.trace_series import read_traces
from calvingfronts.glaciers.config import glacier_config
from calvingfronts.timeseries.screening import ScreeningSettings
from calvingfronts.timeseries.terminus import terminus_position

# A straight fjord along +x (ice flows east), 4 km wide and 40 km long.
FJORD = box(0, 0, 40000, 4000)
CENTRELINE = LineString([(0, 2000), (40000, 2000)])


def _record(count=120):
    """A front every 6 days, with a 2 km seasonal cycle about x = 20 km."""
    times = pandas.date_range("2018-01-01", periods=count, freq="6D", tz="UTC")
    day = np.arange(count) * 6.0
    xs = 20000 + 1000 * np.sin(2 * np.pi * day / 365.25)
    return geopandas.GeoDataFrame(
        {
            "glacier": "straight",
            "sensor": "landsat8",
            "scene_id": [f"S{i:03d}" for i in range(count)],
            "acquired": times,
        },
        geometry=[LineString([(x, 0), (x + 200, 2000), (x, 4000)]) for x in xs],
        crs=3413,
    )


def _inject(kind, rate=0.2, seed=1):
    return inject_gross_errors(_record(), kind, rate, seed, centreline=CENTRELINE, fjord=FJORD)


def _positions(frame):
    return np.array([terminus_position(g, CENTRELINE) or np.nan for g in frame.geometry])


def test_a_shift_moves_the_front_1_to_3_km_along_the_flow_keeping_its_shape():
    real = _record()
    shifted, injected = _inject("shift")
    assert injected.sum() == 24 and not injected[~injected].any()
    moved = np.abs(_positions(shifted) - _positions(real))[injected]
    assert (moved >= 1000 - 1e-6).all() and (moved <= 3000 + 1e-6).all()
    lengths = shifted.geometry.length.to_numpy()
    assert np.allclose(lengths, real.geometry.length.to_numpy())
    assert (shifted.geometry[~injected] == real.geometry[~injected]).all()


def test_another_season_is_a_real_front_of_90_to_180_days_away_in_the_year():
    real = _record()
    other, injected = _inject("other_season")
    assert injected.sum() > 0
    wkts = {g.wkt: i for i, g in enumerate(real.geometry)}
    days = real.acquired.to_numpy()
    for index in np.nonzero(injected)[0]:
        source = wkts[other.geometry.iloc[index].wkt]  # one of the record's own fronts
        apart = abs((days[source] - days[index]) / np.timedelta64(1, "D"))
        in_year = min(apart % 365.25, 365.25 - apart % 365.25)
        assert 90 <= in_year <= 180 and apart <= 730
        assert abs(_positions(real)[source] - _positions(real)[index]) >= 500


def test_a_partial_front_is_a_quarter_to_three_fifths_of_the_real_one():
    real = _record()
    partial, injected = _inject("partial")
    share = (partial.geometry.length / real.geometry.length).to_numpy()[injected]
    assert (share >= 0.25 - 1e-9).all() and (share <= 0.6 + 1e-9).all()
    assert all(real.geometry.iloc[i].buffer(1e-6).contains(partial.geometry.iloc[i])
               for i in np.nonzero(injected)[0])  # fmt: skip


def test_wrong_lines_lie_inside_the_fjord_kilometres_from_the_front():
    real = _record()
    wrong, injected = _inject("wrong_line")
    assert injected.sum() > 0
    for index in np.nonzero(injected)[0]:
        line = wrong.geometry.iloc[index]
        assert FJORD.buffer(1e-6).contains(line)
        assert line.hausdorff_distance(real.geometry.iloc[index]) >= 1000


def test_unknown_kinds_and_rates_are_refused():
    with pytest.raises(ValueError, match="unknown gross-error kind 'typo'"):
        _inject("typo")
    with pytest.raises(ValueError, match="rate"):
        _inject("shift", rate=1.5)


def test_the_suite_scores_a_record_that_screening_cannot_fail():
    """Shifted fronts in a smooth 6-day record are all caught, and no real one is flagged."""
    scores = screening_scores(
        _record(), centreline=CENTRELINE, fjord=FJORD, box=None, screening=ScreeningSettings(),
        kinds=("shift",), rates=(0.05,), seeds=(0, 1),
    )  # fmt: skip
    summary = score_summary(scores).set_index("kind")
    assert summary.caught_share["shift"] == 1.0
    assert summary.real_screened_share["all"] == 0.0


def test_screening_catches_most_gross_errors_in_the_real_jakobshavn_traces(shared_data, repo):
    """The figures of README "Screening" (benchmarks/gross_errors.py), on one seed: the
    kinds the time series sees (fronts in the wrong place) at least 70 %, wrong lines 85 %,
    with at most 2.5 % of the real traces screened."""
    config = load_workflow_config()
    glacier = glacier_config(config, "jakobshavn", repo)
    traces = read_traces(shared_data / "jakobshavn_termini/jakobshavn_1990_2023_TP.shp")
    scores = screening_scores(
        traces, centreline=glacier.centreline, fjord=glacier.fjord, box=glacier.box,
        screening=ScreeningSettings.from_dict(config["screening"]), rates=(0.1,), seeds=(0,),
    )  # fmt: skip
    summary = score_summary(scores).set_index("kind")
    assert set(summary.index) == {*GROSS_ERROR_KINDS, "all"}
    for kind, floor in {"shift": 0.7, "partial": 0.7, "wrong_line": 0.85}.items():
        assert summary.caught_share[kind] >= floor, summary
    assert summary.caught_share["all"] >= 0.7, summary
    assert summary.real_screened_share["all"] <= 0.025, summary
