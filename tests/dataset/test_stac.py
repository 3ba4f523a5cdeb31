"""The publishable dataset: a STAC Collection that reads back with pystac and geopandas, every
asset present with its checksum, the extent that of the fronts, and a build that is never
half-done."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas
import pandas
import pystac
import pytest
from straight_series import FJORD, write_straight_series

from calvingfronts.dataset import stac as stac_module
from calvingfronts.dataset.export import export_paths, read_export_table, write_export
from calvingfronts.dataset.stac import DatasetInputs, build_dataset, check_dataset
from calvingfronts.raster_io import OutputWriteError


@pytest.fixture
def series_gpkg(tmp_path):
    return write_straight_series(tmp_path)


MODEL = Path(__file__).resolve().parents[2] / "models" / "frontlearning-all-drn-deeplabv3plus.onnx"


def _inputs(series_gpkg: Path, tmp_path: Path) -> DatasetInputs:
    results = series_gpkg.parent
    paths = write_export(read_export_table(series_gpkg, 7), export_paths(results / "x", "straight"))
    plot = tmp_path / "position.png"
    plot.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    return DatasetInputs(
        glacier="straight",
        fronts=paths["geoparquet"],
        assets={
            "geopackage": series_gpkg,
            "positions_csv": results / "straight_positions.csv",
            "shapefile": paths["shapefile"],
            "position_png": plot,
        },
        model=MODEL,
        config={"glaciers": {"straight": {"flow_azimuth": 90}}},
        description="a straight test fjord",
        termpicks_id=7,
    )


def test_the_collection_reads_back_with_every_asset_and_the_fronts_extent(series_gpkg, tmp_path):
    inputs = _inputs(series_gpkg, tmp_path)
    path = build_dataset(inputs, tmp_path / "dataset")
    assert path == tmp_path / "dataset" / "collection.json"
    collection = pystac.Collection.from_file(str(path))
    assert collection.license == "CC-BY-4.0" and collection.id == "calvingfronts-straight"
    items = list(collection.get_items())
    assert len(items) == 1
    item = items[0]
    assert set(item.assets) == {"fronts", "geopackage", "positions_csv", "shapefile",
                                "position_png"}  # fmt: skip
    for key, asset in item.assets.items():
        file = Path(asset.get_absolute_href())
        assert file.is_file() and file.parent == path.parent / item.id, key
        assert asset.extra_fields["file:size"] == file.stat().st_size
        assert (
            asset.extra_fields["file:checksum"]
            == "1220" + hashlib.sha256(file.read_bytes()).hexdigest()
        )
    fronts = geopandas.read_parquet(item.assets["fronts"].get_absolute_href())
    assert len(fronts) == 12 and item.properties["calvingfronts:fronts_kept"] == 10
    assert item.properties["calvingfronts:termpicks_id"] == 7
    assert item.properties["proj:code"] == "EPSG:3413"
    columns = {c["name"] for c in item.assets["fronts"].extra_fields["table:columns"]}
    assert columns == set(fronts.columns)
    # The extent is that of the fronts: time span and longitude/latitude bounds.
    acquired = pandas.to_datetime(fronts.acquired, utc=True)
    start, end = collection.extent.temporal.intervals[0]
    assert start == acquired.min() and end == acquired.max()
    assert item.common_metadata.start_datetime == start
    west, south, east, north = collection.extent.spatial.bboxes[0]
    lon_min, lat_min, lon_max, lat_max = fronts.to_crs(4326).total_bounds
    assert west <= lon_min and south <= lat_min and east >= lon_max and north >= lat_max
    assert FJORD.buffer(1000).contains(fronts.union_all())
    # Provenance: the model's sha256, the code version, a citation.
    assert (
        collection.extra_fields["calvingfronts:model_sha256"]
        == hashlib.sha256(MODEL.read_bytes()).hexdigest()
    )
    assert collection.extra_fields["calvingfronts:code_version"].startswith("0.")
    assert "sci:citation" in collection.extra_fields
    readme = (path.parent / "README.md").read_text()
    assert "12 calving fronts (10 kept" in readme and "`DecDate`" in readme
    assert "open_end" in readme and "CC-BY-4.0" in readme
    assert (path.parent / "config.yaml").is_file()


def test_a_rebuild_replaces_the_dataset_and_a_failed_one_keeps_it(
    series_gpkg, tmp_path, monkeypatch
):
    inputs = _inputs(series_gpkg, tmp_path)
    out = tmp_path / "dataset"
    build_dataset(inputs, out)
    stale = out / "stale.txt"
    stale.write_text("from an earlier build")
    build_dataset(inputs, out)
    assert not stale.exists(), "a rebuild starts from an empty folder"
    before = sorted(p.relative_to(out) for p in out.rglob("*"))

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(stac_module.shutil, "copy2", full_disk)
    with pytest.raises(OutputWriteError, match="dataset"):
        build_dataset(inputs, out)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    check_dataset(out / "collection.json")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".dataset")] == []


def test_a_truncated_asset_is_found(series_gpkg, tmp_path):
    path = build_dataset(_inputs(series_gpkg, tmp_path), tmp_path / "dataset")
    item = next(pystac.Collection.from_file(str(path)).get_items())
    target = Path(item.assets["geopackage"].get_absolute_href())
    target.write_bytes(target.read_bytes()[:100])
    with pytest.raises(OSError, match="geopackage"):
        check_dataset(path)


def test_no_fronts_no_dataset(series_gpkg, tmp_path):
    inputs = _inputs(series_gpkg, tmp_path)
    empty = tmp_path / "empty.parquet"
    geopandas.read_parquet(inputs.fronts).iloc[0:0].to_parquet(empty)
    with pytest.raises(ValueError, match="no front"):
        build_dataset(DatasetInputs(**{**inputs.__dict__, "fronts": empty}), tmp_path / "d")
    assert not (tmp_path / "d").exists()
