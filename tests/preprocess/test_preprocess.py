import numpy as np
import pytest

from calvingfronts.preprocess.normalize import normalize, screen_coverage
from calvingfronts.rejection import SceneRejected
from calvingfronts.scenes.sensors import SENSORS, to_physical


def test_equalize_flattens_the_histogram_of_valid_pixels():
    rng = np.random.default_rng(0)
    values = rng.gamma(2.0, 0.05, size=(200, 200))
    valid = np.ones_like(values, dtype=bool)
    valid[:20] = False
    out = normalize(values, valid, "equalize")
    counts, _ = np.histogram(out[valid], bins=10, range=(0, 1))
    assert counts.min() > 0.8 * counts.mean()
    assert (out[~valid] == 0).all()
    # Monotonic: ordering of brightness is kept.
    order = np.argsort(values[valid])
    assert (np.diff(out[valid][order]) >= 0).all()


def test_linear_stretch_maps_percentiles_to_the_range_ends():
    values = np.linspace(0, 100, 10000).reshape(100, 100)
    out = normalize(values, np.ones(values.shape, bool), "linear")
    assert out.min() == 0.0 and out.max() == 1.0
    assert np.isclose(np.mean(out == 0.0), 0.02, atol=0.002)


def test_none_uses_the_sensor_range():
    db = np.array([[-30.0, -12.5, 5.0, 20.0]])
    out = normalize(db, np.ones(db.shape, bool), "none", SENSORS["sentinel1"].value_range)
    np.testing.assert_allclose(out, [[0.0, 0.5, 1.0, 1.0]])


def test_unknown_treatment_is_refused():
    with pytest.raises(ValueError, match="equalize"):
        normalize(np.zeros((2, 2)), np.ones((2, 2), bool), "clahe")


def test_landsat_counts_become_reflectance_and_zero_is_nodata():
    raw = np.array([[0, 7273 + 10000, 43636]], dtype=np.uint16)
    out = to_physical(raw, SENSORS["landsat8"], nodata=0, scale=2.75e-5, offset=-0.2)
    assert np.isnan(out[0, 0])
    np.testing.assert_allclose(out[0, 1:], [0.275, 1.0], atol=1e-3)


def test_sar_amplitude_becomes_decibels():
    raw = np.array([[0, 1, 10, 100]], dtype=np.uint16)
    out = to_physical(raw, SENSORS["sentinel1"], nodata=0, sar_quantity="amplitude")
    assert np.isnan(out[0, 0])
    np.testing.assert_allclose(out[0, 1:], [0.0, 20.0, 40.0])
    power = to_physical(raw, SENSORS["sentinel1"], nodata=0, sar_quantity="power")
    np.testing.assert_allclose(power[0, 1:], [0.0, 10.0, 20.0])


def test_coverage_screening_rejects_with_the_fraction():
    valid = np.zeros((10, 10), bool)
    valid[:2] = True
    inside = np.ones((10, 10), bool)
    with pytest.raises(SceneRejected, match="20.0%") as caught:
        screen_coverage(valid, inside, 0.3)
    assert caught.value.stage == "preprocess"
    with pytest.raises(SceneRejected, match="all nodata"):
        screen_coverage(np.zeros((4, 4), bool), inside[:4, :4], 0.3)
    assert screen_coverage(valid, inside, 0.1) == pytest.approx(0.2)
