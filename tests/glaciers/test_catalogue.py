"""The glacier catalogue: entries drafted from front polygons (a synthetic fjord with known
answers, the committed Greenland catalogue regenerated from the published polygons), merged
into the configuration, listed, and planned by a dry run."""

from __future__ import annotations

import filecmp
import subprocess
import sys

import pytest
import yaml
from shapely.geometry import Polygon

from calvingfronts.cli import main
from calvingfronts.config import check_config, load_config_file, with_catalogues
from calvingfronts.glaciers.catalogue import (
    ICE_SHEET_SUMMIT,
    centres_of,
    draft_from_polygon,
    flow_azimuth_from_polygon,
    read_front_centres,
)
from calvingfronts.glaciers.config import ConfigError, glacier_config
from calvingfronts.timeseries.terminus import line_azimuth

CITATION = "Loebel et al. (2024), The Cryosphere 18:3315, MIT licence"
SHIPPED_FROM_POLYGONS = {"helheim": "helheim", "kangerlussuaq": "kangerdlugssuaq"}


def _fjord_east_of_summit(length_m=12_000.0, width_m=4_000.0) -> Polygon:
    """A straight fjord running east-west, east of the ice sheet's summit: ice flows east."""
    x0, y0 = ICE_SHEET_SUMMIT[0] + 300_000.0, ICE_SHEET_SUMMIT[1]
    return Polygon(
        [(x0, y0 - width_m / 2), (x0 + length_m, y0 - width_m / 2),
         (x0 + length_m, y0 + width_m / 2), (x0, y0 + width_m / 2)]
    )  # fmt: skip


def test_the_front_is_the_narrowest_chord_and_flow_points_away_from_the_summit():
    fjord = _fjord_east_of_summit()
    centre = fjord.centroid.coords[0]
    azimuth, rule = flow_azimuth_from_polygon(fjord, [centre])
    assert rule == "narrowest chord" and azimuth == pytest.approx(90.0, abs=1.0)
    # The same fjord west of the summit drains west.
    west = Polygon([(2 * ICE_SHEET_SUMMIT[0] - x, y) for x, y in fjord.exterior.coords])
    assert flow_azimuth_from_polygon(west, [west.centroid.coords[0]])[0] == pytest.approx(
        270.0, abs=1.0
    )


def test_several_centres_give_the_front_line_of_a_wide_glacier():
    # A glacier 40 km wide and 10 km long: the narrowest chord would run along the flow,
    # the centres along the front say otherwise.
    x0, y0 = ICE_SHEET_SUMMIT[0] + 300_000.0, ICE_SHEET_SUMMIT[1]
    wide = Polygon(
        [(x0, y0 - 20e3), (x0 + 10e3, y0 - 20e3), (x0 + 10e3, y0 + 20e3), (x0, y0 + 20e3)]
    )
    centres = [(x0 + 5e3, y0 + dy) for dy in (-15e3, -5e3, 5e3, 15e3)]
    azimuth, rule = flow_azimuth_from_polygon(wide, centres)
    assert rule == "front centres" and azimuth == pytest.approx(90.0, abs=1.0)


def test_a_drafted_entry_crosses_the_fjord_with_the_flow():
    fjord = _fjord_east_of_summit()
    centre = (fjord.centroid.x + 2_000.0, fjord.centroid.y)
    draft = draft_from_polygon(fjord, [centre])
    assert draft.azimuth_from == "narrowest chord"
    assert line_azimuth(draft.centreline) == pytest.approx(90.0, abs=1.0)
    # Straight through the front centre, 1 km beyond each end of the fjord.
    assert draft.centreline.distance(fjord.centroid) < 1.0
    assert draft.centreline.length == pytest.approx(14_000.0, rel=1e-6)
    # The box is 80 % of the 4 km width at the centre.
    assert draft.box.area == pytest.approx(0.8 * 4_000.0 * 14_000.0, rel=1e-3)
    xmin, ymin, xmax, ymax = draft.aoi
    assert xmin <= fjord.bounds[0] - 5_000 and xmax >= fjord.bounds[2] + 5_000
    # A given direction replaces the drafted one.
    assert draft_from_polygon(fjord, [centre], flow_azimuth=80.0).azimuth_from == "given"


def test_centres_are_read_by_name_and_prefix(tmp_path):
    path = tmp_path / "centres.txt"
    path.write_text("# header\nsolo 1 2\nwide_a 3 4\nwide_b 5 6\n")
    centres = read_front_centres(path)
    assert centres_of("solo", centres) == [(1.0, 2.0)]
    assert centres_of("wide", centres) == [(3.0, 4.0), (5.0, 6.0)]
    assert centres_of("absent", centres) == []
    path.write_text("solo 1\n")
    with pytest.raises(ValueError, match="line 1"):
        read_front_centres(path)


@pytest.mark.needs_shared
def test_the_committed_catalogue_is_what_the_published_polygons_give(
    shared_data, repo, tmp_path, monkeypatch
):
    """Regenerating the catalogue and the two shipped outlines from Loebel et al.'s polygons
    gives the committed files byte for byte: they are derived, never edited by hand."""
    polygons = shared_data / "greenland_front_polygons"
    monkeypatch.chdir(repo)
    out = tmp_path / "greenland"
    catalogue = tmp_path / "greenland.yaml"
    argv = ["draft-catalogue", "--polygons", str(polygons), "--centres",
            str(polygons / "front_centres_3413.txt"), "--out-dir", str(out), "--catalogue",
            str(catalogue), "--citation", CITATION]  # fmt: skip
    for name in ("jakobshavn_isbrae", "helheim", "kangerdlugssuaq"):
        argv += ["--exclude", name]
    assert main(argv) == 0
    committed = repo / "config" / "outlines" / "greenland"
    names = sorted(p.name for p in committed.glob("*.geojson"))
    assert names == sorted(p.name for p in out.iterdir()) and len(names) == 3 * 20
    assert filecmp.cmpfiles(committed, out, names, shallow=False)[0] == names
    expected = (repo / "config" / "catalogues" / "greenland.yaml").read_text()
    assert catalogue.read_text() == expected.replace(
        "config/outlines/greenland/", f"{out.as_posix()}/"
    )
    centres = read_front_centres(polygons / "front_centres_3413.txt")
    config = load_config_file("config/config.yaml")
    for shipped, polygon in SHIPPED_FROM_POLYGONS.items():
        entry = config["glaciers"][shipped]
        x, y = centres[polygon][0]
        argv = ["draft-glacier", "--fjord-polygon", str(polygons / f"{polygon}.shp"),
                "--front-centre", str(x), str(y), "--flow-azimuth", str(entry["flow_azimuth"]),
                "--name", shipped, "--out-dir", str(tmp_path), "--citation", CITATION]  # fmt: skip
        assert main(argv) == 0
        for kind in ("fjord", "centreline", "box"):
            assert (tmp_path / f"{shipped}_{kind}.geojson").read_text() == (
                repo / entry[kind]
            ).read_text(), f"{shipped} {kind}"


def test_the_catalogue_joins_the_config_and_an_entry_overrides_it_key_by_key(tmp_path, repo):
    config = yaml.safe_load((repo / "config" / "config.yaml").read_text())
    config["glaciers"]["humboldt"] = {
        "flow_azimuth": 300,
        "sensors": {"landsat9": {"enabled": False}},
    }
    merged = with_catalogues(config, repo)
    assert len(merged["glaciers"]) == 24
    assert list(merged["glaciers"])[:4] == ["demo", "jakobshavn", "helheim", "kangerlussuaq"]
    humboldt = merged["glaciers"]["humboldt"]
    assert humboldt["flow_azimuth"] == 300 and humboldt["drafted"] is True
    assert humboldt["sensors"]["landsat9"] == {
        "source": "stac", "pixel_size": 30, "start": humboldt["sensors"]["landsat9"]["start"],
        "enabled": False,
    }  # fmt: skip
    glacier = glacier_config(merged, "humboldt", repo)
    assert "landsat9" not in glacier.sensors and glacier.drafted
    bad = tmp_path / "bad.yaml"
    bad.write_text("glacier:\n  x: {}\n")
    with pytest.raises(ConfigError, match="bad.yaml must hold one mapping"):
        with_catalogues({**config, "catalogues": [str(bad)]}, repo)
    with pytest.raises(ConfigError, match="missing.yaml cannot be read"):
        with_catalogues({**config, "catalogues": [str(tmp_path / "missing.yaml")]}, repo)


def test_every_catalogue_glacier_checks_and_is_listed(repo, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(repo)
    config = load_config_file("config/config.yaml")
    check_config(config)  # every entry, outline files included
    assert main(["list-glaciers", "--plot", str(tmp_path / "outlines.png")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 24
    humboldt = next(line for line in lines if line.startswith("humboldt "))
    assert "drafted" in humboldt and "sentinel1 (stac)" in humboldt
    assert "landsat9 (stac)" in humboldt
    jakobshavn = next(line for line in lines if line.startswith("jakobshavn "))
    assert "outlines given" in jakobshavn
    assert (tmp_path / "outlines.png").stat().st_size > 10_000


def test_one_target_plans_every_configured_glacier(repo):
    """A dry run of all_glaciers plans each glacier's listing (one job for its sensors), its
    merge and plots."""
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "all_glaciers"],
        cwd=repo, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    config = load_config_file(str(repo / "config" / "config.yaml"))
    listings = sum(
        1
        for name, entry in config["glaciers"].items()
        if not (repo / "results" / name / "manifests").is_dir()
        and any(s.get("enabled", True) for s in entry["sensors"].values())
    )
    counts = {
        parts[0]: int(parts[1])
        for parts in (line.split() for line in result.stdout.splitlines())
        if len(parts) == 2 and parts[1].isdigit()
    }
    assert counts.get("list_scenes", 0) == listings and listings >= 23
