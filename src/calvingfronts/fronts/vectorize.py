"""Front probability raster -> one calving-front LineString in map coordinates.

The network gives, per pixel, the probability that the pixel lies on the calving front. A
front is a line, so the raster is thresholded into a thin band, the band is thinned to a
one-pixel skeleton, and each piece of the skeleton offers its longest path (the diameter of
its pixel graph) as a candidate: side branches and noise specks drop out without any
glacier-specific rule. The front is the candidate with the largest extent across the ice
flow times its mean probability. A front crosses the fjord, while the network's other
responses (shear margins, flow stripes, the rock wall) mostly run along it, and those are
often longer than the front itself, so the longest candidate alone is a poor choice. Where
the flow direction is not known the candidate's length stands in for its extent; fjords may
lie in any orientation on the grid either way.

A scene without a credible front is a normal outcome (clouds, mélange, a bad image): it
returns ``FrontResult(front=None, reason=...)`` and never raises. Only malformed inputs
(wrong shapes, a non-polygon fjord) raise ``ValueError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from affine import Affine
from rasterio.features import geometry_mask
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from skimage.filters import apply_hysteresis_threshold
from skimage.morphology import disk, skeletonize

from calvingfronts.fronts.quality import line_quality, partial_cause, pixel_size, quality_flags

DEFAULT_MIN_LENGTH_M = 500.0

# Forward half of the 8-neighbourhood: each undirected pixel edge is found exactly once.
_FORWARD_OFFSETS = ((0, 1), (1, 0), (1, 1), (1, -1))


@dataclass(frozen=True)
class FrontResult:
    """The extracted front (or ``None``), why it was rejected, and JSON-able quality values."""

    front: LineString | None
    reason: str | None = None
    quality: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Window:
    """The part of the raster around the fjord: all work happens on this crop."""

    rows: slice
    cols: slice
    transform: Affine


# Reach of the sub-pixel move onto the probability's ridge (extract_front ``ridge_px``).
DEFAULT_RIDGE_PX = 3.0


def extract_front(
    probability: np.ndarray,
    transform: Affine,
    fjord: Polygon,
    valid: np.ndarray | None = None,
    threshold: float = 0.5,
    min_length_m: float = DEFAULT_MIN_LENGTH_M,
    *,
    low_threshold: float | None = None,
    closing_radius_px: int = 2,
    max_gap_px: float = 20.0,
    extend_px: float = 6.0,
    smooth_px: int = 2,
    min_mean_probability: float | None = None,
    min_span_fraction: float = 0.0,
    flow_azimuth: float | None = None,
    min_angle_to_flow: float = 0.0,
    ridge_px: float | None = None,
) -> FrontResult:
    """The calving front in ``probability`` (H, W) inside ``fjord``, in the map units of
    ``transform``.

    - ``threshold``: pixels above it seed the front; with hysteresis, pixels above
      ``low_threshold`` (default 0.7 x threshold) join when connected to a seed, so a front
      that fades for a stretch stays one piece.
    - ``closing_radius_px``: morphological closing bridges gaps of up to about twice this.
    - ``max_gap_px``: longer gaps are bridged between skeleton end points that face each
      other (within 60 degrees of each piece's direction), so a front broken by a cloud or a
      nodata stripe is not cut in half.
    - ``extend_px``: an end that stops this close to the fjord wall is extended onto it (the
      skeleton ends half a band width short of the band's end).
    - ``smooth_px``: half-width of the moving average that removes the skeleton's staircase;
      the line is then simplified at half a pixel.
    - ``min_length_m``: shorter fronts are rejected.
    - ``min_mean_probability``: so are fronts whose mean probability along the line is lower
      (default: the low threshold); this stops a path threaded through noise.
    - ``min_span_fraction``: and fronts that cross less than this share of the fjord's width:
      a piece of a front, e.g. the part left visible between clouds, would read as a retreat
      or advance that did not happen.
    - ``flow_azimuth``: the direction of ice flow (degrees clockwise from grid north), if
      known: candidates are ranked by their extent across it.
    - ``min_angle_to_flow``: a front must run across the flow: a line within this many
      degrees of it is a fjord wall or a flow stripe, not a front.
    - ``ridge_px``: each vertex of the smoothed skeleton moves, across the line, onto the
      ridge of the probability within this many pixels (sub-pixel, :func:`ridge_offsets`);
      the skeleton is the middle of the thresholded band, which sits off the ridge where
      the band is lopsided. 0 keeps the skeleton (default: :data:`DEFAULT_RIDGE_PX`).
    """
    probability, valid = _check_inputs(probability, valid, fjord, threshold)
    low = 0.7 * threshold if low_threshold is None else float(low_threshold)
    px = pixel_size(transform)
    quality: dict = {"threshold": float(threshold), "low_threshold": low, "pixel_size_m": px}

    pad = int(closing_radius_px) + 2
    window = fjord_window(fjord, transform, probability.shape, pad)
    if window is None:
        return FrontResult(None, "the fjord polygon does not overlap the image", quality)
    prob = probability[window.rows, window.cols]
    ok = valid[window.rows, window.cols] & np.isfinite(prob)
    in_fjord = geometry_mask(
        [fjord], out_shape=prob.shape, transform=window.transform, invert=True, all_touched=True
    )
    inside = in_fjord & ok
    if not inside.any():
        return FrontResult(None, "no valid pixel inside the fjord", quality)
    prob = np.where(inside, prob, 0.0).astype(np.float32)
    seeds = prob > threshold
    quality["n_pixels_above_threshold"] = int(seeds.sum())
    if not seeds.any():
        return FrontResult(
            None, f"no pixel above threshold {threshold:g} inside the fjord", quality
        )

    band = apply_hysteresis_threshold(prob, min(low, threshold), threshold)
    band = _close(band, closing_radius_px)
    skeleton = skeletonize(band)
    graph = _skeleton_graph(skeleton, window.transform)
    # Longest paths first: their tips are where gaps are bridged; then again across bridges.
    paths = _longest_paths(graph)
    bridged = _bridge_gaps(graph, paths, max_gap_px)
    if bridged is not graph:
        graph, paths = bridged, _longest_paths(bridged)
    quality["n_components"] = len(paths.lengths)
    candidates = np.nonzero(paths.lengths >= min_length_m)[0]
    quality["n_candidates"] = len(candidates)
    longest = float(paths.lengths.max()) if len(paths.lengths) else 0.0
    quality["longest_candidate_m"] = round(longest, 1)
    if longest < min_length_m or len(paths.best_path) < 2:
        return FrontResult(None, _too_short(longest, min_length_m), quality)

    path = _best_candidate(graph, paths, candidates, prob, flow_azimuth)
    quality["bridged_gaps"] = int(np.sum(graph.is_bridge_step(path)))
    xy = smooth_line(graph.xy[path], smooth_px)
    line = placed_in_fjord(xy, prob, window.transform, fjord, ridge_px, smooth_px, extend_px)
    if line is None:
        return FrontResult(None, "the front candidate lies outside the fjord polygon", quality)
    if line.length < min_length_m:
        return FrontResult(
            None, _too_short(line.length, min_length_m, "after clipping to the fjord"), quality
        )

    quality.update(line_quality(line, prob, inside, in_fjord, window.transform, fjord, threshold))
    quality["flags"] = quality_flags(quality)
    # A path threaded through noise is long but runs mostly over low probability.
    floor = low if min_mean_probability is None else float(min_mean_probability)
    if quality["mean_probability"] < floor:
        reason = f"mean probability along the front {quality['mean_probability']:.2f} < {floor:.2f}"
        return FrontResult(None, reason, quality)
    return accepted_front(line, quality, min_span_fraction, flow_azimuth, min_angle_to_flow)


def placed_in_fjord(
    xy: np.ndarray,
    prob: np.ndarray | None,
    transform: Affine,
    fjord,
    ridge_px: float | None,
    smooth_px: int,
    extend_px: float,
) -> LineString | None:
    """A smoothed line ``xy`` (map units) made a front: moved onto the ridge of ``prob`` (the
    window's front probability; None keeps it) within ``ridge_px`` pixels (default
    :data:`DEFAULT_RIDGE_PX`), cut to the fjord (its longest piece, None where none is
    left), its ends extended onto a wall within ``extend_px`` pixels and simplified at half
    a pixel: every reading's line is placed this way."""
    px = pixel_size(transform)
    ridge = DEFAULT_RIDGE_PX if ridge_px is None else float(ridge_px)
    if prob is not None and ridge > 0:
        xy = smooth_line(onto_ridge(xy, prob, transform, ridge), smooth_px)
    if len(xy) < 2:
        return None
    line = _longest_piece(shapely.intersection(LineString(xy), fjord))
    if line is None:
        return None
    line = _extend_to_wall(line, fjord, extend_px * px, step=3.0 * px)
    return line.simplify(0.5 * px, preserve_topology=False)


def accepted_front(
    line: LineString,
    quality: dict,
    min_span_fraction: float = 0.0,
    flow_azimuth: float | None = None,
    min_angle_to_flow: float = 0.0,
) -> FrontResult:
    """``line`` as the front, or rejected when it crosses less than ``min_span_fraction``
    of the fjord's width or runs within ``min_angle_to_flow`` degrees of the flow: the tests
    every front faces, whichever reading drew it (``quality`` holds line_quality's figures
    and gets the angle to the flow)."""
    span = quality["span_fraction"]
    if span is not None and span < min_span_fraction:
        reason = (
            f"the front crosses only {span:.0%} of the fjord's width "
            f"(minimum {min_span_fraction:.0%}): a partial front{partial_cause(quality)}"
        )
        return FrontResult(None, reason, quality)
    if flow_azimuth is not None:
        angle = angle_to_flow(line, flow_azimuth)
        quality["angle_to_flow_deg"] = round(angle, 1)
        if angle < min_angle_to_flow:
            reason = (
                f"the line runs along the ice flow ({angle:.0f} degrees from it, minimum "
                f"{min_angle_to_flow:.0f}): a fjord wall or flow stripe, not a front"
            )
            return FrontResult(None, reason, quality)
    return FrontResult(line, None, quality)


def _best_candidate(
    graph: _Graph, paths: _Paths, candidates: np.ndarray, prob: np.ndarray, flow_azimuth
) -> np.ndarray:
    """The candidate path with the largest (extent across the flow) x (mean probability).

    Without a flow direction the path's length stands in for the extent.
    """
    best, best_score = paths.best_path, -1.0
    for piece in candidates.tolist():
        nodes = paths.path(piece)
        if len(nodes) < 2:
            continue
        extent = (
            paths.lengths[piece]
            if flow_azimuth is None
            else cross_flow_extent(graph.xy[nodes], flow_azimuth)
        )
        score = extent * float(prob[graph.rows[nodes], graph.cols[nodes]].mean())
        if score > best_score:
            best, best_score = nodes, score
    return best


def cross_flow_extent(xy: np.ndarray, flow_azimuth: float) -> float:
    """Extent of points (n, 2) across the flow direction (degrees clockwise from grid north)."""
    azimuth = np.radians(flow_azimuth)
    across = np.array([np.cos(azimuth), -np.sin(azimuth)])
    projected = np.asarray(xy, dtype=float) @ across
    return float(projected.max() - projected.min()) if len(projected) else 0.0


def angle_to_flow(line: LineString, flow_azimuth: float) -> float:
    """Angle in degrees (0-90) between the line's end-to-end chord and the flow direction."""
    (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
    chord = np.array([x1 - x0, y1 - y0])
    norm = np.hypot(*chord)
    if norm == 0:
        return 0.0
    azimuth = np.radians(flow_azimuth)
    flow = np.array([np.sin(azimuth), np.cos(azimuth)])
    return float(np.degrees(np.arccos(min(1.0, abs(chord @ flow) / norm))))


def _too_short(length: float, minimum: float, when: str = "") -> str:
    suffix = f" {when}" if when else ""
    return f"longest front candidate {length:.0f} m < minimum {minimum:.0f} m{suffix}"


def _check_inputs(probability, valid, fjord, threshold):
    """Malformed input is the caller's bug, not the scene's: raise for it."""
    probability = np.asarray(probability)
    if probability.ndim != 2:
        raise ValueError(f"probability must be a 2-D (H, W) array, got shape {probability.shape}")
    if valid is None:
        valid = np.ones(probability.shape, dtype=bool)
    valid = np.asarray(valid, dtype=bool)
    if valid.shape != probability.shape:
        raise ValueError(f"valid has shape {valid.shape}, probability {probability.shape}")
    if not isinstance(fjord, Polygon | MultiPolygon) or fjord.is_empty:
        raise ValueError(f"fjord must be a non-empty shapely Polygon, got {type(fjord).__name__}")
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must lie in (0, 1), got {threshold}")
    return probability, valid


def fjord_window(fjord, transform: Affine, shape, pad: int) -> _Window | None:
    """The crop of the raster covering the fjord plus ``pad`` pixels (for the closing)."""
    xmin, ymin, xmax, ymax = fjord.bounds
    inverse = ~transform
    corners = [inverse * (x, y) for x in (xmin, xmax) for y in (ymin, ymax)]
    cols = [c for c, _ in corners]
    rows = [r for _, r in corners]
    r0 = max(int(math.floor(min(rows))) - pad, 0)
    r1 = min(int(math.ceil(max(rows))) + pad, shape[0])
    c0 = max(int(math.floor(min(cols))) - pad, 0)
    c1 = min(int(math.ceil(max(cols))) + pad, shape[1])
    if r0 >= r1 or c0 >= c1:
        return None
    return _Window(slice(r0, r1), slice(c0, c1), transform * Affine.translation(c0, r0))


def _close(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary closing; padded first because scipy's erosion eats objects at the border."""
    if radius <= 0:
        return mask
    padded = np.pad(mask, radius + 1)
    closed = ndimage.binary_closing(padded, structure=disk(radius))
    return closed[radius + 1 : -(radius + 1), radius + 1 : -(radius + 1)]


@dataclass
class _Graph:
    """Skeleton pixels as graph nodes, 8-neighbour steps (and gap bridges) as edges."""

    rows: np.ndarray
    cols: np.ndarray
    xy: np.ndarray  # (n, 2) map coordinates of pixel centres
    edges_i: np.ndarray
    edges_j: np.ndarray
    bridges: set = field(default_factory=set)  # {(i, j)} with i < j

    @property
    def n(self) -> int:
        return len(self.rows)

    def matrix(self):
        weights = np.hypot(*(self.xy[self.edges_i] - self.xy[self.edges_j]).T)
        # Zero weights would read as "no edge" in a sparse matrix.
        weights = np.maximum(weights, 1e-9)
        return coo_matrix((weights, (self.edges_i, self.edges_j)), shape=(self.n, self.n)).tocsr()

    def is_bridge_step(self, path: np.ndarray) -> np.ndarray:
        steps = zip(path[:-1].tolist(), path[1:].tolist(), strict=True)
        return np.array([(min(a, b), max(a, b)) in self.bridges for a, b in steps], dtype=bool)


def _skeleton_graph(skeleton: np.ndarray, transform: Affine) -> _Graph:
    rows, cols = np.nonzero(skeleton)
    index = np.full(skeleton.shape, -1, dtype=np.int64)
    index[rows, cols] = np.arange(len(rows))
    height, width = skeleton.shape
    edges_i, edges_j = [], []
    for dr, dc in _FORWARD_OFFSETS:
        r2, c2 = rows + dr, cols + dc
        inside = (r2 < height) & (c2 >= 0) & (c2 < width)
        j = np.full(len(rows), -1, dtype=np.int64)
        j[inside] = index[r2[inside], c2[inside]]
        has = j >= 0
        edges_i.append(np.nonzero(has)[0])
        edges_j.append(j[has])
    u, v = cols + 0.5, rows + 0.5
    xy = np.column_stack(
        [
            transform.a * u + transform.b * v + transform.c,
            transform.d * u + transform.e * v + transform.f,
        ]
    )
    return _Graph(rows, cols, xy, np.concatenate(edges_i), np.concatenate(edges_j))


@dataclass(frozen=True)
class _Paths:
    """The longest path of every connected piece of the skeleton graph."""

    labels: np.ndarray  # piece of each node
    lengths: np.ndarray  # per piece: length (map units) of its longest path
    starts: np.ndarray  # per piece: the node the path starts at
    ends: np.ndarray  # per piece: the node it ends at
    predecessors: np.ndarray  # per node: the previous node on the way from its piece's start

    def path(self, piece: int) -> np.ndarray:
        node = int(self.ends[piece])
        nodes = [node]
        while self.predecessors[node] >= 0:
            node = int(self.predecessors[node])
            nodes.append(node)
        return np.array(nodes[::-1], dtype=np.int64)

    @property
    def best_path(self) -> np.ndarray:
        if len(self.lengths) == 0:
            return np.zeros(0, dtype=np.int64)
        return self.path(int(np.argmax(self.lengths)))


def _longest_paths(graph: _Graph) -> _Paths:
    """Per connected piece, its longest path by two Dijkstra sweeps.

    The farthest node from any node is one end of the diameter (exact on trees, which
    skeletons nearly are), and the farthest node from that end is the other. All pieces are
    swept at once: with one source per piece, multi-source Dijkstra (``min_only``) gives each
    node its distance from its own piece's source.
    """
    if graph.n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return _Paths(empty, np.zeros(0), empty, empty, empty)
    matrix = graph.matrix()
    _, labels = connected_components(matrix, directed=False)
    _, seeds = np.unique(labels, return_index=True)
    dist = dijkstra(matrix, directed=False, indices=seeds, min_only=True)
    starts = _farthest_per_label(dist, labels)
    dist, predecessors, _ = dijkstra(
        matrix, directed=False, indices=starts, min_only=True, return_predecessors=True
    )
    ends = _farthest_per_label(dist, labels)
    return _Paths(labels, dist[ends], starts, ends, predecessors)


def _farthest_per_label(dist: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """For each label (in label order), the node with the largest distance."""
    order = np.lexsort((dist, labels))
    sorted_labels = labels[order]
    last = np.r_[sorted_labels[1:] != sorted_labels[:-1], True]
    return order[last]


def _bridge_gaps(
    graph: _Graph,
    paths: _Paths,
    max_gap_px: float,
    max_turn_deg: float = 60.0,
    min_piece_px: float = 10.0,
    back_px: float = 15.0,
) -> _Graph:
    """Join pieces whose longest paths end facing each other across a gap.

    Only the two tips of each piece's longest path are joined (not spur tips, which noise
    makes plentiful, nor the middle of a piece), and only when the bridge continues both
    pieces' directions within ``max_turn_deg``; so two side-by-side fragments are not
    stitched into a U-turn. Pieces shorter than ``min_piece_px`` are not bridged: chaining
    specks would draw a "front" through pure noise.
    """
    px = float(np.median(np.hypot(*(graph.xy[graph.edges_i] - graph.xy[graph.edges_j]).T)))
    pieces = np.nonzero(paths.lengths >= min_piece_px * px)[0] if len(graph.edges_i) else []
    if max_gap_px <= 0 or len(pieces) < 2:
        return graph
    tips, outward, owner = [], [], []
    for piece in pieces:
        nodes = paths.path(piece)
        for tip_nodes in (nodes, nodes[::-1]):
            tip = graph.xy[tip_nodes[0]]
            steps = np.hypot(*(graph.xy[tip_nodes] - tip).T)
            back = tip_nodes[min(int(np.searchsorted(steps, back_px * px)), len(tip_nodes) - 1)]
            direction = tip - graph.xy[back]
            tips.append(tip_nodes[0])
            outward.append(direction / max(float(np.hypot(*direction)), 1e-12))
            owner.append(piece)
    tips, outward, owner = np.array(tips), np.array(outward), np.array(owner)
    pairs = cKDTree(graph.xy[tips]).query_pairs(max_gap_px * px, output_type="ndarray")
    pairs = pairs[owner[pairs[:, 0]] != owner[pairs[:, 1]]] if len(pairs) else pairs
    if len(pairs) == 0:
        return graph
    gap = graph.xy[tips[pairs[:, 1]]] - graph.xy[tips[pairs[:, 0]]]
    dist = np.hypot(*gap.T)
    unit = gap / np.maximum(dist, 1e-12)[:, None]
    cos_max = math.cos(math.radians(max_turn_deg))
    facing = (np.sum(outward[pairs[:, 0]] * unit, axis=1) >= cos_max) & (
        np.sum(outward[pairs[:, 1]] * -unit, axis=1) >= cos_max
    )
    # One bridge per pair of pieces: the shortest.
    chosen: dict[tuple[int, int], tuple[float, int, int]] = {}
    for (a, b), d in zip(pairs[facing].tolist(), dist[facing].tolist(), strict=True):
        key = (min(owner[a], owner[b]), max(owner[a], owner[b]))
        if key not in chosen or d < chosen[key][0]:
            chosen[key] = (d, int(tips[a]), int(tips[b]))
    if not chosen:
        return graph
    new_i = np.array([min(i, j) for _, i, j in chosen.values()], dtype=np.int64)
    new_j = np.array([max(i, j) for _, i, j in chosen.values()], dtype=np.int64)
    return _Graph(
        graph.rows,
        graph.cols,
        graph.xy,
        np.concatenate([graph.edges_i, new_i]),
        np.concatenate([graph.edges_j, new_j]),
        set(zip(new_i.tolist(), new_j.tolist(), strict=True)),
    )


def smooth_line(xy: np.ndarray, half_width: int) -> np.ndarray:
    """Moving average along the path; odd reflection at the ends keeps the end points fixed
    and a straight end straight."""
    if half_width <= 0 or len(xy) < 3:
        return xy
    k = min(half_width, len(xy) - 1)
    head = 2 * xy[0] - xy[k:0:-1]
    tail = 2 * xy[-1] - xy[-2 : -k - 2 : -1]
    padded = np.vstack([head, xy, tail])
    kernel = np.ones(2 * k + 1) / (2 * k + 1)
    return np.column_stack([np.convolve(padded[:, i], kernel, mode="valid") for i in (0, 1)])


def ridge_offsets(profiles: np.ndarray, step: float) -> np.ndarray:
    """Sub-pixel position of the maximum of each probability profile (n, k), sampled every
    ``step`` pixels and centred on 0: the highest sample, refined by a parabola through it
    and the samples one pixel either side (closer ones only repeat the interpolation
    between pixel centres). A profile peaking at its end (the ridge is further away, or
    there is none) gives 0: the vertex stays where it was."""
    k = profiles.shape[1]
    best = np.argmax(profiles, axis=1)
    reach = max(1, int(round(1.0 / step)))
    inner = (best >= reach) & (best < k - reach)
    idx = np.clip(best, reach, k - 1 - reach)
    rows = np.arange(len(profiles))
    left, mid, right = (profiles[rows, idx + d] for d in (-reach, 0, reach))
    curvature = left - 2 * mid + right
    with np.errstate(divide="ignore", invalid="ignore"):
        vertex = np.where(curvature < 0, 0.5 * (left - right) / curvature, 0.0)
    offset = (best + reach * np.clip(vertex, -0.5, 0.5) - (k - 1) / 2) * step
    return np.where(inner, offset, 0.0)


def onto_ridge(xy: np.ndarray, prob: np.ndarray, transform: Affine, reach_px: float):
    """Move each vertex of ``xy`` (map units) along the line's normal onto the ridge of
    ``prob`` within ``reach_px`` pixels; the shifts are median-filtered along the line so one
    noisy profile cannot kink it."""
    if len(xy) < 3:
        return xy
    px = pixel_size(transform)
    tangent = np.gradient(xy, axis=0)
    norm = np.hypot(tangent[:, 0], tangent[:, 1])
    norm[norm == 0] = 1.0
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]]) / norm[:, None]
    step = 0.25
    offsets = np.arange(-reach_px, reach_px + step / 2, step)
    points = xy[:, None, :] + offsets[None, :, None] * px * normal[:, None, :]
    inverse = ~transform
    cols, rows = inverse * (points[..., 0], points[..., 1])
    # Pixel centres sit at half-integer positions of the transform's grid.
    profiles = ndimage.map_coordinates(prob, [rows - 0.5, cols - 0.5], order=1, mode="nearest")
    shift = ndimage.median_filter(ridge_offsets(profiles, step), size=5, mode="nearest")
    return xy + shift[:, None] * px * normal


def _longest_piece(geometry) -> LineString | None:
    """The longest LineString of a clipping result (which may be multi-part or empty)."""
    parts = [
        g for g in shapely.get_parts(shapely.line_merge(geometry)) if g.geom_type == "LineString"
    ]
    parts = [p for p in parts if not p.is_empty and p.length > 0]
    return max(parts, key=lambda p: p.length) if parts else None


def _extend_to_wall(line: LineString, fjord, reach: float, step: float) -> LineString:
    """Extend each end along its direction onto the fjord wall when the wall is within
    ``reach``; ends that are already on the wall, or far from it, stay."""
    if reach <= 0 or line.length <= 2 * step:
        return line
    coords = np.asarray(line.coords)
    boundary = fjord.boundary
    for at_start in (True, False):
        end = coords[0] if at_start else coords[-1]
        behind = line.interpolate(step if at_start else line.length - step)
        direction = end - np.array(behind.coords[0])
        norm = math.hypot(*direction)
        if norm == 0 or boundary.distance(Point(end)) < 1e-6:
            continue
        ray = LineString([end, end + direction / norm * reach])
        hit = ray.intersection(boundary)
        if hit.is_empty:
            continue
        points = shapely.get_coordinates(hit)
        target = points[np.argmin(np.hypot(*(points - end).T))]
        coords = np.vstack([target, coords]) if at_start else np.vstack([coords, target])
    return LineString(coords)
