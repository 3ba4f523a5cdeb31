"""What listing one sensor's scenes gave, beside its manifest: the listing record.

A listing can go wrong in two ways that must not stop the rest of the run:

- a row of the source's own input is bad (a local manifest's duplicate scene_id, a date
  that is not ISO 8601, an unknown sensor, a short row, bytes that are not UTF-8): that
  row is set aside as a :class:`RowRejected` and the other rows go on; the rejection
  reaches the GeoPackage's ``rejected`` layer at stage ``list``;
- the archive cannot be asked (offline, refused, broken answers): the sensor gets an empty
  manifest, the record says ``failed`` with the reason, the glacier's other sensors and
  its merge go on, and the run ends non-zero (:mod:`calvingfronts.report.run_summary`).

The record (``results/<glacier>/manifests/<sensor>.listing.json``) also counts the failed
listings so far: the workflow passes that count to the listing as a parameter, so a
failure changes it and the next run lists the glacier's sensors again by itself.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from calvingfronts.raster_io import atomic_path
from calvingfronts.scenes.manifest import Scene, format_utc

# Causes buried in urllib3's "Max retries exceeded ... (Caused by NewConnectionError(...))"
# that a user can act on, in the words they are shown.
NETWORK_CAUSES = (
    ("Connection refused", "connection refused"),
    ("Name or service not known", "host name not found"),
    ("Temporary failure in name resolution", "host name not found (no network?)"),
    ("Network is unreachable", "network unreachable (no network?)"),
    ("timed out", "timed out"),
)


def short_failure(reason: str) -> str:
    """A listing failure in a few words: what was asked and the network's cause, where the
    reason names one; else the reason as it is (the record keeps it whole)."""
    for marker, words in NETWORK_CAUSES:
        if marker in reason:
            asked = reason.split(" failed", 1)[0] if " failed" in reason else reason[:80]
            return f"{asked}: {words}"
    return reason


@dataclass(frozen=True)
class RowRejected:
    """A row of a source's input that gives no scene, with where it is and why."""

    sensor: str
    reason: str
    scene_id: str | None = None
    acquired: datetime | None = None


class ScenesListed(list):
    """A source's scenes (a list of :class:`Scene`) with the rows it set aside.

    A list, so sources whose input has no rows of its own return plain lists and callers
    that only want the scenes need not know the difference.
    """

    def __init__(self, scenes=(), rejected=()):
        super().__init__(scenes)
        self.rejected: list[RowRejected] = list(rejected)


@dataclass(frozen=True)
class Listing:
    """The outcome of listing one glacier's sensor."""

    glacier: str
    sensor: str
    source: str
    scenes: list[Scene]
    rejected: list[RowRejected]
    failure: str | None = None  # why the archive could not be listed
    new: int | None = None  # scenes not fetched yet

    @property
    def failed(self) -> bool:
        return self.failure is not None

    def summary(self) -> str:
        """One line for the console."""
        where = f"{self.glacier}/{self.sensor}"
        if self.failed:
            return (
                f"{where}: listing the {self.source} source failed: "
                f"{short_failure(self.failure)} "
                "(re-run the target to try again)"
            )
        text = f"{where}: {len(self.scenes)} scene(s) listed from the {self.source} source"
        if self.new is not None:
            text += f", {self.new} new"
        if self.rejected:
            text += f", {len(self.rejected)} row(s) rejected"
        return text

    def rejection_records(self) -> list[dict]:
        """The rejected rows as per-scene records (as the vectorize stage writes them)."""
        return [
            {
                "glacier": self.glacier,
                "sensor": row.sensor,
                "scene_id": row.scene_id,
                "acquired": None if row.acquired is None else format_utc(row.acquired),
                "source": self.source,
                "status": "rejected",
                "stage": "list",
                "reason": row.reason,
            }
            for row in self.rejected
        ]

    def record(self, failed_before: int) -> dict:
        """The listing record; ``failed_before``: failed listings counted so far."""
        return {
            "glacier": self.glacier,
            "sensor": self.sensor,
            "source": self.source,
            "status": "failed" if self.failed else "listed",
            "reason": self.failure,
            "scenes": len(self.scenes),
            "new": self.new,
            "failed_listings": failed_before + 1 if self.failed else failed_before,
            "rejected": self.rejection_records(),
        }


def listing_record_path(manifest: str | os.PathLike) -> Path:
    """Where a manifest's listing record lies: beside it."""
    manifest = Path(manifest)
    return manifest.with_name(f"{manifest.stem}.listing.json")


def write_listing_record(record: dict, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(record, indent=1, sort_keys=True))


def read_listing_record(path: str | os.PathLike) -> dict:
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"listing record {path} cannot be read: {error}") from None
    if not isinstance(record, dict) or record.get("status") not in ("listed", "failed"):
        raise ValueError(f"listing record {path} is not a listing record (no status)")
    return record


def failed_listings(path: str | os.PathLike) -> int:
    """Failed listings so far recorded at ``path`` (0 without a record): a new failure
    changes it, which makes Snakemake list the glacier again on the next run."""
    try:
        return int(read_listing_record(path).get("failed_listings", 0))
    except (ValueError, TypeError):
        return 0


def listing_rejections(records: list[dict]) -> list[dict]:
    """The rows the listings set aside, as per-scene records for the ``rejected`` layer;
    each once (sensors that read one manifest all see its rows of unknown sensors)."""
    seen, rows = set(), []
    for record in records:
        for row in record.get("rejected", []):
            key = json.dumps(row, sort_keys=True)
            if key not in seen:
                seen.add(key)
                rows.append(row)
    return rows


def nothing_listed(records: list[dict]) -> str | None:
    """Why a glacier has no scene at all, where every one of its listings failed (None
    where any sensor was listed): its GeoPackage would be empty, not a result."""
    if not records or any(record.get("status") != "failed" for record in records):
        return None
    reasons = "; ".join(
        f"{record.get('sensor')}: {short_failure(record.get('reason') or '')}" for record in records
    )
    return f"every listing failed, so no GeoPackage was written ({reasons})"
