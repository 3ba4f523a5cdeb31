"""One network shared by threads that each work on their own scene, its calls filled.

A demo scene is one tile; a GPU given one tile's four views per call idles most of the
time. When a batch job works on several scenes at once, each thread runs the unchanged
inference stage, and its model sends every stack of views here instead of to the session:
the views of one shape from all threads are stacked into calls of up to ``batch_size``.
A call runs when it is full, when every thread that could add to it is waiting, or when its
oldest views have waited ``max_wait_s``; only one call runs at a time, and while it runs
the next one fills up.

ONNX Runtime's output for a view does not depend on what it was stacked with (checked
bitwise on the CPU provider), so a scene's probability map is the same as when it runs
alone. A call that fails is tried again one request at a time, so an error (a view the
network refuses, a GPU out of memory) reaches only the scenes whose own views fail.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(eq=False)
class _Request:
    views: np.ndarray
    queued: float
    result: np.ndarray | None = None
    error: BaseException | None = None
    done: bool = False


class TileBatcher:
    """Stacks the views that concurrent threads send to ``run`` into calls of ``network``."""

    def __init__(
        self,
        network: Callable[[np.ndarray], np.ndarray],
        batch_size: int,
        max_wait_s: float = 0.02,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self._network = network
        self.batch_size = batch_size
        self.max_wait_s = max_wait_s
        self._condition = threading.Condition()
        self._queue: list[_Request] = []
        self._workers = 0  # threads that may still send views
        self._running = False
        self.calls = 0  # calls of the network, for the log
        self.views = 0

    @contextlib.contextmanager
    def worker(self) -> Iterator[None]:
        """Count the calling thread as one that may send views while the block runs."""
        with self._condition:
            self._workers += 1
        try:
            yield
        finally:
            with self._condition:
                self._workers -= 1
                self._condition.notify_all()

    def run(self, views: np.ndarray) -> np.ndarray:
        """The network's output for ``views`` (N, ...), computed in a shared call."""
        request = _Request(views, time.monotonic())
        with self._condition:
            self._queue.append(request)
            self._condition.notify_all()
            while not request.done:
                group = self._ready_group()
                if group is None:
                    self._condition.wait(timeout=self.max_wait_s)
                    continue
                self._running = True
                self._condition.release()
                try:
                    outcomes = self._call(group)
                finally:
                    self._condition.acquire()
                    self._running = False
                for member, (result, error) in zip(group, outcomes, strict=True):
                    member.result, member.error, member.done = result, error, True
                self._condition.notify_all()
        if request.error is not None:
            raise request.error
        return request.result

    def _ready_group(self) -> list[_Request] | None:
        """The requests of the next call, taken off the queue, or None to wait (lock held)."""
        if self._running or not self._queue:
            return None
        oldest = self._queue[0]
        shape = oldest.views.shape[1:]
        same_shape = [r for r in self._queue if r.views.shape[1:] == shape]
        queued_views = sum(len(r.views) for r in same_shape)
        # Each queued request is a thread blocked here; none other can add views.
        everyone_waits = len(self._queue) >= self._workers
        waited = time.monotonic() - oldest.queued
        if queued_views < self.batch_size and not everyone_waits and waited < self.max_wait_s:
            return None
        group, total = [], 0
        for request in same_shape:
            if group and total + len(request.views) > self.batch_size:
                break
            group.append(request)
            total += len(request.views)
        for request in group:
            self._queue.remove(request)
        return group

    def _call(self, group: list[_Request]) -> list[tuple[np.ndarray | None, BaseException | None]]:
        """Run one call for ``group``; on failure, each request alone (lock not held)."""
        try:
            output = self._network(np.concatenate([r.views for r in group]))
        except Exception as error:
            if len(group) == 1:
                return [(None, error)]
            return [self._alone(request) for request in group]
        self.calls += 1
        self.views += len(output)
        bounds = np.cumsum([0] + [len(r.views) for r in group])
        return [
            (output[start:end], None) for start, end in zip(bounds[:-1], bounds[1:], strict=True)
        ]

    def _alone(self, request: _Request) -> tuple[np.ndarray | None, BaseException | None]:
        try:
            output = self._network(request.views)
        except Exception as error:
            return None, error
        self.calls += 1
        self.views += len(output)
        return output, None
