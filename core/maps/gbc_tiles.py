"""Sums over the voxel × voxel correlation matrix, in tiles, on every core.

GBC's ``mean_z`` and ``degree`` need every correlation ``r_ij`` once: the matrix
is computed in tiles of :data:`ROW_TILE` × :data:`TARGET_TILE` (1 MB of float32,
in cache while it is transformed and summed) and never held.  Blocks of
:data:`core.maps.gbc.SOURCE_BLOCK` source voxels are shared out to one worker
thread per core, each running single-threaded BLAS: many small products
parallelised inside BLAS lose most of their time synchronising its threads
(measured 4–22 GFLOP/s against 42 GFLOP/s this way, on 2 cores), and the
transform and sums of one tile overlap the product of another.

While the workers run, BLAS is limited to one thread in the whole process
(``threadpoolctl``): other work done meanwhile (a seed map) runs on one core.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

import numpy as np

from core.errors import AnalysisCancelled
from core.signal.connectivity import R_MAX

__all__ = ["ROW_TILE", "TARGET_TILE", "lattice_sums", "symmetric_sums"]

#: Source rows and target voxels of one tile (256 × 1024 float32: 1 MB).
ROW_TILE = 256
TARGET_TILE = 1024

Rows = Callable[[np.ndarray], np.ndarray]
Report = Callable[[float, str], None]


def _transform(tile: np.ndarray, measure: str, threshold: float) -> np.ndarray:
    """Correlations → what is summed: Fisher z, or 1 above the threshold (in place or new)."""
    if measure == "degree":
        return (tile > threshold).astype(np.float32)
    np.clip(tile, -R_MAX, R_MAX, out=tile)
    return np.arctanh(tile, out=tile)


class _Work:
    """Pairs done so far, and the stop asked for by a cancelled progress report."""

    def __init__(self, total: float) -> None:
        self.total, self.done = total, 0.0
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def add(self, pairs: float) -> None:
        if self.stop.is_set():
            raise AnalysisCancelled("GBC stopped")
        with self._lock:
            self.done += pairs


def symmetric_sums(rows: Rows, voxels: np.ndarray, n_out: int, measure: str, threshold: float,
                   block: int, report: Report, label: str) -> np.ndarray:
    """Row sums of the transformed correlations of ``voxels`` with each other (self left out).

    Each pair is computed once: a tile's row sums go to its sources, its column
    sums to its targets.

    Parameters
    ----------
    rows : callable
        ``rows(indices)`` → unit series of those voxels, shape (len, rank), float32.
    voxels : ndarray of int
        Sorted voxel indices (sources and targets).
    n_out : int
        Length of the result (voxel indices are below it).
    measure : {"mean_z", "degree"}
    threshold : float
    block : int
        Source voxels per task.
    report : callable
        ``report(fraction, message)``; may raise ``AnalysisCancelled``.
    label : str

    Returns
    -------
    ndarray of float64, shape (n_out,)
    """
    n = voxels.size
    work = _Work(n * (n + 1) / 2)

    def task(start: int, stop: int, sums: np.ndarray) -> None:
        source = rows(voxels[start:stop])
        size = stop - start
        for r0 in range(0, size, ROW_TILE):  # the block with itself: its upper triangle
            r1 = min(r0 + ROW_TILE, size)
            tile = _transform(source[r0:r1] @ source[r0:].T, measure, threshold)
            tile[np.arange(r1 - r0), np.arange(r1 - r0)] = 0.0  # the voxel with itself
            sums[voxels[start + r0 : start + r1]] += tile.sum(axis=1, dtype=np.float64)
            # the square r0:r1 × r0:r1 holds each of its pairs twice: its rows count them
            sums[voxels[start + r1 : stop]] += tile[:, r1 - r0 :].sum(axis=0, dtype=np.float64)
            work.add((r1 - r0) * (size - r0) - (r1 - r0) * (r1 - r0 - 1) / 2)
        for t0 in range(stop, n, TARGET_TILE):  # with every later voxel
            t1 = min(t0 + TARGET_TILE, n)
            target = rows(voxels[t0:t1])
            columns = np.zeros(t1 - t0)
            for r0 in range(0, size, ROW_TILE):
                r1 = min(r0 + ROW_TILE, size)
                tile = _transform(source[r0:r1] @ target.T, measure, threshold)
                sums[voxels[start + r0 : start + r1]] += tile.sum(axis=1, dtype=np.float64)
                columns += tile.sum(axis=0, dtype=np.float64)
            sums[voxels[t0:t1]] += columns
            work.add(size * (t1 - t0))

    tasks = [(start, min(start + block, n)) for start in range(0, n, block)]
    return _run(tasks, task, n_out, work, report, label)


def lattice_sums(rows: Rows, sources: np.ndarray, targets: np.ndarray, n_out: int,
                 measure: str, threshold: float, block: int, report: Report,
                 label: str) -> np.ndarray:
    """Row sums of the transformed correlations of ``sources`` with ``targets`` (self left out).

    Parameters
    ----------
    rows, measure, threshold, block, report, label
        As for :func:`symmetric_sums`.
    sources, targets : ndarray of int
        Sorted voxel indices; ``targets`` a subset of ``sources``.
    n_out : int

    Returns
    -------
    ndarray of float64, shape (n_out,)
    """
    target_rows = rows(targets)
    position = np.full(n_out, -1, dtype=np.int64)
    position[targets] = np.arange(targets.size)
    work = _Work(float(sources.size) * targets.size)

    def task(start: int, stop: int, sums: np.ndarray) -> None:
        for r0 in range(start, stop, ROW_TILE):
            r1 = min(r0 + ROW_TILE, stop)
            voxels = sources[r0:r1]
            source = rows(voxels)
            own = position[voxels]
            for t0 in range(0, targets.size, TARGET_TILE):
                t1 = min(t0 + TARGET_TILE, targets.size)
                tile = _transform(source @ target_rows[t0:t1].T, measure, threshold)
                inside = (own >= t0) & (own < t1)
                tile[np.flatnonzero(inside), own[inside] - t0] = 0.0  # the voxel with itself
                sums[voxels] += tile.sum(axis=1, dtype=np.float64)
            work.add((r1 - r0) * targets.size)

    tasks = [(start, min(start + block, sources.size))
             for start in range(0, sources.size, block)]
    return _run(tasks, task, n_out, work, report, label)


def _threads() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 16))


def _run(tasks: list[tuple[int, int]], task: Callable[[int, int, np.ndarray], None],
         n_out: int, work: _Work, report: Report, label: str) -> np.ndarray:
    """Run the tasks on one thread per core; report progress here; stop all on a cancel."""
    from threadpoolctl import threadpool_limits

    n_threads = min(_threads(), len(tasks))
    sums = [np.zeros(n_out) for _ in range(n_threads)]
    queue = iter(tasks)
    lock = threading.Lock()

    def worker(k: int) -> None:
        while not work.stop.is_set():
            with lock:
                item = next(queue, None)
            if item is None:
                return
            task(item[0], item[1], sums[k])

    def tell() -> None:
        fraction = min(work.done / work.total, 1.0) if work.total else 1.0
        report(fraction, f"Global connectivity of {label} ({100 * fraction:.0f}%)")

    with threadpool_limits(limits=1, user_api="blas"), \
            ThreadPoolExecutor(n_threads, thread_name_prefix="gbc") as pool:
        running: set[Future] = {pool.submit(worker, k) for k in range(n_threads)}
        try:
            last = time.perf_counter()
            while running:
                finished, running = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()  # a worker's error (or stop) surfaces here
                if running and time.perf_counter() - last >= 0.5:
                    tell()
                    last = time.perf_counter()
        except BaseException:
            work.stop.set()
            raise
    tell()
    return np.sum(sums, axis=0)
