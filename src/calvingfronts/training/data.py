"""Assemble a run's data: every configured source loaded, then split by glacier."""

from __future__ import annotations

import inspect

from calvingfronts.training.datasets import (
    load_caffe,
    load_frontlearning,
    load_geotiffs,
    split_by_glacier,
)
from calvingfronts.training.samples import FrontSample


def _loaders() -> dict:
    """The loader of each ``kind`` of data entry; its parameters are the entry's keys."""
    from calvingfronts.training.synthetic_data import synthetic_samples

    return {
        "frontlearning": load_frontlearning,
        "caffe": load_caffe,
        "geotiff": load_geotiffs,
        "synthetic": synthetic_samples,
    }


# Keys every data entry may have besides its loader's parameters.
ENTRY_KEYS = ("kind", "weight")


def check_data_entry(entry: dict, where: str = "data entry") -> None:
    """Refuse an unknown ``kind`` or a key its loader does not take, naming them: a typo
    must fail when the configuration is checked, not hours into a run."""
    loaders = _loaders()
    kind = entry.get("kind")
    if kind not in loaders:
        raise ValueError(f"{where}: unknown data kind {kind!r} ({', '.join(loaders)})")
    known = set(inspect.signature(loaders[kind]).parameters) | set(ENTRY_KEYS)
    unknown = sorted(set(entry) - known)
    if unknown:
        raise ValueError(f"{where} ({kind}): unknown keys {unknown}; known: {sorted(known)}")


def load_source(entry: dict) -> list[FrontSample]:
    """Samples of one ``data`` entry of the training config."""
    check_data_entry(entry)
    options = {k: v for k, v in entry.items() if k not in ENTRY_KEYS}
    return _loaders()[entry["kind"]](**options)


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
