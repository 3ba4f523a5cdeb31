"""The training loop: ``train(config) -> TrainResult``.

Seeded, resumable (a checkpoint after every epoch; a rerun continues where it stopped),
validated after every epoch on held-out glaciers with the workflow's own metric, and ending
in the exported ONNX model and its card. Runs on a CUDA GPU where torch sees one
(``device``), else on the CPU with ``threads`` threads; ``loader_workers`` processes draw the
batches ahead of the network.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from calvingfronts.models import build_model
from calvingfronts.training.augment import AugmentConfig
from calvingfronts.training.averaging import average_snapshots, latest_snapshots, save_snapshot
from calvingfronts.training.config import TrainConfig, is_onnx_path
from calvingfronts.training.curves import write_history
from calvingfronts.training.data import load_data
from calvingfronts.training.loader import resolve_device, step_batches
from calvingfronts.training.losses import front_loss, zone_loss
from calvingfronts.training.sampling import BatchSampler
from calvingfronts.training.validation import validate
from calvingfronts.training.warm_start import (
    check_onnx_start,
    freeze_batchnorm_statistics,
    has_frozen_statistics,
    state_dict_from_onnx,
)

log = logging.getLogger(__name__)
ZONE_CLASSES = 3


@dataclass
class TrainResult:
    onnx: Path | None
    card: Path | None
    run_dir: Path
    best_epoch: int | None
    validation: dict | None  # held-out summary of the exported (best) weights
    minutes: float
    history: list[dict]
    # What the run did (steps, exported epoch, device), as the model card gives it.
    training: dict | None = None
    data_info: dict | None = None


def lr_factor(progress: float, warmup_fraction: float) -> float:
    """Learning-rate factor at ``progress`` in [0, 1]: linear warm-up, then cosine to zero."""
    if progress < warmup_fraction:
        return max(progress / warmup_fraction, 0.01)
    return 0.5 * (
        1
        + math.cos(
            math.pi * min(1.0, (progress - warmup_fraction) / max(1e-9, 1 - warmup_fraction))
        )
    )


def run_progress(step: int, total: int, elapsed_s: float, max_minutes: float | None) -> float:
    """Share of the run done: by steps, or by wall time when a budget is set and binds.

    With a time budget the schedule still completes its decay when the budget ends, so a
    run cut short on a busy CPU ends annealed rather than at its peak learning rate (at the
    price of bit-exact reproducibility, which a step budget alone keeps).
    """
    progress = step / total
    if max_minutes:
        progress = max(progress, elapsed_s / (60.0 * max_minutes))
    return min(progress, 1.0)


def _augment_config(config: TrainConfig) -> AugmentConfig:
    options = dict(config.augment)
    for key in ("pixel_size_range_m", "gamma_range", "contrast_range", "speckle_looks"):
        if key in options:
            options[key] = tuple(options[key])
    return AugmentConfig(crop_size=config.crop_size, **options)


# Keys a resumed run may change: its length, time, threads, and the name and place it
# exports under (e.g. a finished run published as the shipped model).
_RESUMABLE_CHANGES = (
    "epochs",
    "max_minutes",
    "export",
    "resume",
    "threads",
    "output",
    "card",
    "name",
    "average_epochs",
    "device",
    "loader_workers",
)
# Steps between reads of the loss for the progress bar (each read waits for the GPU).
LOSS_REPORT_STEPS = 50
# Training batches over which BatchNorm statistics are measured for averaged weights.
BATCHNORM_BATCHES = 50


def _fixed(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in _RESUMABLE_CHANGES}


def _save(path: Path, **state) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


@dataclass
class _State:
    """What a checkpoint restores: where the run is, what it has seen, how long it took."""

    epoch: int = 0
    history: list = field(default_factory=list)
    best: dict = field(default_factory=lambda: {"score": math.inf, "epoch": None})
    elapsed_s: float = 0.0


def _restore(config: TrainConfig, run_dir: Path, model, optimizer) -> _State:
    """Continue from ``last.pt`` when resuming (same config, see _RESUMABLE_CHANGES)."""
    checkpoint = run_dir / "last.pt"
    if not config.resume:
        for stale in ("last.pt", "best.pt"):
            (run_dir / stale).unlink(missing_ok=True)
    if not (config.resume and checkpoint.exists()):
        if config.init_from_onnx:
            model.load_state_dict(state_dict_from_onnx(model, config.init_from, config.init_member))
            # Its BatchNorms are the identity plus the folded bias: a batch's statistics
            # would undo the folding. Swapping their class keeps the optimizer's parameters.
            freeze_batchnorm_statistics(model)
            log.info(
                "initialised %s from network %d of %s",
                config.name,
                config.init_member,
                config.init_from,
            )
        elif config.init_from:
            saved = _load(config.init_from)
            model.load_state_dict(saved["model"])
            if saved.get("frozen_batchnorm"):  # a later stage of a warm start from ONNX
                freeze_batchnorm_statistics(model)
            log.info("initialised %s from %s", config.name, config.init_from)
        return _State()
    saved = _load(checkpoint)
    # Keys added to the config since the checkpoint was written take their defaults.
    written = {**TrainConfig().to_dict(), **saved["config"]}
    if _fixed(written) != _fixed(config.to_dict()):
        raise ValueError(
            f"{checkpoint} was written with another config; delete the run "
            "directory or set resume: false"
        )
    model.load_state_dict(saved["model"])
    if saved.get("frozen_batchnorm"):
        freeze_batchnorm_statistics(model)
    optimizer.load_state_dict(saved["optimizer"])
    if "torch_rng" in saved:
        torch.set_rng_state(saved["torch_rng"])
    log.info("resuming %s at epoch %d", config.name, saved["epoch"])
    return _State(saved["epoch"], saved["history"], saved["best"], saved["elapsed_s"])


def training_loss(model, batch: dict, config: TrainConfig) -> torch.Tensor:
    """Front loss on channel 0, plus the zone loss where a zone head exists."""
    logits = model(batch["image"])
    target = batch["target"].to(logits.dtype)
    loss = front_loss(logits[:, :1], target, config.pos_weight, config.dice_weight)
    if logits.shape[1] > 1:
        loss = loss + config.zone_weight * zone_loss(logits[:, 1:], batch["zones"])
    return loss


def _load(path) -> dict:
    """A checkpoint, onto the CPU whatever device wrote it (the model copies it over)."""
    return torch.load(path, map_location="cpu", weights_only=False)


def _train_epoch(
    model, optimizer, batches, config: TrainConfig, epoch: int, clock
) -> tuple[list[float], float, float]:
    """One epoch of steps (fewer when the time budget ends): (losses, progress, lr)."""
    total = config.epochs * config.steps_per_epoch
    losses, progress, lr = [], 0.0, config.learning_rate
    bar = tqdm(
        range(config.steps_per_epoch),
        desc=f"{config.name} {epoch + 1}/{config.epochs}",
        leave=False,
        mininterval=5.0,
    )
    for i in bar:
        step = epoch * config.steps_per_epoch + i
        progress = run_progress(step, total, clock(), config.max_minutes)
        if progress >= 1.0:
            break
        lr = config.learning_rate * lr_factor(progress, config.warmup_fraction)
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = training_loss(model, next(batches), config)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        # Kept on the device: reading a loss back every step would make the CPU wait for
        # the GPU, which then idles while the next step is queued.
        losses.append(loss.detach())
        if i % LOSS_REPORT_STEPS == 0:
            recent = torch.stack(losses[-LOSS_REPORT_STEPS:]).mean()
            bar.set_postfix(loss=f"{float(recent):.3f}", refresh=False)
    losses = torch.stack(losses).tolist() if losses else []
    return losses, progress, lr


def build_network(config: TrainConfig, weights: dict | None = None):
    """The run's network: its front channel, plus the zone head where the zone loss is on;
    with ``weights`` (a state dict, e.g. ``final.pt``'s) loaded."""
    out_channels = 1 + (ZONE_CLASSES if config.zone_weight > 0 else 0)
    network = build_model(config.model, width=config.width, out_channels=out_channels)
    if weights is not None:
        network.load_state_dict(weights)
    return network


def train(config: TrainConfig | dict) -> TrainResult:
    """Train, validate, checkpoint and (``config.export``) export one model."""
    if isinstance(config, dict):
        config = TrainConfig.from_dict(config)
    if config.ensemble > 1:
        return train_ensemble(config)
    if config.stages:
        return _train_in_stages(config)
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    device = resolve_device(config.device)
    run_dir = config.path("run_dir")
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=2))

    sources, validation, data_info = load_data(config.data, config.validation_glaciers)
    (run_dir / "data.json").write_text(json.dumps(data_info, indent=2))
    sampler = BatchSampler(
        sources, config.histogram, _augment_config(config), config.front_width_px, config.seed
    )
    model = build_network(config).to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    state = _restore(config, run_dir, model, optimizer)
    started, before = time.monotonic(), state.elapsed_s

    def clock() -> float:
        return before + time.monotonic() - started

    model.train()
    batches = step_batches(
        sampler,
        state.epoch * config.steps_per_epoch,
        config.epochs * config.steps_per_epoch,
        config.batch_size,
        config.loader_workers,
        device,
    )
    for epoch in range(state.epoch, config.epochs):
        losses, progress, lr = _train_epoch(model, optimizer, batches, config, epoch, clock)
        if not losses:
            break
        record = {
            "epoch": epoch + 1,
            "steps": len(losses),
            "loss": float(np.mean(losses)),
            "lr": lr,
            "progress": round(progress, 4),
            "elapsed_s": round(clock(), 1),
        }
        if validation:
            report = validate(model, validation, config.histogram, config.missing_penalty_px)
            record.update(
                val_mean_m=report["mean_m"],
                val_median_m=report["median_m"],
                val_no_front=report["n_no_front"],
                val_score_m=report["score_m"],
            )
            if report["score_m"] < state.best["score"]:
                state.best = {"score": report["score_m"], "epoch": epoch + 1}
                _save(run_dir / "best.pt", model=model.state_dict(), epoch=epoch + 1)
        state.history.append(record)
        if config.average_epochs > 1:
            save_snapshot(model, run_dir, epoch + 1, keep=config.average_epochs)
        state.epoch, state.elapsed_s = epoch + 1, clock()
        log.info("epoch %s", record)
        tqdm.write(json.dumps(record))
        _save(
            run_dir / "last.pt",
            model=model.state_dict(),
            optimizer=optimizer.state_dict(),
            epoch=state.epoch,
            history=state.history,
            best=state.best,
            config=config.to_dict(),
            elapsed_s=state.elapsed_s,
            frozen_batchnorm=has_frozen_statistics(model),
            torch_rng=torch.get_rng_state(),
        )
        write_history(state.history, run_dir)
        if progress >= 1.0:
            log.info("time budget of %s min used up after epoch %d", config.max_minutes, epoch + 1)
            break
    batches.close()  # stops the loader's workers
    return _finish(model, config, run_dir, validation, data_info, state, clock() / 60.0, sampler)


def _train_in_stages(config: TrainConfig) -> TrainResult:
    """Run ``config.stages`` in order, each warm-started from the one before, then the final
    stage (``config`` itself), which alone is exported."""
    base = {**config.to_dict(), "stages": []}
    run_dir = config.path("run_dir")
    previous = config.init_from
    for i, overrides in enumerate(config.stages, 1):
        stage_dir = run_dir / f"stage{i}"
        log.info("stage %d of %d: %s", i, len(config.stages) + 1, json.dumps(overrides))
        train(
            {
                **base,
                "init_from": previous,
                **overrides,
                "name": f"{config.name}-stage{i}",
                "run_dir": str(stage_dir),
                "export": False,
            }
        )
        previous = str(stage_dir / "last.pt")
    log.info("final stage %d of %d", len(config.stages) + 1, len(config.stages) + 1)
    return train({**base, "init_from": previous})


def _earlier_stage(path: str | None, member: int = 0) -> list[dict]:
    """Steps, minutes and config of the runs a warm start came from, earliest first (for
    the card): a stage's checkpoint names the stage it started from in turn, and the first
    may be an ONNX model (network ``member`` of it, as the config that named it says)."""
    stages = []
    while path:
        if is_onnx_path(path):
            stages.insert(0, _onnx_start(path, member))
            break
        saved = _load(path)
        history = saved.get("history") or []
        config = saved.get("config") or {}
        stages.insert(
            0,
            {
                "path": str(path),
                "steps": sum(h.get("steps", 0) for h in history),
                "minutes": round(saved.get("elapsed_s", 0.0) / 60.0, 1),
                "config": config,
            },
        )
        path = config.get("init_from")
        member = int(config.get("init_member", 0))
    return stages


def _onnx_start(path, member: int) -> dict:
    """The card's record of an ONNX model a run started from: its name, its networks and
    the one the run took."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    metadata = {prop.key: prop.value for prop in model.metadata_props}
    return {
        "path": str(path),
        "onnx": metadata.get("model_name", Path(path).stem),
        "networks": int(metadata.get("ensemble_networks", 1)),
        "member": member,
        "steps": 0,
        "minutes": 0.0,
        "config": {},
    }


def _finish(
    model,
    config: TrainConfig,
    run_dir: Path,
    validation,
    data_info: dict,
    state: _State,
    minutes: float,
    sampler: BatchSampler,
) -> TrainResult:
    """Pick the weights to ship, measure them on the held-out set once more, export."""
    use_best = config.select_best and validation and (run_dir / "best.pt").exists()
    if use_best:
        model.load_state_dict(_load(run_dir / "best.pt")["model"])
    averaged = measured = None
    if config.average_epochs > 1 and len(latest_snapshots(run_dir, config.average_epochs)) > 1:
        # Batches past any training step: the same ones on every rerun of the export.
        device = next(model.parameters()).device
        batches = (
            sampler.batch(10_000_000 + i, config.batch_size)["image"].to(device)
            for i in range(BATCHNORM_BATCHES)
        )
        averaged, measured = average_snapshots(model, run_dir, config.average_epochs, batches)
        log.info("exporting the mean of the weights of epochs %s", averaged)
    model.eval()
    # The weights as exported, also as a checkpoint: fine-tuning or a re-export starts here.
    _save(
        run_dir / "final.pt",
        model=model.state_dict(),
        config=config.to_dict(),
        frozen_batchnorm=has_frozen_statistics(model),
    )
    final = None
    if validation:
        final = validate(model, validation, config.histogram, config.missing_penalty_px)
        (run_dir / "validation.json").write_text(json.dumps(final, indent=2))
    onnx_path = card_path = done = None
    if config.export:
        from calvingfronts.training.publish import publish

        model.cpu()  # the export and its parity check run on the CPU, as inference does
        done = {
            "steps": sum(h.get("steps", config.steps_per_epoch) for h in state.history),
            "exported_epoch": state.best["epoch"] if use_best else state.epoch,
            "averaged_epochs": averaged,
            # 0: the statistics are frozen (a warm start from ONNX) and were kept.
            "batchnorm_batches": measured,
            "init_from": _earlier_stage(config.init_from, config.init_member),
            "device": resolve_device(config.device).type,
        }
        onnx_path, card_path = publish(model, config, data_info, final, minutes, training=done)
    return TrainResult(
        onnx_path,
        card_path,
        run_dir,
        state.best["epoch"],
        final,
        minutes,
        state.history,
        training=done,
        data_info=data_info,
    )


def train_ensemble(config):
    """Train ``config.ensemble`` networks (each resumes on its own), merge their ONNX files
    into ``config.output`` and write its card; a TrainResult of the ensemble."""
    from calvingfronts.raster_io import write_text
    from calvingfronts.training.ensemble import (
        MeanProbability,
        check_merge,
        ensemble_card,
        member_config,
        merge_onnx,
    )
    from calvingfronts.training.model_card import held_out_lines
    from calvingfronts.training.publish import onnx_metadata

    if config.init_from_onnx:
        check_onnx_start(config.init_from, config.init_member, config.ensemble)
    settings = {**config.to_dict(), "ensemble": 1}
    results = [train(member_config(settings, m)) for m in range(config.ensemble)]
    minutes = sum(r.minutes for r in results)
    if not config.export:
        first = results[0]
        return TrainResult(None, None, first.run_dir, None, None, minutes, first.history)
    files = [r.onnx for r in results]
    metadata = {**onnx_metadata(config), "ensemble_networks": str(config.ensemble)}
    merged = merge_onnx(files, config.path("output"), metadata)
    check_merge(files, merged)
    validation = held_out = None
    if config.validation_glaciers:
        _, samples, _ = load_data(config.data, config.validation_glaciers)
        networks = [torch.load(r.run_dir / "final.pt", map_location="cpu") for r in results]
        model = MeanProbability(
            [build_network(config, saved["model"]).eval() for saved in networks]
        )
        validation = validate(model, samples, config.histogram, config.missing_penalty_px)
        held_out = "\n".join(held_out_lines(config.validation_glaciers, validation))
    card = config.path("card")
    write_text(card, ensemble_card(files, merged, config.name, held_out, config.to_dict()))
    first = results[0]
    return TrainResult(
        merged,
        card,
        first.run_dir,
        None,
        validation,
        minutes,
        first.history,
        training=first.training,
        data_info=first.data_info,
    )
