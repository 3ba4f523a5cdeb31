"""Screening of a glacier's fronts: which ones the time series keeps, and why not the others.

In the spirit of AutoTerm (Zhang, Catania & Trugman 2023), a front is screened when

1. ``uncertainty``: its own ``uncertainty_m`` is above a cut-off: the network's members
   disagree about where the front is;
2. ``unplaced``: the glacier has a centreline, but the front does not cross it even when
   extended by its own span (:func:`calvingfronts.timeseries.terminus.terminus_position`): a line
   along
   a fjord wall or out in the fjord, which no later test could check against its
   neighbours, since they all compare positions;
3. ``same_day_disagreement``: fronts of the same day (several sensors, or overlapping
   scenes) lie further apart than a glacier moves in a day: the one nearest the
   neighbouring days' fronts is kept;
4. ``temporal_outlier``: its terminus position departs from the median of its neighbours in
   time (the fronts within ``window_days``, other days only) by more than ``mad_factor``
   times their scaled median absolute deviation (but never less than ``min_limit_m``), and
   the departure is not seen again: a calving event or a fast retreat persists, so at least
   ``confirm_count`` of the neighbouring fronts (those after the event) lie near it; a false
   front stands alone. Screening repeats until no front departs, each round screening the
   fronts that depart most in their window, so one bad front does not hide or condemn its
   neighbours;
5. ``same_day_duplicate``: of the fronts left on one day, the sub-weekly series keeps the
   one with the lowest uncertainty.

Nothing is deleted: every front keeps its row, with ``status`` (kept | screened), the test
it failed and a reason with the figures, e.g. "position 2.3 km from the neighbours' median
41 m (limit 3 MAD = 600 m)". All functions are pure: a table in, a table out.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas

from calvingfronts.timeseries.neighbours import (
    inverse_variance_weights,
    nearest_in_time,
    scaled_mad,
    theil_sen_slopes,
    values_at,
    weighted_medians,
)

# The most fronts on each side of a front whose scatter about the local trend sets its
# limit (within window_days; a sub-weekly record has fewer).
SCALE_NEIGHBOURS = 15

SCREENING_TESTS = (
    "uncertainty",
    "unplaced",
    "short",
    "same_day_disagreement",
    "temporal_outlier",
    "box_outlier",
    "same_day_duplicate",
)


@dataclass(frozen=True)
class ScreeningSettings:
    """The thresholds (config key ``screening``; config/README.md explains each)."""

    max_uncertainty_m: float | None = 750.0
    screen_uncertain: bool = False
    uncertain_limit_m: float = 150.0
    box_outliers: bool = True
    window_days: float = 30.0
    mad_factor: float = 3.0
    min_limit_m: float = 300.0
    min_neighbours: int = 3
    neighbours_each_side: int = 3
    length_iqr_factor: float | None = 1.5
    min_length_ratio: float = 0.75
    confirm_count: int = 1
    same_day_max_difference_m: float = 300.0

    @classmethod
    def from_dict(cls, values: dict | None) -> ScreeningSettings:
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown screening setting(s) {unknown}; known: {sorted(known)}")
        return cls(**values)


def distance_text(metres: float) -> str:
    """A distance as people write it: '410 m', '2.3 km'."""
    if abs(metres) >= 1000.0:
        return f"{metres / 1000.0:.1f} km"
    return f"{metres:.0f} m"


def screen_fronts(
    table: pandas.DataFrame, settings: ScreeningSettings, *, on_centreline: bool = False
) -> pandas.DataFrame:
    """``table`` (one row per front: ``acquired`` UTC times, ``sensor``, ``scene_id``,
    ``position_m`` (NaN where unknown), ``uncertainty_m`` (NaN where unknown)) with
    ``status``, ``screening_test`` and ``screening_reason`` set, in the same row order.

    ``on_centreline``: the positions were measured on a centreline, so a front without one
    does not cross it and is screened (``unplaced``). Without a centreline no front has a
    position, and fronts are only screened on their uncertainty.
    """
    frame = table.copy()
    frame["status"] = "kept"
    frame["screening_test"] = ""
    frame["screening_reason"] = ""
    frame["screening_flags"] = ""
    if frame.empty:
        return frame
    times = pandas.to_datetime(frame["acquired"], utc=True)
    days = (times - pandas.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds().to_numpy()
    days = days / 86400.0
    dates = times.dt.strftime("%Y-%m-%d").to_numpy()
    position = frame["position_m"].to_numpy(dtype=float)
    uncertainty = frame["uncertainty_m"].to_numpy(dtype=float)
    length = (
        frame["length_m"].to_numpy(dtype=float)
        if "length_m" in frame
        else np.full(len(frame), np.nan)
    )
    box_position = (
        frame["area_change_m2"].to_numpy(dtype=float) / frame["box_width_m"].to_numpy(dtype=float)
        if {"area_change_m2", "box_width_m"} <= set(frame)
        else np.full(len(frame), np.nan)
    )
    labels = (frame["sensor"].astype(str) + " " + frame["scene_id"].astype(str)).to_numpy()
    state = _State(days, dates, position, uncertainty, length, labels, settings)
    state.screen_uncertain()
    if on_centreline:
        state.screen_unplaced()
    state.screen_short()
    state.screen_same_day_disagreements()
    state.screen_temporal_outliers()
    if settings.box_outliers:
        # The box method's mean position across the box (area / width) sees the whole
        # front, where the centreline sees one point: a doubtful line right at the
        # centreline and wrong beside it departs here. Only doubtful fronts are judged on
        # it: on Jakobshavn's real traces the box-mean jumps by 5-10 km between good
        # fronts days apart (judging all of them screened 24 % of the traces).
        state.screen_temporal_outliers(
            box_position, "box_outlier", "box-mean position", judged=state.doubtful
        )
    if on_centreline:
        state.flag_unjudged()
    state.keep_best_per_day()
    screened = ~state.kept
    frame.loc[screened, "status"] = "screened"
    frame["screening_test"] = state.tests
    frame["screening_reason"] = state.reasons
    frame["screening_flags"] = [",".join(flags) for flags in state.flags]
    return frame


class _State:
    """The fronts' arrays and the screening decisions made so far.

    The fronts are also held in time order, so that the neighbours of a front (the fronts
    within ``window_days``) are found by binary search, and fronts by day in one pass: the
    work grows with the fronts times their neighbours, not with the fronts squared.
    """

    def __init__(
        self, days, dates, position, uncertainty, length, labels, settings: ScreeningSettings
    ):
        self.days = days
        self.length = length
        self.dates = dates
        self.position = position
        self.uncertainty = uncertainty
        self.labels = labels
        self.settings = settings
        self.kept = np.ones(len(days), dtype=bool)
        self.tests = np.full(len(days), "", dtype=object)
        self.reasons = np.full(len(days), "", dtype=object)
        self.flags: list[list[str]] = [[] for _ in range(len(days))]
        self.doubtful = np.zeros(len(days), dtype=bool)  # flagged "uncertain"
        self.by_time = np.argsort(days, kind="stable")
        self.sorted_days = days[self.by_time]
        self.day_number = np.unique(dates, return_inverse=True)[1]
        self.same_day: dict[str, np.ndarray] = {}
        order = np.argsort(dates, kind="stable")
        names, starts = np.unique(dates[order], return_index=True)
        for name, group in zip(names, np.split(order, starts[1:]), strict=True):
            self.same_day[str(name)] = np.sort(group)

    def _screen(self, index: int, test: str, reason: str) -> None:
        self.kept[index] = False
        self.tests[index] = test
        self.reasons[index] = reason

    def _label(self, index: int) -> str:
        return str(self.labels[index])

    def screen_uncertain(self) -> None:
        """Fronts whose uncertainty is above the limit are doubtful: flagged, and screened
        only where ``screen_uncertain`` says so. Kept, the time series judges them like
        any other front (a doubtful front that its neighbours contradict goes), and their
        weight as others' neighbours is small."""
        limit = self.settings.max_uncertainty_m
        if limit is None:
            return
        for index in np.nonzero(self.uncertainty > limit)[0]:
            if not self.settings.screen_uncertain:
                self.flags[index].append("uncertain")
                self.doubtful[index] = True
                continue
            self._screen(
                index,
                "uncertainty",
                f"uncertainty {distance_text(self.uncertainty[index])} above the limit "
                f"{distance_text(limit)}",
            )

    def screen_unplaced(self) -> None:
        for index in np.nonzero(self.kept & ~np.isfinite(self.position))[0]:
            self._screen(
                index,
                "unplaced",
                "the front does not cross the glacier's centreline, even extended by its own "
                "span: it cannot be placed or checked against its neighbours",
            )

    def _placed(self) -> np.ndarray:
        return self.kept & np.isfinite(self.position)

    def _window(self, index: int) -> np.ndarray:
        """Every front within the window of ``index`` (itself and its day included)."""
        low = np.searchsorted(self.sorted_days, self.days[index] - self.settings.window_days)
        high = np.searchsorted(
            self.sorted_days, self.days[index] + self.settings.window_days, side="right"
        )
        return self.by_time[low:high]

    def _neighbours(self, index: int, candidates: np.ndarray) -> np.ndarray:
        """Kept fronts with a position within the window, of other days than ``index``."""
        window = self._window(index)
        chosen = window[candidates[window] & (self.dates[window] != self.dates[index])]
        return np.sort(chosen)

    def _neighbour_median(self, index: int, candidates: np.ndarray) -> float | None:
        neighbours = self._neighbours(index, candidates)
        if len(neighbours) < self.settings.min_neighbours:
            return None
        return float(np.median(self.position[neighbours]))

    def _days_of(self, mask: np.ndarray):
        """(date, fronts of that date within ``mask``) for every date, in date order."""
        for date, group in self.same_day.items():
            chosen = group[mask[group]]
            if len(chosen):
                yield date, chosen

    def screen_short(self) -> None:
        """Screen fronts much shorter than their neighbours in time (AutoTerm's shape test,
        an inter-quartile rule): a partial line, cut short by cloud or mélange, or a piece
        of something else. Judged against the fronts that passed the tests before."""
        factor = self.settings.length_iqr_factor
        if factor is None:
            return
        candidates = self._placed() & np.isfinite(self.length)
        which = np.nonzero(candidates)[0]
        if not len(which):
            return
        lengths = values_at(
            self.length, self._local(candidates, self.settings.neighbours_each_side)[which]
        )
        count = np.isfinite(lengths).sum(axis=1)
        usable = count >= self.settings.min_neighbours
        which, lengths, count = which[usable], lengths[usable], count[usable]
        if not len(which):
            return
        low, median, high = np.nanpercentile(lengths, [25, 50, 75], axis=1)
        # The fence alone is tight where the neighbours happen to agree closely.
        limit = np.minimum(low - factor * (high - low), self.settings.min_length_ratio * median)
        for row in np.nonzero(self.length[which] < limit)[0]:
            index = which[row]
            self._screen(
                index,
                "short",
                f"length {distance_text(self.length[index])} against a median of "
                f"{distance_text(median[row])} for its {count[row]} nearest fronts in time "
                f"(limit {distance_text(limit[row])}: the lower quartile less {factor:g} "
                f"inter-quartile ranges, at most {self.settings.min_length_ratio:g} of the "
                "median): a partial front",
            )

    def screen_same_day_disagreements(self) -> None:
        placed = self._placed()
        limit = self.settings.same_day_max_difference_m
        for _, group in self._days_of(placed):
            if len(group) < 2 or np.ptp(self.position[group]) <= limit:
                continue
            reference = self._neighbour_median(group[0], placed)
            if reference is None:
                # No neighbours to ask: trust the front the members agree on most.
                keep = group[np.argmin(np.nan_to_num(self.uncertainty[group], nan=np.inf))]
                basis = "which has the lowest uncertainty (too few neighbours in time)"
            else:
                keep = group[np.argmin(np.abs(self.position[group] - reference))]
                basis = (
                    f"which lies nearer the neighbours' median "
                    f"{distance_text(reference - self.position[keep])} from it"
                )
            for index in group:
                apart = abs(self.position[index] - self.position[keep])
                if index != keep and apart > limit:
                    self._screen(
                        index,
                        "same_day_disagreement",
                        f"position {distance_text(apart)} from the same day's front "
                        f"{self._label(keep)} (limit {distance_text(limit)}), {basis}",
                    )

    def _local(self, mask: np.ndarray, count: int) -> np.ndarray:
        """Every front's ``count`` nearest fronts of ``mask`` before it, then as many after
        it (other days, within ``window_days``), nearest first on each side; -1 for none."""
        before, after = nearest_in_time(
            self.days, self.day_number, mask, count, self.settings.window_days
        )
        return np.hstack([before, after])

    def _judge(
        self, series: np.ndarray, placed: np.ndarray, nearest: np.ndarray, which: np.ndarray
    ) -> dict:
        """What the neighbours (fronts of ``placed``; ``nearest`` is ``_local`` of them)
        expect of the fronts ``which``: the figures of the test, one array each, for those
        fronts.

        The expected value is the median of the ``neighbours_each_side`` nearest fronts on
        each side, moved to the front's day along their Theil-Sen slope where they lie on
        both sides (a trend is not extrapolated past the record's end or a gap), each
        weighted by the inverse square of its uncertainty where fronts have one. The limit
        is ``mad_factor`` scaled MADs of the window's fronts (up to ``SCALE_NEIGHBOURS`` on
        each side) about that local trend, at least the floor: the few nearest alone give a
        scale too noisy to judge by."""
        settings = self.settings
        each = settings.neighbours_each_side
        local = nearest[which]
        offset = values_at(self.days, local) - self.days[which, None]
        values = values_at(series, local)
        count = np.isfinite(values).sum(axis=1)
        two_sided = np.isfinite(values[:, :each]).any(axis=1) & np.isfinite(values[:, each:]).any(
            axis=1
        )
        slope = np.zeros(len(which))
        if two_sided.any():
            slope[two_sided] = theil_sen_slopes(offset[two_sided], values[two_sided])
        slope = np.nan_to_num(slope)
        moved = values - slope[:, None] * offset
        weights = inverse_variance_weights(values_at(self.uncertainty, local))
        expected = weighted_medians(moved, weights)
        wide = self._local(placed, SCALE_NEIGHBOURS)[which]
        around = values_at(series, wide) - (
            expected[:, None]
            + slope[:, None] * (values_at(self.days, wide) - self.days[which, None])
        )
        mad = np.nan_to_num(scaled_mad(around))
        doubtful = self.doubtful[which]
        # A doubtful front gets less benefit of the doubt: a smaller departure contradicts it.
        floor = np.where(doubtful, settings.uncertain_limit_m, settings.min_limit_m)
        limit = np.maximum(settings.mad_factor * mad, floor)
        departure = np.abs(series[which] - expected)
        # Seen again: the confirm_count nearest on one side all lie within the limit of it
        # (unmoved: a calving event is a step that no trend follows, and the fronts after it
        # confirm each other, as the fronts before it confirm the last of them).
        confirmed = np.zeros(len(which), dtype=bool)
        confirm = settings.confirm_count
        if confirm:
            for side in (values[:, :confirm], values[:, each : each + confirm]):
                near = np.abs(side - series[which, None]) <= limit[:, None]
                confirmed |= near.all(axis=1)
        judged = (count >= settings.min_neighbours) & np.isfinite(series[which])
        ratio = np.where(judged & ~confirmed & (departure > limit), departure / limit, 0.0)
        return {
            "ratio": ratio,
            "departure": departure,
            "count": count,
            "slope": slope,
            "mad": mad,
            "floor": floor,
            "doubtful": doubtful,
        }

    def _departure_reason(self, figures: dict, row: int, what: str) -> str:
        settings = self.settings
        mad, floor = figures["mad"][row], figures["floor"][row]
        limit = max(settings.mad_factor * mad, floor)
        if settings.mad_factor * mad >= floor:
            limit_text = f"{settings.mad_factor:g} MAD = {distance_text(limit)}"
        else:
            which = (
                "the minimum for an uncertain front" if figures["doubtful"][row] else "the minimum"
            )
            limit_text = (
                f"{distance_text(limit)}, {which}; {settings.mad_factor:g} MAD = "
                f"{distance_text(settings.mad_factor * mad)}"
            )
        slope = figures["slope"][row]
        trend = f", trend {slope:+.0f} m/day" if slope else ""
        return (
            f"{what} {distance_text(figures['departure'][row])} from where its "
            f"{figures['count'][row]} nearest fronts in time put it (within "
            f"{settings.window_days:g} days{trend}; limit {limit_text}), and not seen again: "
            f"not the {settings.confirm_count} nearest on either side within the limit of it"
        )

    def flag_unjudged(self) -> None:
        """Kept fronts with too few neighbours in time to be checked against them: the
        time series could not confirm them (a sparse record, a gap, the record's ends)."""
        placed = self._placed()
        count = (self._local(placed, self.settings.neighbours_each_side) >= 0).sum(axis=1)
        for index in np.nonzero(placed & (count < self.settings.min_neighbours))[0]:
            self.flags[index].append("unjudged")

    def screen_temporal_outliers(
        self,
        series: np.ndarray | None = None,
        test: str = "temporal_outlier",
        what: str = "position",
        judged: np.ndarray | None = None,
    ) -> None:
        """Screen, round after round, the worst departure of ``series`` (default: the
        positions) among its nearest fronts in time, until no front departs; only the
        fronts in ``judged`` (default: all) can be screened, all serve as neighbours. A
        round judges again only the fronts whose window lost a front in the round before:
        the others' departures stand as they were."""
        series = self.position if series is None else series
        judged = np.ones(len(series), dtype=bool) if judged is None else judged
        ratio = np.zeros(len(series))
        reasons: dict[int, tuple[dict, int]] = {}
        placed = self._placed() & np.isfinite(series)
        which = np.nonzero(placed & judged)[0]
        while True:
            nearest = self._local(placed, self.settings.neighbours_each_side)
            if len(which):
                figures = self._judge(series, placed, nearest, which)
                ratio[which] = figures["ratio"]
                for row in np.nonzero(figures["ratio"] > 0)[0]:
                    reasons[int(which[row])] = (figures, int(row))
            departing = np.nonzero(placed & (ratio > 0))[0]
            if not len(departing):
                return
            # Screen only the worst departure among each front's nearest this round: its
            # neighbours are judged again without it.
            local = nearest[departing]
            rival = np.where(local >= 0, ratio[np.clip(local, 0, None)], 0.0).max(axis=1)
            worst = departing[ratio[departing] >= rival]
            for index in worst:
                figures, row = reasons[int(index)]
                self._screen(int(index), test, self._departure_reason(figures, row, what))
            ratio[worst] = 0.0
            placed = self._placed() & np.isfinite(series)
            which = np.nonzero(self._within_windows(worst) & placed & judged)[0]

    def _within_windows(self, indices: np.ndarray) -> np.ndarray:
        """The fronts within ``window_days`` of any of ``indices``, as a mask."""
        window = self.settings.window_days
        low = np.searchsorted(self.sorted_days, self.days[indices] - window, side="left")
        high = np.searchsorted(self.sorted_days, self.days[indices] + window, side="right")
        steps = np.zeros(len(self.days) + 1, dtype=np.int64)
        np.add.at(steps, low, 1)
        np.add.at(steps, high, -1)
        mask = np.zeros(len(self.days), dtype=bool)
        mask[self.by_time] = np.cumsum(steps[:-1]) > 0
        return mask

    def keep_best_per_day(self) -> None:
        for _, group in self._days_of(self.kept):
            if len(group) < 2:
                continue
            order = np.argsort(np.nan_to_num(self.uncertainty[group], nan=np.inf), kind="stable")
            best = group[order[0]]
            for index in group[order[1:]]:
                self._screen(
                    index,
                    "same_day_duplicate",
                    f"the same day's front {self._label(best)} is kept: uncertainty "
                    f"{_uncertainty_text(self.uncertainty[best])} against "
                    f"{_uncertainty_text(self.uncertainty[index])}",
                )


def _uncertainty_text(value: float) -> str:
    return "unknown" if not np.isfinite(value) else distance_text(value)
