"""Hard radar conditions of synthetic training scenes (calvingfronts.synthetic.radar)."""

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
from calvingfronts.synthetic.radar import (
    CLASSIC,
    RadarConditions,
    draw_radar_conditions,
    speckle,
)

REPO = Path(__file__).resolve().parents[2]
DEMO_AOI = (-160000.0, -2207500.0, -140000.0, -2192500.0)
WHEN = datetime(2016, 3, 10, 9, 50, tzinfo=timezone.utc)  # winter: a wide mélange


@pytest.fixture(scope="module")
def world():
    fjord = load_fjord("config/outlines/demo_fjord.geojson", "fjord", REPO)
    return synthetic.build_world(GlacierConfig("demo", DEMO_AOI, fjord, 250.0, sensors={}), 0)


def _db(world, radar, wind=0.1, seed=3):
    grid = GlacierGrid.snapped(world.aoi, 60.0)
    conditions = dataclasses.replace(
        synthetic.scene_conditions(0, "demo", "sentinel1", WHEN), wind=wind, edge_cut=None
    )
    rng = np.random.default_rng(seed)
    raster = synthetic.render(world, grid, "sentinel1", WHEN, rng, conditions, radar=radar)
    db = to_physical(raster.band, SENSORS["sentinel1"], nodata=0, scale=raster.scales[0],
                     offset=0.0, sar_quantity="amplitude")  # fmt: skip
    layers = synthetic.static_layers(world, grid)
    zone = synthetic.zones(world, WHEN, grid)
    distance = layers.u - synthetic.front_position(world, WHEN)
    return db, zone, distance


def test_classic_radar_is_the_default_rendering(world):
    """The demo archive renders with CLASSIC: passing it changes nothing."""
    default, _, _ = _db(world, CLASSIC)
    grid = GlacierGrid.snapped(world.aoi, 60.0)
    conditions = dataclasses.replace(
        synthetic.scene_conditions(0, "demo", "sentinel1", WHEN), wind=0.1, edge_cut=None
    )
    raster = synthetic.render(world, grid, "sentinel1", WHEN, np.random.default_rng(3), conditions)
    db = to_physical(raster.band, SENSORS["sentinel1"], nodata=0, scale=raster.scales[0],
                     offset=0.0, sar_quantity="amplitude")  # fmt: skip
    np.testing.assert_array_equal(db, default)


def test_rigid_melange_looks_like_the_ice(world):
    """Frozen mélange scatters about as the glacier does: the front is only a change of
    texture, where classic mélange is several dB darker than the ice."""
    loose, zone, distance = _db(world, RadarConditions(melange_reach=3.0))
    rigid, _, _ = _db(world, RadarConditions(rigid_melange=1.0, melange_reach=3.0))
    near = (zone == 2) & (distance > 0) & (distance < 1500)
    ice = np.median(rigid[zone == 1])
    assert np.median(loose[near]) < ice - 3
    assert abs(np.median(rigid[near]) - ice) < 2.5


def test_wind_and_incidence_make_the_water_brighter_than_the_ice(world):
    calm, zone, distance = _db(world, RadarConditions(incidence_deg=44.0))
    stormy, _, _ = _db(world, RadarConditions(incidence_deg=22.0, wind_boost_db=8.0), wind=0.9)
    water = (zone == 2) & (distance > 4000)
    assert np.median(calm[water]) < np.median(calm[zone == 1]) - 6
    assert np.median(stormy[water]) > np.median(stormy[zone == 1])


def test_speckle_has_the_statistics_of_multilooked_intensity():
    """Gamma speckle of L looks: mean 1 and variance 1/L; a K-distributed texture adds
    heavier tails; correlation lowers the pixel-to-pixel variance but keeps the mean."""
    rng = np.random.default_rng(0)
    flat = np.zeros((400, 400))  # 0 dB
    noise_floor = 10 ** (-2.4)
    for looks in (1.0, 4.0, 16.0):
        radar = RadarConditions(looks=looks)
        power = speckle(flat, 4.4, rng, radar) - noise_floor
        assert power.mean() == pytest.approx(1.0, abs=0.03)
        assert power.var() == pytest.approx(1.0 / looks, rel=0.15)
    plain = speckle(flat, 4.4, rng, RadarConditions(looks=4.0))
    spiky = speckle(flat, 4.4, rng, RadarConditions(looks=4.0, texture_order=2.0),
                    clutter=np.ones_like(flat))  # fmt: skip
    assert np.percentile(spiky, 99.9) > 1.2 * np.percentile(plain, 99.9)
    correlated = speckle(flat, 4.4, rng, RadarConditions(looks=4.0, speckle_correlation_px=1.0))
    assert correlated.mean() == pytest.approx(plain.mean(), abs=0.03)
    # Neighbouring pixels share their fading: their differences shrink.
    assert np.diff(correlated, axis=1).std() < 0.8 * np.diff(plain, axis=1).std()


def test_drawn_conditions_are_hard_and_seasonal():
    rng = np.random.default_rng(1)
    winter = [draw_radar_conditions(rng, 0.1) for _ in range(200)]
    summer = [draw_radar_conditions(rng, 0.6) for _ in range(200)]
    assert sum(c.rigid_melange > 0 for c in winter) > 80
    assert not any(c.rigid_melange > 0 for c in summer)
    incidences = [c.incidence_deg for c in winter + summer]
    assert min(incidences) < 24 and max(incidences) > 42
    assert any(c.wind_boost_db > 4 for c in summer)


def test_training_scenes_take_realistic_radar(world):
    glacier = GlacierConfig(
        "demo", DEMO_AOI, load_fjord("config/outlines/demo_fjord.geojson", "fjord", REPO), 250.0,
        sensors={},
    )  # fmt: skip
    a = synthetic.random_training_scene(glacier, np.random.default_rng(5), "sentinel1", 60.0)
    b = synthetic.random_training_scene(
        glacier, np.random.default_rng(5), "sentinel1", 60.0, radar="realistic"
    )
    assert a[0].tags["ACQUIRED"] == b[0].tags["ACQUIRED"]
    assert not np.array_equal(a[0].band, b[0].band)
    np.testing.assert_array_equal(a[1], b[1])  # the same front
    with pytest.raises(ValueError, match="radar must be classic or realistic"):
        synthetic.random_training_scene(glacier, np.random.default_rng(5), radar="hard")
