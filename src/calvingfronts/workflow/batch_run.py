"""Running one batch: the per-scene stages for each of its scenes, in one process.

The stages are those of :mod:`calvingfronts.workflow.pipeline`, called once per scene: fetch,
preprocess, inference, vectorize, with the same products at the same paths, so a scene's
products do not depend on the batch it ran in. What the batch adds is around them:

- **Reuse.** Each product's key is a hash of what it was computed from (the scene's
  record, a local file's size and time stamp, the settings and model of its stage, and the
  key of the product before it). A product whose key is unchanged is kept; a new scene in
  the batch, a model or setting that changed, or a product deleted by hand is recomputed,
  with what depends on it, and nothing else.
- **Overlap.** Scenes are fetched by ``fetch_threads`` threads ahead of the compute, so
  archive I/O runs while the model works.
- **One model.** The model is loaded once. Where a call of the network holds more views
  than one scene gives (``inference.batch_size``), several scenes are worked on at once and
  their tiles share calls (:mod:`calvingfronts.inference.tile_batching`).
- **Faults.** A scene's failure is its rejection, as before, recorded by its stage. An error
  that is not the scene's (an output that cannot be written, a bug) does not stop the other
  scenes: they are finished and their keys kept, and then the job fails with the scenes
  that did not finish, so a rerun does exactly those.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from calvingfronts.glaciers.config import GlacierConfig
from calvingfronts.raster_io import write_text
from calvingfronts.scenes.fetch_key import fetch_key
from calvingfronts.scenes.manifest import Scene
from calvingfronts.workflow.batches import (
    KEYS_SUFFIX,
    SceneProducts,
    digest,
    keys_path,
    write_batch_records,
)
from calvingfronts.workflow.pipeline import (
    fetch_attempts,
    fetch_stage,
    inference_stage,
    preprocess_stage,
    probability_members,
    vectorize_stage,
)

log = logging.getLogger(__name__)

# The stages whose products are kept, in order; preprocessing is part of "inference" (its
# image is temporary).
STAGES = ("fetch", "inference", "vectorize")
# How often the keys of finished scenes are saved while a batch runs (seconds): a job
# killed mid-way loses at most this much finished work.
KEYS_SAVE_INTERVAL_S = 2.0


class BatchFailed(Exception):
    """Scenes of a batch that did not finish for a reason other than the scene itself."""


@dataclass(frozen=True)
class BatchSettings:
    """What a batch's stages are computed with (the process_batch rule's parameters)."""

    histogram: str
    min_valid_fraction: float
    model: dict  # {"path": ..., "sha256": ...}
    device: str
    tile_size: int
    overlap: int
    members: int
    batch_size: int
    vectorize: dict
    calibration: dict | None = None
    fetch_threads: int = 4
    threads: int | None = None
    # Adaptive views (config inference.adaptive): each scene is inferred with
    # ``first_members`` views, and again with all ``members`` only where that front is
    # doubtful: none, or a bound above ``escalate_above_px`` pixels of the scene's grid.
    first_members: int | None = None
    escalate_above_px: float | None = None
    first_calibration: dict | None = None

    @property
    def adaptive(self) -> bool:
        return self.first_members is not None and self.first_members < self.members

    def calibration_for(self, members: int) -> dict | None:
        """The calibration of the member count a probability map was made with."""
        if self.adaptive and members == self.first_members:
            return self.first_calibration
        return self.calibration if members == self.members else None

    def stage_keys(
        self, scene: Scene, fetched: str, region_bounds: tuple | None = None
    ) -> dict[str, str]:
        """The keys of the scene's products, each chained to the one before it
        (``region_bounds``: the fjord's bounding box, where inference is cut to)."""
        from calvingfronts.inference.front_model import CONTEXT_PX

        fetch = digest("fetch", fetch_key(scene), fetch_attempts(fetched))
        inference = digest(
            "inference",
            fetch,
            scene.to_json(),
            self.histogram,
            self.min_valid_fraction,
            self.model,
            self.device,
            self.tile_size,
            self.overlap,
            self.members,
            # The tiles' layout (even tiles since 2026-12-03) and the inferred window.
            "even-tiles",
            None if region_bounds is None else [*region_bounds, CONTEXT_PX],
            # Which views a scene gets depends on its first views' front (adaptive views).
            [self.first_members, self.escalate_above_px, self.first_calibration]
            if self.adaptive
            else None,
        )
        vectorize = digest("vectorize", inference, self.vectorize, self.calibration)
        return {"fetch": fetch, "inference": inference, "vectorize": vectorize}

    def scenes_in_flight(self) -> int:
        """Scenes worked on at once: as many as fill one call of the network (a tile
        gives up to 4 views of one shape per call)."""
        return max(1, self.batch_size // min(self.members, 4))


@dataclass
class ScenePlan:
    """One scene of the batch: its products, their keys, and what must be recomputed."""

    scene: Scene
    products: SceneProducts
    keys: dict[str, str]
    stages: tuple[str, ...]  # the stages to run, a suffix of STAGES (empty: all reused)


def escalation(record: dict, above_px: float | None) -> str | None:
    """Why a front drawn from the first views needs all of them (adaptive views), or None:
    no front where the network ran, or a bound above ``above_px`` pixels."""
    if record["status"] != "accepted":
        # A scene rejected before the network (fetch, preprocess) gains nothing from views.
        return f"no front: {record.get('reason')}" if record.get("stage") == "vectorize" else None
    bound = record.get("uncertainty_m")
    if bound is None:
        return "no bound for the first views"
    limit = (above_px or 0.0) * float(record["pixel_size_m"])
    return f"bound {bound:.0f} m above {limit:.0f} m" if bound > limit else None


def plan_scene(scene: Scene, products: SceneProducts, keys: dict, recorded: dict) -> ScenePlan:
    """Recompute from the first stage whose product is missing or whose key changed."""
    paths = {
        "fetch": products.fetched,
        "inference": products.probability,
        "vectorize": products.record,
    }
    for index, stage in enumerate(STAGES):
        if recorded.get(stage) != keys[stage] or not os.path.exists(paths[stage]):
            return ScenePlan(scene, products, keys, STAGES[index:])
    return ScenePlan(scene, products, keys, ())


def read_keys(path: Path) -> dict[str, dict[str, str]]:
    """The keys a batch saved (scene id -> stage -> key); none when absent or unreadable
    (every product is then recomputed, never wrongly reused).

    A batch without keys of its own takes those of the other batches of its folder: after
    ``batches.period`` changed, the new batches find the keys that the old ones kept, and
    reuse the products instead of making them all again."""
    if not path.exists():
        keys = {}
        for other in sorted(path.parent.glob(f"*{KEYS_SUFFIX}")):
            keys.update(_read_key_file(other))
        return keys
    return _read_key_file(path)


def _read_key_file(path: Path) -> dict[str, dict[str, str]]:
    try:
        keys = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return keys if isinstance(keys, dict) else {}


def _read_record(path: str) -> dict | None:
    """A kept front record, or None where it no longer reads as one (edited by hand):
    the scene is then vectorized again."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        log.warning("%s cannot be read: vectorizing its scene again", path)
        return None
    return record if isinstance(record, dict) else None


class _Keys:
    """The batch's keys, updated by the scene threads and saved now and then."""

    def __init__(self, path: Path, keys: dict[str, dict[str, str]]):
        self.path = path
        self.keys = keys
        self.lock = threading.Lock()
        self.saved_at = time.monotonic()

    def done(self, scene_id: str, stage: str, key: str) -> None:
        with self.lock:
            self.keys.setdefault(scene_id, {})[stage] = key
            due = time.monotonic() - self.saved_at >= KEYS_SAVE_INTERVAL_S
        if due:
            self.save()

    def save(self) -> None:
        with self.lock:
            text = json.dumps(self.keys, indent=0, sort_keys=True)
            self.saved_at = time.monotonic()
        write_text(self.path, text)


class BatchRun:
    """One batch of scenes of one glacier and sensor: plan, run, record."""

    def __init__(
        self,
        config: dict,
        glacier: GlacierConfig,
        scenes: list[Scene],
        output: str,
        settings: BatchSettings,
        results: str = "results",
    ):
        self.config = config
        self.glacier = glacier
        self.settings = settings
        self.output = output
        recorded = read_keys(keys_path(output))
        self.plans = []
        for scene in scenes:
            products = SceneProducts.of(glacier.name, scene.sensor, scene.scene_id, results)
            keys = settings.stage_keys(scene, products.fetched, self.glacier.fjord.bounds)
            self.plans.append(plan_scene(scene, products, keys, recorded.get(scene.scene_id, {})))
        # Keys only of the products kept: a product about to be overwritten loses its key
        # first, so a job killed while writing it never leaves it looking up to date.
        kept = {
            plan.scene.scene_id: {
                stage: plan.keys[stage] for stage in STAGES if stage not in plan.stages
            }
            for plan in self.plans
        }
        self.keys = _Keys(keys_path(output), kept)
        self.model = None
        self.batcher = None

    def run(self) -> list[dict]:
        """Run the stages the plans need; the scenes' front records, in scene order.

        Raises :class:`BatchFailed` naming the scenes that did not finish."""
        self.keys.save()
        todo = [plan for plan in self.plans if plan.stages]
        counts = {stage: sum(stage in plan.stages for plan in todo) for stage in STAGES}
        log.info(
            "%s: %d scene(s): %d fetched, %d inferred, %d vectorized, %d reused whole",
            self.output,
            len(self.plans),
            counts["fetch"],
            counts["inference"],
            counts["vectorize"],
            len(self.plans) - len(todo),
        )
        if counts["inference"]:
            self._load_model(counts["inference"])
        workers = self.settings.scenes_in_flight() if self.batcher is not None else 1
        with (
            ThreadPoolExecutor(self.settings.fetch_threads, "fetch") as fetchers,
            ThreadPoolExecutor(workers, "scene") as computers,
        ):
            fetches = {
                plan.scene.scene_id: fetchers.submit(
                    fetch_stage, self.config, self.glacier, plan.scene, plan.products.fetched
                )
                for plan in todo
                if "fetch" in plan.stages
            }
            futures = [
                computers.submit(self._finish_scene, plan, fetches.get(plan.scene.scene_id))
                for plan in self.plans
            ]
            outcomes = [future.result() for future in futures]
        self.keys.save()
        if self.batcher is not None:
            log.info(
                "network: %d call(s), %.1f views per call",
                self.batcher.calls,
                self.batcher.views / max(self.batcher.calls, 1),
            )
        failed = [
            (plan.scene.scene_id, error)
            for plan, (_, error) in zip(self.plans, outcomes, strict=True)
            if error
        ]
        if failed:
            shown = "; ".join(f"{scene_id}: {error}" for scene_id, error in failed[:5])
            raise BatchFailed(
                f"{len(failed)} of {len(self.plans)} scene(s) did not finish (not a fault of "
                f"the scenes; the others are kept, and a rerun does only these): {shown}"
            )
        return [record for record, _ in outcomes]

    def _load_model(self, scenes_to_infer: int) -> None:
        """Load the model once; share its calls between scenes where one scene's views do
        not fill a call. A model that cannot be loaded fails the job, never a scene."""
        from calvingfronts.inference.front_model import FrontModel
        from calvingfronts.inference.tile_batching import TileBatcher

        settings = self.settings
        self.model = FrontModel(
            settings.model["path"],
            device=settings.device,
            threads=settings.threads,
            batch_size=settings.batch_size,
        )
        if settings.scenes_in_flight() > 1 and scenes_to_infer > 1:
            self.batcher = TileBatcher(self.model.run_session, settings.batch_size)
            self.model.network = self.batcher.run

    def _finish_scene(
        self, plan: ScenePlan, fetch: Future | None
    ) -> tuple[dict | None, str | None]:
        """The scene's record, or why the scene did not finish (its error, logged)."""
        scene_id = plan.scene.scene_id
        try:
            if fetch is not None:
                fetch.result()
                self.keys.done(scene_id, "fetch", plan.keys["fetch"])
            record = None
            if "inference" in plan.stages:
                settings = self.settings
                first_views = None
                if settings.adaptive:
                    first_views = self._infer(plan, settings.first_members)
                    record = self._vectorize(plan)
                    reason = escalation(record, settings.escalate_above_px)
                    if reason:
                        log.info("scene %s: all %d views (%s)", scene_id, settings.members, reason)
                        record = None
                if record is None:
                    # The first views are kept: only the rest are made.
                    self._infer(plan, settings.members, first_views)
                self.keys.done(scene_id, "inference", plan.keys["inference"])
            if record is None and "vectorize" not in plan.stages:
                record = _read_record(plan.products.record)
            if record is None:
                record = self._vectorize(plan)
            self.keys.done(scene_id, "vectorize", plan.keys["vectorize"])
            return record, None
        except Exception as error:  # anything else is not the scene's fault: see BatchFailed
            log.exception("scene %s did not finish", scene_id)
            return None, f"{type(error).__name__}: {error}"

    def _infer(self, plan: ScenePlan, members: int, earlier=None):
        """The scene's Prediction with ``members`` views (None where the scene was
        rejected), reusing ``earlier``'s views."""
        settings, products = self.settings, plan.products
        try:
            preprocess_stage(
                self.glacier,
                plan.scene,
                products.fetched,
                products.preprocessed,
                histogram=settings.histogram,
                min_valid_fraction=settings.min_valid_fraction,
            )
            if self.batcher is None:
                return self._run_inference(plan, members, earlier)
            with self.batcher.worker():
                return self._run_inference(plan, members, earlier)
        finally:
            Path(products.preprocessed).unlink(missing_ok=True)

    def _run_inference(self, plan: ScenePlan, members: int, earlier=None):
        settings = self.settings
        return inference_stage(
            self.model,
            plan.scene,
            plan.products.preprocessed,
            plan.products.probability,
            tile_size=settings.tile_size,
            overlap=settings.overlap,
            members=members,
            region_bounds=self.glacier.fjord.bounds,
            earlier=earlier,
        )

    def _vectorize(self, plan: ScenePlan) -> dict:
        from calvingfronts.fronts.uncertainty import Calibration

        calibration = self.settings.calibration_for(probability_members(plan.products.probability))
        return vectorize_stage(
            self.glacier,
            plan.scene,
            plan.products.probability,
            plan.products.record,
            self.settings.vectorize,
            Calibration(**calibration) if calibration else None,
        )

    def write_records(self, records: list[dict], batch: dict) -> None:
        write_batch_records(self.output, batch, records)
