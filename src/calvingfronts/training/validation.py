"""The validation metric: the workflow's own post-processing, in metres.

Each held-out image is normalized and predicted whole (framed and padded as the workflow
frames and pads its tiles), the probability goes through
:func:`calvingfronts.fronts.vectorize.extract_front`, and the line is compared with the label by
:mod:`calvingfronts.evaluation.metrics` (via :mod:`calvingfronts.evaluation.evaluate_images`). A
pixel-overlap
score would reward a blurry band that the vectorizer cannot turn into the right line; this
measures what the workflow delivers.
"""

from __future__ import annotations

import numpy as np
import torch

from calvingfronts.evaluation.evaluate_images import score_probability, summarize
from calvingfronts.inference.front_model import framed, pad_to_multiple, unframed
from calvingfronts.preprocess.normalize import normalize
from calvingfronts.training.samples import FrontSample


@torch.no_grad()
def predict_probability(model: torch.nn.Module, image: np.ndarray) -> np.ndarray:
    """Front probability of one normalized (H, W) image, framed and padded as the workflow
    frames and pads (calvingfronts.inference.front_model.FRAME_PX)."""
    height, width = image.shape
    device = next(model.parameters()).device
    view = pad_to_multiple(framed(image.astype(np.float32)))
    batch = torch.from_numpy(view[None, None])  # np.pad made a fresh array: no copy needed
    probability = torch.sigmoid(model(batch.to(device))[:, :1])
    return unframed(probability[0, 0], height, width).cpu().numpy()


def validate(
    model: torch.nn.Module,
    samples: list[FrontSample],
    histogram: str,
    missing_penalty_px: float = 20.0,
) -> dict:
    """Pooled distance summary over ``samples`` plus a single selection ``score`` (m).

    The score is the pooled mean distance plus ``missing_penalty_px`` pixels for each image
    whose front was not found, spread over the images, so a model cannot look good by
    declining the hard scenes.
    """
    was_training = model.training
    model.eval()
    results, names = [], []
    for sample in samples:
        image = normalize(sample.values, sample.valid, histogram, sample.value_range)
        probability = predict_probability(model, image)
        results.append(
            score_probability(
                probability,
                sample.front,
                sample.pixel_size_m,
                sample.valid,
                sample.transform,
                sample.fjord,
                sample.flow_azimuth,
            )
        )
        names.append(sample.name)
    model.train(was_training)
    pixel = float(np.mean([s.pixel_size_m for s in samples]))
    report = summarize(names, results, pixel)
    mean = report["mean_m"] if report["mean_m"] is not None else missing_penalty_px * pixel
    report["score_m"] = mean + missing_penalty_px * pixel * report["n_no_front"] / len(samples)
    return report
