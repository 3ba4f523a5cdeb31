"""Archives that list a glacier's scenes and fetch their pixels onto the glacier's grid.

Every source is a module with two functions:

``list_scenes(glacier: GlacierConfig, settings: SensorSettings, options: dict) -> list[Scene]``
    the scenes of one sensor over the glacier's area of interest in the configured dates;
``fetch_scene(scene: Scene, glacier: GlacierConfig, grid: GlacierGrid, options: dict) -> Raster``
    the scene's pixels resampled onto ``grid``, in the archive's encoding (band scales and
    offsets set, ``nodata`` set, tags ``SENSOR``, ``SCENE_ID``, ``ACQUIRED`` and for SAR
    ``SAR_QUANTITY``). It raises :class:`~calvingfronts.rejection.SceneRejected` for a scene
    that cannot be had, with the reason.

``options`` is the source's block of the config (``sources.<name>``) overlaid with the
sensor's own settings for this glacier. Each module also has ``OPTIONS``, the names of every
option it reads: the one list that :mod:`calvingfronts.config` checks those blocks against.
"""

from __future__ import annotations

import importlib
from types import ModuleType

SOURCE_MODULES = {
    "synthetic": "calvingfronts.sources.synthetic",
    "local": "calvingfronts.sources.local",
    "stac": "calvingfronts.sources.stac",
    "asf": "calvingfronts.sources.asf",
}


def get_source(name: str) -> ModuleType:
    """The module of source ``name`` (imported lazily: each pulls in its own clients)."""
    try:
        return importlib.import_module(SOURCE_MODULES[name])
    except KeyError:
        known = ", ".join(sorted(SOURCE_MODULES))
        raise KeyError(f"unknown source {name!r}; known sources: {known}") from None


def known_options(name: str) -> frozenset[str]:
    """The option names source ``name`` reads (in ``sources.<name>`` or a sensor's block)."""
    return frozenset(get_source(name).OPTIONS)


def source_options(config: dict, source: str, sensor_options: dict) -> dict:
    """The source's global options overlaid with one sensor's settings."""
    return {**(config.get("sources", {}).get(source) or {}), **sensor_options}
