"""Score a zone-and-front candidate on its held-out FrontLearning glacier, two ways:

- the front head, through the workflow's vectorizer (as training's validation does);
- the zone head: the boundary between the ocean zone and the rest (glacier and rock).

Each direction apart (line to reference, reference to line), in metres, 1 view.

    python docs/training/zones-cpu-2026-12-03/score_zones.py RUN_DIR GLACIER [OUT.json]
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

from calvingfronts.evaluation.evaluate_images import score_probability
from calvingfronts.evaluation.metrics import front_distances
from calvingfronts.inference.front_model import framed, pad_to_multiple, unframed
from calvingfronts.preprocess.normalize import normalize
from calvingfronts.training.config import TrainConfig
from calvingfronts.training.data import load_data
from calvingfronts.training.train import build_network

GLACIER, OCEAN = 1, 2


def largest_region(mask: np.ndarray) -> np.ndarray:
    """The largest 4-connected region of ``mask`` (all False where it has none)."""
    labels, count = ndimage.label(mask)
    if count == 0:
        return np.zeros(mask.shape, bool)
    return labels == 1 + np.argmax(ndimage.sum(mask, labels, range(1, count + 1)))


def edge_of(sea: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Pixels of ``sea`` beside a pixel of ``other``, away from the image's edge."""
    boundary = sea & ndimage.binary_dilation(other)
    boundary[[0, -1], :] = boundary[:, [0, -1]] = False
    return boundary


def glacier_ocean_boundary(zones: np.ndarray) -> np.ndarray:
    """Ocean pixels of the largest ocean region beside a glacier pixel: the front where the
    zones meet, without the rock coasts (no fjord polygon for these images)."""
    return edge_of(largest_region(zones == OCEAN), zones == GLACIER)


def zone_boundary(ocean: np.ndarray) -> np.ndarray:
    """Pixels of the largest ocean region that touch the largest other region: the front as
    the zones draw it."""
    return edge_of(largest_region(ocean), largest_region(~ocean))


def directions(line: np.ndarray, reference: np.ndarray, pixel_m: float) -> tuple:
    if not line.any():
        return None, None
    to_reference = ndimage.distance_transform_edt(~reference)[line].mean() * pixel_m
    to_line = ndimage.distance_transform_edt(~line)[reference].mean() * pixel_m
    return float(to_reference), float(to_line)


def main(run_dir: str, glacier: str, out: str | None = None) -> None:
    run = Path(run_dir)
    config = TrainConfig.from_dict(json.loads((run / "config.json").read_text()))
    saved = torch.load(run / "final.pt", map_location="cpu")
    model = build_network(config, saved["model"]).eval()
    _, samples, _ = load_data(config.data, [glacier])
    rows = []
    for sample in samples:
        image = normalize(sample.values, sample.valid, config.histogram, sample.value_range)
        height, width = image.shape
        view = pad_to_multiple(framed(image.astype(np.float32)))
        with torch.no_grad():
            logits = model(torch.from_numpy(view[None, None]))
        front = unframed(torch.sigmoid(logits[0, 0]), height, width).numpy()
        zones = unframed(logits[0, 1:].argmax(0).float(), height, width).numpy()
        pred, truth, reason = score_probability(
            front, sample.front, sample.pixel_size_m, sample.valid, None, None, sample.flow_azimuth
        )
        head_to_ref = head_to_line = None
        if pred is not None:
            a, b = front_distances(pred, truth)
            head_to_ref, head_to_line = float(a.mean()), float(b.mean())
        zone_line = zone_boundary(zones == OCEAN)
        to_ref, to_line = directions(zone_line, sample.front, sample.pixel_size_m)
        glacier_line = glacier_ocean_boundary(zones)
        g_ref, g_line = directions(glacier_line, sample.front, sample.pixel_size_m)
        rows.append(
            {
                "image": sample.name,
                "head_line_to_reference_m": head_to_ref,
                "head_reference_to_line_m": head_to_line,
                "head_reason": reason,
                "zone_line_to_reference_m": to_ref,
                "zone_reference_to_line_m": to_line,
                "glacier_zone_line_to_reference_m": g_ref,
                "glacier_zone_reference_to_line_m": g_line,
            }
        )
    summary = {}
    for key in (
        "head_line_to_reference_m",
        "head_reference_to_line_m",
        "zone_line_to_reference_m",
        "zone_reference_to_line_m",
        "glacier_zone_line_to_reference_m",
        "glacier_zone_reference_to_line_m",
    ):
        values = [r[key] for r in rows if r[key] is not None]
        summary[key] = {"mean": float(np.mean(values)), "median": float(np.median(values)),
                        "n": len(values)}  # fmt: skip
    summary["images"] = len(rows)
    print(json.dumps(summary, indent=2))
    if out:
        Path(out).write_text(json.dumps({"summary": summary, "images": rows}, indent=2,
                                        default=float))  # fmt: skip


if __name__ == "__main__":
    main(*sys.argv[1:])
