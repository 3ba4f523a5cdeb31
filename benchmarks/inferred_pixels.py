"""Benchmark: the pixels the network sees per scene, for every configured glacier and sensor.

    .venv/bin/python benchmarks/inferred_pixels.py

For each glacier's grid (area of interest at the sensor's pixel size): the pixels of the
tiles the network runs on, framed (FRAME_PX) and padded to multiples of 32, with the shipped
tile size and overlap:

- **before** (the layout until 2026-12-03): the whole area of interest, in full-size tiles
  from the start with the last one moved back onto the edge;
- **after**: only the fjord's bounding box and CONTEXT_PX around it, in the fewest tiles of
  one size that cover it (calvingfronts.inference.front_model.tile_spans).

The network's work per view is proportional to these pixels. Prints a Markdown table per
glacier (the optical sensor at 30 m and the finest sensor) and the totals.
"""

from __future__ import annotations

import math

from calvingfronts.config import load_config_file
from calvingfronts.glaciers.config import glacier_config
from calvingfronts.grid import pixel_window
from calvingfronts.inference.front_model import CONTEXT_PX, FRAME_PX, SIZE_MULTIPLE, tile_spans


def _padded(n: int) -> int:
    return math.ceil(n / SIZE_MULTIPLE) * SIZE_MULTIPLE


def pixels_before(height: int, width: int, tile: int, overlap: int) -> int:
    """The earlier layout: full tiles from 0, the last moved back to end on the edge."""

    def starts(length: int, size: int) -> list[tuple[int, int]]:
        if length <= size:
            return [(0, length)]
        found = list(range(0, length - size, max(size - overlap, 1))) + [length - size]
        return [(s, size) for s in found]

    framed_tile = tile + 2 * FRAME_PX
    rows = starts(height + 2 * FRAME_PX, framed_tile)
    cols = starts(width + 2 * FRAME_PX, framed_tile)
    return sum(_padded(h) * _padded(w) for _, h in rows for _, w in cols)


def pixels_after(height: int, width: int, tile: int, overlap: int) -> int:
    framed_tile = tile + 2 * FRAME_PX
    rows = tile_spans(height + 2 * FRAME_PX, framed_tile, overlap)
    cols = tile_spans(width + 2 * FRAME_PX, framed_tile, overlap)
    return sum(_padded(h) * _padded(w) for _, h in rows for _, w in cols)


def main() -> None:
    config = load_config_file("config/config.yaml")
    tile, overlap = config["inference"]["tile_size"], config["inference"]["overlap"]
    print("| glacier | sensor | grid px | before Mpx | after: window px | after Mpx | saved |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    totals = [0, 0]
    for name in config["glaciers"]:
        glacier = glacier_config(config, name)
        for sensor, settings in glacier.sensors.items():
            grid = glacier.grid(sensor)
            rows, cols = pixel_window(glacier.fjord.bounds, grid.transform, grid.shape, CONTEXT_PX)
            height, width = rows.stop - rows.start, cols.stop - cols.start
            before = pixels_before(*grid.shape, tile, overlap)
            after = pixels_after(height, width, tile, overlap)
            totals[0] += before
            totals[1] += after
            print(
                f"| {name} | {sensor} ({settings.pixel_size:g} m) | {grid.width} x "
                f"{grid.height} | {before / 1e6:.2f} | {width} x {height} | {after / 1e6:.2f} "
                f"| {1 - after / before:.0%} |"
            )
    print(
        f"| all | | | {totals[0] / 1e6:.1f} | | {totals[1] / 1e6:.1f} | "
        f"{1 - totals[1] / totals[0]:.0%} |"
    )


if __name__ == "__main__":
    main()
