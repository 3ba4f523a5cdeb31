"""Batches: stable membership, the same products as one scene at a time, reuse of what is
up to date, and faults that stay with their scenes.

A batch runs the pipeline's stage functions for each of its scenes in one process, with
the shipped model on the demo glacier's synthetic scenes; the reference is the same stage
functions called one scene at a time, as each rule's job called them before batches.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from conftest import load_workflow_config

from calvingfronts.glaciers.config import glacier_config
from calvingfronts.inference.front_model import FrontModel
from calvingfronts.raster_io import OutputWriteError
from calvingfronts.scenes.manifest import Scene
from calvingfronts.sources import synthetic
from calvingfronts.workflow import batch_run, pipeline
from calvingfronts.workflow.batch_run import BatchFailed, BatchRun, BatchSettings
from calvingfronts.workflow.batches import (
    SceneProducts,
    batch_id,
    group_by_batch,
    keys_path,
    read_batch_records,
)

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "frontlearning-all-drn-deeplabv3plus.onnx"


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "period, expected",
    [("year", "2020"), ("quarter", "2020-Q4"), ("month", "2020-12"), ("week", "2020-W53")],
)
def test_a_batch_is_the_period_of_the_acquisition(period, expected):
    assert batch_id(_utc(2020, 12, 31, 23, 59), period) == expected


def test_an_unknown_period_is_refused_by_name():
    with pytest.raises(ValueError, match="batches.period"):
        batch_id(_utc(2020, 1, 1), "decade")


def _scene(scene_id: str, acquired: datetime) -> Scene:
    return Scene(scene_id, "demo", "landsat8", "synthetic", acquired, "synthetic://x")


def test_a_new_scene_joins_one_batch_and_changes_no_other():
    scenes = [_scene(f"S{day}", _utc(2020, month, day)) for month in (1, 3, 7) for day in (2, 9)]
    before = group_by_batch(scenes, "month")
    after = group_by_batch([*scenes, _scene("NEW", _utc(2020, 3, 5))], "month")
    assert list(before) == ["2020-01", "2020-03", "2020-07"] == list(after)
    changed = {batch for batch in after if after[batch] != before[batch]}
    assert changed == {"2020-03"}


# --- running a batch ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    config = load_workflow_config()
    glacier = glacier_config(config, "demo", REPO)
    settings = glacier.sensors["sentinel1"]
    scenes = synthetic.list_scenes(glacier, settings, config["sources"]["synthetic"])[:4]
    return config, glacier, scenes


def _settings(config: dict, **changes) -> BatchSettings:
    inference = config["inference"]
    values = {
        "histogram": config["histogram"],
        "min_valid_fraction": config["preprocess"]["min_valid_fraction"],
        "model": {"path": str(MODEL), "sha256": "test"},
        "device": "cpu",
        "tile_size": inference["tile_size"],
        "overlap": inference["overlap"],
        "members": 2,
        "batch_size": 4,
        "vectorize": config["vectorize"],
        "calibration": None,
        "fetch_threads": 2,
        "threads": 1,
    }
    return BatchSettings(**{**values, **changes})


def _run(demo, folder: Path, scenes=None, **changes) -> tuple[BatchRun, list[dict]]:
    config, glacier, listed = demo
    output = str(folder / "results" / "demo" / "batches" / "sentinel1" / "2020.json")
    batch = BatchRun(
        config,
        glacier,
        listed if scenes is None else scenes,
        output,
        _settings(config, **changes),
        results=str(folder / "results"),
    )
    records = batch.run()
    batch.write_records(records, {"batch": "2020"})
    return batch, records


def _one_scene_at_a_time(demo, folder: Path, settings: BatchSettings) -> None:
    """Each stage for each scene, as the per-scene jobs ran them."""
    config, glacier, scenes = demo
    model = FrontModel(MODEL, device="cpu", threads=1)
    for scene in scenes:
        products = SceneProducts.of("demo", scene.sensor, scene.scene_id, str(folder))
        pipeline.fetch_stage(config, glacier, scene, products.fetched)
        pipeline.preprocess_stage(
            glacier,
            scene,
            products.fetched,
            products.preprocessed,
            settings.histogram,
            settings.min_valid_fraction,
        )
        pipeline.inference_stage(
            model,
            scene,
            products.preprocessed,
            products.probability,
            settings.tile_size,
            settings.overlap,
            settings.members,
            region_bounds=glacier.fjord.bounds,
        )
        pipeline.vectorize_stage(
            glacier, scene, products.probability, products.record, settings.vectorize
        )


def _product_times(folder: Path) -> dict[str, int]:
    return {
        str(path.relative_to(folder)): path.stat().st_mtime_ns
        for kind in ("scenes", "probability", "fronts")
        for path in (folder / "results" / "demo" / kind).rglob("*.*")
    }


@pytest.fixture(scope="module")
def batch_done(demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch")
    batch, records = _run(demo, folder)
    return folder, batch, records


def test_a_batch_gives_the_products_of_one_scene_at_a_time(demo, batch_done, tmp_path):
    folder, batch, records = batch_done
    assert batch.batcher is not None and batch.batcher.calls > 0, "scenes shared calls"
    _one_scene_at_a_time(demo, tmp_path, _settings(demo[0]))
    import rasterio

    for scene in demo[2]:
        ours = SceneProducts.of("demo", "sentinel1", scene.scene_id, str(folder / "results"))
        theirs = SceneProducts.of("demo", "sentinel1", scene.scene_id, str(tmp_path))
        assert Path(ours.record).read_text() == Path(theirs.record).read_text()
        for kind in ("fetched", "probability"):
            with rasterio.open(getattr(ours, kind)) as a, rasterio.open(getattr(theirs, kind)) as b:
                assert np.array_equal(a.read(), b.read(), equal_nan=True), kind
                assert a.tags() == b.tags() and a.transform == b.transform
        assert not os.path.exists(ours.preprocessed), "the preprocessed image is temporary"
    output = folder / "results" / "demo" / "batches" / "sentinel1" / "2020.json"
    assert read_batch_records([output]) == records
    assert [r["scene_id"] for r in records] == [s.scene_id for s in demo[2]]


def test_a_rerun_reuses_every_product(demo, batch_done):
    folder, _, records = batch_done
    before = _product_times(folder)
    again, again_records = _run(demo, folder)
    assert again.model is None, "nothing to infer: the model is not even loaded"
    assert _product_times(folder) == before
    assert again_records == records


def test_a_new_scene_and_a_new_setting_redo_only_what_they_change(demo, tmp_path):
    config, glacier, scenes = demo
    _run(demo, tmp_path, scenes=scenes[:3])
    before = _product_times(tmp_path)
    _run(demo, tmp_path)
    after = _product_times(tmp_path)
    changed = {path for path in after if before.get(path) != after[path]}
    assert changed == {
        f"results/demo/{kind}/sentinel1/{scenes[3].scene_id}.{ext}"
        for kind, ext in (("scenes", "tif"), ("probability", "tif"), ("fronts", "json"))
    }
    # Another threshold: every front is drawn again from the same probability maps.
    _run(demo, tmp_path, vectorize={**config["vectorize"], "threshold": 0.6})
    changed = {path for path, time in _product_times(tmp_path).items() if after[path] != time}
    assert changed == {f"results/demo/fronts/sentinel1/{s.scene_id}.json" for s in scenes}


def test_batches_of_another_period_reuse_the_products(demo, batch_done):
    """After ``batches.period`` changed, a new batch finds the keys the old ones kept."""
    folder, _, records = batch_done
    config, glacier, scenes = demo
    before = _product_times(folder)
    output = folder / "results" / "demo" / "batches" / "sentinel1" / "2020-03.json"
    batch = BatchRun(
        config, glacier, scenes, str(output), _settings(config), str(folder / "results")
    )
    assert batch.run() == records and batch.model is None
    assert _product_times(folder) == before
    keys_path(output).unlink()


def test_a_deleted_product_is_made_again(demo, batch_done):
    folder, _, records = batch_done
    scene = demo[2][1]
    products = SceneProducts.of("demo", "sentinel1", scene.scene_id, str(folder / "results"))
    Path(products.probability).unlink()
    Path(products.record).unlink()
    batch, again = _run(demo, folder)
    assert Path(products.probability).exists() and again == records
    assert [plan.stages for plan in batch.plans].count(("inference", "vectorize")) == 1


def test_a_record_that_no_longer_reads_is_made_again(demo, batch_done):
    folder, _, records = batch_done
    scene = demo[2][0]
    record = SceneProducts.of("demo", "sentinel1", scene.scene_id, str(folder / "results")).record
    Path(record).write_text("{not json")
    _, again = _run(demo, folder)
    assert again == records and json.loads(Path(record).read_text()) == records[0]


def test_a_bad_scene_is_rejected_alone_with_the_usual_record(demo, tmp_path):
    """A local scene whose file is missing: rejected at fetch, the others go on."""
    config, glacier, scenes = demo
    missing = Scene(
        "MISSING", "demo", "sentinel1", "local", scenes[0].acquired, str(tmp_path / "no.tif")
    )
    _, records = _run(demo, tmp_path, scenes=[scenes[0], missing, scenes[1]])
    by_id = {record["scene_id"]: record for record in records}
    assert by_id["MISSING"]["status"] == "rejected" and by_id["MISSING"]["stage"] == "fetch"
    assert "file not found" in by_id["MISSING"]["reason"]
    assert {by_id[s.scene_id]["status"] for s in scenes[:2]} <= {"accepted", "rejected"}
    assert all(by_id[s.scene_id].get("stage") != "fetch" for s in scenes[:2])


def test_a_write_error_fails_the_batch_but_keeps_the_other_scenes(demo, tmp_path, monkeypatch):
    """An output we cannot write is not the scene's fault: no rejection, the job fails after
    finishing the others, and the next run computes only the scene that did not finish."""
    config, glacier, scenes = demo
    victim = scenes[2].scene_id
    real_inference = batch_run.inference_stage

    def full_disk(model, scene, preprocessed, output, **kwargs):
        if scene.scene_id == victim:
            raise OutputWriteError(output, "OSError: [Errno 28] No space left on device")
        return real_inference(model, scene, preprocessed, output, **kwargs)

    monkeypatch.setattr(batch_run, "inference_stage", full_disk)
    with pytest.raises(BatchFailed, match=f"1 of 4 scene.*{victim}.*No space left"):
        _run(demo, tmp_path)
    output = tmp_path / "results" / "demo" / "batches" / "sentinel1" / "2020.json"
    assert not output.exists()
    kept = json.loads(keys_path(output).read_text())
    assert set(kept[victim]) == {"fetch"}
    assert all(
        set(kept[s.scene_id]) == {"fetch", "inference", "vectorize"}
        for s in scenes
        if s.scene_id != victim
    )
    monkeypatch.setattr(batch_run, "inference_stage", real_inference)
    batch, records = _run(demo, tmp_path)
    assert [plan.stages for plan in batch.plans if plan.stages] == [("inference", "vectorize")]
    assert len(records) == 4 and output.exists()


def test_a_model_that_cannot_be_loaded_fails_the_job_not_the_scenes(demo, tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.onnx"):
        _run(demo, tmp_path, model={"path": str(tmp_path / "absent.onnx"), "sha256": "x"})
    fronts = tmp_path / "results" / "demo" / "fronts"
    assert not fronts.exists() or not any(fronts.rglob("*.json"))


def test_a_doubtful_front_of_the_first_views_gets_every_view():
    from calvingfronts.workflow.batch_run import escalation

    front = {"status": "accepted", "pixel_size_m": 30.0, "uncertainty_m": 290.0}
    assert escalation(front, 10) is None  # 290 m within 10 px of 30 m
    assert "above 300 m" in escalation({**front, "uncertainty_m": 310.0}, 10)
    assert escalation({**front, "uncertainty_m": None}, 10) == "no bound for the first views"
    partial = {"status": "rejected", "stage": "vectorize", "reason": "a partial front"}
    assert escalation(partial, 10) == "no front: a partial front"
    # Rejected before the network ran: more views would not help.
    assert escalation({"status": "rejected", "stage": "preprocess", "reason": "cloudy"}, 10) is None


def test_adaptive_views_give_each_scene_the_views_its_front_needs(demo, tmp_path, monkeypatch):
    """With adaptive views a scene's record is the first views' where its front is certain
    enough and all views' otherwise, and the product keys say so; a scene that gets every
    view is not shown the first views again."""
    from calvingfronts.fronts.uncertainty import read_calibration
    from calvingfronts.workflow.batch_run import escalation

    config, glacier, scenes = demo
    first = read_calibration(MODEL, 2).as_dict()
    full = read_calibration(MODEL, 4).as_dict()
    _, first_only = _run(demo, tmp_path / "first", members=2, calibration=first)
    _, everything = _run(demo, tmp_path / "all", members=4, calibration=full)
    # A limit between the first views' bounds, so that some scenes get every view.
    bounds_px = sorted(
        r["uncertainty_m"] / r["pixel_size_m"] for r in first_only if r.get("uncertainty_m")
    )
    assert bounds_px[0] < bounds_px[-1]
    limit_px = 0.5 * (bounds_px[0] + bounds_px[-1])
    plain = _settings(config, members=4, calibration=full)
    adaptive = _settings(
        config, members=4, calibration=full, first_members=2, escalate_above_px=limit_px,
        first_calibration=first,
    )  # fmt: skip
    assert adaptive.adaptive and not plain.adaptive
    assert (
        adaptive.stage_keys(scenes[0], "x")["inference"]
        != plain.stage_keys(scenes[0], "x")["inference"]
    )
    views_shown = []
    run_session = FrontModel.run_session

    def counting(self, views):
        views_shown.append(len(views))
        return run_session(self, views)

    monkeypatch.setattr(FrontModel, "run_session", counting)
    _, chosen = _run(demo, tmp_path / "adaptive", members=4, calibration=full, first_members=2,
                     escalate_above_px=limit_px, first_calibration=first)  # fmt: skip
    escalated = 0
    for cheap, costly, record in zip(first_only, everything, chosen, strict=True):
        escalated += bool(escalation(cheap, limit_px))
        expected = costly if escalation(cheap, limit_px) else cheap
        assert record == expected, record["scene_id"]
    # The demo's grids are one tile each: 2 views a scene, and 2 more where it escalated.
    inferred = sum(r.get("stage") not in ("fetch", "preprocess") for r in chosen)
    assert sum(views_shown) == 2 * inferred + 2 * escalated
    members = [r.get("quality", {}).get("members") for r in chosen if r["status"] == "accepted"]
    assert set(members) == {2, 4}, f"both outcomes among the scenes: {members}"
