"""Screening: each rule catches fronts made to fail it, and keeps what is real."""

import numpy as np
import pandas
import pytest

from calvingfronts.timeseries.screening import ScreeningSettings, distance_text, screen_fronts

SETTINGS = ScreeningSettings(
    max_uncertainty_m=500.0,
    window_days=30.0,
    mad_factor=3.0,
    min_limit_m=300.0,
    min_neighbours=3,
    confirm_count=1,
    same_day_max_difference_m=300.0,
)


def _series(positions, start="2020-03-01", every_days=4, sensor="landsat8", uncertainty=100.0):
    times = pandas.date_range(start, periods=len(positions), freq=f"{every_days}D", tz="UTC")
    return pandas.DataFrame(
        {
            "acquired": times + pandas.Timedelta(hours=14),
            "sensor": sensor,
            "scene_id": [f"S{i:03d}" for i in range(len(positions))],
            "position_m": np.asarray(positions, dtype=float),
            "uncertainty_m": uncertainty,
        }
    )


def _screened(result):
    return result[result.status == "screened"]


def test_a_steady_noisy_series_keeps_every_front():
    noise = np.random.default_rng(0).normal(0.0, 40.0, 60)
    result = screen_fronts(_series(15000 + noise), SETTINGS)
    assert (result.status == "kept").all()
    assert (result.screening_test == "").all()


def test_a_front_that_misses_the_centreline_is_screened_only_where_there_is_one():
    """A front that does not cross the centreline (a line along a wall) has no position, so
    no test that compares positions could catch it: it is screened as unplaced. Without a
    centreline no front has a position, and none is screened for it."""
    table = _series([15000.0] * 10)
    table.loc[4, "position_m"] = np.nan
    result = screen_fronts(table, SETTINGS, on_centreline=True)
    assert list(_screened(result).index) == [4]
    assert result.screening_test[4] == "unplaced"
    assert "does not cross the glacier's centreline" in result.screening_reason[4]
    no_centreline = _series([np.nan] * 10)
    assert (screen_fronts(no_centreline, SETTINGS).status == "kept").all()


def test_a_front_above_the_uncertainty_cut_off_is_kept_with_a_flag_unless_contradicted():
    """A doubtful front that its neighbours agree with is kept, flagged; one they
    contradict goes, and by a smaller departure than a front the members agree on."""
    table = _series([15000.0] * 10)
    table.loc[4, "uncertainty_m"] = 2300.0
    result = screen_fronts(table, SETTINGS, on_centreline=True)
    assert (result.status == "kept").all()
    assert result.screening_flags[4] == "uncertain" and result.screening_flags[3] == ""
    table.loc[4, "position_m"] = 15200.0  # within the 300 m floor, beyond the 150 m one
    result = screen_fronts(table, SETTINGS, on_centreline=True)
    assert list(_screened(result).index) == [4]
    assert result.screening_test[4] == "temporal_outlier"
    assert "limit 150 m, the minimum for an uncertain front" in result.screening_reason[4]
    table.loc[4, "uncertainty_m"] = 100.0
    assert (screen_fronts(table, SETTINGS, on_centreline=True).status == "kept").all()


def test_a_front_above_the_uncertainty_cut_off_is_screened_where_the_config_says_so():
    table = _series([15000.0] * 10)
    table.loc[4, "uncertainty_m"] = 2300.0
    strict = ScreeningSettings(**{**SETTINGS.__dict__, "screen_uncertain": True})
    result = screen_fronts(table, strict)
    assert list(_screened(result).index) == [4]
    assert result.screening_test[4] == "uncertainty"
    assert result.screening_reason[4] == "uncertainty 2.3 km above the limit 500 m"
    # Without a cut-off the same front is kept.
    unlimited = ScreeningSettings(**{**strict.__dict__, "max_uncertainty_m": None})
    assert (screen_fronts(table, unlimited).status == "kept").all()


def test_a_front_that_jumps_and_comes_back_is_a_temporal_outlier():
    positions = 15000 + np.random.default_rng(1).normal(0.0, 30.0, 20)
    positions[9] = 17300.0  # 2.3 km off, and the next fronts are back where they were
    result = screen_fronts(_series(positions), SETTINGS)
    assert list(_screened(result).index) == [9]
    assert result.screening_test[9] == "temporal_outlier"
    reason = result.screening_reason[9]
    assert reason.startswith("position 2.3 km from where its 6 nearest fronts in time put it")
    assert "limit 300 m, the minimum" in reason and "not seen again" in reason


def test_a_real_retreat_that_persists_is_kept():
    """A calving event moves the front 2 km back for good: it is seen again in every later
    scene, so none of the fronts after it is an outlier."""
    positions = np.r_[np.full(10, 15000.0), np.full(10, 13000.0)]
    positions += np.random.default_rng(2).normal(0.0, 30.0, 20)
    result = screen_fronts(_series(positions), SETTINGS)
    assert (result.status == "kept").all(), result.screening_reason[result.status != "kept"]


@pytest.mark.parametrize("after", [3, 4, 6])
def test_a_retreat_at_the_end_of_the_record_is_kept(after):
    """The newest fronts after a calving event have mostly older neighbours; the local
    trend and the fronts just before the newest confirm them."""
    positions = np.r_[np.full(14, 15000.0), np.full(after, 13000.0)]
    positions += np.random.default_rng(after).normal(0.0, 30.0, len(positions))
    result = screen_fronts(_series(positions), SETTINGS)
    assert (result.status == "kept").all(), result.screening_reason[result.status != "kept"]


def test_a_position_seen_twice_in_a_row_is_confirmed_unless_more_are_asked_for():
    """Two fronts in a row at the same new place confirm each other (a short-lived
    advance, or one misreading made twice): confirm_count is how many must agree."""
    positions = 15000 + np.random.default_rng(6).normal(0.0, 30.0, 20)
    positions[[9, 10]] = [13000.0, 13020.0]
    assert (screen_fronts(_series(positions), SETTINGS).status == "kept").all()
    strict = ScreeningSettings(**{**SETTINGS.__dict__, "confirm_count": 2})
    assert sorted(_screened(screen_fronts(_series(positions), strict)).index) == [9, 10]


def test_outliers_next_to_each_other_are_both_caught():
    """Two false fronts in a row do not vouch for each other: the fronts after them are
    back, so repeating the test until stable screens both."""
    positions = 15000 + np.random.default_rng(3).normal(0.0, 30.0, 24)
    positions[[10, 12]] = [16900.0, 12600.0]
    result = screen_fronts(_series(positions), SETTINGS)
    assert sorted(_screened(result).index) == [10, 12]
    assert set(_screened(result).screening_test) == {"temporal_outlier"}


def test_a_limit_that_grows_with_the_neighbours_spread():
    """Where the fronts scatter by 300 m (a noisy sensor, a fast glacier), the limit follows
    the scatter of the window's fronts about the local trend (3 scaled MADs), so hardly any
    front of such a series is screened, where the 300 m minimum alone would take a third."""
    screened = 0
    for seed in range(10):
        positions = 15000 + np.random.default_rng(seed).normal(0.0, 300.0, 30)
        screened += len(_screened(screen_fronts(_series(positions), SETTINGS)))
    assert screened <= 0.05 * 300


def test_fronts_without_neighbours_are_not_judged():
    positions = [15000.0, 19000.0, 15000.0]
    result = screen_fronts(_series(positions, every_days=40), SETTINGS)
    assert (result.status == "kept").all()


def test_same_day_fronts_that_disagree_keep_the_one_near_the_neighbours():
    table = _series(15000 + np.random.default_rng(5).normal(0.0, 30.0, 12))
    other = table.iloc[[6]].copy()
    other["sensor"], other["scene_id"] = "sentinel1", "S1_SAME_DAY"
    other["acquired"] = other["acquired"] - pandas.Timedelta(hours=5)
    other["position_m"] = 17000.0
    other["uncertainty_m"] = 50.0  # the wrong one is even the more confident one
    table = pandas.concat([table, other], ignore_index=True)
    result = screen_fronts(table, SETTINGS)
    screened = _screened(result)
    assert list(screened.scene_id) == ["S1_SAME_DAY"]
    assert screened.screening_test.iloc[0] == "same_day_disagreement"
    assert (
        "from the same day's front landsat8 S006 (limit 300 m)" in screened.screening_reason.iloc[0]
    )


def test_same_day_fronts_that_agree_keep_the_most_certain_one():
    table = _series([15000.0] * 8)
    twin = table.iloc[[3]].copy()
    twin["sensor"], twin["scene_id"], twin["uncertainty_m"] = "sentinel2", "S2_TWIN", 60.0
    twin["position_m"] = 15080.0
    result = screen_fronts(pandas.concat([table, twin], ignore_index=True), SETTINGS)
    screened = _screened(result)
    assert list(screened.scene_id) == ["S003"]
    assert screened.screening_test.iloc[0] == "same_day_duplicate"
    assert (
        "sentinel2 S2_TWIN is kept: uncertainty 60 m against 100 m"
        in (screened.screening_reason.iloc[0])
    )


def test_fronts_without_a_position_are_only_flagged_on_uncertainty():
    table = _series([15000.0, np.nan, 15010.0, np.nan, 15020.0])
    table.loc[3, "uncertainty_m"] = 900.0
    result = screen_fronts(table, SETTINGS)
    assert (result.status == "kept").all()
    assert list(result.screening_flags) == ["", "", "", "uncertain", ""]


def test_rows_keep_their_order_and_an_empty_table_passes():
    table = _series([15000.0, 15010.0, 17000.0, 15020.0, 15000.0, 15010.0]).iloc[::-1]
    result = screen_fronts(table, SETTINGS)
    assert list(result.index) == list(table.index)
    empty = screen_fronts(table.iloc[:0], SETTINGS)
    assert empty.empty and {"status", "screening_test", "screening_reason"} <= set(empty)


def test_unknown_settings_are_refused_by_name():
    with pytest.raises(ValueError, match="window_dayz"):
        ScreeningSettings.from_dict({"window_dayz": 20})
    assert ScreeningSettings.from_dict(None) == ScreeningSettings()


def test_distances_read_as_people_write_them():
    assert distance_text(41.2) == "41 m"
    assert distance_text(2345.0) == "2.3 km"
    assert distance_text(-600.0) == "-600 m"
