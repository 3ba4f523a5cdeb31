"""A front's neighbours in time and what they expect of it, for every front at once.

The screening (:mod:`calvingfronts.timeseries.screening`) judges each front against the
fronts nearest to it in time, of other days, within a window. Done front by front in Python
that costs about half a millisecond a front; here the neighbours of all fronts are index
matrices (one row per front, ``-1`` where there is none) and the estimates are row-wise
array operations, so 100,000 fronts are judged in seconds. Pure: arrays in, arrays out.
"""

from __future__ import annotations

import numpy as np

# The scaled MAD estimates the standard deviation of normally distributed values.
MAD_TO_SIGMA = 1.4826


def nearest_in_time(
    days: np.ndarray, day_number: np.ndarray, mask: np.ndarray, count: int, window_days: float
) -> tuple[np.ndarray, np.ndarray]:
    """(before, after): for every front, the indices of the ``count`` fronts of ``mask``
    nearest before it and after it in time, of other calendar days, within
    ``window_days``; nearest first, ``-1`` where there are fewer. Rows of fronts outside
    ``mask`` are neighbours of nothing but get their own neighbours too.

    ``day_number`` numbers the calendar days in time order (equal on one day)."""
    total = len(days)
    before = np.full((total, count), -1, dtype=np.int64)
    after = np.full((total, count), -1, dtype=np.int64)
    members = np.nonzero(mask)[0]
    if not len(members) or count == 0:
        return before, after
    members = members[np.lexsort((members, days[members]))]
    member_days, member_dates = days[members], day_number[members]
    # Every front's place among the members: the first member of its day and past its last.
    first = np.searchsorted(member_dates, day_number, side="left")
    past = np.searchsorted(member_dates, day_number, side="right")
    steps = np.arange(1, count + 1)
    for out, slots, sign in (
        (before, first[:, None] - steps, -1),
        (after, past[:, None] + steps - 1, 1),
    ):
        inside = (slots >= 0) & (slots < len(members))
        clipped = np.clip(slots, 0, len(members) - 1)
        apart = sign * (member_days[clipped] - days[:, None])
        ok = inside & (apart <= window_days)
        out[ok] = members[clipped[ok]]
    return before, after


def values_at(values: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """``values`` gathered at an index matrix, NaN where the index is ``-1``."""
    gathered = values[np.clip(indices, 0, None)].astype(float)
    gathered[indices < 0] = np.nan
    return gathered


def theil_sen_slopes(offset: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per row, the median of the pairwise slopes of the valid (finite) points; NaN where
    a row has no pair of points at different times."""
    columns = offset.shape[1]
    first, second = np.triu_indices(columns, k=1)
    apart = offset[:, second] - offset[:, first]
    slopes = (values[:, second] - values[:, first]) / np.where(apart == 0, np.nan, apart)
    usable = np.isfinite(slopes)
    slopes = np.where(usable, slopes, np.inf)
    slopes.sort(axis=1)
    counts = usable.sum(axis=1)
    return _row_median_of_sorted(slopes, counts)


def weighted_medians(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per row, the value below which half the weight of the valid (finite) values lies;
    the mean of the two middle values where the half falls between them (the plain median
    for equal weights). NaN for a row without values."""
    valid = np.isfinite(values)
    weights = np.where(valid, weights, 0.0)
    order = np.argsort(np.where(valid, values, np.inf), axis=1, kind="stable")
    ordered = np.take_along_axis(values, order, axis=1)
    cumulative = np.cumsum(np.take_along_axis(weights, order, axis=1), axis=1)
    half = 0.5 * cumulative[:, -1:]
    below = np.argmax(cumulative >= half * (1 - 1e-12), axis=1)
    rows = np.arange(len(values))
    counts = valid.sum(axis=1)
    exact = np.isclose(cumulative[rows, below], half[:, 0]) & (below + 1 < counts)
    nxt = np.minimum(below + 1, values.shape[1] - 1)
    result = np.where(
        exact, 0.5 * (ordered[rows, below] + ordered[rows, nxt]), ordered[rows, below]
    )
    return np.where(counts > 0, result, np.nan)


def inverse_variance_weights(uncertainty: np.ndarray) -> np.ndarray:
    """Per row, 1 / uncertainty²; a neighbour without an uncertainty weighs as the row's
    median one, and a row where none has one weighs all alike."""
    finite = np.isfinite(uncertainty) & (uncertainty > 0)
    filled = np.where(finite, uncertainty, np.nan)
    with np.errstate(all="ignore"):
        median = np.nanmedian(np.where(finite.any(axis=1, keepdims=True), filled, 1.0), axis=1)
    filled = np.where(finite, uncertainty, median[:, None])
    return 1.0 / filled**2


def scaled_mad(residuals: np.ndarray) -> np.ndarray:
    """Per row, 1.4826 times the median absolute value of the valid residuals (NaN where
    none): a robust standard deviation about a known centre."""
    absolute = np.abs(residuals)
    counts = np.isfinite(absolute).sum(axis=1)
    absolute = np.where(np.isfinite(absolute), absolute, np.inf)
    absolute.sort(axis=1)
    return MAD_TO_SIGMA * _row_median_of_sorted(absolute, counts)


def _row_median_of_sorted(ordered: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Medians of rows sorted ascending whose first ``counts`` entries are the values."""
    rows = np.arange(len(ordered))
    low = np.clip((counts - 1) // 2, 0, None)
    high = np.clip(counts // 2, 0, None)
    width = ordered.shape[1]
    if width == 0:
        return np.full(len(ordered), np.nan)
    median = 0.5 * (
        ordered[rows, np.minimum(low, width - 1)] + ordered[rows, np.minimum(high, width - 1)]
    )
    return np.where(counts > 0, median, np.nan)
