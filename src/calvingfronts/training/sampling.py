"""Batches of augmented crops drawn from several weighted data sources, reproducibly.

Every example's random generator is derived from (seed, step, index in batch), so a resumed
run sees exactly the examples the interrupted one would have seen.
"""

from __future__ import annotations

import numpy as np
import torch

from calvingfronts.training.augment import AugmentConfig, make_example
from calvingfronts.training.samples import FrontSample


class BatchSampler:
    """Draws a source by weight, then a sample from it, then a random augmented crop."""

    def __init__(
        self,
        sources: list[tuple[list[FrontSample], float]],
        histogram: str,
        augment: AugmentConfig,
        front_width_px: float,
        seed: int,
    ):
        self.sources = [(samples, w) for samples, w in sources if samples and w > 0]
        if not self.sources:
            raise ValueError("no training samples (every source is empty or held out)")
        weights = np.array([w for _, w in self.sources], dtype=float)
        self.weights = weights / weights.sum()
        self.histogram = histogram
        self.augment = augment
        self.front_width_px = front_width_px
        self.seed = seed

    def batch(self, step: int, size: int) -> dict[str, torch.Tensor]:
        images, targets, valids, zones = [], [], [], []
        for index in range(size):
            rng = np.random.default_rng((self.seed, step, index))
            samples, _ = self.sources[rng.choice(len(self.sources), p=self.weights)]
            sample = samples[rng.integers(len(samples))]
            image, target, valid, zone = make_example(
                sample, self.histogram, rng, self.augment, self.front_width_px
            )
            images.append(image)
            targets.append(target)
            valids.append(valid)
            zones.append(np.full(image.shape, -1, np.int8) if zone is None else zone)
        stack = lambda arrays: torch.from_numpy(np.stack(arrays)[:, None])  # noqa: E731
        # Labels travel as bytes (the loss widens them on its device): a batch crosses from a
        # loader worker and onto the GPU at 7 MB instead of 17.
        return {
            "image": stack(images),
            "target": stack([t.astype(np.uint8) for t in targets]),
            "valid": stack(valids),
            "zones": torch.from_numpy(np.stack(zones)),
        }
