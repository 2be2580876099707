"""JobRunner: the one way the window runs core work in the background.

Every controller owns one runner per kind of work (opening a patient,
statistics, seed preparation, exports...).  A runner runs one job at a time;
starting a new job cancels the previous one and its result is dropped (the
latest wins).  The job is a plain function called in a worker thread with a
``progress(fraction, message)`` callback as its last argument; the callback
raises :class:`core.errors.AnalysisCancelled` once the job was cancelled, so a
cancel takes effect at the job's next progress report.  Results and errors come
back on the GUI thread; errors are turned into one line for the user by
:func:`user_message` (never a traceback).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PyQt6.QtCore import QObject, QThreadPool, pyqtSignal
from superqt.utils import create_worker

from core.errors import AnalysisCancelled, InputError
from gui.strings import UNEXPECTED
from gui.workers import guarded

__all__ = ["Job", "JobRunner", "user_message"]

log = logging.getLogger(__name__)

#: Errors whose message is meant for the user (what was expected, found, which file).
EXPECTED_ERRORS = (InputError, ValueError, OSError, MemoryError)


def user_message(exc: BaseException, what: str = "") -> str:
    """One line for the user about a failed job; unexpected errors are logged in full.

    Parameters
    ----------
    exc : BaseException
    what : str, optional
        What was being done (prefixed as "<what> failed: ..."), for errors that
        do not already name it.

    Returns
    -------
    str
    """
    if isinstance(exc, EXPECTED_ERRORS):
        log.warning("%s failed: %s", what or "job", exc)
        text = " ".join(str(exc).split()) or type(exc).__name__
        return f"{what} failed: {text}" if what else text
    log.error("%s failed unexpectedly", what or "job", exc_info=exc)
    return UNEXPECTED.format(kind=type(exc).__name__)


@dataclass(eq=False)
class Job:
    """One run of a function in a worker.

    Attributes
    ----------
    generation : int
        Increases with every job of a runner; older results are dropped.
    kind : str
        What the job does (for messages and for the owner's dispatch).
    cancelled : bool
    """

    generation: int
    kind: str
    cancelled: bool = False


class JobRunner(QObject):
    """Run one job at a time in a worker thread: cancel, latest wins, progress, errors.

    Signals
    -------
    progressed(int, str)
        Percent done and what is happening, for the current job only.
    busy_changed(bool)
        True when a job starts on an idle runner, False when the last one ends.
    succeeded(object, object)
        ``(job, result)`` of the current job.
    failed(object, str)
        ``(job, one-line message)`` of the current job (not for a cancel).
    cancelled(object)
        The current job stopped at the user's request.
    """

    progressed = pyqtSignal(int, str)
    busy_changed = pyqtSignal(bool)
    succeeded = pyqtSignal(object, object)
    failed = pyqtSignal(object, str)
    cancelled = pyqtSignal(object)
    _worker_progress = pyqtSignal(int, int, str)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.job: Job | None = None
        self._generation = 0
        self._workers: set = set()
        self._worker_progress.connect(self._on_worker_progress)

    @property
    def busy(self) -> bool:
        """True while a job runs."""
        return self.job is not None

    def start(self, kind: str, function: Callable[..., Any], *args: Any,
              message: str = "Starting…") -> Job:
        """Run ``function(*args, progress)`` in a worker; cancel the job running now.

        Parameters
        ----------
        kind : str
        function : callable
            Called in a worker thread; it must not touch Qt objects.
        *args
            Its arguments; ``progress`` is appended.
        message : str
            First progress message.

        Returns
        -------
        Job
        """
        was_busy = self.job is not None
        if self.job is not None:
            self.job.cancelled = True
        self._generation += 1
        job = Job(self._generation, kind)
        self.job = job

        def progress(fraction: float, text: str) -> None:
            if job.cancelled:
                raise AnalysisCancelled(text)
            self._worker_progress.emit(job.generation, round(100 * fraction), text)

        worker = create_worker(function, *args, progress, _start_thread=False,
                               _ignore_errors=True)
        worker.returned.connect(guarded(self, lambda result: self._on_returned(job, result)))
        worker.errored.connect(guarded(self, lambda exc: self._on_errored(job, exc)))
        worker.finished.connect(guarded(self, lambda: self._on_finished(job, worker)))
        self._workers.add(worker)
        if not was_busy:
            self.busy_changed.emit(True)
        self.progressed.emit(0, message)
        worker.start()
        return job

    def cancel(self) -> None:
        """Ask the running job to stop at its next progress report."""
        if self.job is not None and not self.job.cancelled:
            self.job.cancelled = True
            self.progressed.emit(0, "Cancelling…")

    def forget(self) -> None:
        """Cancel the running job and drop whatever it returns."""
        self.cancel()
        self._generation += 1

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Cancel and wait for the worker threads."""
        self.cancel()
        QThreadPool.globalInstance().waitForDone(timeout_ms)

    # ------------------------------------------------------------------ worker signals
    def _current(self, job: Job) -> bool:
        return job is self.job and job.generation == self._generation

    def _on_worker_progress(self, generation: int, percent: int, text: str) -> None:
        if self.job is not None and generation == self.job.generation:
            self.progressed.emit(percent, text)

    def _on_returned(self, job: Job, result: Any) -> None:
        if self._current(job) and not job.cancelled:
            self.succeeded.emit(job, result)

    def _on_errored(self, job: Job, exc: BaseException) -> None:
        if not self._current(job):
            return
        if isinstance(exc, AnalysisCancelled):
            log.info("%s: %s job %d cancelled", self.name, job.kind, job.generation)
            self.cancelled.emit(job)
        else:
            self.failed.emit(job, user_message(exc))

    def _on_finished(self, job: Job, worker: Any) -> None:
        self._workers.discard(worker)
        if job is self.job:
            self.job = None
            self.progressed.emit(0 if job.cancelled else 100, "")
            self.busy_changed.emit(False)
