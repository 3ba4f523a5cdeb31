"""Assemble a run's data: every configured source loaded, then split by glacier."""

from __future__ import annotations

from calvingfronts.training.datasets import (
    load_caffe,
    load_frontlearning,
    load_geotiffs,
    split_by_glacier,
)
from calvingfronts.training.samples import FrontSample


def load_source(entry: dict) -> list[FrontSample]:
    """Samples of one ``data`` entry of the training config."""
    kind = entry.get("kind")
    options = {k: v for k, v in entry.items() if k not in ("kind", "weight")}
    if kind == "frontlearning":
        return load_frontlearning(**options)
    if kind == "caffe":
        return load_caffe(**options)
    if kind == "geotiff":
        return load_geotiffs(**options)
    if kind == "synthetic":
        from calvingfronts.training.synthetic_data import synthetic_samples

        return synthetic_samples(**options)
    raise ValueError(f"unknown data kind {kind!r} (frontlearning, caffe, geotiff, synthetic)")


def load_data(entries: list[dict], validation_glaciers) -> tuple[list, list[FrontSample], dict]:
    """([(training samples, weight) per source], validation samples, description).

    Whole glaciers named in ``validation_glaciers`` are held out of every source.
    """
    sources, validation, described = [], [], {}
    for entry in entries:
        samples = load_source(entry)
        known = {s.glacier for s in samples}
        train, held = split_by_glacier(samples, [g for g in validation_glaciers if g in known])
        sources.append((train, float(entry.get("weight", 1.0))))
        validation += held
        where = entry.get("path") or entry.get("label") or entry.get("glacier", "")
        described[f"{len(described) + 1}. {entry['kind']}: {where}"] = {
            "train": len(train),
            "validation": len(held),
            "glaciers": sorted(known),
        }
    missing = set(validation_glaciers) - {s.glacier for s in validation}
    if missing:
        raise ValueError(f"validation glaciers {sorted(missing)} are in no data source")
    return sources, validation, described
