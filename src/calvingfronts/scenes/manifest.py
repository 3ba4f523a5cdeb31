"""The scene record and the per-sensor manifest that lists a glacier's scenes.

A manifest is a CSV with one row per scene: ``scene_id, glacier, sensor, source, acquired``
(ISO 8601 UTC), ``href`` (where the pixels are), ``cloud_cover`` (percent, empty where
unknown) and ``properties`` (a JSON object of source-specific details, such as asset URLs).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path

from calvingfronts.raster_io import atomic_path

MANIFEST_COLUMNS = (
    "scene_id",
    "glacier",
    "sensor",
    "source",
    "acquired",
    "href",
    "cloud_cover",
    "properties",
)

# Scene ids become file names and Snakemake wildcards.
SCENE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def parse_utc(text: str) -> datetime:
    """An ISO 8601 timestamp as an aware UTC datetime (naive input is taken as UTC)."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def format_utc(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# Letters that Unicode does not decompose into a base letter and an accent; the old
# Greenlandic kra became q in the 1973 orthography.
_LETTERS = str.maketrans(
    {"æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "ß": "ss", "ð": "d", "Ð": "D", "þ": "th",
     "Þ": "TH", "ł": "l", "Ł": "L", "œ": "oe", "Œ": "OE", "ĸ": "q"}
)  # fmt: skip


def safe_scene_id(text: str) -> str:
    """A scene id usable as a file name and a Snakemake wildcard, readable: accents are
    dropped (``scène`` -> ``scene``, ``Storstrømmen`` -> ``Storstrommen``) and each run of
    other characters becomes one ``_``. Letters of other scripts cannot be spelt in these
    characters: where any are dropped, a short hash of the whole name keeps the id its own.
    Distinct names may still meet in one id (``scène``, ``scene``): whoever lists the scenes
    must refuse duplicates."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    unaccented = "".join(c for c in decomposed if not unicodedata.combining(c))
    dropped = re.findall(r"[^A-Za-z0-9_.\-]", unaccented)
    cleaned = re.sub(r"[^A-Za-z0-9_.\-]+", "_", unaccented).strip("._-")
    if any(c.isalnum() for c in dropped):
        digest = hashlib.sha1(text.encode()).hexdigest()[:8]
        cleaned = f"{cleaned}_{digest}" if cleaned else f"scene_{digest}"
    if not cleaned:
        raise ValueError(f"cannot make a scene id from {text!r}")
    return cleaned


@dataclass(frozen=True)
class Scene:
    scene_id: str
    glacier: str
    sensor: str
    source: str
    acquired: datetime
    href: str
    cloud_cover: float | None = None
    properties: dict = field(default_factory=dict)

    def __post_init__(self):
        if not SCENE_ID_PATTERN.match(self.scene_id):
            raise ValueError(
                f"scene_id {self.scene_id!r} may only hold letters, digits, '_', '.', '-'"
            )
        if self.acquired.tzinfo is None:
            raise ValueError(f"scene {self.scene_id}: acquired must be timezone-aware (UTC)")

    def to_row(self) -> dict[str, str]:
        # Not dataclasses.asdict: it deep-copies the properties, which are only dumped here
        # (a row per scene of every batch each time the workflow plans its jobs).
        row = {f.name: getattr(self, f.name) for f in fields(self)}
        row["acquired"] = format_utc(self.acquired)
        row["cloud_cover"] = "" if self.cloud_cover is None else f"{self.cloud_cover:g}"
        row["properties"] = json.dumps(self.properties, sort_keys=True)
        return row

    @classmethod
    def from_row(cls, row: dict[str, str]) -> Scene:
        cloud = (row.get("cloud_cover") or "").strip()
        return cls(
            scene_id=row["scene_id"],
            glacier=row["glacier"],
            sensor=row["sensor"],
            source=row["source"],
            acquired=parse_utc(row["acquired"]),
            href=row["href"],
            cloud_cover=float(cloud) if cloud else None,
            properties=json.loads(row.get("properties") or "{}"),
        )

    def to_json(self) -> str:
        """A stable text form: Snakemake compares it to decide whether a fetch must rerun."""
        return json.dumps(self.to_row(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Scene:
        return cls.from_row(json.loads(text))


def manifest_text(scenes: list[Scene]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for scene in sorted(scenes, key=lambda s: (s.acquired, s.scene_id)):
        writer.writerow(scene.to_row())
    return buffer.getvalue()


def write_manifest(scenes: list[Scene], path: str | Path) -> None:
    # Counted once, not searched for each scene: a sensor can list tens of thousands.
    duplicates = sorted(i for i, n in Counter(s.scene_id for s in scenes).items() if n > 1)
    if duplicates:
        raise ValueError(f"{path}: duplicate scene ids {duplicates}")
    with atomic_path(path) as tmp:
        Path(tmp).write_text(manifest_text(scenes))


def read_manifest(path: str | Path) -> list[Scene]:
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = set(MANIFEST_COLUMNS) - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: manifest lacks columns {sorted(missing)}")
        return [Scene.from_row(row) for row in reader]
