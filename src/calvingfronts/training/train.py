"""The training loop: ``train(config) -> TrainResult``.

Seeded, resumable (a checkpoint after every epoch; a rerun continues where it stopped),
validated after every epoch on held-out glaciers with the workflow's own metric, and ending
in the exported ONNX model and its card. CPU-first: ``threads`` sets torch's thread count.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from calvingfronts.models import build_model, describe
from calvingfronts.training.augment import AugmentConfig
from calvingfronts.training.config import TrainConfig
from calvingfronts.training.curves import write_history
from calvingfronts.training.data import load_data
from calvingfronts.training.losses import front_loss, zone_loss
from calvingfronts.training.sampling import BatchSampler
from calvingfronts.training.validation import validate

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


def _schedule(progress: float, warmup_fraction: float) -> float:
    """Learning-rate factor at ``progress`` in [0, 1]: linear warm-up, then cosine to zero."""
    if progress < warmup_fraction:
        return max(progress / warmup_fraction, 0.01)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (progress - warmup_fraction)
                                              / max(1e-9, 1 - warmup_fraction))))


def _progress(step: int, total: int, elapsed_s: float, max_minutes: float | None) -> float:
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


# Keys a resumed run may change: its length, time, threads and where it exports to.
_RESUMABLE_CHANGES = ("epochs", "max_minutes", "export", "resume", "threads", "output", "card")


def _fixed(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in _RESUMABLE_CHANGES}


def _save(path: Path, **state) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def train(config: TrainConfig | dict) -> TrainResult:
    """Train, validate, checkpoint and (``config.export``) export one model."""
    if isinstance(config, dict):
        config = TrainConfig.from_dict(config)
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    run_dir = config.path("run_dir")
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=2))

    sources, validation, data_info = load_data(config.data, config.validation_glaciers)
    (run_dir / "data.json").write_text(json.dumps(data_info, indent=2))
    sampler = BatchSampler(sources, config.histogram, _augment_config(config),
                           config.front_width_px, config.seed)
    out_channels = 1 + (ZONE_CLASSES if config.zone_weight > 0 else 0)
    model = build_model(config.model, width=config.width, out_channels=out_channels)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate,
                                  weight_decay=config.weight_decay)
    total = config.epochs * config.steps_per_epoch

    start_epoch, history, best = 0, [], {"score": math.inf, "epoch": None}
    elapsed_before = 0.0
    checkpoint = run_dir / "last.pt"
    if config.resume and checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        if _fixed(state["config"]) != _fixed(config.to_dict()):
            raise ValueError(f"{checkpoint} was written with another config; delete the run "
                             "directory or set resume: false")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start_epoch, history, best = state["epoch"], state["history"], state["best"]
        elapsed_before = state["elapsed_s"]
        log.info("resuming %s at epoch %d", config.name, start_epoch)
    elif not config.resume:
        for stale in ("last.pt", "best.pt"):
            (run_dir / stale).unlink(missing_ok=True)

    started = time.monotonic()
    model.train()
    progress, lr = 0.0, config.learning_rate
    for epoch in range(start_epoch, config.epochs):
        losses = []
        bar = tqdm(range(config.steps_per_epoch), desc=f"{config.name} {epoch + 1}/{config.epochs}",
                   leave=False, mininterval=5.0)
        for i in bar:
            step = epoch * config.steps_per_epoch + i
            progress = _progress(step, total, elapsed_before + time.monotonic() - started,
                                 config.max_minutes)
            if progress >= 1.0:
                break
            lr = config.learning_rate * _schedule(progress, config.warmup_fraction)
            for group in optimizer.param_groups:
                group["lr"] = lr
            batch = sampler.batch(step, config.batch_size)
            logits = model(batch["image"])
            loss = front_loss(logits[:, :1], batch["target"], config.pos_weight,
                              config.dice_weight)
            if out_channels > 1:
                loss = loss + config.zone_weight * zone_loss(logits[:, 1:], batch["zones"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}", refresh=False)
        elapsed = elapsed_before + time.monotonic() - started
        if not losses:
            break
        record = {"epoch": epoch + 1, "steps": len(losses), "loss": float(np.mean(losses)),
                  "lr": lr, "progress": round(progress, 4), "elapsed_s": round(elapsed, 1)}
        if validation:
            report = validate(model, validation, config.histogram, config.missing_penalty_px)
            record.update(val_mean_m=report["mean_m"], val_median_m=report["median_m"],
                          val_no_front=report["n_no_front"], val_score_m=report["score_m"])
            if report["score_m"] < best["score"]:
                best = {"score": report["score_m"], "epoch": epoch + 1}
                _save(run_dir / "best.pt", model=model.state_dict(), epoch=epoch + 1)
        history.append(record)
        log.info("epoch %s", record)
        tqdm.write(json.dumps(record))
        _save(checkpoint, model=model.state_dict(), optimizer=optimizer.state_dict(),
              epoch=epoch + 1, history=history, best=best,
              config=config.to_dict(), elapsed_s=elapsed)
        write_history(history, run_dir)
        if progress >= 1.0:
            log.info("time budget of %s min used up after epoch %d", config.max_minutes,
                     epoch + 1)
            break

    minutes = (elapsed_before + time.monotonic() - started) / 60.0
    if config.select_best and validation and (run_dir / "best.pt").exists():
        model.load_state_dict(torch.load(run_dir / "best.pt", weights_only=False)["model"])
    model.eval()
    final = validate(model, validation, config.histogram, config.missing_penalty_px) \
        if validation else None
    if final is not None:
        (run_dir / "validation.json").write_text(json.dumps(final, indent=2))
    onnx_path = card_path = None
    if config.export:
        from calvingfronts.training.publish import publish

        exported = best["epoch"] if config.select_best and best["epoch"] else len(history)
        done = {"steps": sum(h.get("steps", config.steps_per_epoch) for h in history),
                "exported_epoch": exported}
        onnx_path, card_path = publish(model, config, data_info, final, minutes,
                                       training=done)
    return TrainResult(onnx_path, card_path, run_dir, best["epoch"], final, minutes, history)


def describe_model(config: TrainConfig) -> str:
    return describe(config.model, config.width)
