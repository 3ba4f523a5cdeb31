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
