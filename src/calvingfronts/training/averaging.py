"""Weight averaging over the last epochs of a run (stochastic weight averaging, Izmailov et
al. 2018).

On a few hundred real fronts the held-out error of single epochs swings by hundreds of
metres from one epoch to the next, because a handful of hard scenes flip between the front
and a mélange or shear-margin edge. The mean of the weights of the last epochs sits in the
middle of that wandering and is steadier than any one of them. BatchNorm's running
statistics do not average meaningfully, so they are measured afresh on training batches.

Snapshots are the model's weights after each epoch, ``<run_dir>/snapshots/epoch_NNNN.pt``;
only the newest ``keep`` are kept.
"""

from __future__ import annotations

from pathlib import Path

import torch

from calvingfronts.training.warm_start import FrozenStatisticsBatchNorm2d


def snapshot_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "snapshots"


def save_snapshot(model: torch.nn.Module, run_dir: Path, epoch: int, keep: int) -> None:
    """Save this epoch's weights and delete snapshots older than the newest ``keep``."""
    folder = snapshot_dir(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"epoch_{epoch:04d}.pt"
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "epoch": epoch}, tmp)
    tmp.replace(path)
    for old in sorted(folder.glob("epoch_*.pt"))[:-keep]:
        old.unlink()


def latest_snapshots(run_dir: Path, count: int) -> list[Path]:
    return sorted(snapshot_dir(run_dir).glob("epoch_*.pt"))[-count:]


def average_weights(states: list[dict]) -> dict:
    """The element-wise mean of floating-point tensors; integer buffers (BatchNorm's batch
    counter) are taken from the newest state."""
    if not states:
        raise ValueError("no weights to average")
    averaged = {}
    for key, newest in states[-1].items():
        if all(torch.equal(state[key], newest) for state in states):
            # Frozen statistics (training.warm_start) stay exactly what they were.
            averaged[key] = newest
        elif newest.dtype.is_floating_point:
            averaged[key] = sum(state[key] for state in states) / len(states)
        else:
            averaged[key] = newest
    return averaged


@torch.no_grad()
def recompute_batchnorm(model: torch.nn.Module, batches) -> int:
    """Set every BatchNorm's running mean and variance to their plain average over
    ``batches`` (an iterable of input tensors); returns how many batches were used."""
    # Frozen statistics (a warm start from ONNX, training.warm_start) are part of the
    # weights: measuring them afresh would undo the folding they stand for.
    norms = [
        m
        for m in model.modules()
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
        and not isinstance(m, FrozenStatisticsBatchNorm2d)
    ]
    if not norms:
        return 0
    momenta = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # None: a cumulative average over all batches seen
    was_training = model.training
    model.train()
    count = 0
    for images in batches:
        model(images)
        count += 1
    for norm, momentum in zip(norms, momenta, strict=True):
        norm.momentum = momentum
    model.train(was_training)
    return count


def average_snapshots(
    model: torch.nn.Module, run_dir: Path, count: int, batches
) -> tuple[list[int], int]:
    """Load the mean of the newest ``count`` snapshots into ``model`` and recompute its
    BatchNorm statistics on ``batches``; returns the averaged epochs and how many batches
    measured the statistics (0 where they are frozen)."""
    paths = latest_snapshots(run_dir, count)
    saved = [torch.load(path, map_location="cpu", weights_only=False) for path in paths]
    model.load_state_dict(average_weights([s["model"] for s in saved]))
    measured = recompute_batchnorm(model, batches)
    return [int(s["epoch"]) for s in saved], measured
