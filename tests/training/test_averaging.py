"""Weight averaging: the mean of snapshots, fresh BatchNorm statistics, and the export."""

import pytest
import torch

from calvingfronts.training.averaging import (
    average_weights,
    latest_snapshots,
    recompute_batchnorm,
    save_snapshot,
)
from calvingfronts.training.config import TrainConfig


def test_mean_of_float_tensors_newest_integer_buffers():
    old = {"w": torch.tensor([1.0, 3.0]), "n": torch.tensor(5)}
    new = {"w": torch.tensor([3.0, 5.0]), "n": torch.tensor(9)}
    averaged = average_weights([old, new])
    assert torch.equal(averaged["w"], torch.tensor([2.0, 4.0]))
    assert int(averaged["n"]) == 9
    with pytest.raises(ValueError):
        average_weights([])


def test_batchnorm_statistics_are_the_plain_average_over_the_batches():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 1, bias=False), torch.nn.BatchNorm2d(1))
    torch.nn.init.ones_(model[0].weight)
    model.eval()
    batches = [torch.full((2, 1, 4, 4), value) for value in (1.0, 3.0, 8.0)]
    assert recompute_batchnorm(model, batches) == 3
    assert float(model[1].running_mean) == pytest.approx(4.0)
    assert not model.training  # left as it was found
    assert model[1].momentum == pytest.approx(0.1)


def test_only_the_newest_snapshots_are_kept(tmp_path):
    model = torch.nn.Linear(2, 1)
    for epoch in range(1, 6):
        save_snapshot(model, tmp_path, epoch, keep=3)
    assert [p.name for p in latest_snapshots(tmp_path, 10)] == [
        "epoch_0003.pt",
        "epoch_0004.pt",
        "epoch_0005.pt",
    ]


def test_averaging_and_best_selection_exclude_each_other():
    with pytest.raises(ValueError, match="exclude each other"):
        TrainConfig.from_dict({"select_best": True, "average_epochs": 3})
