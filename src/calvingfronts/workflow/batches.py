"""Batches: the scenes of one glacier and sensor acquired in one period, one job for all.

Starting a Python process, importing GDAL and ONNX Runtime and loading the model take
about a second, far more than a demo scene's work; one job per scene and stage spent most
of a run on that. A batch job runs the per-scene stages for all the scenes of its period in
one process (:mod:`calvingfronts.workflow.batch_run`).

Membership depends only on a scene's acquisition time (``batches.period``: the calendar
year, quarter, month or ISO week), never on the other scenes: a new scene joins the one
batch of its period, and every other batch stays up to date. Batch ids sort in time.

Each batch writes one record file (its scenes' front records, read by the merge) and keeps,
beside it, the keys of what each of its scenes' products was computed from
(:func:`keys_path`), so a rerun of the batch recomputes only the scenes, and the stages,
whose inputs changed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from calvingfronts.scenes.manifest import Scene

PERIODS = ("year", "quarter", "month", "week")
# What batch ids look like: 2020, 2020-Q1, 2020-03, 2020-W05 (a Snakemake wildcard).
BATCH_ID_PATTERN = r"\d{4}(-Q[1-4]|-\d{2}|-W\d{2})?"


def batch_id(acquired: datetime, period: str) -> str:
    """The id of the batch of a scene acquired at ``acquired`` (UTC)."""
    if period == "year":
        return f"{acquired.year:04d}"
    if period == "quarter":
        return f"{acquired.year:04d}-Q{(acquired.month - 1) // 3 + 1}"
    if period == "month":
        return f"{acquired.year:04d}-{acquired.month:02d}"
    if period == "week":
        year, week, _ = acquired.isocalendar()
        return f"{year:04d}-W{week:02d}"
    raise ValueError(f"batches.period must be one of {', '.join(PERIODS)}, got {period!r}")


def group_by_batch(scenes: Iterable[Scene], period: str) -> dict[str, list[Scene]]:
    """The scenes by batch id, batches in time order, scenes in their given order."""
    batches: dict[str, list[Scene]] = {}
    for scene in scenes:
        batches.setdefault(batch_id(scene.acquired, period), []).append(scene)
    return dict(sorted(batches.items()))


@dataclass(frozen=True)
class SceneProducts:
    """Where one scene's products are: the same paths as when each stage was a job."""

    fetched: str
    preprocessed: str  # temporary: removed once the probability map is written
    probability: str
    record: str

    @classmethod
    def of(cls, glacier: str, sensor: str, scene_id: str, results: str = "results"):
        base = f"{results}/{glacier}"
        return cls(
            fetched=f"{base}/scenes/{sensor}/{scene_id}.tif",
            preprocessed=f"{base}/preprocessed/{sensor}/{scene_id}.tif",
            probability=f"{base}/probability/{sensor}/{scene_id}.tif",
            record=f"{base}/fronts/{sensor}/{scene_id}.json",
        )


def batch_output(glacier: str, sensor: str, batch: str, results: str = "results") -> str:
    """The batch's record file: what the merge reads."""
    return f"{results}/{glacier}/batches/{sensor}/{batch}.json"


KEYS_SUFFIX = ".keys.json"


def keys_path(output: str | os.PathLike) -> Path:
    """Where a batch keeps the keys of its scenes' products. Not a declared output:
    Snakemake removes a job's outputs before running it, and the keys must survive."""
    return Path(output).with_suffix(KEYS_SUFFIX)


def digest(*parts) -> str:
    """A short, stable hash of JSON-able values."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def write_batch_records(path: str | os.PathLike, batch: dict, records: list[dict]) -> None:
    """The batch's record file: its id and its scenes' front records, in scene order."""
    from calvingfronts.raster_io import write_text

    write_text(path, json.dumps({**batch, "records": records}, indent=1, sort_keys=True))


def read_batch_records(paths: Iterable[str | os.PathLike]) -> list[dict]:
    """The front records of the batches at ``paths``, in order."""
    records = []
    for path in paths:
        try:
            records += json.loads(Path(path).read_text())["records"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(f"batch record file {path} cannot be read: {error}") from None
    return records
