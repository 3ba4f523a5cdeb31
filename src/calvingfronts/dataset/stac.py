"""A glacier's fronts as a dataset ready to publish: a folder with a STAC Collection.

``results/<glacier>/dataset/`` holds:

- ``collection.json``: a STAC Collection (pystac) with the spatial and temporal extent of the
  fronts, the licence, the citations (scientific extension) and the provenance;
- ``<item>/<item>.json``: one Item for the glacier and the time span of its fronts, with the
  fronts as GeoParquet, the GeoPackage, the positions table, the exports and the plots as
  assets; each asset has its size and SHA-256 (file extension), the Item its projection
  (projection extension) and the GeoParquet its columns (table extension);
- ``README.md``: what the dataset is, how it was made, its fields, licence and citation;
- ``config.yaml``: the configuration that made it, with the glacier's entry.

The folder is built beside its final place, read back with pystac (every asset present, the
extent that of the fronts) and only then moved into place, so a killed build leaves the
previous dataset or none.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas
import pandas
import shapely
import yaml

from calvingfronts import __version__
from calvingfronts.dataset.fields import FIELDS, QUALITY_FLAGS
from calvingfronts.raster_io import own_output

LICENCE = "CC-BY-4.0"
METHOD_CITATION = (
    "Zhang, E., Liu, L., Huang, L. and Ng, K. S. (2021): An automated, generalized, deep-"
    "learning-based method for delineating the calving fronts of Greenland glaciers from "
    "multi-sensor remote sensing imagery. Remote Sensing of Environment 254:112265."
)
METHOD_DOI = "10.1016/j.rse.2020.112265"
TRAINING_CITATION = (
    "Mohajerani, Y., Wood, M., Velicogna, I. and Rignot, E. (2019): Detection of glacier "
    "calving margins with convolutional neural networks: a case study. Remote Sensing "
    "11(1):74 (training fronts, CC-BY-4.0)."
)
TRAINING_DOI = "10.3390/rs11010074"

MEDIA_TYPES = {
    ".parquet": "application/vnd.apache.parquet",
    ".gpkg": "application/geopackage+sqlite3",
    ".csv": "text/csv",
    ".geojson": "application/geo+json",
    ".zip": "application/zip",
    ".png": "image/png",
    ".html": "text/html",
    ".md": "text/markdown",
    ".yaml": "application/yaml",
}


@dataclass(frozen=True)
class DatasetInputs:
    """The files a glacier's dataset is made of, by asset key (``fronts`` is the
    GeoParquet export, whose table the extent and the columns are read from)."""

    glacier: str
    fronts: Path
    assets: dict[str, Path]
    model: Path
    config: dict
    description: str = ""
    termpicks_id: int | None = None
    drafted: bool = False
    extra: dict = field(default_factory=dict)


def build_dataset(inputs: DatasetInputs, out_dir: str | os.PathLike) -> Path:
    """Write the dataset folder ``out_dir`` (its ``collection.json`` is returned)."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent)).resolve()
    try:
        with own_output(out_dir):
            collection = _write_dataset(inputs, staging)
            check_dataset(staging / "collection.json")
        old = None
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old.{os.getpid()}")
            os.replace(out_dir, old)
        os.replace(staging, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return out_dir / Path(collection).name


def _write_dataset(inputs: DatasetInputs, folder: Path) -> Path:
    import pystac
    from pystac.extensions.file import FileExtension
    from pystac.extensions.projection import ProjectionExtension
    from pystac.extensions.scientific import Publication, ScientificExtension
    from pystac.extensions.table import Column, TableExtension

    fronts = geopandas.read_parquet(inputs.fronts)
    if not len(fronts):
        raise ValueError(f"{inputs.fronts} holds no front: there is no dataset to publish")
    acquired = pandas.to_datetime(fronts["acquired"], utc=True)
    start, end = acquired.min().to_pydatetime(), acquired.max().to_pydatetime()
    # The fronts' hull with a 500 m margin, to the metre: a footprint, not a survey.
    footprint = shapely.set_precision(fronts.geometry.union_all().convex_hull.buffer(500.0), 1.0)
    lonlat = geopandas.GeoSeries([footprint], crs=fronts.crs).to_crs(4326).iloc[0]
    glacier = inputs.glacier
    item_id = f"{glacier}-{start:%Y%m%d}-{end:%Y%m%d}"
    item_dir = folder / item_id
    item_dir.mkdir(parents=True)
    # The export's processing date: the day the GeoPackage was written.
    provenance = _provenance(inputs, str(fronts["processed"].iloc[0]))

    item = pystac.Item(
        id=item_id,
        geometry=json.loads(json.dumps(lonlat.__geo_interface__)),
        bbox=list(lonlat.bounds),
        datetime=None,
        start_datetime=start,
        end_datetime=end,
        properties={
            "title": f"Calving fronts of {glacier}, {start:%Y-%m-%d} to {end:%Y-%m-%d}",
            "calvingfronts:glacier": glacier,
            "calvingfronts:termpicks_id": inputs.termpicks_id,
            "calvingfronts:outlines_drafted": inputs.drafted,
            "calvingfronts:fronts_kept": int((fronts["status"] == "kept").sum()),
            "calvingfronts:fronts_screened": int((fronts["status"] == "screened").sum()),
            "calvingfronts:sensors": sorted(fronts["sensor"].unique().tolist()),
            "calvingfronts:satellites": sorted(fronts["satellite"].unique().tolist()),
            **{f"calvingfronts:{key}": value for key, value in provenance.items()},
        },
    )
    projection = ProjectionExtension.ext(item, add_if_missing=True)
    projection.code = fronts.crs.to_string()
    projection.bbox = [float(v) for v in footprint.bounds]
    projection.geometry = json.loads(json.dumps(footprint.__geo_interface__))

    for key, source in {"fronts": inputs.fronts, **inputs.assets}.items():
        target = item_dir / Path(source).name
        shutil.copy2(source, target)
        asset = pystac.Asset(
            href=target.name,
            media_type=_media_type(target),
            title=_ASSET_TITLES.get(key, key),
            roles=["data"] if key != "plots" and not key.endswith("_png") else ["overview"],
        )
        item.add_asset(key, asset)
        files = FileExtension.ext(asset, add_if_missing=True)
        files.size = target.stat().st_size
        files.checksum = "1220" + _sha256(target)
    table = TableExtension.ext(item.assets["fronts"], add_if_missing=True)
    described = {f.name: f.description for f in FIELDS}
    table.columns = [
        Column({"name": name, "type": str(dtype), "description": described.get(name, "")})
        for name, dtype in fronts.dtypes.items()
        if name != fronts.geometry.name
    ] + [Column({"name": "geometry", "type": "geometry", "description": "the front line"})]
    table.row_count = len(fronts)
    table.primary_geometry = "geometry"

    collection = pystac.Collection(
        id=f"calvingfronts-{glacier}",
        title=f"Calving fronts of {glacier}",
        description=(
            f"Calving fronts of {glacier}"
            + (f" ({inputs.description.strip()})" if inputs.description else "")
            + ", drawn automatically from satellite scenes by the calvingfronts workflow "
            "(a DRN-DeepLabv3+ network exported to ONNX), with a 90 % uncertainty bound "
            "per front and the fronts that screening set aside. See README.md."
        ),
        extent=pystac.Extent(
            pystac.SpatialExtent([list(lonlat.bounds)]),
            pystac.TemporalExtent([[start, end]]),
        ),
        license=LICENCE,
        keywords=["calving front", "glacier terminus", "Greenland", "outlet glacier"],
        providers=[pystac.Provider(name="calvingfronts", roles=["processor", "producer"])],
        extra_fields={f"calvingfronts:{key}": value for key, value in provenance.items()},
    )
    science = ScientificExtension.ext(collection, add_if_missing=True)
    science.citation = (
        f"calvingfronts {__version__} ({provenance['code_version']}): calving fronts of "
        f"{glacier}, {start:%Y-%m-%d} to {end:%Y-%m-%d}, processed "
        f"{provenance['processed']}."
    )
    science.publications = [
        Publication(METHOD_DOI, METHOD_CITATION),
        Publication(TRAINING_DOI, TRAINING_CITATION),
    ]
    (folder / "README.md").write_text(dataset_readme(inputs, fronts, item_id, provenance))
    (folder / "config.yaml").write_text(yaml.safe_dump(inputs.config, sort_keys=False))
    for name, title in (("README.md", "What this dataset is"), ("config.yaml", "Configuration")):
        collection.add_asset(
            name.split(".")[0].lower(),
            pystac.Asset(href=name, media_type=_media_type(Path(name)), title=title,
                         roles=["metadata"]),
        )  # fmt: skip
    collection.add_item(item)
    # A trailing slash: a folder named like a file (".dataset.x1y2") is still the root.
    collection.normalize_hrefs(f"{folder.as_posix()}/")
    collection.make_all_asset_hrefs_relative()
    collection.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return folder / "collection.json"


def check_dataset(collection_path: str | os.PathLike) -> None:
    """Raise OSError unless the collection reads back with pystac, every asset of it and
    its items is a file of the recorded size, and each item's time span is in the extent."""
    import pystac

    try:
        collection = pystac.Collection.from_file(str(collection_path))
        items = list(collection.get_items())
    except (OSError, ValueError, pystac.STACError) as error:
        raise OSError(f"{collection_path} does not read back as STAC: {error}") from error
    if not items:
        raise OSError(f"{collection_path} has no item")
    interval = collection.extent.temporal.intervals[0]
    for owner in [collection, *items]:
        for key, asset in owner.assets.items():
            path = Path(asset.get_absolute_href())
            size = asset.extra_fields.get("file:size")
            if not path.is_file() or (size is not None and path.stat().st_size != size):
                raise OSError(f"{collection_path}: asset {key} ({path}) is missing or cut short")
    for item in items:
        begin, finish = item.common_metadata.start_datetime, item.common_metadata.end_datetime
        if begin < interval[0] or finish > interval[1]:
            raise OSError(f"{collection_path}: item {item.id} lies outside the extent")


def dataset_readme(inputs: DatasetInputs, fronts, item_id: str, provenance: dict) -> str:
    """The dataset's README: what, how, fields, flags, licence and citation."""
    kept = int((fronts["status"] == "kept").sum())
    acquired = pandas.to_datetime(fronts["acquired"], utc=True)
    sensors = ", ".join(
        f"{s} ({n})" for s, n in fronts.groupby("satellite").size().sort_index().items()
    )
    fields = "\n".join(f"| `{f.name}` | `{f.shapefile}` | {f.description} |" for f in FIELDS)
    flags = "\n".join(f"| `{name}` | {meaning} |" for name, meaning in QUALITY_FLAGS.items())
    assets = "\n".join(
        f"- `{item_id}/{Path(p).name}`: {_ASSET_TITLES.get(k, k)}"
        for k, p in {"fronts": inputs.fronts, **inputs.assets}.items()
    )
    drafted = (
        "\nThe glacier's outlines (fjord, centreline, flow direction) were drafted by a rule "
        "(`drafted: true` in config.yaml): positions depend on the centreline; check it "
        "against the front map before comparing positions with another dataset.\n"
        if inputs.drafted
        else ""
    )
    return f"""# Calving fronts of {inputs.glacier}

{len(fronts)} calving fronts ({kept} kept in the time series, {len(fronts) - kept} set aside
by screening) of {inputs.glacier}, {acquired.min():%Y-%m-%d} to {acquired.max():%Y-%m-%d},
from {sensors}. Each front was drawn automatically by the calvingfronts workflow
{provenance["code_version"]}: a DRN-DeepLabv3+ network ({provenance["model_name"]},
sha256 {provenance["model_sha256"][:16]}...) exported to ONNX, vectorized inside the fjord
polygon, with a 90 % bound on its mean distance error (`uncertainty_m`) and screened against
its neighbours in time. Processed {provenance["processed"]}.
{drafted}
## Files

`collection.json` is a STAC Collection (read it with pystac or any STAC browser) and
`{item_id}/{item_id}.json` its Item, which lists every file with its size and SHA-256.

{assets}
- `config.yaml`: the configuration that made this dataset.

Lines are in EPSG:3413 (NSIDC Polar Stereographic North, metres) except the GeoJSON, which
is longitude/latitude (RFC 7946).

## Fields

One row per front in every table format. The shapefile's names follow TermPicks V2
(Goliber et al. 2022) where TermPicks has the field.

| field | shapefile | meaning |
|---|---|---|
{fields}

## Quality flags

`quality_flags` (shapefile `Flags`) lists, comma-separated, any of:

| flag | meaning |
|---|---|
{flags}

## Licence and citation

The fronts are published under {LICENCE}. Cite this dataset as given in `collection.json`
(`sci:citation`), and the method and training data:

- {METHOD_CITATION} doi:{METHOD_DOI}
- {TRAINING_CITATION} doi:{TRAINING_DOI}

Landsat scenes are courtesy of the U.S. Geological Survey; Sentinel scenes contain modified
Copernicus Sentinel data.
"""


_ASSET_TITLES = {
    "fronts": "Fronts, kept and screened (GeoParquet, EPSG:3413)",
    "geopackage": "The glacier's GeoPackage (fronts, screened, rejected, positions layers)",
    "positions_csv": "Terminus positions (CSV)",
    "positions_parquet": "Terminus positions (Parquet)",
    "shapefile": "Fronts as a zipped shapefile (TermPicks field names)",
    "geojson": "Fronts as GeoJSON (longitude/latitude)",
    "csv": "Fronts as CSV (WKT geometry, EPSG:3413)",
    "position_png": "Plot: terminus position over time",
    "front_map_png": "Plot: map of the fronts",
}


def _provenance(inputs: DatasetInputs, processed: str) -> dict:
    metadata = _model_metadata(inputs.model)
    return {
        "code_version": f"{__version__}+{_git_commit()}",
        "model_name": metadata.get("model_name", inputs.model.stem),
        "model_version": metadata.get("model_version", ""),
        "model_architecture": metadata.get("architecture", ""),
        "model_sha256": _sha256(inputs.model),
        "config_sha256": hashlib.sha256(
            json.dumps(inputs.config, sort_keys=True, default=str).encode()
        ).hexdigest(),
        "processed": processed,
        **inputs.extra,
    }


def _model_metadata(path: Path) -> dict:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return dict(session.get_modelmeta().custom_metadata_map)


def _git_commit() -> str:
    """The checkout's commit, where the package runs from one (else "release")."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "release"
    return result.stdout.strip() if result.returncode == 0 else "release"


def _sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _media_type(path: Path) -> str:
    return MEDIA_TYPES.get(path.suffix, "application/octet-stream")
