"""Training samples rendered by :mod:`calvingfronts.synthetic.scenes` (the demo glacier's world).

Scenes are drawn at random times, sensors and pixel sizes through
``synthetic.random_training_scene`` and converted to physical values with the workflow's own
:func:`calvingfronts.scenes.sensors.to_physical`, so optical reflectance and SAR backscatter (dB)
reach the histogram treatment exactly as in the preprocess stage. Rendered once per run and
cached as ``.npz`` (rendering is slower than training steps).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import shapely
from affine import Affine
from skimage.morphology import skeletonize

from calvingfronts.synthetic.optical import OPTICAL_VERSION
from calvingfronts.synthetic.radar import RADAR_VERSION
from calvingfronts.training.samples import FrontSample

DEFAULT_CONFIG = "config/config.yaml"
_CACHE_VERSION = 2  # bump when the cached fields change


def _glacier(config_path: str, glacier: str):
    import yaml

    from calvingfronts.glaciers.config import glacier_config

    config = yaml.safe_load(Path(config_path).read_text())
    return glacier_config(config, glacier, Path(config_path).resolve().parent.parent)


def render_sample(
    glacier_cfg,
    rng: np.random.Generator,
    sensor: str | None,
    pixel_size: float,
    world_seed: int,
    label: str,
    index: int,
    radar: str = "classic",
    optical: str = "classic",
) -> FrontSample:
    """One random synthetic scene as a FrontSample."""
    from calvingfronts.scenes.sensors import get_sensor, raster_to_physical
    from calvingfronts.synthetic import scenes as synthetic

    raster, front, zones = synthetic.random_training_scene(
        glacier_cfg,
        rng,
        sensor,
        pixel_size,
        seed=world_seed,
        width_px=1,
        radar=radar,
        optical=optical,
    )
    sensor_info = get_sensor(raster.tags["SENSOR"])
    values = raster_to_physical(raster, sensor_info)
    valid = np.isfinite(values)
    zone = zones.astype(np.int8)
    zone[~valid] = -1
    return FrontSample(
        name=f"{label}-{index:04d}-{sensor_info.name}-{raster.tags['ACQUIRED']}",
        glacier=label,
        values=np.where(valid, values, 0.0),
        valid=valid,
        front=skeletonize(front.astype(bool)),
        pixel_size_m=float(pixel_size),
        value_range=tuple(sensor_info.value_range),
        sar=sensor_info.is_sar,
        zones=zone,
        transform=raster.transform,
        fjord=glacier_cfg.fjord,
        flow_azimuth=glacier_cfg.flow_azimuth,
    )


def synthetic_samples(
    count: int = 100,
    glacier: str = "demo",
    label: str | None = None,
    config: str = DEFAULT_CONFIG,
    sensors: list[str] | None = None,
    pixel_size_range_m: tuple[float, float] = (30.0, 80.0),
    seed: int = 0,
    world_seed: int | list[int] = 0,
    cache_dir: str | None = "training_runs/cache",
    radar: str = "classic",
    optical: str = "classic",
) -> list[FrontSample]:
    """``count`` random scenes of ``glacier`` (sensor drawn from ``sensors`` or all).

    ``label`` is the hold-out unit name of these samples (default ``synthetic-<glacier>``);
    two entries with different ``seed`` and ``label`` give disjoint train/validation sets.
    ``world_seed`` (one or a list to draw from) selects the synthetic world: training on
    other worlds than the demo's (``sources.synthetic.seed``) keeps the demo a fair test.
    ``radar``: ``classic`` renders SAR as the demo archive does, ``realistic`` draws hard
    radar conditions per scene (calvingfronts.synthetic.radar); ``optical``: the same for
    optical scenes' fjord ice (calvingfronts.synthetic.optical.draw_fjord_ice).
    """
    label = label or f"synthetic-{glacier}"
    key = json.dumps(
        [
            _CACHE_VERSION,
            count,
            glacier,
            label,
            config,
            sensors,
            list(pixel_size_range_m),
            seed,
            world_seed,
        ]
        # Classic runs keep their caches; realistic ones follow the radar or optical generator.
        + ([radar, RADAR_VERSION] if radar != "classic" else [])
        + (["optical", optical, OPTICAL_VERSION] if optical != "classic" else []),
        sort_keys=True,
    )
    cache = None
    if cache_dir:
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        cache = Path(cache_dir) / f"synthetic-{label}-{digest}.npz"
        if cache.exists():
            return _load(cache)
    glacier_cfg = _glacier(config, glacier)
    rng = np.random.default_rng(seed)
    lo, hi = np.log(pixel_size_range_m)
    samples = []
    for index in range(count):
        sensor = str(rng.choice(sensors)) if sensors else None
        pixel = float(np.exp(rng.uniform(lo, hi)))
        world = int(rng.choice(world_seed)) if isinstance(world_seed, list) else int(world_seed)
        samples.append(
            render_sample(glacier_cfg, rng, sensor, pixel, world, label, index, radar, optical)
        )
    if cache is not None:
        _save(cache, samples)
    return samples


def _save(path: Path, samples: list[FrontSample]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for i, s in enumerate(samples):
        arrays.update(
            {
                f"values{i}": s.values,
                f"valid{i}": s.valid,
                f"front{i}": s.front,
                f"zones{i}": s.zones,
            }
        )
    meta = [
        {
            "name": s.name,
            "glacier": s.glacier,
            "pixel_size_m": s.pixel_size_m,
            "value_range": list(s.value_range),
            "sar": s.sar,
            "transform": list(s.transform)[:6] if s.transform is not None else None,
            "fjord": s.fjord.wkt if s.fjord is not None else None,
            "flow_azimuth": s.flow_azimuth,
        }
        for s in samples
    ]
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, meta=json.dumps(meta), **arrays)
    tmp.replace(path)


def _load(path: Path) -> list[FrontSample]:
    with np.load(path) as data:
        meta = json.loads(str(data["meta"]))
        return [
            FrontSample(
                name=m["name"],
                glacier=m["glacier"],
                values=data[f"values{i}"],
                valid=data[f"valid{i}"],
                front=data[f"front{i}"],
                pixel_size_m=m["pixel_size_m"],
                value_range=tuple(m["value_range"]),
                sar=m["sar"],
                zones=data[f"zones{i}"],
                transform=Affine(*m["transform"]) if m.get("transform") else None,
                fjord=shapely.from_wkt(m["fjord"]) if m.get("fjord") else None,
                flow_azimuth=m.get("flow_azimuth"),
            )
            for i, m in enumerate(meta)
        ]
