"""Training steps a second on the device alone, reading the loss back every step or not.

    .venv/bin/python benchmarks/training_steps.py --steps 400

Times the training step of ``calvingfronts.training.train`` (the network, the front and zone
losses, AdamW) on one fixed batch of 16 x 256 px crops already on the device, so the loader
is out of the figure; each setting runs twice, the first run also warming the device up.
Reading the loss back each step (``float(loss)``) makes the CPU wait for the GPU before it
queues the next step; the training loop keeps the losses on the device instead. Timings
depend on the machine: they are kept here, never in the tests.
"""

from __future__ import annotations

import argparse
import time

import torch

from calvingfronts.models import build_model
from calvingfronts.training.config import TrainConfig
from calvingfronts.training.train import training_loss


def steps_per_second(model, optimizer, batch, steps: int, read_back: bool) -> float:
    config = TrainConfig(zone_weight=0.5)  # the shipped recipe's losses
    device = batch["image"].device
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    losses = []
    for _ in range(steps):
        loss = training_loss(model, batch, config)  # the training loop's own loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()) if read_back else loss.detach())
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--widths", type=float, nargs="+", default=[0.25, 0.5])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    batch = {
        "image": torch.rand(16, 1, 256, 256, device=device),
        "target": (torch.rand(16, 1, 256, 256, device=device) > 0.98).to(torch.uint8),
        "zones": torch.randint(-1, 3, (16, 256, 256), device=device, dtype=torch.int8),
    }
    print(f"| width | loss read back every step | steps / s ({device}) |")
    print("| --- | --- | --- |")
    for width in args.widths:
        model = build_model("deeplabv3plus-drn-d-22", width=width, out_channels=4).to(device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        for read_back in (True, False, True, False):
            rate = steps_per_second(model, optimizer, batch, args.steps, read_back)
            print(f"| {width:g} | {'yes' if read_back else 'no'} | {rate:.1f} |", flush=True)


if __name__ == "__main__":
    main()
