import copy
import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import REPO
from shapely.geometry import box
from snakemake.utils import validate

from calvingfronts.config import check_config
from calvingfronts.glaciers.config import ConfigError, enabled_sensors, glacier_config
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
        (("batches", "period"), "decade", "batches.period", "year, quarter, month, week"),
        (("inference", "batch_size"), 0, "inference.batch_size", "at least 1"),
        (("batches", "fetch_threads"), 2.5, "batches.fetch_threads", "whole number"),
        (("training", "stages"), [{"output": "x.onnx"}], "training", "stage 1"),
        (
            ("inference", "adaptive"),
            {"first_members": 8, "escalate_above_px": 10},
            "inference.adaptive.first_members",
            "from 2 to inference.members - 1",
        ),
        (
            ("inference", "adaptive"),
            {"first_members": 3, "escalate_above_px": 10},
            "inference.adaptive.first_members",
            "no uncertainty calibration for 3 members",
        ),
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


# --- unknown keys and disabled sensors -----------------------------------------------------

LOCAL_SENSOR = {"source": "local", "manifest": "my_scenes/manifest.csv", "start": "2020-01-01"}


def _with_local_sensor(config, **options):
    config = copy.deepcopy(config)
    config["glaciers"]["demo"]["sensors"]["terrasarx"] = {**LOCAL_SENSOR, **options}
    return config


@pytest.mark.parametrize(
    "path, value, key, known",
    [
        # `ednd` would silently mean "up to today", `pixl_size` the sensor's default.
        (("glaciers", "demo", "sensors", "landsat8", "ednd"), "2020-04-01", "ednd", "end"),
        (("glaciers", "jakobshavn", "sensors", "landsat8", "pixl_size"), 60, "pixl_size", "url"),
        # An option of another source: the synthetic source reads no scale.
        (("glaciers", "demo", "sensors", "sentinel1", "scale"), 2.0, "scale", "seed"),
        (("sources", "stac", "max_cloud_cove"), 20, "max_cloud_cove", "max_cloud_cover"),
        (("sources", "synthetic", "sede"), 1, "sede", "seed"),
        (("sources", "asf", "keep_download"), True, "keep_download", "keep_downloads"),
        (("batches", "perod"), "month", "perod", "period"),
        (("inference", "batch_sise"), 32, "batch_sise", "batch_size"),
    ],
)  # fmt: skip
def test_unknown_keys_are_refused_by_name(workflow_config, repo, path, value, key, known):
    with pytest.raises(ConfigError) as caught:
        check_config(_broken(workflow_config, path, value), repo)
    assert caught.value.key == ".".join(path)
    assert f"'{'.'.join(path)}': unknown key; known: " in str(caught.value)
    assert known in str(caught.value).split("known: ", 1)[1].split(", ")


def test_unknown_option_of_a_local_sensor_is_refused(workflow_config, repo):
    with pytest.raises(ConfigError) as caught:
        check_config(_with_local_sensor(workflow_config, nodta=0), repo)
    assert caught.value.key == "glaciers.demo.sensors.terrasarx.nodta"
    assert "nodata" in str(caught.value) and "values" in str(caught.value)


def test_every_option_a_source_reads_is_accepted(workflow_config, repo):
    """The names each source lists are the ones it reads: the shipped config, a local
    sensor with all its options, and the schema agree with them."""
    from calvingfronts.sources import known_options

    config = _with_local_sensor(workflow_config, band=2, nodata=0, values="display")
    validate(copy.deepcopy(config), str(repo / SCHEMA))
    check_config(config, repo)
    assert known_options("local") >= {"manifest", "band", "sar_quantity", "nodata", "values"}
    assert {"url", "timeout", "max_aoi_cloud_cover"} <= known_options("stac")
    schema = yaml.safe_load((repo / SCHEMA).read_text())
    sensor_block = schema["properties"]["glaciers"]["additionalProperties"]["properties"]
    typed = set(sensor_block["sensors"]["additionalProperties"]["properties"])
    readers = {"source", "pixel_size", "start", "end", "enabled"}.union(
        *(known_options(s) for s in ("synthetic", "local", "stac", "asf"))
    )
    assert typed <= readers, f"the schema types keys no source reads: {typed - readers}"


def test_check_config_command_refuses_a_typo_in_a_sensor_block(repo, tmp_path, workflow_config):
    workflow_config["glaciers"]["demo"]["sensors"]["landsat8"]["ednd"] = "2020-04-01"
    bad = tmp_path / "typo.yaml"
    bad.write_text(yaml.safe_dump(workflow_config))
    result = subprocess.run(
        [sys.executable, "-m", "calvingfronts.cli", "check-config", "--config", str(bad)],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "config key 'glaciers.demo.sensors.landsat8.ednd': unknown key" in result.stderr


def test_a_disabled_sensor_is_checked_but_left_out(workflow_config, repo):
    config = _broken(workflow_config, ("glaciers", "demo", "sensors", "landsat8", "enabled"), False)
    validate(copy.deepcopy(config), str(repo / SCHEMA))
    check_config(config, repo)
    assert list(glacier_config(config, "demo", repo).sensors) == ["sentinel1"]
    assert enabled_sensors(config["glaciers"]["demo"]) == ["sentinel1"]
    assert enabled_sensors(workflow_config["glaciers"]["demo"]) == ["landsat8", "sentinel1"]
    # Disabled is not unchecked: it may be switched on again.
    config["glaciers"]["demo"]["sensors"]["landsat8"]["ednd"] = "2020-04-01"
    with pytest.raises(ConfigError, match="landsat8.ednd"):
        check_config(config, repo)


def _scratch_workflow(tmp_path, config_text=None):
    for name in ("Snakefile", "workflow", "models", "profiles"):
        (tmp_path / name).symlink_to(REPO / name)
    shutil.copytree(REPO / "config", tmp_path / "config")
    if config_text is not None:
        (tmp_path / "config" / "config.yaml").write_text(config_text)
    return tmp_path


def _snakemake(workdir, *args):
    """Snakemake in ``workdir`` (stdout and stderr together)."""
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_snakemake_refuses_a_typo_in_a_sensor_block(tmp_path, workflow_config):
    workflow_config["glaciers"]["demo"]["sensors"]["landsat8"]["ednd"] = "2020-04-01"
    workdir = _scratch_workflow(tmp_path, yaml.safe_dump(workflow_config))
    result = _snakemake(workdir, "--dry-run", "results/demo_fronts.gpkg")
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert "config key 'glaciers.demo.sensors.landsat8.ednd': unknown key" in message


@pytest.mark.slow
def test_an_extra_configfile_switches_a_sensor_off(tmp_path):
    """Snakemake merges an extra --configfile into the config: it cannot delete the demo's
    landsat8, but `enabled: false` leaves it out of the glacier's jobs."""
    workdir = _scratch_workflow(tmp_path)
    (workdir / "only_sar.yaml").write_text(
        "glaciers:\n  demo:\n    sensors:\n      landsat8: {enabled: false}\n"
    )
    target = ["results/demo/manifests", "--configfile", "config/config.yaml"]

    def listed(*extra):
        """The sensors the glacier's listing lists (it runs: the synthetic source is local)."""
        run = _snakemake(workdir, *target, *extra)
        assert run.returncode == 0, run.stderr[-3000:]
        return sorted(p.stem for p in (workdir / "results" / "demo" / "manifests").glob("*.csv"))

    assert listed() == ["landsat8", "sentinel1"]
    # The switch changes the listing's parameters, so the glacier is listed again.
    assert listed("only_sar.yaml") == ["sentinel1"]


@pytest.mark.parametrize(
    "change, named",
    [
        (lambda t: t["data"][0].update(pth="x"), "pth"),
        (lambda t: t["data"][1].update(kind="syntetic"), "syntetic"),
        (lambda t: t["augment"].update(pixel_size_rnge_m=[1, 2]), "pixel_size_rnge_m"),
        (lambda t: t.update(stages=[{"augment": {"flipp": True}}]), "flipp"),
    ],
)
def test_typos_deep_in_the_training_settings_are_refused_by_name(workflow_config, change, named):
    change(workflow_config["training"])
    with pytest.raises(ConfigError, match=named):
        check_config(workflow_config)
