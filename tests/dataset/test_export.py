"""`calvingfronts export`: every format opens in geopandas and GDAL with every field, the
shapefile speaks TermPicks, a failed write keeps the previous file, and the README documents
every field and flag."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile

import geopandas
import numpy as np
import pandas
import pyarrow.parquet
import pyogrio
import pytest
from straight_series import X0, Y0, write_straight_series

from calvingfronts.cli import main
from calvingfronts.dataset.export import export_paths, read_export_table, write_export
from calvingfronts.dataset.fields import FIELDS, QUALITY_FLAGS, VECTORIZER_FLAGS, satellite
from calvingfronts.fronts.quality import quality_flags
from calvingfronts.raster_io import OutputWriteError


@pytest.fixture
def series_gpkg(tmp_path):
    return write_straight_series(tmp_path)


TERMPICKS_NAMES = {"GlacierID", "Date", "Year", "Month", "Day", "DecDate", "Satellite", "Author"}


def test_the_table_holds_every_front_kept_and_screened(series_gpkg):
    table = read_export_table(series_gpkg, termpicks_id=3)
    assert list(table.columns) == [f.name for f in FIELDS] + ["geometry"]
    assert len(table) == 12 and table.crs.to_epsg() == 3413
    assert (table.status == "kept").sum() == 10
    screened = table[table.status == "screened"]
    assert list(screened.screening_test) == ["temporal_outlier", "temporal_outlier"]
    assert (screened.screening_reason.str.len() > 0).all()
    assert (table.glacier_id == 3).all() and (table.glacier == "straight").all()
    assert list(table.date) == sorted(table.date) and table.date[0] == "2020-03-01"
    assert table.year[0] == 2020 and table.month[0] == 3 and table.day[0] == 1
    assert table.decimal_year[0] == pytest.approx(2020 + (31 + 29 + 0.5) / 366, abs=1e-6)
    # Each front crosses the centreline (y = Y0 + 2 km) where it lies.
    assert np.allclose(table.crossing_y, Y0 + 2000)
    xs = np.array([line.coords[0][0] for line in table.geometry])
    assert np.allclose(table.crossing_x, xs)
    assert np.allclose(table.position_m, xs - X0)
    assert set(table.satellite) == {"Sentinel-1A", "Landsat 8"}
    assert table.quality_flags[3] == "open_end,several_candidates"
    assert table.author[0] == "calvingfronts (automated)" and "m (ONNX)" in table.method[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", table.processed[0])
    assert table.position_uncertainty_m.isna().all()  # the records hold no position bound


def test_every_format_opens_in_geopandas_and_gdal(series_gpkg, tmp_path):
    table = read_export_table(series_gpkg)
    paths = write_export(table, export_paths(tmp_path / "export", "straight"))
    assert {p.name for p in paths.values()} == {
        "straight_fronts.shp.zip", "straight_fronts.geojson", "straight_fronts.parquet",
        "straight_fronts.csv",
    }  # fmt: skip
    for fmt, path in paths.items():
        if fmt == "geoparquet":
            # pyogrio's bundled GDAL builds its Parquet driver without the library it needs;
            # the GeoParquet metadata is checked with pyarrow below.
            continue
        # GDAL's OGR drivers, which ogrinfo uses, read each file (pyogrio bundles them).
        info = pyogrio.read_info(path)
        assert info["features"] == len(table), fmt
        if shutil.which("ogrinfo"):
            result = subprocess.run(["ogrinfo", "-so", "-al", str(path)], capture_output=True)
            assert result.returncode == 0, fmt
    shp = geopandas.read_file(paths["shapefile"])
    assert shp.crs.to_epsg() == 3413 and len(shp) == len(table)
    assert all(len(c) <= 10 for c in shp.columns)
    assert set(shp.columns) >= TERMPICKS_NAMES
    assert list(shp.columns) == [f.shapefile for f in FIELDS] + ["geometry"]
    assert shp.DecDate.tolist() == pytest.approx(table.decimal_year.tolist())
    with zipfile.ZipFile(paths["shapefile"]) as archive:
        assert {n.rsplit(".", 1)[1] for n in archive.namelist()} >= {"shp", "shx", "dbf", "prj"}
    geojson = geopandas.read_file(paths["geojson"])
    assert geojson.crs.to_epsg() == 4326 and len(geojson) == len(table)
    assert geojson.to_crs(3413).geometry.hausdorff_distance(table.geometry).max() < 1.0
    metadata = pyarrow.parquet.read_metadata(paths["geoparquet"]).metadata
    geo = json.loads(metadata[b"geo"])
    assert geo["primary_column"] == "geometry" and geo["version"].startswith("1.")
    parquet = geopandas.read_parquet(paths["geoparquet"])
    assert parquet.crs.to_epsg() == 3413 and list(parquet.columns) == list(table.columns)
    csv = pandas.read_csv(paths["csv"])
    assert list(csv.columns) == [f.name for f in FIELDS] + ["wkt"]
    lines = geopandas.GeoSeries.from_wkt(csv.wkt, crs=3413)
    assert lines.hausdorff_distance(table.geometry).max() < 1.0
    assert np.allclose(csv.crossing_x, table.crossing_x)


def test_a_glacier_without_fronts_exports_empty_files(tmp_path, series_gpkg):
    fronts = geopandas.read_file(series_gpkg, layer="fronts").iloc[0:0]
    empty = tmp_path / "empty_fronts.gpkg"
    pyogrio.write_dataframe(fronts, empty, layer="fronts", geometry_type="LineString")
    table = read_export_table(empty)
    paths = write_export(table, export_paths(tmp_path, "empty"))
    for fmt, path in paths.items():
        if fmt == "geoparquet":
            assert len(geopandas.read_parquet(path)) == 0
        elif fmt == "csv":
            assert len(pandas.read_csv(path)) == 0
        else:
            assert pyogrio.read_info(path)["features"] == 0, fmt


def test_a_failed_write_keeps_the_previous_file(series_gpkg, tmp_path, monkeypatch):
    table = read_export_table(series_gpkg)
    paths = export_paths(tmp_path, "straight", ("shapefile",))
    write_export(table, paths)
    before = paths["shapefile"].read_bytes()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pyogrio, "write_dataframe", full_disk)
    with pytest.raises(OutputWriteError, match="straight_fronts.shp.zip"):
        write_export(table.iloc[:3], paths)
    assert paths["shapefile"].read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if ".part" in p.name]


def test_the_command_exports_every_format(series_gpkg, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["export", str(series_gpkg), "--out-dir", str(out), "--config", str(tmp_path / "none")]
    assert main(argv) == 0
    printed = capsys.readouterr()
    assert len(printed.out.splitlines()) == 4 and "12 fronts of straight" in printed.err
    assert main(["export", str(tmp_path / "missing_fronts.gpkg")]) == 1
    assert "missing_fronts.gpkg" in capsys.readouterr().err


def test_satellites_come_from_the_scene_id_or_the_sensor():
    assert satellite("sentinel1", "S1B_IW_GRDH_1SDH_2019") == "Sentinel-1B"
    assert satellite("landsat9", "LC09_L2SP_009011_2022") == "Landsat 9"
    assert satellite("landsat8", "SYN_LANDSAT8_2020") == "Landsat 8"


def test_the_readme_documents_every_field_flag_and_format(repo):
    readme = (repo / "README.md").read_text()
    section = readme[readme.index("## What you get") :]
    section = section[: section.index("\n## ", 4)]
    for field in FIELDS:
        assert f"`{field.name}`" in section and f"`{field.shapefile}`" in section, field.name
    for flag in QUALITY_FLAGS:
        assert f"`{flag}`" in section, flag
    for suffix in (".shp.zip", ".geojson", ".parquet", ".csv", "collection.json"):
        assert suffix in section, suffix


def test_every_flag_the_vectorizer_raises_is_documented():
    raised = quality_flags(
        {"n_candidates": 2, "bridged_gaps": 1, "span_fraction": 0.2, "start_at_fjord_edge": False,
         "end_at_fjord_edge": True, "touches_nodata": True, "mean_probability": 0.1,
         "threshold": 0.5}
    )  # fmt: skip
    assert set(raised) == set(VECTORIZER_FLAGS)
