"""Training pieces: data readers, augmentation, loss, and a two-step resumable run."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import export_tiny_unet
from PIL import Image

from calvingfronts.evaluation.frontlearning import glacier_of_frontlearning
from calvingfronts.training.augment import AugmentConfig, make_example
from calvingfronts.training.config import TrainConfig
from calvingfronts.training.datasets import load_frontlearning, split_by_glacier
from calvingfronts.training.losses import dice_loss, front_loss, zone_loss
from calvingfronts.training.report import main as report_main
from calvingfronts.training.samples import FrontSample
from calvingfronts.training.train import lr_factor, run_progress, train

NAMES = (
    "LE07_L1TP_008011_20000323_20170212_01_T1_B2",
    "LT05_L1TP_230012_19851003_20170218_01_T1_B2",
    "LT05_L1TP_020007_19850529_20170219_01_T1_B2",
)


def _scene(height=48, width=32, row=20):
    """Bright ice below ``row``, dark ocean above, and the front line between them."""
    values = np.full((height, width), 0.2, np.float32)
    values[row:] = 0.8
    front = np.zeros((height, width), bool)
    front[row, :] = True
    return values, front


@pytest.fixture
def frontlearning_folder(tmp_path):
    """A FrontLearning-like folder: RGBA images and black-on-white 3-px labels."""
    for sub in ("images", "labels"):
        (tmp_path / sub).mkdir()
    for name in NAMES:
        values, front = _scene()
        grey = (values * 255).astype(np.uint8)
        Image.fromarray(np.dstack([grey, grey, grey, np.full_like(grey, 255)])).save(
            tmp_path / "images" / f"{name}_Subset.png"
        )
        label = np.full(front.shape, 255, np.uint8)
        label[19:22, :] = 0
        Image.fromarray(label).save(tmp_path / "labels" / f"{name}_Front.png")
    return tmp_path


def test_glaciers_from_path_row():
    assert [glacier_of_frontlearning(n + "_Subset.png") for n in NAMES] == [
        "jakobshavn",
        "kangerlussuaq",
        "northwest",
    ]


def test_reader_and_split_by_glacier(frontlearning_folder):
    samples = load_frontlearning(frontlearning_folder)
    assert len(samples) == 3
    assert 30 <= samples[0].front.sum() <= 32  # the 3-px label thinned to a 1-px line
    train_set, held = split_by_glacier(samples, ["kangerlussuaq"])
    assert [s.glacier for s in held] == ["kangerlussuaq"]
    assert {s.glacier for s in train_set} == {"jakobshavn", "northwest"}
    with pytest.raises(ValueError, match="not in the data"):
        split_by_glacier(samples, ["helheim"])


def test_augmented_label_is_a_line_of_the_set_width():
    values, front = _scene(96, 96, row=48)
    sample = FrontSample("s", "g", values, np.ones_like(front), front, pixel_size_m=40.0)
    cfg = AugmentConfig(
        crop_size=64, pixel_size_range_m=(40.0, 40.0), rotate=False, flip=False, front_focus=1.0
    )
    image, target, valid, zones = make_example(sample, "equalize", np.random.default_rng(0), cfg)
    assert image.shape == target.shape == valid.shape == (64, 64) and zones is None
    assert image.min() >= 0.0 and image.max() <= 1.0
    rows = np.nonzero(target.any(axis=1))[0]
    assert 2 <= len(rows) <= 4  # a 3-px band, whatever the crop position
    assert np.all(image[~valid] == 0)


def test_zoom_keeps_the_label_width():
    values, front = _scene(96, 96, row=48)
    sample = FrontSample("s", "g", values, np.ones_like(front), front, pixel_size_m=40.0)
    cfg = AugmentConfig(
        crop_size=64, pixel_size_range_m=(10.0, 10.0), rotate=False, flip=False, front_focus=1.0
    )
    _, target, _, _ = make_example(sample, "none", np.random.default_rng(1), cfg)
    assert 2 <= len(np.nonzero(target.any(axis=1))[0]) <= 4


def test_loss_prefers_the_right_answer():
    target = torch.zeros(2, 1, 16, 16)
    target[:, :, 8] = 1
    good = (target * 2 - 1) * 6
    assert front_loss(good, target) < front_loss(torch.zeros_like(good), target)
    assert float(dice_loss(good, torch.zeros_like(target))) == 0.0  # no front: Dice skipped


def test_dice_and_zone_losses_skip_what_has_no_label_without_asking_the_device():
    """Masked, not indexed (no wait for the GPU): Dice averages only the examples with a
    front, and the zone loss is 0, with a gradient, where every pixel is unknown."""
    target = torch.zeros(3, 1, 16, 16)
    target[0, :, 8] = 1
    logits = torch.randn(3, 1, 16, 16, requires_grad=True)
    alone = dice_loss(logits[:1], target[:1])
    together = dice_loss(logits, target).detach()
    assert float(together) == pytest.approx(float(alone.detach()), rel=1e-6)
    zones = torch.full((2, 16, 16), -1, dtype=torch.int8)
    zone_logits = torch.randn(2, 3, 16, 16, requires_grad=True)
    loss = zone_loss(zone_logits, zones)
    assert float(loss.detach()) == 0.0
    loss.backward()
    assert zone_logits.grad is not None and float(zone_logits.grad.abs().sum()) == 0.0
    zones[0, 4:8] = 2
    known = torch.nn.functional.cross_entropy(zone_logits, zones.long(), ignore_index=-1)
    again = zone_loss(zone_logits, zones).detach()
    assert float(again) == pytest.approx(float(known.detach()), rel=1e-6)


def test_schedule_warms_up_and_decays():
    assert lr_factor(0.0, 0.1) < lr_factor(0.1, 0.1) == 1.0
    assert lr_factor(1.0, 0.1) == pytest.approx(0.0)
    assert run_progress(5, 10, 0.0, None) == 0.5
    assert run_progress(5, 10, 60.0, 1.0) == 1.0  # the time budget binds


def test_unknown_config_key_is_an_error():
    with pytest.raises(ValueError, match="unknown training config keys"):
        TrainConfig.from_dict({"epoch": 3})


def _tiny_run(folder, tmp_path, name: str, **overrides) -> dict:
    """A one-step training config on the FrontLearning-like folder, Kangerlussuaq held out."""
    return {
        "name": name,
        "model": "deeplabv3plus-drn-d-22",
        "width": 0.125,
        "data": [{"kind": "frontlearning", "path": str(folder)}],
        "validation_glaciers": ["kangerlussuaq"],
        "epochs": 1,
        "steps_per_epoch": 1,
        "batch_size": 2,
        "crop_size": 32,
        "run_dir": str(tmp_path / "run"),
        "output": str(tmp_path / f"{name}.onnx"),
        "card": str(tmp_path / f"{name}.md"),
        "augment": {"pixel_size_range_m": [49, 49]},
        **overrides,
    }


def test_two_step_run_exports_and_resumes(frontlearning_folder, tmp_path, capsys):
    config = _tiny_run(frontlearning_folder, tmp_path, "tiny")
    result = train(config)
    assert result.onnx.exists() and result.card.exists()
    history = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert len(history) == 1 and "val_score_m" in history[0]
    assert (tmp_path / "run" / "training_curve.png").exists()
    assert "sha256" in result.card.read_text()
    # A second epoch continues from the checkpoint instead of starting again.
    resumed = train({**config, "epochs": 2, "export": False})
    assert [h["epoch"] for h in resumed.history] == [1, 2]
    assert resumed.history[0] == history[0]
    # The comparison table scores the exported model on the glacier the run held out.
    folder = frontlearning_folder
    capsys.readouterr()  # the training's own epoch lines
    args = [str(tmp_path / "run"), str(tmp_path / "missing-run")]
    report_main([*args, "--images", str(folder / "images"), "--labels", str(folder / "labels")])
    table = capsys.readouterr().out.strip().splitlines()
    assert len(table) == 3 and table[0].startswith("| run | network")
    assert "| run | deeplabv3plus-drn-d-22 | 0.125 | equalize | 2 |" in table[2]
    assert "| kangerlussuaq |" in table[2] and table[2].endswith("/1 |")


def test_staged_run_warm_starts_each_stage(frontlearning_folder, tmp_path):
    config = _tiny_run(
        frontlearning_folder,
        tmp_path,
        "staged",
        model="unet",
        select_best=False,
        augment={"pixel_size_range_m": [40, 60]},
        stages=[{"augment": {"pixel_size_range_m": [20, 80]}, "learning_rate": 0.004}],
    )
    result = train(config)
    stage = json.loads((tmp_path / "run" / "stage1" / "config.json").read_text())
    assert stage["name"] == "staged-stage1" and stage["learning_rate"] == 0.004
    assert not stage["export"] and stage["init_from"] is None
    final = json.loads((tmp_path / "run" / "config.json").read_text())
    assert final["init_from"] == str(tmp_path / "run" / "stage1" / "last.pt")
    assert final["stages"] == [] and final["learning_rate"] == 0.002
    card = result.card.read_text()
    assert "Staged training: 2 stages, 2 steps" in card
    assert '"learning_rate": 0.004' in card and "[20, 80]" in card
    assert not (tmp_path / "staged-stage1.onnx").exists()
    # Averaging the last epochs is an export choice: a finished run can be re-exported so.
    final_stage = {**config, "stages": [], "init_from": final["init_from"]}
    averaged = train({**final_stage, "average_epochs": 3, "epochs": 3})
    assert "the mean of the weights of epochs 2-3 (2 epochs" in averaged.card.read_text()
    with pytest.raises(ValueError, match="stage 1: keys \\['output'\\] cannot be set"):
        TrainConfig.from_dict({**config, "stages": [{"output": "x.onnx"}]})


def test_caffe_reader(tmp_path):
    from calvingfronts.training.datasets import load_caffe

    stem = "Mapple_2008-10-13_TSX_7_1_034"
    for sub in ("sar_images", "fronts", "zones"):
        (tmp_path / sub / "train").mkdir(parents=True)
    values, front = _scene()
    Image.fromarray((values * 255).astype(np.uint8)).save(
        tmp_path / "sar_images" / "train" / f"{stem}.png"
    )
    Image.fromarray(front.astype(np.uint8) * 255).save(
        tmp_path / "fronts" / "train" / f"{stem}_front.png"
    )
    Image.fromarray(np.where(values > 0.5, 127, 254).astype(np.uint8)).save(
        tmp_path / "zones" / "train" / f"{stem}_zones.png"
    )
    (sample,) = load_caffe(tmp_path)
    assert sample.glacier == "Mapple" and sample.pixel_size_m == 7.0 and sample.sar
    assert set(np.unique(sample.zones)) == {1, 2} and sample.front.sum() >= 30


def test_geotiff_reader(tmp_path):
    import geopandas as gpd
    import rasterio
    from rasterio.transform import from_origin
    from shapely.geometry import LineString

    from calvingfronts.training.datasets import load_geotiffs

    values, _ = _scene()
    transform = from_origin(1000.0, 5000.0, 30.0, 30.0)
    with rasterio.open(
        tmp_path / "s1.tif",
        "w",
        driver="GTiff",
        height=48,
        width=32,
        count=1,
        dtype="float32",
        crs="EPSG:3413",
        transform=transform,
        nodata=-9999.0,
    ) as dst:
        dst.write(values, 1)
    y = 5000.0 - 20.5 * 30.0
    lines = gpd.GeoDataFrame(
        {"scene_id": ["s1"], "glacier": ["g1"]},
        geometry=[LineString([(1000.0, y), (1000.0 + 32 * 30.0, y)])],
        crs="EPSG:3413",
    )
    lines.to_file(tmp_path / "fronts.gpkg")
    (sample,) = load_geotiffs(tmp_path, tmp_path / "fronts.gpkg")
    assert sample.glacier == "g1" and sample.pixel_size_m == 30.0
    assert set(np.nonzero(sample.front)[0]) <= {19, 20, 21}


def test_synthetic_samples_and_check(tmp_path, repo):
    pytest.importorskip("calvingfronts.synthetic.scenes")
    from calvingfronts.training.synthetic_check import check
    from calvingfronts.training.synthetic_data import synthetic_samples

    config = str(repo / "config" / "config.yaml")
    one_sar_scene = {
        "count": 1,
        "config": config,
        "sensors": ["sentinel1"],
        "pixel_size_range_m": (80.0, 80.0),
        "cache_dir": str(tmp_path),
    }
    samples = synthetic_samples(**one_sar_scene)
    assert samples[0].sar and samples[0].front.any() and samples[0].fjord is not None
    again = synthetic_samples(**one_sar_scene)
    assert np.array_equal(again[0].values, samples[0].values)  # from the cache
    model = export_tiny_unet(tmp_path / "m.onnx", "equalize")
    report = check(
        str(model),
        count=1,
        config_path=config,
        sensors=["landsat8"],
        pixel_size_range_m=(80.0, 80.0),
    )
    assert report["n_scenes"] == 1 and len(report["per_scene"]) == 1


def test_loader_workers_draw_the_same_batches(frontlearning_folder, tmp_path):
    """Batches drawn by worker processes equal those drawn in the training process, so a
    run's losses do not depend on ``loader_workers`` (and a resumed run stays exact)."""
    from calvingfronts.training.augment import AugmentConfig
    from calvingfronts.training.datasets import load_frontlearning
    from calvingfronts.training.loader import step_batches
    from calvingfronts.training.sampling import BatchSampler

    samples = load_frontlearning(str(frontlearning_folder))
    sampler = BatchSampler([(samples, 1.0)], "equalize", AugmentConfig(crop_size=32), 3.0, 7)
    here = list(step_batches(sampler, 5, 9, 2, workers=0))
    workers = list(step_batches(sampler, 5, 9, 2, workers=2))
    assert len(here) == len(workers) == 4
    for a, b in zip(here, workers, strict=True):
        for key in a:
            assert torch.equal(a[key], b[key]), key
    one = train(_tiny_run(frontlearning_folder, tmp_path / "a", "a", epochs=2, export=False))
    two = train(
        _tiny_run(
            frontlearning_folder, tmp_path / "b", "b", epochs=2, export=False, loader_workers=2
        )
    )
    assert [h["loss"] for h in one.history] == [h["loss"] for h in two.history]


def test_device_is_checked():
    with pytest.raises(ValueError, match="device must be auto, cpu or cuda"):
        TrainConfig.from_dict({"device": "gpu"})


def test_cross_validation_holds_out_each_glacier(frontlearning_folder, tmp_path):
    """Each fold is the same recipe with one glacier held out, scored on that glacier by the
    workflow's evaluation; the report pools the folds' distances."""
    from calvingfronts.training.cross_validation import fold_config, fold_table, run_folds

    config = _tiny_run(
        frontlearning_folder,
        tmp_path,
        "cv",
        cross_validation_glaciers=["jakobshavn", "kangerlussuaq"],
        run_dir=str(tmp_path / "runs" / "{name}"),
    )
    fold = fold_config(config, "jakobshavn")
    assert fold["validation_glaciers"] == ["jakobshavn"]
    assert fold["name"] == "cv-without-jakobshavn"
    assert {
        k: v
        for k, v in fold.items()
        if k not in ("name", "validation_glaciers", "run_dir", "output", "card", "export")
    } == {  # fmt: skip
        k: v
        for k, v in config.items()
        if k not in ("name", "validation_glaciers", "run_dir", "output", "card", "export")
    }
    report = run_folds(
        config,
        tmp_path / "cv.json",
        images=str(frontlearning_folder / "images"),
        labels=str(frontlearning_folder / "labels"),
    )
    assert set(report["folds"]) == {"jakobshavn", "kangerlussuaq"}
    for glacier, figures in report["folds"].items():
        assert figures["n_images"] == 1, glacier
        assert (tmp_path / "runs" / "cv" / "folds" / glacier / "data.json").exists()
    assert report["pooled"]["n_images"] == 2
    assert json.loads((tmp_path / "cv.json").read_text()) == report
    table = fold_table(report)
    assert "| jakobshavn | 1 |" in table and "| all folds pooled | 2 |" in table


def test_shipped_recipe_trains_on_every_glacier_and_has_folds(repo):
    """config.yaml's training section is the shipped model's recipe: every labelled glacier,
    hard synthetic radar, the three leave-one-glacier-out folds, and a step budget (not a
    time budget) that ends where the shipped run ended, on any machine."""
    import yaml

    raw = yaml.safe_load((repo / "config" / "config.yaml").read_text())
    config = TrainConfig.from_dict(raw["training"])
    assert config.validation_glaciers == [] and config.stages == []
    assert set(config.cross_validation_glaciers) == {"jakobshavn", "kangerlussuaq", "northwest"}
    assert any(entry.get("radar") == "realistic" for entry in config.data)
    assert config.max_minutes is None
    assert Path(raw["model"]).stem == config.name


def test_frontlearning_zones_are_derived_from_the_front(frontlearning_folder):
    from calvingfronts.evaluation.frontlearning import ZONE_GLACIER, ZONE_OCEAN, derive_zones

    plain = load_frontlearning(frontlearning_folder)
    assert all(s.zones is None for s in plain)  # opt-in: the shipped recipe reads none
    sample = load_frontlearning(frontlearning_folder, zones=True)[0]
    zones = sample.zones
    middle = zones[:, 16]
    line_row = int(np.argmax(sample.front[:, 16]))
    # The ice flows up: below the line is glacier, above it ocean; the line is unknown.
    assert (middle[:line_row] == ZONE_OCEAN).all()
    assert (middle[line_row + 1 :] == ZONE_GLACIER).all()
    assert middle[line_row] == -1
    # The ends of the line (the walls in a real image) are left unknown.
    assert (zones[:, :6] == -1).all() and (zones[:, -6:] == -1).all()

    # A line that turns along a wall: the columns where it runs along the flow, and their
    # neighbours, are unknown; the reach from the line is bounded.
    front = np.zeros((120, 60), bool)
    front[60, 10:50] = True
    front[30:61, 10] = True  # the turn up the left wall
    derived = derive_zones(front, reach_px=20)
    assert (derived[:, 10:17] == -1).all()
    assert (derived[40:60, 30] == ZONE_OCEAN).all() and derived[39, 30] == -1
    assert (derived[61:81, 30] == ZONE_GLACIER).all() and derived[81, 30] == -1
