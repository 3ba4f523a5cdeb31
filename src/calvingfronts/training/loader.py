"""Training batches drawn ahead of the network, in worker processes where asked.

Each batch is seeded by its step (:class:`~calvingfronts.training.sampling.BatchSampler`),
so the batches, and a resumed run, are the same whether they are drawn in the training
process or by any number of workers. A GPU trains the small network faster than one
process can crop and augment; the workers close that gap.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, Dataset

from calvingfronts.training.sampling import BatchSampler


class _StepBatches(Dataset):
    """Item ``i`` is the batch of step ``first_step + i``."""

    def __init__(self, sampler: BatchSampler, first_step: int, last_step: int, size: int):
        self.sampler, self.first_step, self.size = sampler, first_step, size
        self.count = max(0, last_step - first_step)

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return self.sampler.batch(self.first_step + index, self.size)


def step_batches(
    sampler: BatchSampler,
    first_step: int,
    last_step: int,
    size: int,
    workers: int = 0,
    device: torch.device | str = "cpu",
) -> Iterator[dict[str, torch.Tensor]]:
    """The batches of steps ``first_step`` .. ``last_step - 1`` in order, on ``device``."""
    device = torch.device(device)
    if workers == 0:
        for step in range(first_step, last_step):
            yield _to(sampler.batch(step, size), device)
        return
    # Fork shares the loaded samples with the workers instead of pickling them to each.
    methods = multiprocessing.get_all_start_methods()
    loader = DataLoader(
        _StepBatches(sampler, first_step, last_step, size),
        batch_size=None,
        shuffle=False,
        num_workers=workers,
        prefetch_factor=4,
        pin_memory=device.type == "cuda",
        multiprocessing_context="fork" if "fork" in methods else None,
        # Its own generator: the loader's draw of worker seeds must not move torch's global
        # one, which dropout uses, or the run would depend on the number of workers.
        generator=torch.Generator().manual_seed(0),
    )
    for batch in loader:
        yield _to(batch, device)


def _to(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    if device.type == "cpu":
        return batch
    return {key: value.to(device, non_blocking=True) for key, value in batch.items()}


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA where torch sees a GPU, else the CPU; ``cuda`` without one fails."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("training device is cuda, but torch sees no CUDA GPU")
    return torch.device(name)
