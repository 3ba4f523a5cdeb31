"""Readers for the data kinds the model can be trained on, each -> list of FrontSample.

- FrontLearning (Mohajerani et al. 2019): ``images/*_Subset.png`` with ``labels_1px`` (or
  ``labels``) ``*_Front.png``; the glacier is the Landsat WRS-2 path/row in the file name.
- CaFFe (Gourmelon et al. 2022): ``sar_images/<split>/*.png``, ``fronts/<split>/*_front.png``
  and ``zones/<split>/*_zones.png``; glacier and pixel size are in the file name.
- GeoTIFFs with front vectors: ``*.tif`` scenes and one vector file of front lines with a
  column naming the scene (its file stem).
- Synthetic scenes from :mod:`calvingfronts.synthetic.scenes` (see ``synthetic_samples``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from skimage.morphology import skeletonize

from calvingfronts.evaluation.frontlearning import (
    FRONTLEARNING_FLOW_AZIMUTH,
    FRONTLEARNING_PIXEL_M,
    derive_zones,
    glacier_of_frontlearning,
)
from calvingfronts.training.samples import FrontSample


def read_gray(path: Path) -> np.ndarray:
    """First channel of an 8-bit PNG (FrontLearning's RGBA has equal channels) as uint8."""
    array = np.asarray(Image.open(path))
    return array if array.ndim == 2 else array[..., 0]


def line_from_mask(dark_line: np.ndarray) -> np.ndarray:
    """A 1-px front from a drawn line mask (True on the line), by skeletonization."""
    return skeletonize(dark_line)


def load_frontlearning(
    path: str | Path,
    pixel_size_m: float = FRONTLEARNING_PIXEL_M,
    limit: int | None = None,
    zones: bool = False,
) -> list[FrontSample]:
    """All image/label pairs of a FrontLearning folder (sorted, so runs are reproducible).

    ``zones``: give each sample the glacier and ocean zones derived from its front
    (:func:`calvingfronts.evaluation.frontlearning.derive_zones`), for a recipe with a zone head.
    """
    folder = Path(path)
    label_dir = folder / "labels_1px" if (folder / "labels_1px").is_dir() else folder / "labels"
    images = sorted((folder / "images").glob("*_Subset.png"))[:limit]
    if not images:
        raise FileNotFoundError(f"no images/*_Subset.png under {folder}")
    samples = []
    for image_path in images:
        label_path = label_dir / image_path.name.replace("_Subset", "_Front")
        values = read_gray(image_path).astype(np.float32) / 255.0
        front = line_from_mask(read_gray(label_path) < 128)
        samples.append(
            FrontSample(
                name=image_path.stem,
                glacier=glacier_of_frontlearning(image_path.name),
                values=values,
                valid=np.ones(values.shape, bool),
                front=front,
                pixel_size_m=pixel_size_m,
                flow_azimuth=FRONTLEARNING_FLOW_AZIMUTH,
                zones=derive_zones(front) if zones else None,
            )
        )
    return samples


# CaFFe zone grey values: 0 no data, 64 rock, 127 glacier, 254 ocean (Gourmelon et al. 2022).
CAFFE_ZONES = {0: -1, 64: 0, 127: 1, 254: 2}
ZONE_NAMES = ("rock", "glacier", "ocean")


def load_caffe(
    path: str | Path, split: str = "train", limit: int | None = None
) -> list[FrontSample]:
    """CaFFe SAR scenes. File stems read ``<glacier>_<date>_<sensor>_<pixel m>_...``."""
    folder = Path(path)
    images = sorted((folder / "sar_images" / split).glob("*.png"))[:limit]
    if not images:
        raise FileNotFoundError(f"no sar_images/{split}/*.png under {folder}")
    samples = []
    for image_path in images:
        stem = image_path.stem
        parts = stem.split("_")
        raw = read_gray(image_path)
        front = read_gray(folder / "fronts" / split / f"{stem}_front.png") > 127
        zone_path = folder / "zones" / split / f"{stem}_zones.png"
        zones = None
        if zone_path.exists():
            grey = read_gray(zone_path)
            zones = np.full(grey.shape, -1, np.int8)
            for value, cls in CAFFE_ZONES.items():
                zones[grey == value] = cls
        samples.append(
            FrontSample(
                name=stem,
                glacier=parts[0],
                values=raw.astype(np.float32) / 255.0,
                valid=raw > 0,  # CaFFe marks no data with 0
                front=line_from_mask(front),
                pixel_size_m=float(parts[3]),
                sar=True,
                zones=zones,
            )
        )
    return samples


def load_geotiffs(
    path: str | Path,
    fronts: str | Path,
    scene_column: str = "scene_id",
    glacier_column: str = "glacier",
    sar: bool = False,
    value_range: tuple[float, float] = (0.0, 1.0),
) -> list[FrontSample]:
    """Georeferenced single-band scenes ``path/*.tif`` and front lines from a vector file.

    Each line's ``scene_column`` names the GeoTIFF stem it was digitized on; the line is
    reprojected to the raster's CRS and burnt in as the 1-px front.
    """
    import geopandas as gpd
    import rasterio
    from rasterio.features import rasterize

    lines = gpd.read_file(fronts)
    samples = []
    for tif in sorted(Path(path).glob("*.tif")):
        rows = lines[lines[scene_column].astype(str) == tif.stem]
        if rows.empty:
            continue
        with rasterio.open(tif) as src:
            band = src.read(1, masked=True)
            rows = rows.to_crs(src.crs)
            burnt = rasterize(
                list(rows.geometry),
                out_shape=band.shape,
                transform=src.transform,
                all_touched=True,
                dtype="uint8",
            ).astype(bool)
            pixel = float(abs(src.transform.a))
        values = np.asarray(band.filled(np.nan), dtype=np.float32)
        valid = ~np.ma.getmaskarray(band) & np.isfinite(values)
        glacier = str(rows[glacier_column].iloc[0]) if glacier_column in rows else tif.stem
        samples.append(
            FrontSample(
                name=tif.stem,
                glacier=glacier,
                values=np.nan_to_num(values),
                valid=valid,
                front=line_from_mask(burnt),
                pixel_size_m=pixel,
                sar=sar,
                value_range=value_range,
            )
        )
    return samples


def split_by_glacier(samples: list[FrontSample], validation_glaciers) -> tuple[list, list]:
    """(training, validation): whole glaciers are held out, so the validation error measures
    how the model does on a glacier it has never seen (a random split would leak the same
    fjord, a few weeks apart, into both)."""
    held = set(validation_glaciers or ())
    unknown = held - {s.glacier for s in samples}
    if unknown:
        raise ValueError(f"validation glaciers {sorted(unknown)} not in the data")
    return (
        [s for s in samples if s.glacier not in held],
        [s for s in samples if s.glacier in held],
    )
