"""Views of several threads stacked into shared calls: the same outputs, errors kept apart."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from calvingfronts.inference.tile_batching import TileBatcher


class _Network:
    """Doubles its input; refuses any stack that holds a negative value."""

    def __init__(self):
        self.calls: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, views: np.ndarray) -> np.ndarray:
        with self.lock:
            self.calls.append(len(views))
        if (views < 0).any():
            raise RuntimeError("the network refuses negative views")
        return views * 2


def _run_threads(batcher: TileBatcher, requests: list[np.ndarray]) -> list:
    results: list = [None] * len(requests)
    # Every thread counts as a worker before any sends views, as a batch's threads do.
    started = threading.Barrier(len(requests))

    def work(index: int) -> None:
        with batcher.worker():
            started.wait()
            try:
                results[index] = batcher.run(requests[index])
            except RuntimeError as error:
                results[index] = error

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread never got its result"
    return results


def test_threads_share_calls_and_get_their_own_outputs():
    network = _Network()
    batcher = TileBatcher(network, batch_size=8, max_wait_s=0.5)
    rng = np.random.default_rng(0)
    requests = [rng.random((4, 1, 32, 32), dtype=np.float32) for _ in range(6)]
    requests += [rng.random((2, 1, 64, 32), dtype=np.float32) for _ in range(2)]
    results = _run_threads(batcher, requests)
    for request, result in zip(requests, results, strict=True):
        assert np.array_equal(result, request * 2)
    assert max(network.calls) == 8 and sum(network.calls) == 28
    assert len(network.calls) < len(requests), "views of several threads shared calls"


def test_a_failing_view_fails_only_its_own_request():
    network = _Network()
    batcher = TileBatcher(network, batch_size=16, max_wait_s=0.5)
    requests = [np.full((4, 1, 8, 8), value, dtype=np.float32) for value in (1.0, -1.0, 3.0)]
    results = _run_threads(batcher, requests)
    assert isinstance(results[1], RuntimeError)
    assert np.array_equal(results[0], requests[0] * 2)
    assert np.array_equal(results[2], requests[2] * 2)


def test_a_lone_thread_is_not_kept_waiting():
    network = _Network()
    batcher = TileBatcher(network, batch_size=64, max_wait_s=60)
    views = np.ones((4, 1, 8, 8), dtype=np.float32)
    with batcher.worker():
        assert np.array_equal(batcher.run(views), views * 2)


def test_a_batch_size_below_one_is_refused():
    with pytest.raises(ValueError, match="batch_size"):
        TileBatcher(_Network(), batch_size=0)
