"""Hashing and noise of the synthetic glacier: randomness addressed by position (lattice
hashes keyed by the seed and glacier), so any part of a world is reproducible alone."""

from __future__ import annotations

import hashlib

import numpy as np

# --------------------------------------------------------------------------------------------
# Hashing and noise: randomness addressed by position, so any part is reproducible alone.


def stable_key(*parts) -> int:
    """A 63-bit integer from any printable parts, the same in every Python process.

    Python's ``hash`` is salted per process, so it cannot key a reproducible world.
    """
    text = "|".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)


def _mix64(z: np.ndarray) -> np.ndarray:
    """The splitmix64 finalizer: a cheap, well-mixed bijection on uint64 arrays."""
    z = (z ^ (z >> np.uint64(30))) * _M2
    z = (z ^ (z >> np.uint64(27))) * _M3
    return z ^ (z >> np.uint64(31))


def hash_uniform(i, j, key: int) -> np.ndarray:
    """Uniform [0, 1) values for integer lattice points ``(i, j)`` (broadcast), keyed."""
    i, j = np.broadcast_arrays(np.atleast_1d(np.asarray(i, np.int64)), np.asarray(j, np.int64))
    z = _mix64(i.astype(np.int64).view(np.uint64) * _M1 + np.uint64(key))
    z = _mix64(z ^ (np.ascontiguousarray(j).view(np.uint64) * _M3 + _M1))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def _axis_weights(coords: np.ndarray, order: int):
    """Lattice indices and weights along one axis (``coords`` in lattice units).

    Order 1 blends the two neighbours with a smoothstep (no visible lattice creases);
    order 3 is the cubic B-spline over four neighbours (smoother, for coarse octaves).
    """
    base = np.floor(coords)
    f = (coords - base)[:, None]
    base = base.astype(np.int64)[:, None]
    if order == 1:
        w1 = f * f * (3.0 - 2.0 * f)
        return base + np.arange(2), np.hstack([1.0 - w1, w1])
    f2, f3 = f * f, f * f * f
    weights = np.hstack([
        (1.0 - f) ** 3, 3.0 * f3 - 6.0 * f2 + 4.0, -3.0 * f3 + 3.0 * f2 + 3.0 * f + 1.0, f3
    ]) / 6.0  # fmt: skip
    return base + np.arange(-1, 3), weights


def lattice_noise(a, b, scale_a: float, scale_b: float, key: int, order: int = 1) -> np.ndarray:
    """Value noise in [0, 1] at points ``(a, b)`` (metres, any shape, broadcast).

    Lattice values are :func:`hash_uniform` of absolute lattice indices, so the field is the
    same whatever samples it; :func:`lattice_field` gives the same values on a whole grid.
    """
    a, b = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64))
    ia, wa = _axis_weights(a.ravel() / scale_a, order)
    ib, wb = _axis_weights(b.ravel() / scale_b, order)
    total = np.zeros(a.size)
    for m in range(ia.shape[1]):
        for n in range(ib.shape[1]):
            total += wa[:, m] * wb[:, n] * hash_uniform(ia[:, m], ib[:, n], key)
    return total.reshape(a.shape)


def _axis_matrix(coords: np.ndarray, order: int):
    """Sparse interpolation matrix from a lattice segment to ``coords``, and its first index."""
    from scipy import sparse

    index, weights = _axis_weights(coords, order)
    first = int(index.min())
    rows = np.repeat(np.arange(coords.size), index.shape[1])
    matrix = sparse.csr_matrix(
        (weights.ravel(), (rows, (index - first).ravel())),
        shape=(coords.size, int(index.max()) - first + 1),
    )
    return matrix, first


def lattice_field(xs, ys, scale_x: float, scale_y: float, key: int, order: int = 1):
    """:func:`lattice_noise` on the grid of 1-D coordinates ``ys`` (rows) by ``xs`` (columns).

    A north-up grid is separable, so the field is two sparse products instead of a
    per-pixel gather: a few milliseconds per octave whatever its scale.
    """
    row_matrix, y0 = _axis_matrix(np.asarray(ys, np.float64) / scale_y, order)
    col_matrix, x0 = _axis_matrix(np.asarray(xs, np.float64) / scale_x, order)
    lattice = hash_uniform(
        np.arange(x0, x0 + col_matrix.shape[1])[None, :],
        np.arange(y0, y0 + row_matrix.shape[1])[:, None],
        key,
    )
    return np.asarray((col_matrix @ (row_matrix @ lattice).T).T)


def _octaves(scales, min_scale: float, gain: float):
    """(index, scale, weight, order) of the octaves kept, and the normalisation of all."""
    kept, weight, norm = [], 1.0, 0.0
    for index, scale in enumerate(scales):
        norm += weight
        if scale >= min_scale:
            kept.append((index, scale, weight, 3 if scale >= 100.0 else 1))
        weight *= gain
    # Value noise has a small spread: stretch the sum towards [-1, 1].
    return kept, 1.7 / norm


def fractal_noise(
    a, b, scales, key: int, *, anisotropy: float = 1.0, min_scale: float = 0.0, gain: float = 0.55
) -> np.ndarray:
    """Sum of value-noise octaves at points ``(a, b)``, roughly in [-1, 1] with zero mean.

    ``scales`` are the lattice steps along ``a`` (metres), coarse first; along ``b`` they are
    ``anisotropy`` times longer. Octaves finer than ``min_scale`` (about a pixel) are skipped:
    a sensor averages them away, and leaving them in would alias differently per pixel size.
    Weights do not depend on which octaves are kept, so coarse structure never changes.
    """
    kept, norm = _octaves(scales, min_scale, gain)
    total = np.zeros(np.broadcast_shapes(np.shape(a), np.shape(b)))
    for index, scale, weight, order in kept:
        noise = lattice_noise(a, b, scale, scale * anisotropy, key + 7919 * index, order)
        total += weight * (2.0 * noise - 1.0)
    return total * norm


def fractal_field(
    xs, ys, scales, key: int, *, anisotropy: float = 1.0, min_scale: float = 0.0, gain: float = 0.55
) -> np.ndarray:
    """:func:`fractal_noise` on a grid of columns ``xs`` and rows ``ys`` (same values)."""
    kept, norm = _octaves(scales, min_scale, gain)
    total = np.zeros((np.size(ys), np.size(xs)))
    for index, scale, weight, order in kept:
        noise = lattice_field(xs, ys, scale, scale * anisotropy, key + 7919 * index, order)
        total += weight * (2.0 * noise - 1.0)
    return total * norm


def smooth_series(t, period: float, key: int) -> np.ndarray:
    """A smooth random function of time in about [-1, 1]: Catmull-Rom through hashed knots."""
    t = np.asarray(t, np.float64) / period
    k = np.floor(t).astype(np.int64)
    f = t - k
    knots = 2.0 * hash_uniform(k[..., None] + np.arange(-1, 3), 0, key) - 1.0
    p = [knots[..., d].ravel() for d in range(4)]
    value = 0.5 * (
        2.0 * p[1]
        + (p[2] - p[0]) * f
        + (2.0 * p[0] - 5.0 * p[1] + 4.0 * p[2] - p[3]) * f**2
        + (3.0 * p[1] - p[0] - 3.0 * p[2] + p[3]) * f**3
    )
    return value.reshape(np.shape(t)) if np.ndim(t) else float(value[0])


def smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)
