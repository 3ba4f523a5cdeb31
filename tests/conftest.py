"""Shared fixtures: the repository root, the shared data folder, and glacier set-ups."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (only beside the project's clone)")
    return SHARED_DATA


def load_workflow_config() -> dict:
    """A fresh copy of the shipped configuration (tests may change theirs)."""
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


@pytest.fixture
def workflow_config() -> dict:
    return load_workflow_config()


def add_local_glacier(workdir: Path) -> None:
    """Add glacier ``mine`` to the workdir's config: the demo's area and fjord, with
    TerraSAR-X scenes listed in ``my_scenes/manifest.csv`` (the local source)."""
    path = workdir / "config" / "config.yaml"
    config = yaml.safe_load(path.read_text())
    config["glaciers"]["mine"] = {
        "aoi": config["glaciers"]["demo"]["aoi"],
        "fjord": config["glaciers"]["demo"]["fjord"],
        "sensors": {
            "terrasarx": {
                "source": "local",
                "manifest": "my_scenes/manifest.csv",
                "pixel_size": 60,
                "start": "2020-01-01",
            }
        },
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def export_tiny_unet(path: Path, histogram: str) -> Path:
    """A small untrained U-Net exported as the workflow's ONNX contract (needs torch)."""
    from calvingfronts.models import build_model
    from calvingfronts.training.export import export_onnx

    metadata = {
        "model_name": path.stem,
        "model_version": "0",
        "architecture": "unet",
        "histogram": histogram,
        "trained_on": "-",
        "pixel_size_m": "50",
        "front_width_px": "3",
    }
    return export_onnx(build_model("unet", width=0.125).eval(), path, metadata)
