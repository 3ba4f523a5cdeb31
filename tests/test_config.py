import copy

import pytest
from shapely.geometry import box
from snakemake.utils import validate

from calvingfronts.config import ConfigError, check_config, glacier_config
from calvingfronts.grid import GlacierGrid

SCHEMA = "workflow/schemas/config.schema.yaml"


def test_shipped_config_is_valid(workflow_config, repo):
    validate(copy.deepcopy(workflow_config), str(repo / SCHEMA))
    check_config(workflow_config, repo)


def test_every_glacier_loads_with_a_fjord_inside_its_area(workflow_config, repo):
    for name in workflow_config["glaciers"]:
        glacier = glacier_config(workflow_config, name, repo)
        assert glacier.fjord.is_valid and glacier.fjord.area > 1e6
        assert glacier.fjord.intersects(box(*glacier.aoi))
        for sensor in glacier.sensors:
            assert glacier.grid(sensor).width > 0


def _broken(config, path, value):
    config = copy.deepcopy(config)
    target = config
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return config


@pytest.mark.parametrize(
    "path, value, key, words",
    [
        (("histogram",), "stretchy", "histogram", "one of"),
        (("model",), "models/missing.onnx", "model", "does not exist"),
        (("glaciers", "demo", "aoi"), [0, 0, -1, 5], "glaciers.demo.aoi", "xmin"),
        (
            ("glaciers", "demo", "fjord"),
            "config/outlines/nope.geojson",
            "glaciers.demo.fjord",
            "does not exist",
        ),
        (
            ("glaciers", "demo", "fjord"),
            [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]],
            "glaciers.demo.fjord",
            "invalid",
        ),
        (
            ("glaciers", "demo", "sensors", "landsat8", "end"),
            "2019-01-01",
            "glaciers.demo.sensors.landsat8.end",
            "before start",
        ),
        (
            ("glaciers", "demo", "sensors", "landsat8", "start"),
            "March 2020",
            "glaciers.demo.sensors.landsat8.start",
            "not a date",
        ),
        (("training", "learning_rte"), 0.1, "training", "unknown training config keys"),
        (("training", "stages"), [{"output": "x.onnx"}], "training", "stage 1"),
    ],
)
def test_semantic_errors_name_the_key(workflow_config, repo, path, value, key, words):
    with pytest.raises(ConfigError) as caught:
        check_config(_broken(workflow_config, path, value), repo)
    assert caught.value.key == key
    assert words in str(caught.value)


def test_unknown_sensor_is_refused(workflow_config, repo):
    config = copy.deepcopy(workflow_config)
    config["glaciers"]["demo"]["sensors"]["landsat99"] = {
        "source": "synthetic",
        "start": "2020-01-01",
    }
    with pytest.raises(ConfigError, match="glaciers.demo.sensors.landsat99"):
        check_config(config, repo)


def test_schema_refuses_bad_shapes(workflow_config, repo):
    from snakemake.exceptions import WorkflowError

    config = _broken(workflow_config, ("inference", "tile_size"), "big")
    with pytest.raises(WorkflowError, match="tile_size"):
        validate(config, str(repo / SCHEMA))


def test_grid_snaps_to_pixel_multiples():
    grid = GlacierGrid.snapped((-1005.0, 10.0, 2990.0, 1001.0), 50)
    assert grid.bounds == (-1050.0, 0.0, 3000.0, 1050.0)
    assert grid.shape == (21, 81)
    x, y = grid.xy(0, 0)
    assert (x, y) == (-1025.0, 1025.0)


# --- centreline and box -------------------------------------------------------------------

# A straight demo centreline and box, inline, across the demo fjord (ice flows to azimuth 250).
DEMO_CENTRELINE = [[-146500, -2199000], [-152000, -2201000]]
DEMO_BOX = [[-147000, -2198200], [-151500, -2199800], [-151000, -2201400], [-146500, -2199800]]


def _demo_with(workflow_config, **keys):
    config = copy.deepcopy(workflow_config)
    config["glaciers"]["demo"].update(keys)
    return config


def test_centreline_and_box_inline(workflow_config, repo):
    config = _demo_with(workflow_config, centreline=DEMO_CENTRELINE, box=DEMO_BOX)
    validate(copy.deepcopy(config), str(repo / SCHEMA))
    glacier = glacier_config(config, "demo", repo)
    assert list(glacier.centreline.coords) == [tuple(p) for p in DEMO_CENTRELINE]
    assert glacier.box.area > 1e6


def test_shipped_centrelines_and_boxes_load_from_files(workflow_config, repo):
    for name in ("demo", "jakobshavn"):
        glacier = glacier_config(workflow_config, name, repo)
        assert glacier.centreline.intersects(glacier.fjord)
        assert glacier.centreline.intersection(glacier.box).length > 1000


def test_without_centreline_a_straight_one_along_the_flow_stands_in(workflow_config, repo):
    config = copy.deepcopy(workflow_config)
    for key in ("centreline", "box"):
        config["glaciers"]["demo"].pop(key, None)
    glacier = glacier_config(config, "demo", repo)
    (x0, y0), (x1, y1) = glacier.centreline.coords[0], glacier.centreline.coords[-1]
    # Upstream -> downstream: towards azimuth 250 (west-south-west).
    assert x1 < x0 and y1 < y0
    assert glacier.box is None
    config["glaciers"]["demo"].pop("flow_azimuth")
    assert glacier_config(config, "demo", repo).centreline is None


def test_geojson_without_crs_is_longitude_latitude(workflow_config, repo, tmp_path):
    import json

    import pyproj

    to_lon_lat = pyproj.Transformer.from_crs("EPSG:3413", "EPSG:4326", always_xy=True)
    lon_lat = [list(to_lon_lat.transform(x, y)) for x, y in DEMO_CENTRELINE]
    path = tmp_path / "centreline.geojson"
    geometry = {"type": "LineString", "coordinates": lon_lat}
    path.write_text(json.dumps({"type": "Feature", "geometry": geometry, "properties": {}}))
    glacier = glacier_config(_demo_with(workflow_config, centreline=str(path)), "demo", repo)
    for (x, y), expected in zip(glacier.centreline.coords, DEMO_CENTRELINE, strict=True):
        assert x == pytest.approx(expected[0], abs=0.01)
        assert y == pytest.approx(expected[1], abs=0.01)


def test_geojson_without_crs_in_metres_is_refused_with_advice(workflow_config, repo, tmp_path):
    import json

    path = tmp_path / "fjord.geojson"
    ring = DEMO_BOX + DEMO_BOX[:1]
    geometry = {"type": "Polygon", "coordinates": [ring]}
    path.write_text(json.dumps({"type": "Feature", "geometry": geometry, "properties": {}}))
    with pytest.raises(ConfigError, match="crs member") as caught:
        glacier_config(_demo_with(workflow_config, fjord=str(path)), "demo", repo)
    assert caught.value.key == "glaciers.demo.fjord"


@pytest.mark.parametrize(
    "keys, key, words",
    [
        ({"centreline": [[0, 0], [1000, 0]]}, "glaciers.demo.centreline", "does not cross"),
        (
            {"centreline": DEMO_CENTRELINE[::-1]},
            "glaciers.demo.centreline",
            "against flow_azimuth",
        ),
        ({"centreline": [[0, 0]]}, "glaciers.demo.centreline", "[x, y]"),
        (
            {"centreline": "config/outlines/demo_fjord.geojson"},
            "glaciers.demo.centreline",
            "no LineString",
        ),
        ({"box": [[0, 0], [1, 0], [1, 1], [0, 1]]}, "glaciers.demo.box", "outside the fjord"),
        ({"box": "config/outlines/nope.geojson"}, "glaciers.demo.box", "does not exist"),
    ],
)
def test_bad_centreline_or_box_names_the_key(workflow_config, repo, keys, key, words):
    with pytest.raises(ConfigError) as caught:
        check_config(_demo_with(workflow_config, **keys), repo)
    assert caught.value.key == key
    assert words in str(caught.value)
