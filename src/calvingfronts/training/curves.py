"""Per-epoch metrics as JSON and a training-curve PNG (written after every epoch)."""

from __future__ import annotations

import json
from pathlib import Path


def write_history(history: list[dict], run_dir: Path) -> None:
    (run_dir / "metrics.json").write_text(json.dumps(history, indent=2))
    plot_history(history, run_dir / "training_curve.png")


def plot_history(history: list[dict], path: Path) -> None:
    """Loss (left) and held-out front distance in metres (right) against epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(epochs, [h["loss"] for h in history], marker=".")
    left.set(xlabel="epoch", ylabel="training loss (BCE + Dice)", yscale="log")
    with_val = [h for h in history if h.get("val_mean_m") is not None]
    if with_val:
        right.plot(
            [h["epoch"] for h in with_val],
            [h["val_mean_m"] for h in with_val],
            marker=".",
            label="mean",
        )
        right.plot(
            [h["epoch"] for h in with_val],
            [h["val_median_m"] for h in with_val],
            marker=".",
            label="median",
        )
        right.plot(
            [h["epoch"] for h in with_val],
            [h["val_score_m"] for h in with_val],
            ls=":",
            label="selection score",
        )
        right.set(xlabel="epoch", ylabel="held-out front distance (m)")
        right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
