"""What a scene's fetch depends on: a local file's identity, an archive scene's record."""

import json
import os
from datetime import datetime, timezone

from calvingfronts.scenes.fetch_key import MISSING, fetch_key
from calvingfronts.scenes.manifest import Scene

ACQUIRED = datetime(2020, 5, 1, tzinfo=timezone.utc)


def _local(path) -> Scene:
    return Scene("S1", "g", "terrasarx", "local", ACQUIRED, str(path))


def test_a_local_file_added_or_replaced_changes_the_key(tmp_path):
    path = tmp_path / "scene.tif"
    missing = fetch_key(_local(path))
    assert json.loads(missing)["file"] == MISSING
    path.write_bytes(b"x" * 10)
    added = fetch_key(_local(path))
    assert added != missing and json.loads(added)["file"].startswith("10 bytes")
    assert fetch_key(_local(path)) == added, "an untouched file keeps its key"
    path.write_bytes(b"y" * 10)
    os.utime(path, ns=(0, path.stat().st_mtime_ns + 1_000_000_000))
    assert fetch_key(_local(path)) != added, "same size, newer time stamp"
    path.write_bytes(b"z" * 11)
    os.utime(path, ns=(0, 0))
    assert fetch_key(_local(path)) not in (added, missing), "same time stamp, other size"


def test_the_key_reads_back_as_the_scene(tmp_path):
    scene = _local(tmp_path / "scene.tif")
    assert Scene.from_json(fetch_key(scene)) == scene


def test_an_archive_scene_key_is_its_record_alone():
    """Existing results of archive scenes keep their parameters: nothing is refetched."""
    scene = Scene("S2", "g", "landsat8", "stac", ACQUIRED, "https://example.org/S2.tif")
    assert fetch_key(scene) == scene.to_json()
