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
