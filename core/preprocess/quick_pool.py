"""Worker processes for the quick path, with progress, cancel and nothing left behind.

A ``spawn`` process pool (safe beside Qt's threads) whose processes are set
up by :func:`core.preprocess.quick_ants.init_worker`.  :meth:`WorkerPool.run`
waits for a batch of tasks while calling ``progress(fraction, message)`` a
few times a second, so the caller's thread stays free (the GIL is not held
while waiting) and a ``progress`` that raises (the cancel of
:class:`gui.jobs.JobRunner`) stops the batch: the processes are terminated
at once when the pool is left by an exception.  A worker that dies (a crash,
the out-of-memory killer) fails the batch instead of hanging it.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from core.preprocess.quick_ants import init_worker

__all__ = ["Task", "WorkerPool", "default_workers"]

#: A function of a ``core.preprocess`` module and its arguments.
Task = tuple[Callable[..., Any], tuple[Any, ...]]
Progress = Callable[[float, str], None]


def default_workers() -> int:
    """Return the number of worker processes: the CPUs available, at most 2."""
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(2, available))


class WorkerPool:
    """A pool of reproducible ANTs workers; use as a context manager.

    Parameters
    ----------
    workers : int
    seed : int
        ANTs' random seed in every worker.
    scratch : str
        The run's private temporary folder.
    """

    def __init__(self, workers: int, seed: int, scratch: str) -> None:
        self._executor = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"), initializer=init_worker,
            initargs=(seed, scratch))

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:  # an error or a cancel: stop the running tasks now
            self._terminate()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _terminate(self) -> None:
        terminate = getattr(self._executor, "terminate_workers", None)  # Python >= 3.14
        if terminate is not None:
            terminate()
            return
        processes = dict(getattr(self._executor, "_processes", None) or {})
        self._executor.shutdown(wait=False, cancel_futures=True)
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.join(5)

    def run(self, tasks: Sequence[Task], progress: Progress, start: float, end: float,
            message: str) -> list[Any]:
        """Run tasks in the workers; return their results in order.

        Parameters
        ----------
        tasks : sequence of Task
        progress : callable
            ``progress(fraction, message)``, called about four times a second;
            it may raise to cancel.
        start, end : float
            The share of the whole job this batch covers.
        message : str

        Returns
        -------
        list
            One result per task.

        Raises
        ------
        RuntimeError
            When a worker process died (it names the step).
        Exception
            A task's own error, as raised in the worker.
        """
        futures = [self._executor.submit(function, *arguments) for function, arguments in tasks]
        pending = set(futures)
        while pending:
            done = len(futures) - len(pending)
            progress(start + (end - start) * done / len(futures),
                     f"{message} ({done}/{len(futures)})")
            finished, pending = wait(pending, timeout=0.25, return_when=FIRST_EXCEPTION)
            for future in finished:
                if future.exception() is not None:
                    self._raise(future.exception(), message)
        progress(end, message)
        return [future.result() for future in futures]

    @staticmethod
    def _raise(error: BaseException | None, message: str) -> None:
        if isinstance(error, BrokenProcessPool):
            raise RuntimeError(f"quick preprocessing stopped during '{message}': a worker "
                             "process died (out of memory?)") from error
        raise error  # type: ignore[misc]
