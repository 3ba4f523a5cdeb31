"""What a scene's fetch depends on: the text whose change makes Snakemake fetch it again.

For an archive's scene that is its manifest record: a scene whose record changed (a new
version, other assets) is fetched again, the others are left alone. A scene of the ``local``
source is the user's own file, which can change with the record unchanged: a missing file
added after its rejection, a corrupt one replaced. Its key therefore also holds the file's
size and modification time - one ``stat``, cheap for 100,000 scenes, where hashing the
files would read them all on every run.
"""

from __future__ import annotations

import json
import os

from calvingfronts.scenes.manifest import Scene

# The identity of a file that is not there (yet).
MISSING = "missing"


def file_identity(path: str | os.PathLike) -> str:
    """``"<size> bytes, modified <mtime in ns>"`` of the file at ``path``, or ``"missing"``.

    A file that cannot even be looked at (a folder without permission) reads as the error,
    so fixing it changes the identity too.
    """
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return MISSING
    except OSError as error:
        return f"cannot stat: {error.strerror}"
    return f"{status.st_size} bytes, modified {status.st_mtime_ns}"


def fetch_key(scene: Scene) -> str:
    """The scene's record as JSON, for a local scene with its file's identity (key
    ``file``), which :meth:`calvingfronts.scenes.manifest.Scene.from_json` ignores.

    The record of an archive's scene is exactly ``scene.to_json()``, so adding the key to
    the workflow did not make existing results of archive scenes look out of date.
    """
    if scene.source != "local":
        return scene.to_json()
    return json.dumps({**scene.to_row(), "file": file_identity(scene.href)}, sort_keys=True)
