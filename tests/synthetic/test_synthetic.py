"""The synthetic glacier: a deterministic world, realistic encodings, a stable archive."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pytest
import shapely

from calvingfronts.glaciers.config import GlacierConfig, SensorSettings, load_fjord
from calvingfronts.grid import GlacierGrid
from calvingfronts.raster_io import read_raster, write_raster
from calvingfronts.scenes.manifest import SCENE_ID_PATTERN
from calvingfronts.scenes.sensors import SENSORS, to_physical
from calvingfronts.sources import synthetic as source
from calvingfronts.synthetic import scenes as synthetic

REPO = Path(__file__).resolve().parents[2]
DEMO_AOI = (-160000.0, -2207500.0, -140000.0, -2192500.0)
DEMO_FLOW_AZIMUTH = 250.0
COARSE = 80.0  # metres: most checks need no fine pixels, and stay fast


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def glacier() -> GlacierConfig:
    fjord = load_fjord("config/outlines/demo_fjord.geojson", "fjord", REPO)
    return GlacierConfig("demo", DEMO_AOI, fjord, DEMO_FLOW_AZIMUTH, sensors={})


@pytest.fixture(scope="module")
def world(glacier):
    return synthetic.build_world(glacier, seed=0)


def physical(raster, sensor):
    return to_physical(
        raster.band,
        SENSORS[sensor],
        nodata=raster.nodata,
        scale=raster.scales[0],
        offset=raster.offsets[0],
        sar_quantity=raster.tags.get("SAR_QUANTITY", "amplitude"),
    )


def settings(sensor, start, end, **options):
    return SensorSettings(sensor, "synthetic", SENSORS[sensor].default_pixel_size, start, end,
                          options)  # fmt: skip


# --- the world ---------------------------------------------------------------------------


def test_world_and_scenes_are_deterministic(glacier, world):
    again = synthetic.build_world(
        dataclasses.replace(glacier, fjord=shapely.from_wkb(glacier.fjord.wkb)), seed=0
    )
    assert again.params == world.params and again.origin == world.origin
    other = synthetic.build_world(glacier, seed=1)
    assert other.params != world.params
    when = utc(2017, 3, 4, 14, 30)
    grid = GlacierGrid.snapped(glacier.aoi, COARSE)
    first = synthetic.render(world, grid, "landsat8", when)
    second = synthetic.render(again, grid, "landsat8", when)
    assert np.array_equal(first.data, second.data)
    assert first.tags == second.tags


def test_noise_on_a_grid_equals_noise_at_points():
    xs = np.arange(-5000.0, 5000.0, 37.0)
    ys = np.arange(2000.0, -1000.0, -53.0)
    field = synthetic.fractal_field(xs, ys, [900.0, 300.0, 90.0], key=11, min_scale=30.0)
    points = synthetic.fractal_noise(xs[None, :], ys[:, None], [900.0, 300.0, 90.0], key=11,
                                     min_scale=30.0)  # fmt: skip
    assert np.allclose(field, points)
    assert -1.5 < field.min() < -0.2 and 0.2 < field.max() < 1.5


def test_front_moves_with_seasons_and_years(world):
    def position(year, month, day=15):
        return synthetic.front_position(world, utc(year, month, day, 12))

    years = range(2006, 2020)
    # Most advanced in late spring, most retreated in early autumn, in most years.
    seasonal = [position(y, 5, 25) - position(y, 9, 20) for y in years]
    assert sum(d > 0 for d in seasonal) >= 0.8 * len(seasonal)
    assert np.median(seasonal) > 150.0
    # A multi-year trend: decadal means differ by more than the seasonal noise.
    means = [np.mean([position(y, m) for y in span for m in (1, 4, 7, 10)])
             for span in (range(1988, 1996), range(2015, 2023))]  # fmt: skip
    assert abs(means[0] - means[1]) > 300.0
    # Within the reach, whatever the date.
    everything = [position(y, m) for y in range(1985, 2026, 3) for m in (3, 9)]
    assert max(np.abs(everything)) < world.reach


def test_calving_events_are_sudden_retreats(world):
    event = max(synthetic.calving_events(world, 2014), key=lambda e: e.depth)
    before = synthetic.from_decimal_year(event.time - 0.5 / 365)
    after = synthetic.from_decimal_year(event.time + 0.5 / 365)
    centre = event.centre * 0.5 * world.width
    v_before, u_before = synthetic.front_curve(world, before)
    v_after, u_after = synthetic.front_curve(world, after)
    retreat = np.interp(centre, v_before, u_before) - np.interp(centre, v_after, u_after)
    assert retreat > 0.5 * event.depth


def test_true_front_spans_the_fjord_inside_the_aoi(glacier, world):
    for when in (utc(1990, 6, 1), utc(2005, 2, 1), utc(2012, 9, 10), utc(2023, 4, 20)):
        front = synthetic.true_front(world, when)
        assert front.geom_type == "LineString"
        assert front.within(glacier.fjord.buffer(1.0))
        assert front.within(shapely.box(*glacier.aoi))
        for end in front.boundary.geoms:
            assert glacier.fjord.exterior.distance(end) < 1.0
        assert front.length > 0.8 * world.width


def test_truth_is_independent_of_pixel_size(glacier, world):
    when = utc(2016, 7, 1, 14, 30)
    fine = synthetic.render(world, GlacierGrid.snapped(glacier.aoi, 40.0), "landsat8", when)
    coarse = synthetic.render(world, GlacierGrid.snapped(glacier.aoi, 120.0), "landsat8", when)
    assert fine.tags[synthetic.TRUE_FRONT_TAG] == coarse.tags[synthetic.TRUE_FRONT_TAG]
    assert shapely.from_wkt(fine.tags[synthetic.TRUE_FRONT_TAG]).equals_exact(
        synthetic.true_front(world, when), 1e-6
    )
    # The rendered world agrees too: zone fractions and the picture at a common resolution.
    areas = []
    for pixel in (40.0, 120.0):
        zone = synthetic.zones(world, when, GlacierGrid.snapped(glacier.aoi, pixel))
        areas.append([np.mean(zone == z) for z in (0, 1, 2)])
    assert np.allclose(areas[0], areas[1], atol=0.01)
    fine_values = physical(fine, "landsat8")[1::3, 1::3]
    shape = np.minimum(fine_values.shape, coarse.band.shape)
    fine_values = fine_values[: shape[0], : shape[1]]
    coarse_values = physical(coarse, "landsat8")[: shape[0], : shape[1]]
    both = np.isfinite(fine_values) & np.isfinite(coarse_values)
    assert np.corrcoef(fine_values[both], coarse_values[both])[0, 1] > 0.8


def test_labels_and_zones(glacier, world):
    when = utc(2011, 8, 1)
    grid = GlacierGrid.snapped(glacier.aoi, 30.0)
    zone = synthetic.zones(glacier, when, grid)
    label = synthetic.label_front(world, when, grid, width_px=3)
    assert zone.dtype == np.uint8 and label.dtype == np.uint8
    assert set(np.unique(zone)) == {0, 1, 2}
    front = synthetic.true_front(world, when)
    expected = front.length / grid.pixel_size * 3
    assert 0.7 * expected < label.sum() < 1.3 * expected
    # Every labelled pixel touches the boundary between ice and ocean (or the walls).
    fjord = zone > 0
    near = np.zeros_like(fjord)
    ice, ocean = zone == 1, zone == 2
    for shift in ((0, 2), (0, -2), (2, 0), (-2, 0)):
        near |= np.roll(ice, shift, axis=(0, 1)) & ocean
    grown = near.copy()
    for shift in ((0, 2), (0, -2), (2, 0), (-2, 0)):
        grown |= np.roll(near, shift, axis=(0, 1))
    labelled = label.astype(bool) & fjord
    assert grown[labelled].mean() > 0.95
    thin = synthetic.label_front(world, when, grid, width_px=1)
    assert thin.sum() < label.sum()


# --- optical scenes -------------------------------------------------------------------------


def test_optical_encoding_and_ranges(glacier, world):
    grid = GlacierGrid.snapped(glacier.aoi, COARSE)
    when = utc(2019, 7, 12, 14, 40)
    landsat = synthetic.render(world, grid, "landsat8", when)
    assert landsat.data.dtype == np.uint16 and landsat.data.shape == (1, *grid.shape)
    assert landsat.nodata == 0
    assert landsat.scales == (2.75e-5,) and landsat.offsets == (-0.2,)
    sentinel = synthetic.render(world, grid, "sentinel2", when)
    assert sentinel.scales == (1e-4,) and sentinel.offsets == (-0.1,)
    for raster, sensor in ((landsat, "landsat8"), (sentinel, "sentinel2")):
        values = physical(raster, sensor)
        valid = values[np.isfinite(values)]
        assert valid.min() >= -0.01 and valid.max() <= 1.25
        zone = synthetic.zones(world, when, grid)
        water = values[(zone == 2) & np.isfinite(values)]
        ice = values[(zone == 1) & np.isfinite(values)]
        if raster.tags["CLOUD_COVER"] and float(raster.tags["CLOUD_COVER"]) < 20:
            assert np.median(water) < 0.2 < np.median(ice)


def test_clouds_cover_the_listed_fraction(glacier, world):
    grid = GlacierGrid.snapped(glacier.aoi, COARSE)
    when = utc(2018, 6, 3, 14, 30)
    conditions = synthetic.scene_conditions(0, glacier.name, "landsat8", when)
    for cover in (0.0, 35.0, 80.0):
        cloudy = dataclasses.replace(conditions, cloud_cover=cover)
        clear = dataclasses.replace(conditions, cloud_cover=0.0)
        with_clouds = synthetic.render(world, grid, "landsat8", when, np.random.default_rng(1),
                                       cloudy)  # fmt: skip
        without = synthetic.render(world, grid, "landsat8", when, np.random.default_rng(1), clear)
        changed = np.mean(np.abs(physical(with_clouds, "landsat8") - physical(without, "landsat8"))
                          > 0.03)  # fmt: skip
        assert abs(changed - cover / 100) < 0.15 + 0.3 * cover / 100


def test_cloud_cover_mix_over_a_year(glacier):
    scenes = source.list_scenes(glacier, settings("sentinel2", date(2017, 1, 1),
                                                  date(2018, 12, 31)), {})  # fmt: skip
    covers = np.array([s.cloud_cover for s in scenes])
    assert (covers < 5).mean() > 0.3  # many clear
    assert ((covers >= 5) & (covers < 50)).mean() > 0.15  # some partly cloudy
    assert 0.05 < (covers >= 50).mean() < 0.4  # a few mostly cloudy


def test_landsat7_slc_off_stripes(glacier, world):
    grid = GlacierGrid.snapped(glacier.aoi, 30.0)
    early = synthetic.render(
        world,
        grid,
        "landsat7",
        utc(2001, 7, 1, 14, 30),
        conditions=dataclasses.replace(_landsat7_conditions(), edge_cut=None),
    )
    assert not (early.band == 0).any()
    conditions = dataclasses.replace(_landsat7_conditions(), stripe_offset=80000.0, edge_cut=None)
    late = synthetic.render(world, grid, "landsat7", utc(2009, 7, 1, 14, 30),
                            conditions=conditions)  # fmt: skip
    gaps = late.band == 0
    assert 0.1 < gaps.mean() < 0.3
    # Stripes: long runs of nodata along the scan lines, not scattered pixels.
    column = gaps[:, grid.width // 2]
    assert 10 < np.count_nonzero(np.diff(column.astype(int)) == 1) < 60


def _landsat7_conditions():
    return synthetic.draw_conditions(np.random.default_rng(5), "landsat7")


def test_scene_edge_cuts_the_aoi_sometimes(glacier, world):
    grid = GlacierGrid.snapped(glacier.aoi, COARSE)
    conditions = dataclasses.replace(
        synthetic.scene_conditions(0, "demo", "sentinel2", utc(2020, 5, 5, 15)),
        edge_cut=(30.0, 0.3),
    )
    raster = synthetic.render(world, grid, "sentinel2", utc(2020, 5, 5, 15), conditions=conditions)
    assert abs((raster.band == 0).mean() - 0.3) < 0.02
    drawn = [synthetic.draw_conditions(np.random.default_rng(i), "landsat8").edge_cut
             for i in range(400)]  # fmt: skip
    assert 0.02 < np.mean([d is not None for d in drawn]) < 0.2


# --- SAR scenes -----------------------------------------------------------------------------


@pytest.mark.parametrize("sensor", ["sentinel1", "alos2"])
def test_sar_encoding_speckle_and_backscatter(glacier, world, sensor):
    grid = GlacierGrid.snapped(glacier.aoi, 40.0)
    when = utc(2016, 3, 10, 9, 50)
    conditions = dataclasses.replace(
        synthetic.scene_conditions(0, "demo", sensor, when), wind=0.1, edge_cut=None
    )
    raster = synthetic.render(world, grid, sensor, when, conditions=conditions)
    assert raster.data.dtype == np.uint16 and raster.nodata == 0
    assert raster.tags["SAR_QUANTITY"] == "amplitude"
    assert raster.scales == (synthetic.SAR_AMPLITUDE_SCALE,) and raster.offsets == (0.0,)
    db = physical(raster, sensor)
    assert np.isfinite(db).all()
    assert np.percentile(db, 0.5) > -40 and np.percentile(db, 99.5) < 15
    zone = synthetic.zones(world, when, grid)
    distance = synthetic.static_layers(world, grid).u - synthetic.front_position(world, when)
    open_water = (zone == 2) & (distance > 4000)
    assert np.median(db[open_water]) < -15
    assert np.median(db[zone == 1]) > np.median(db[open_water]) + 6
    assert -12 < np.median(db[zone == 0]) < 0
    # Speckle: a few looks leave the intensity of calm water strongly varying pixel to pixel
    # (robust spread, as icebergs are outliers); textures alone would vary by ~0.1.
    intensity = (raster.band[open_water].astype(float) * raster.scales[0]) ** 2
    q25, q50, q75 = np.percentile(intensity, [25, 50, 75])
    assert 0.4 < (q75 - q25) / q50 < 1.5


# --- the source adapter ------------------------------------------------------------------


def test_listing_ids_hrefs_and_times(glacier):
    scenes = source.list_scenes(glacier, settings("landsat8", date(2016, 1, 1),
                                                  date(2016, 12, 31)), {"seed": 3})  # fmt: skip
    assert scenes and all(SCENE_ID_PATTERN.match(s.scene_id) for s in scenes)
    assert all(s.scene_id.startswith("SYN_LANDSAT8_2016") for s in scenes)
    assert scenes[0].href.startswith("synthetic://demo/landsat8/")
    assert all(s.properties["seed"] == 3 and s.cloud_cover is not None for s in scenes)
    gaps = {
        (b.acquired.date() - a.acquired.date()).days
        for a, b in zip(scenes, scenes[1:], strict=False)
    }
    assert min(gaps) == 8  # the revisit; polar-night dates are left out
    assert all(s.properties["sun_elevation"] >= 5.0 for s in scenes)
    assert not [s for s in scenes if s.acquired.month == 12]
    radar = source.list_scenes(glacier, settings("sentinel1", date(2016, 1, 1),
                                                 date(2016, 1, 31)), {})  # fmt: skip
    assert len(radar) in (5, 6) and all(s.cloud_cover is None for s in radar)
    january = settings("sentinel1", date(2016, 1, 1), date(2016, 1, 31))
    weekly = source.list_scenes(glacier, january, {"revisit_days": 3})
    assert len(weekly) in (10, 11)


def test_extending_the_dates_keeps_earlier_records(glacier):
    short = source.list_scenes(glacier, settings("sentinel2", date(2016, 3, 1),
                                                 date(2016, 6, 30)), {})  # fmt: skip
    long = source.list_scenes(glacier, settings("sentinel2", date(2015, 8, 1),
                                                date(2017, 2, 28)), {})  # fmt: skip
    records = {s.scene_id: s.to_json() for s in long}
    assert short and len(long) > len(short)
    for scene in short:
        assert records[scene.scene_id] == scene.to_json()


def test_fetch_round_trips_through_geotiff(glacier, tmp_path):
    grid = GlacierGrid.snapped(glacier.aoi, 60.0)
    for sensor in ("landsat8", "sentinel1"):
        scene = source.list_scenes(glacier, settings(sensor, date(2016, 6, 1),
                                                     date(2016, 6, 30)), {})[0]  # fmt: skip
        raster = source.fetch_scene(scene, glacier, grid, {})
        assert raster.tags["SCENE_ID"] == scene.scene_id
        assert raster.tags["SENSOR"] == sensor
        assert raster.tags["ACQUIRED"] == scene.acquired.strftime("%Y-%m-%dT%H:%M:%SZ")
        path = tmp_path / f"{scene.scene_id}.tif"
        write_raster(path, raster)
        back = read_raster(path)
        assert np.array_equal(back.data, raster.data)
        assert back.nodata == 0 and back.crs.endswith("3413")
        assert back.scales == raster.scales and back.offsets == raster.offsets
        for tag in ("SENSOR", "SCENE_ID", "ACQUIRED", synthetic.TRUE_FRONT_TAG):
            assert back.tags[tag] == raster.tags[tag]
        front = shapely.from_wkt(back.tags[synthetic.TRUE_FRONT_TAG])
        assert front.within(glacier.fjord.buffer(1.0))
        values = physical(back, sensor)
        valid = values[np.isfinite(values)]
        low, high = (-0.05, 1.25) if sensor == "landsat8" else (-40.0, 15.0)
        assert low < valid.min() and valid.max() < high
        if sensor == "sentinel1":
            assert back.tags["SAR_QUANTITY"] == "amplitude"


def test_truth_fronts_follow_the_scene_seed(glacier):
    scenes = source.list_scenes(glacier, settings("sentinel1", date(2016, 6, 1),
                                                  date(2016, 6, 20)), {"seed": 4})  # fmt: skip
    truth = synthetic.truth_fronts(glacier, scenes)
    assert [t["scene_id"] for t in truth] == [s.scene_id for s in scenes]
    world = synthetic.build_world(glacier, 4)
    for record, scene in zip(truth, scenes, strict=True):
        assert record["sensor"] == "sentinel1" and record["acquired"] == scene.acquired
        assert record["geometry"].equals(synthetic.true_front(world, scene.acquired))


def test_write_truth_geopackage(glacier, tmp_path):
    import geopandas

    scenes = source.list_scenes(glacier, settings("sentinel1", date(2016, 6, 1),
                                                  date(2016, 6, 20)), {})  # fmt: skip
    path = tmp_path / "truth.gpkg"
    synthetic.write_truth(glacier, scenes, path)
    frame = geopandas.read_file(path, layer="truth")
    assert list(frame["scene_id"]) == sorted(s.scene_id for s in scenes)
    assert frame.crs.to_epsg() == 3413 and set(frame.geom_type) == {"LineString"}
    assert str(frame["acquired"].dt.tz) == "UTC"


def test_random_training_scene(glacier):
    rng = np.random.default_rng(7)
    for sensor in ("sentinel2", "terrasarx"):
        raw, label, zone = synthetic.random_training_scene(glacier, rng, sensor, pixel_size=100.0)
        assert raw.band.shape == label.shape == zone.shape
        assert label.sum() > 0 and set(np.unique(zone)) == {0, 1, 2}
        acquired = datetime.fromisoformat(raw.tags["ACQUIRED"].replace("Z", "+00:00"))
        first, last = synthetic.MISSION_YEARS[sensor]
        assert first <= acquired.year <= last + 1
    raw, _, _ = synthetic.random_training_scene(glacier, rng, pixel_size=100.0)
    assert raw.tags["SENSOR"] in SENSORS
