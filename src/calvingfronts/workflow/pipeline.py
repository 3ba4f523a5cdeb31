"""The per-scene stages with their file I/O: what each workflow rule runs.

Each function reads its inputs, calls the pure functions of the science modules and writes
its one output atomically. A scene's failure is turned into a rejection marker (see
:mod:`calvingfronts.raster_io`) instead of an error, so one bad scene never stops the run;
the rejection travels to the ``rejected`` layer with the stage that stopped it. Errors that
are not the scene's fault (a missing model, a bad configuration, an output that cannot be
written: :class:`calvingfronts.raster_io.OutputWriteError`, a full disk) still raise, so
the job fails and a re-run recomputes the scene.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from rasterio.errors import RasterioError
from rasterio.features import geometry_mask

from calvingfronts.glaciers.config import GlacierConfig
from calvingfronts.preprocess.normalize import normalize, screen_coverage
from calvingfronts.raster_io import (
    Raster,
    is_storage_fault,
    read_raster,
    write_raster,
    write_rejected,
    write_text,
)
from calvingfronts.rejection import SceneRejected
from calvingfronts.scenes.listing import Listing
from calvingfronts.scenes.manifest import Scene, format_utc
from calvingfronts.scenes.sensors import get_sensor
from calvingfronts.sources import get_source, source_options

log = logging.getLogger(__name__)


@contextlib.contextmanager
def rejecting(
    stage: str, output: str | os.PathLike, scene: Scene, on_transient=None
) -> Iterator[None]:
    """Write a rejection marker to ``output`` if the scene fails inside the block.

    Anything raised while reading and handling one scene's pixels is that scene's problem:
    an unreadable file, a server that answered garbage, a raster with no data. It is logged
    with its traceback and recorded, and the run goes on with the other scenes. Failing to
    write our own output is not: ``OutputWriteError`` passes through, and so does an
    OSError of a full disk or a read-only file system (e.g. a download cache filling up).
    """
    try:
        yield
    except SceneRejected as rejection:
        if rejection.transient and on_transient is not None:
            rejection = on_transient(output, rejection)
        log.warning("scene %s rejected at %s: %s", scene.scene_id, rejection.stage, rejection)
        write_rejected(output, rejection, tags=_scene_tags(scene))
    except (RasterioError, OSError, ValueError, RuntimeError) as error:
        if is_storage_fault(error):
            raise
        log.exception("scene %s failed at %s", scene.scene_id, stage)
        rejection = SceneRejected(stage, f"{type(error).__name__}: {error}")
        write_rejected(output, rejection, tags=_scene_tags(scene))


def _scene_tags(scene: Scene) -> dict[str, str]:
    return {
        "SCENE_ID": scene.scene_id,
        "SENSOR": scene.sensor,
        "ACQUIRED": format_utc(scene.acquired),
    }


def fjord_mask(glacier: GlacierConfig, raster: Raster) -> np.ndarray:
    """True inside the glacier's fjord polygon on the raster's grid."""
    return geometry_mask(
        [glacier.fjord], out_shape=raster.band.shape, transform=raster.transform, invert=True
    )


def list_stage(
    config: dict, glacier: GlacierConfig, sensor: str, fetched_dir: str | None = None
) -> Listing:
    """The scenes of one sensor, the source's rows set aside, or why the archive failed.

    A scene is new when ``fetched_dir`` holds no fetched product of it yet: that is the work
    a run of the target will do for this sensor. An archive that cannot be asked (offline,
    refusing, answering garbage) or a local manifest that cannot be read is the listing's
    failure, not an error: the glacier's other sensors go on (:mod:`calvingfronts.scenes.listing`).
    """
    from calvingfronts.sources.http import ArchiveError
    from calvingfronts.sources.local import ManifestError

    settings = glacier.sensors[sensor]
    source = get_source(settings.source)
    try:
        listed = source.list_scenes(
            glacier, settings, source_options(config, settings.source, settings.options)
        )
    except (ArchiveError, ManifestError, OSError) as error:
        # requests' errors are OSErrors: a refused connection or a DNS failure lands here.
        listing = Listing(glacier.name, sensor, settings.source, [], [], failure=str(error))
        log.error(listing.summary(), exc_info=True)
        return listing
    new = None
    if fetched_dir is not None:
        new = sum(not (Path(fetched_dir) / f"{s.scene_id}.tif").exists() for s in listed)
    listing = Listing(
        glacier.name,
        sensor,
        settings.source,
        list(listed),
        getattr(listed, "rejected", []),
        new=new,
    )
    log.info(listing.summary())
    for row in listing.rejected:
        log.warning("row rejected: %s", row.reason)
    return listing


# How many runs in a row may retry a scene whose archive failed (timeout, server error).
MAX_FETCH_ATTEMPTS = 5


# Beside a fetched scene: its failed attempts, as a number.
ATTEMPTS_SUFFIX = ".attempts"


def attempts_path(output: str | os.PathLike) -> Path:
    """Where the fetch stage counts a scene's failed attempts; beside its output."""
    return Path(f"{output}{ATTEMPTS_SUFFIX}")


def fetch_attempts(output: str | os.PathLike) -> int:
    """Failed attempts so far, capped: a change of it makes Snakemake retry the fetch."""
    try:
        return min(int(attempts_path(output).read_text()), MAX_FETCH_ATTEMPTS)
    except (OSError, ValueError):
        return 0


def _count_failed_attempt(output: str, rejection: SceneRejected) -> SceneRejected:
    attempt = fetch_attempts(output) + 1
    write_text(attempts_path(output), str(attempt))
    if attempt >= MAX_FETCH_ATTEMPTS:
        note = f"gave up after {attempt} attempts"
    else:
        note = f"attempt {attempt} of {MAX_FETCH_ATTEMPTS}; retried when the target is re-run"
    return SceneRejected(rejection.stage, f"{rejection.reason} ({note})", transient=True)


def fetch_stage(config: dict, glacier: GlacierConfig, scene: Scene, output: str) -> None:
    """Fetch a scene onto its grid; an archive fault is counted so a later run retries it."""
    settings = glacier.sensors[scene.sensor]
    with rejecting("fetch", output, scene, on_transient=_count_failed_attempt):
        source = get_source(scene.source)
        raster = source.fetch_scene(
            scene,
            glacier,
            glacier.grid(scene.sensor),
            source_options(config, scene.source, settings.options),
        )
        raster.tags.update(_scene_tags(scene))
        write_raster(output, raster)
        log.info("fetched %s onto a %s grid", scene.scene_id, "x".join(map(str, raster.band.shape)))


def preprocess_stage(
    glacier: GlacierConfig,
    scene: Scene,
    fetched: str,
    output: str,
    histogram: str,
    min_valid_fraction: float,
) -> None:
    """One normalized band in [0, 1] with NaN where there is no data."""
    from calvingfronts.scenes.sensors import raster_to_physical, raster_value_range

    with rejecting("preprocess", output, scene):
        raster = read_raster(fetched)
        sensor = get_sensor(scene.sensor)
        values = raster_to_physical(raster, sensor)
        valid = np.isfinite(values)
        fraction = screen_coverage(valid, fjord_mask(glacier, raster), min_valid_fraction)
        image = normalize(values, valid, histogram, raster_value_range(raster, sensor))
        image[~valid] = np.nan
        tags = {
            **_scene_tags(scene),
            "HISTOGRAM": histogram,
            "VALID_FRACTION": f"{fraction:.4f}",
        }
        write_raster(
            output,
            Raster(image[np.newaxis], raster.transform, raster.crs, nodata=np.nan, tags=tags),
        )


def inference_stage(
    model,
    scene: Scene,
    preprocessed: str,
    output: str,
    tile_size: int,
    overlap: int,
    members: int = 1,
    region_bounds: tuple[float, float, float, float] | None = None,
    earlier=None,
):
    """Front probability over the fjord (``region_bounds``: its bounding box in the grid's
    CRS) and CONTEXT_PX pixels around it, or over the whole area of interest without it;
    nodata elsewhere and where the scene has no data.

    Band 1 is the members' mean probability, the map the front is drawn from; with more than
    one member, the members' own maps follow (tag ``MEMBERS`` names their views), from which
    the vectorize stage measures how much the front depends on the view. A model with a
    zone head adds one band per zone, the members' mean (tag ``ZONES`` names them).

    Returns the network's Prediction over the inferred window (None where the scene was
    rejected). ``earlier``, this stage's
    Prediction of the same scene with fewer views, is reused: only the views after its own
    are made (adaptive views, calvingfronts.workflow.batch_run).
    """
    from calvingfronts.grid import pixel_window
    from calvingfronts.inference.front_model import CONTEXT_PX, MEMBER_VIEWS, Prediction

    prediction = None  # where the scene is rejected
    with rejecting("inference", output, scene):
        raster = read_raster(preprocessed)
        image = raster.band
        valid = np.isfinite(image)
        rows, cols = (
            pixel_window(region_bounds, raster.transform, image.shape, CONTEXT_PX)
            if region_bounds is not None
            else (slice(None), slice(None))
        )
        inferred = np.zeros(image.shape, dtype=bool)
        inferred[rows, cols] = True
        window = np.where(valid, image, 0.0)[rows, cols]
        made = 0 if earlier is None else len(earlier.members)
        if earlier is not None and (made >= members or earlier.members.shape[1:] != window.shape):
            # The caller's bug, not the scene's fault: not a rejection (rejecting lets it by).
            raise AssertionError(
                f"the earlier prediction ({made} views of {earlier.members.shape[1:]}) is not "
                f"a start of {members} views of this scene's {window.shape} window"
            )
        if made:
            rest = model.predict_scene(window, tile_size, overlap, members, first_member=made)
            zones = (
                None
                if rest.zones is None
                else (earlier.zones * made + rest.zones * (members - made)) / members
            )
            prediction = Prediction(np.concatenate([earlier.members, rest.members]), zones)
        else:
            prediction = model.predict_scene(window, tile_size, overlap, members)
        zone_count = 0 if prediction.zones is None else len(prediction.zones)
        # One array for every band, filled in place: the full-scene maps are the stage's
        # largest memory, and copies of them (a stack, then a concatenation) would double it.
        member_bands = members if members > 1 else 0
        bands = np.zeros((1 + member_bands + zone_count, *image.shape), dtype=np.float32)
        bands[0, rows, cols] = prediction.members.mean(axis=0)
        if member_bands:
            bands[1 : 1 + members, rows, cols] = prediction.members
        valid &= inferred
        tags = {
            **raster.tags,
            "MODEL_NAME": model.info.name,
            "MODEL_VERSION": model.info.version,
            "PROVIDER": model.provider,
            "MEMBERS": ",".join(list(MEMBER_VIEWS)[:members]),
        }
        if zone_count:
            bands[1 + member_bands :, rows, cols] = prediction.zones
            tags["ZONES"] = ",".join(model.info.zones)
        write_raster(output, encode_probability(bands, valid, raster.transform, raster.crs, tags))
    return prediction


# Probabilities are stored as bytes: steps of 1/254 are far finer than any threshold needs,
# and nine bands of bytes take less room than one of float32 (the members multiply the maps).
PROBABILITY_NODATA = 255
PROBABILITY_STEPS = 254


def encode_probability(bands: np.ndarray, valid: np.ndarray, transform, crs, tags) -> Raster:
    """Probabilities (bands, H, W) in [0, 1] as a byte raster; ``PROBABILITY_NODATA``
    where ``valid`` (H, W) is False."""
    data = np.rint(np.clip(bands, 0.0, 1.0) * PROBABILITY_STEPS).astype(np.uint8)
    data[:, ~valid] = PROBABILITY_NODATA
    scales = (1.0 / PROBABILITY_STEPS,) * len(data)
    return Raster(data, transform, crs, nodata=PROBABILITY_NODATA, scales=scales, tags=tags)


def probability_members(path: str) -> int:
    """How many views a probability map was made with (its ``MEMBERS`` tag; 1 without, as
    in a rejection marker), or 0 where no file opens: the vectorize stage says why."""
    import rasterio

    try:
        with rasterio.open(path) as src:
            views = src.tags().get("MEMBERS", "")
    except (RasterioError, OSError):
        return 0
    return max(len([v for v in views.split(",") if v]), 1)


def decode_probability(raster: Raster) -> np.ndarray:
    """The probabilities (bands, H, W) of a probability raster as float32, NaN where there
    is no data (float rasters of earlier versions are taken as they are)."""
    data = raster.data.astype(np.float32)
    if raster.data.dtype == np.uint8:
        nodata = raster.data == raster.nodata
        data *= np.float32(1.0 / PROBABILITY_STEPS)
        data[nodata] = np.nan
    return data


def probability_bands(raster: Raster) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...]]:
    """(each member's map (members, H, W), the zones' maps (zones, H, W) or None, the
    zones' names) of a probability raster, NaN where there is no data. One member's map is
    band 1 itself; a raster without the ``MEMBERS`` tag (earlier versions) holds members
    only."""
    bands = decode_probability(raster)
    names = tuple(n for n in raster.tags.get("ZONES", "").split(",") if n)
    views = [v for v in raster.tags.get("MEMBERS", "").split(",") if v]
    count = len(views) if views else max(len(bands) - 1, 1)
    if len(bands) != (1 if count == 1 else 1 + count) + len(names):
        raise ValueError(
            f"a probability raster of {len(bands)} bands cannot hold the mean, {count} "
            f"member map(s) and zones {list(names)} of its tags"
        )
    members = bands[:1] if count == 1 else bands[1 : 1 + count]
    zones = bands[len(bands) - len(names) :] if names else None
    return members, zones, names


def vectorize_stage(
    glacier: GlacierConfig,
    scene: Scene,
    probability_path: str,
    output: str,
    options: dict,
    calibration=None,
) -> dict:
    """The scene's record: its front with quality figures, or why it has none.

    With member maps in the probability raster the record also has the members' spread
    (``quality.spread_m``) and, given the model's ``calibration``
    (:class:`calvingfronts.fronts.uncertainty.Calibration`), ``uncertainty_m``: a 90 % bound on
    the front's mean distance error.
    """
    from calvingfronts.fronts.scene_front import scene_front
    from calvingfronts.fronts.vectorize import pixel_size

    record = {
        "glacier": glacier.name,
        "sensor": scene.sensor,
        "scene_id": scene.scene_id,
        "acquired": format_utc(scene.acquired),
        "source": scene.source,
        "pixel_size_m": glacier.sensors[scene.sensor].pixel_size,
    }
    options = dict(options)
    fronts_from = options.pop("fronts_from", "head")
    try:
        raster = read_raster(probability_path)
        members, zones, zone_names = probability_bands(raster)
        valid = np.isfinite(members[0])
        result, spread, members_without_front = scene_front(
            np.where(valid, members, 0.0).astype(np.float32),
            raster.transform,
            glacier.fjord,
            valid=valid,
            zones=None if zones is None else np.where(valid, zones, 0.0),
            zone_names=zone_names,
            fronts_from=fronts_from,
            flow_azimuth=glacier.flow_azimuth,
            **options,
        )
        record.update(
            model_name=raster.tags.get("MODEL_NAME"),
            model_version=raster.tags.get("MODEL_VERSION"),
            histogram=raster.tags.get("HISTOGRAM"),
        )
        quality = dict(result.quality)
        if "VALID_FRACTION" in raster.tags:
            quality["valid_fraction"] = float(raster.tags["VALID_FRACTION"])
        if scene.cloud_cover is not None:
            quality["cloud_cover"] = scene.cloud_cover
        if spread is not None:
            quality["members"] = len(members)
            quality["spread_m"] = round(spread, 1)
            quality["members_without_front"] = members_without_front
        if result.front is None:
            record.update(status="rejected", stage="vectorize", reason=result.reason)
        else:
            record.update(status="accepted", front_wkt=result.front.wkt, quality=quality)
            # The calibration was fitted on the head's fronts (calibrate-uncertainty draws
            # them so); a zone front's error is another quantity, left without a bound.
            drawn_from_zones = quality.get("drawn_from") == "zones"
            if spread is not None and calibration is not None and not drawn_from_zones:
                pixel = pixel_size(raster.transform)
                record["uncertainty_m"] = round(calibration.uncertainty_m(spread, pixel), 1)
                position_bound = calibration.position_uncertainty_m(spread, pixel)
                if position_bound is not None:
                    record["position_uncertainty_m"] = round(position_bound, 1)
    except SceneRejected as rejection:
        record.update(status="rejected", **rejection.as_record())
    except (RasterioError, OSError, ValueError) as error:
        if is_storage_fault(error):
            raise
        log.exception("scene %s failed at vectorize", scene.scene_id)
        record.update(
            status="rejected", stage="vectorize", reason=f"{type(error).__name__}: {error}"
        )
    # Outside the try: a record that cannot be written fails the job (OutputWriteError).
    write_text(output, json.dumps(record, indent=1, sort_keys=True, default=_json_default))
    if record["status"] == "rejected":
        log.warning(
            "scene %s rejected at %s: %s", scene.scene_id, record["stage"], record["reason"]
        )
    return record


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
