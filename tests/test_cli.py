"""The calvingfronts command line: configuration checks, scene listing, model metadata."""

import subprocess
import sys

import yaml

from calvingfronts.cli import main

CLI = [sys.executable, "-m", "calvingfronts.cli"]


def test_check_config_accepts_the_shipped_config(repo, capsys, monkeypatch):
    monkeypatch.chdir(repo)
    assert main(["check-config"]) == 0
    assert "valid" in capsys.readouterr().out


def test_check_config_names_the_bad_key(repo, tmp_path, workflow_config, monkeypatch):
    monkeypatch.chdir(repo)
    workflow_config["glaciers"]["demo"]["sensors"]["landsat8"]["end"] = "2001-01-01"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(workflow_config))
    result = subprocess.run(
        [*CLI, "check-config", "--config", str(bad)], cwd=repo, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "glaciers.demo.sensors.landsat8.end" in result.stderr
    workflow_config["inference"]["tile_size"] = "large"
    bad.write_text(yaml.safe_dump(workflow_config))
    result = subprocess.run(
        [*CLI, "check-config", "--config", str(bad)], cwd=repo, capture_output=True, text=True
    )
    assert result.returncode != 0 and "inference.tile_size" in result.stderr


def test_list_scenes_prints_the_manifest(repo):
    result = subprocess.run(
        [*CLI, "list-scenes", "--glacier", "demo", "--sensor", "sentinel1"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0].startswith("scene_id,glacier,sensor,source,acquired")
    assert len(lines) > 10 and all(",sentinel1,synthetic," in line for line in lines[1:])


def test_model_info_shows_the_shipped_model_metadata(repo, workflow_config):
    result = subprocess.run(
        [*CLI, "model-info", workflow_config["model"]],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"histogram": "equalize"' in result.stdout
    assert "CPUExecutionProvider" in result.stdout
