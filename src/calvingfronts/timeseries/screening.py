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

# The scaled MAD estimates the standard deviation of normally distributed positions.
MAD_TO_SIGMA = 1.4826

SCREENING_TESTS = (
    "uncertainty",
    "unplaced",
    "same_day_disagreement",
    "temporal_outlier",
    "same_day_duplicate",
)


@dataclass(frozen=True)
class ScreeningSettings:
    """The thresholds (config key ``screening``; config/README.md explains each)."""

    max_uncertainty_m: float | None = 750.0
    window_days: float = 30.0
    mad_factor: float = 3.0
    min_limit_m: float = 300.0
    min_neighbours: int = 3
    confirm_count: int = 2
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
    if frame.empty:
        return frame
    times = pandas.to_datetime(frame["acquired"], utc=True)
    days = (times - pandas.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds().to_numpy()
    days = days / 86400.0
    dates = times.dt.strftime("%Y-%m-%d").to_numpy()
    position = frame["position_m"].to_numpy(dtype=float)
    uncertainty = frame["uncertainty_m"].to_numpy(dtype=float)
    labels = (frame["sensor"].astype(str) + " " + frame["scene_id"].astype(str)).to_numpy()
    state = _State(days, dates, position, uncertainty, labels, settings)
    state.screen_uncertain()
    if on_centreline:
        state.screen_unplaced()
    state.screen_same_day_disagreements()
    state.screen_temporal_outliers()
    state.keep_best_per_day()
    screened = ~state.kept
    frame.loc[screened, "status"] = "screened"
    frame["screening_test"] = state.tests
    frame["screening_reason"] = state.reasons
    return frame


class _State:
    """The fronts' arrays and the screening decisions made so far.

    The fronts are also held in time order, so that the neighbours of a front (the fronts
    within ``window_days``) are found by binary search, and fronts by day in one pass: the
    work grows with the fronts times their neighbours, not with the fronts squared.
    """

    def __init__(self, days, dates, position, uncertainty, labels, settings: ScreeningSettings):
        self.days = days
        self.dates = dates
        self.position = position
        self.uncertainty = uncertainty
        self.labels = labels
        self.settings = settings
        self.kept = np.ones(len(days), dtype=bool)
        self.tests = np.full(len(days), "", dtype=object)
        self.reasons = np.full(len(days), "", dtype=object)
        self.by_time = np.argsort(days, kind="stable")
        self.sorted_days = days[self.by_time]
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
        limit = self.settings.max_uncertainty_m
        if limit is None:
            return
        for index in np.nonzero(self.uncertainty > limit)[0]:
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

    def _departure(self, index: int, placed: np.ndarray) -> tuple[float, str] | None:
        """(departure / limit, reason) where the front departs from its neighbours and its
        position is not seen again; None otherwise."""
        settings = self.settings
        neighbours = self._neighbours(index, placed)
        if len(neighbours) < settings.min_neighbours:
            return None
        values = self.position[neighbours]
        median = float(np.median(values))
        mad = MAD_TO_SIGMA * float(np.median(np.abs(values - median)))
        limit = max(settings.mad_factor * mad, settings.min_limit_m)
        departure = abs(self.position[index] - median)
        if departure <= limit or self._confirmed(index, neighbours, limit):
            return None
        limit_text = (
            f"{settings.mad_factor:g} MAD = {distance_text(limit)}"
            if settings.mad_factor * mad >= settings.min_limit_m
            else f"{distance_text(limit)}, the minimum; {settings.mad_factor:g} MAD = "
            f"{distance_text(settings.mad_factor * mad)}"
        )
        reason = (
            f"position {distance_text(departure)} from the neighbours' median "
            f"({len(neighbours)} fronts within {settings.window_days:g} days; limit "
            f"{limit_text}), and not seen again: fewer than {settings.confirm_count} of them "
            "within the limit of it"
        )
        return departure / limit, reason

    def _confirmed(self, index: int, neighbours: np.ndarray, limit: float) -> bool:
        """Whether at least ``confirm_count`` of the neighbours lie within ``limit`` of the
        front: then its position is seen again, a real change rather than an outlier. The
        fronts after a calving event confirm each other, on either side of the window, so
        the newest fronts of a record are confirmed by the ones just before them."""
        if self.settings.confirm_count == 0:
            return False
        agreeing = np.abs(self.position[neighbours] - self.position[index]) <= limit
        return int(agreeing.sum()) >= self.settings.confirm_count

    def screen_temporal_outliers(self) -> None:
        """Screen, round after round, the worst departure within each window, until no front
        departs. A round judges again only the fronts whose window lost a front in the round
        before: the others' departures stand as they were."""
        placed = self._placed()
        departures = {}
        changed = np.nonzero(placed)[0]
        for _ in range(len(self.position)):
            for index in changed:
                found = self._departure(int(index), placed) if placed[index] else None
                if found is None:
                    departures.pop(int(index), None)
                else:
                    departures[int(index)] = found
            if not departures:
                return
            # Screen only the worst departure within each window this round: its
            # neighbours are judged again without it.
            screened = []
            for index, (value, reason) in sorted(departures.items()):
                window = self._neighbours(index, placed)
                if all(departures.get(int(other), (0.0,))[0] <= value for other in window):
                    screened.append((index, reason))
            for index, reason in screened:
                self._screen(index, "temporal_outlier", reason)
                departures.pop(index)
            placed = self._placed()
            touched = {int(other) for index, _ in screened for other in self._window(index)}
            changed = np.array(sorted(touched), dtype=int)

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
