"""Snakemake adapter: a glacier's publishable dataset (STAC Collection) from its files."""

import logging
from pathlib import Path

from calvingfronts import logs
from calvingfronts.dataset.stac import DatasetInputs, build_dataset

logs.configure(snakemake.log[0])
glacier = snakemake.wildcards.glacier
entry = snakemake.config["glaciers"][glacier]
settings = {k: v for k, v in snakemake.config.items() if k not in ("glaciers", "training")}
inputs = DatasetInputs(
    glacier=glacier,
    fronts=Path(snakemake.input.fronts),
    assets={
        key: Path(snakemake.input[key])
        for key in (
            "geopackage",
            "positions_csv",
            "positions_parquet",
            "shapefile",
            "geojson",
            "csv",
            "position_png",
            "front_map_png",
        )
    },  # fmt: skip
    model=Path(snakemake.params.model),
    config={**settings, "glaciers": {glacier: entry}},
    description=entry.get("description", ""),
    termpicks_id=entry.get("termpicks_id"),
    drafted=bool(entry.get("drafted", False)),
)
path = build_dataset(inputs, Path(snakemake.output.collection).parent)
logging.getLogger("dataset").info("wrote %s", path)
