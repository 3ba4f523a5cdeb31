"""Frozen, snow-covered fjords in synthetic optical training scenes
(calvingfronts.synthetic.optical.FjordIceConditions)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from calvingfronts.glaciers.config import GlacierConfig, load_fjord
from calvingfronts.grid import GlacierGrid
from calvingfronts.scenes.sensors import SENSORS, to_physical
from calvingfronts.synthetic import scenes as synthetic
from calvingfronts.synthetic.optical import (
    OPEN_FJORD,
    FjordIceConditions,
    draw_fjord_ice,
)

REPO = Path(__file__).resolve().parents[2]
DEMO_AOI = (-160000.0, -2207500.0, -140000.0, -2192500.0)
SPRING = datetime(2016, 4, 12, 14, 30, tzinfo=timezone.utc)  # daylight, fjord still frozen


@pytest.fixture(scope="module")
def glacier():
    fjord = load_fjord("config/outlines/demo_fjord.geojson", "fjord", REPO)
    return GlacierConfig("demo", DEMO_AOI, fjord, 250.0, sensors={})


@pytest.fixture(scope="module")
def world(glacier):
    return synthetic.build_world(glacier, 0)


def _reflectance(world, fjord_ice, seed=3):
    grid = GlacierGrid.snapped(world.aoi, 60.0)
    conditions = dataclasses.replace(
        synthetic.scene_conditions(0, "demo", "landsat8", SPRING),
        cloud_cover=0.0,
        haze=0.0,
        edge_cut=None,
    )
    rng = np.random.default_rng(seed)
    raster = synthetic.render(world, grid, "landsat8", SPRING, rng, conditions, fjord_ice=fjord_ice)
    reflectance = to_physical(raster.band, SENSORS["landsat8"], nodata=0,
                              scale=raster.scales[0], offset=raster.offsets[0])  # fmt: skip
    zone = synthetic.zones(world, SPRING, grid)
    distance = synthetic.static_layers(world, grid).u - synthetic.front_position(world, SPRING)
    return reflectance, zone, distance


def test_open_fjord_is_the_default_rendering(world):
    """The demo archive renders optical scenes with OPEN_FJORD: passing it changes nothing."""
    grid = GlacierGrid.snapped(world.aoi, 60.0)
    conditions = synthetic.scene_conditions(0, "demo", "landsat8", SPRING)
    default = synthetic.render(world, grid, "landsat8", SPRING, np.random.default_rng(3),
                               conditions)  # fmt: skip
    explicit = synthetic.render(world, grid, "landsat8", SPRING, np.random.default_rng(3),
                                conditions, fjord_ice=OPEN_FJORD)  # fmt: skip
    np.testing.assert_array_equal(default.data, explicit.data)


def test_a_frozen_fjord_is_as_bright_as_the_glacier(world):
    """Frozen in, the sea in front of the glacier is nearly as bright as the ice and reaches
    further: the front becomes a change of texture, not of brightness."""
    open_fjord, zone, distance = _reflectance(world, OPEN_FJORD)
    loose, _, _ = _reflectance(world, FjordIceConditions(melange_reach=3.0))
    frozen, _, _ = _reflectance(world, FjordIceConditions(rigid_melange=1.0, melange_reach=3.0))
    ice = (zone == synthetic.ZONE_ICE) & (distance > -1500)
    near_sea = (zone == synthetic.ZONE_OCEAN) & (distance < 1000)
    far_sea = (zone == synthetic.ZONE_OCEAN) & (distance > 1000) & (distance < 2500)
    # Snow on the frozen cover is a little brighter than crevassed ice; open water is ~0.05.
    assert abs(np.median(frozen[near_sea]) - np.median(frozen[ice])) < 0.2
    assert np.median(loose[near_sea]) < np.median(frozen[near_sea]) - 0.1
    # The frozen cover reaches kilometres out, where an open fjord is water.
    assert np.median(open_fjord[far_sea]) < 0.1
    assert np.median(frozen[far_sea]) > 0.5


def test_fjords_freeze_only_in_winter_and_spring():
    rng = np.random.default_rng(1)
    spring = [draw_fjord_ice(rng, 0.3) for _ in range(200)]
    autumn = [draw_fjord_ice(rng, 0.7) for _ in range(200)]
    assert 90 < sum(c.rigid_melange > 0 for c in spring) < 150
    assert not any(c.rigid_melange > 0 for c in autumn)
    assert max(c.melange_reach for c in spring) > 4.0
    assert all(1.0 <= c.melange_reach <= 2.0 for c in autumn)


def test_training_scenes_take_realistic_fjord_ice(glacier):
    """optical='realistic' changes optical training scenes and leaves SAR scenes alone;
    anything else is refused by name."""

    def scene(sensor, optical):
        raw, _, _ = synthetic.random_training_scene(
            glacier, np.random.default_rng(5), sensor, 60.0, acquired=SPRING, optical=optical
        )
        return raw.data

    assert not np.array_equal(scene("landsat8", "classic"), scene("landsat8", "realistic"))
    np.testing.assert_array_equal(scene("sentinel1", "classic"), scene("sentinel1", "realistic"))
    with pytest.raises(ValueError, match="optical must be classic or realistic"):
        scene("landsat8", "frozen")


def test_realistic_fjord_ice_has_a_cache_of_its_own(tmp_path):
    """Training scenes with frozen fjords never reuse a cache rendered without them."""
    from calvingfronts.training.synthetic_data import synthetic_samples

    one_scene = {
        "count": 1,
        "config": str(REPO / "config" / "config.yaml"),
        "sensors": ["landsat8"],
        "pixel_size_range_m": (80.0, 80.0),
        "cache_dir": str(tmp_path),
    }
    synthetic_samples(**one_scene)
    synthetic_samples(**one_scene, optical="realistic")
    assert len(list(tmp_path.glob("*.npz"))) == 2
