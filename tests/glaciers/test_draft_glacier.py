"""Drafting a glacier's configuration from terminus traces: a synthetic fjord with known
answers, the real Jakobshavn traces, and the command."""

from __future__ import annotations

import json
import math
from datetime import datetime

import numpy as np
import pytest
import yaml
from shapely.geometry import LineString

from calvingfronts.cli import main
from calvingfronts.glaciers.draft import draft_glacier, flow_azimuth_from_traces, read_traces
from calvingfronts.timeseries.terminus import line_azimuth, terminus_position

JAKOBSHAVN_TRACES = "jakobshavn_termini/jakobshavn_1990_2023_TP.shp"


def _synthetic_traces(flow_azimuth: float = 200.0, count: int = 12):
    """Fronts bulging downstream across a 4 km wide straight fjord, retreating 500 m a year
    (1 km of along-flow wiggle between years) and drawn in alternating directions."""
    a = math.radians(flow_azimuth)
    flow, right = np.array([math.sin(a), math.cos(a)]), np.array([math.cos(a), -math.sin(a)])
    origin = np.array([100_000.0, -2_000_000.0])
    n = np.linspace(-2_000, 2_000, 41)
    traces, dates = [], []
    for year in range(count):
        s = 10_000 - 500 * year + 300 * np.cos(np.pi * n / 4_000) + 200 * (year % 2)
        xy = origin + s[:, None] * flow + n[:, None] * right
        traces.append(LineString(xy if year % 2 else xy[::-1]))
        dates.append(datetime(2000 + year, 7, 1))
    return traces, dates, origin, flow


def test_synthetic_fjord_is_drafted_around_the_traces():
    traces, dates, origin, flow = _synthetic_traces()
    draft = draft_glacier(traces, dates, buffer_m=500)
    assert draft.flow_azimuth == pytest.approx(200, abs=2)
    assert draft.azimuth_from == "retreat over time"
    assert draft.n_in_fjord == draft.n_crossing_centreline == draft.n_crossing_box == 12
    # The fjord follows the 4 km wide walls (plus the buffer), not a wide hull.
    width = draft.fjord.area / (draft.centreline.length)
    assert 4_000 < width < 6_000
    assert line_azimuth(draft.centreline) == pytest.approx(200, abs=2)
    assert draft.box.area / draft.centreline.length < 4_000
    xmin, ymin, xmax, ymax = draft.aoi
    assert xmin % 1000 == 0 and xmin < draft.fjord.bounds[0] - 4_000
    # Positions along the centreline retreat 500 m a year.
    positions = [terminus_position(t, draft.centreline) for t in traces]
    slope = np.polyfit(range(len(traces)), positions, 1)[0]
    assert slope == pytest.approx(-500, abs=50)


def test_without_dates_the_bulge_says_which_way_the_ice_flows():
    traces, _, _, _ = _synthetic_traces(flow_azimuth=80)
    azimuth, how = flow_azimuth_from_traces(traces)
    assert how == "front bulge"
    assert azimuth == pytest.approx(80, abs=2)


def test_a_given_flow_azimuth_is_kept():
    traces, dates, _, _ = _synthetic_traces()
    assert draft_glacier(traces, dates, flow_azimuth=201).azimuth_from == "given"


@pytest.fixture(scope="module")
def jakobshavn(shared_data):
    path = shared_data / JAKOBSHAVN_TRACES
    if not path.exists():
        pytest.skip(f"real terminus traces {path} are absent (only beside the project's clone)")
    traces, dates = read_traces(path)
    return path, traces, dates, draft_glacier(traces, dates)


def test_jakobshavn_draft_contains_and_crosses_the_traces(jakobshavn):
    _, traces, dates, draft = jakobshavn
    assert len(traces) == 414 and all(d is not None for d in dates)
    assert draft.n_in_fjord >= 0.98 * 414
    assert draft.n_crossing_centreline >= 0.95 * 414
    assert draft.n_crossing_box >= 0.9 * 414
    # About west: the shipped config says 265 degrees.
    assert abs(draft.flow_azimuth - 265) < 15
    assert draft.azimuth_from == "retreat over time"


def test_jakobshavn_positions_show_the_retreat(jakobshavn):
    _, traces, dates, draft = jakobshavn
    positions = np.array([terminus_position(t, draft.centreline) or np.nan for t in traces])
    years = np.array([d.year for d in dates])
    assert np.isfinite(positions).mean() > 0.98
    before, after = np.nanmedian(positions[years < 2000]), np.nanmedian(positions[years > 2015])
    assert before - after > 5_000  # several km of retreat since the 1990s


def test_shipped_jakobshavn_outlines_hold_the_traces(jakobshavn, workflow_config, repo):
    from calvingfronts.glaciers.config import glacier_config

    _, traces, _, _ = jakobshavn
    glacier = glacier_config(workflow_config, "jakobshavn", repo)
    assert sum(glacier.fjord.covers(t) for t in traces) == len(traces)
    assert sum(t.intersects(glacier.centreline) for t in traces) >= 0.95 * len(traces)


def test_command_writes_outlines_and_prints_a_valid_entry(
    jakobshavn, workflow_config, repo, tmp_path, capsys
):
    path, _, _, _ = jakobshavn
    argv = ["draft-glacier", "--traces", str(path), "--name", "jak2", "--out-dir", str(tmp_path)]
    assert main(argv) == 0
    printed = capsys.readouterr()
    entry = yaml.safe_load("glaciers:\n" + printed.out)["glaciers"]["jak2"]
    for kind in ("fjord", "centreline", "box"):
        document = json.loads((tmp_path / f"jak2_{kind}.geojson").read_text())
        assert "3413" in document["crs"]["properties"]["name"]
        assert entry[kind] == str(tmp_path / f"jak2_{kind}.geojson")
    # Every archive sensor, the radar that sees through the polar night among them.
    assert set(entry["sensors"]) == {"landsat8", "landsat9", "sentinel2", "sentinel1"}
    workflow_config["glaciers"] = {"jak2": entry}
    from calvingfronts.glaciers.config import glacier_config

    glacier = glacier_config(workflow_config, "jak2", repo)
    assert glacier.centreline.intersects(glacier.fjord)
    # A second run keeps what is there.
    assert main(argv) == 0
    assert "kept the existing" in capsys.readouterr().err
