"""StatsController: the statistics of each review state, and the bootstrap, in workers."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from PyQt6.QtCore import QObject, pyqtSignal

from core.review_state import ReviewState
from gui import strings
from gui.jobs import JobRunner

if TYPE_CHECKING:
    from core.review_state import ReviewStatistics

__all__ = ["StatsController", "block_significance", "block_values", "compute_review_stats",
           "edge_values"]

log = logging.getLogger(__name__)


def block_significance(networks: pd.DataFrame, alpha: float = 0.05,
                       q_key: str = "q") -> np.ndarray:
    """Network × network boolean matrix (``q_key`` < alpha), in the block matrices' order."""
    return np.nan_to_num(block_values(networks, q_key), nan=1.0) < alpha


def block_values(networks: pd.DataFrame, key: str) -> np.ndarray:
    """Network × network matrix of a network-table column, in the block matrices' order."""
    nets = list(dict.fromkeys(list(networks["network_a"]) + list(networks["network_b"])))
    pos = {n: i for i, n in enumerate(nets)}
    values = np.full((len(nets), len(nets)), np.nan)
    for a, b, value in zip(networks["network_a"], networks["network_b"], networks[key],
                           strict=True):
        values[pos[a], pos[b]] = values[pos[b], pos[a]] = float(value)
    return values


def edge_values(edges: pd.DataFrame, key: str, n_rois: int) -> np.ndarray:
    """ROI × ROI matrix of an edge-table column (NaN on the diagonal)."""
    values = np.full((n_rois, n_rois), np.nan)
    a, b = edges["index_a"].to_numpy(), edges["index_b"].to_numpy()
    values[a, b] = values[b, a] = edges[key].to_numpy(dtype=float)
    return values


def compute_review_stats(comparison, inputs, reference_path=None, progress=None
                         ) -> tuple[ReviewStatistics, str]:
    """Run in a worker thread: QC, tests (and the reference verdict), QC table, hashes.

    Returns the statistics and, when a reference was asked for but cannot be
    used for this analysis (another atlas, denoising, ...), why; the statistics
    are then judged against within-scan noise only.
    """
    from core.review import compute_statistics  # lazy: the scientific stack (start-up)

    verdict, problem = _verdict_for(reference_path, comparison)
    return compute_statistics(comparison, inputs, progress, verdict), problem


def _verdict_for(path, comparison):
    """Return the reference verdict for a comparison, or None and why it cannot be used."""
    if not path:
        return None, ""
    from core.errors import InputError
    from core.io.reference_file import load_reference
    from core.reference_verdict import reference_verdict

    try:
        return reference_verdict(load_reference(path), comparison), ""
    except InputError as exc:
        return None, " ".join(str(exc).split())


class StatsController(QObject):
    """Compute the statistics of each new review state and run the bootstrap on request.

    The statistics are computed once per comparison, in a worker, and published
    as a new :class:`core.review_state.ReviewState` through the session
    controller; exports and the report read them from there.

    Signals
    -------
    motion_warning_changed(str)
        The motion warning of the new comparison ("" when the sessions agree).
    stats_ready(object)
        A :class:`core.review_state.ReviewStatistics`.
    bootstrap_ready(object)
        The :func:`core.stats.bootstrap.bootstrap_network_ci` table.
    bootstrap_progress(int, str)
        Percent done and message.
    bootstrap_busy_changed(bool)
    bootstrap_cancelled()
    error_occurred(str)
        Also when the chosen reference of repeat scans does not fit the analysis.
    analysis_finished(object)
        The comparison whose QC and statistics are done (or failed); heavy
        background work for it (seed preparation) waits for this.
    """

    analysis_finished = pyqtSignal(object)
    motion_warning_changed = pyqtSignal(str)
    stats_ready = pyqtSignal(object)
    bootstrap_ready = pyqtSignal(object)
    bootstrap_progress = pyqtSignal(int, str)
    bootstrap_busy_changed = pyqtSignal(bool)
    bootstrap_cancelled = pyqtSignal()
    error_occurred = pyqtSignal(str)

    def __init__(self, session=None, parent: QObject | None = None,
                 n_boot: int = 1000) -> None:
        super().__init__(parent)
        self.session = session
        self.n_boot = n_boot
        self.comparison = None
        self.stats: ReviewStatistics | None = None
        self._reference_used: str | None = None
        self.jobs = JobRunner("statistics", self)
        self.jobs.succeeded.connect(self._on_stats)
        self.jobs.failed.connect(self._on_failed)
        self.bootstrap_jobs = JobRunner("bootstrap", self)
        b = self.bootstrap_jobs
        b.progressed.connect(self.bootstrap_progress)
        b.busy_changed.connect(self.bootstrap_busy_changed)
        b.succeeded.connect(lambda _job, table: self.bootstrap_ready.emit(table))
        b.failed.connect(lambda _job, message: self.error_occurred.emit(message))
        b.cancelled.connect(lambda _job: self.bootstrap_cancelled.emit())

    @property
    def bootstrap_running(self) -> bool:
        """True while a bootstrap runs."""
        return self.bootstrap_jobs.busy

    @property
    def busy(self) -> bool:
        """True while the statistics are computed."""
        return self.jobs.busy

    def analyse(self, state: ReviewState) -> None:
        """Compute the state's QC (when deferred), tables and motion warning in a worker."""
        self.bootstrap_jobs.forget()
        self.comparison, self.stats = state.comparison, None
        self.motion_warning_changed.emit("")
        reference = self.session.reference_for(state.inputs) if self.session else None
        self._reference_used = reference
        self.jobs.start("statistics", compute_review_stats, state.comparison, state.inputs,
                        reference, message="Computing quality control and statistics")

    def run_bootstrap(self) -> None:
        """Bootstrap CIs of the network-level Δz of the current comparison."""
        if self.comparison is None or self.bootstrap_running:
            return
        from core.stats.bootstrap import bootstrap_network_ci  # lazy: start-up time

        self.bootstrap_jobs.start("bootstrap", _bootstrap_work, bootstrap_network_ci,
                                  self.comparison, self.n_boot, message="Bootstrap starting")

    def set_reference(self, path: str | None) -> None:
        """Judge the current statistics against another reference (None: none), in a worker.

        Only the verdict is computed again: QC and the within-scan tests are kept.
        """
        if self.stats is None or self.comparison is None:
            return  # the statistics being computed check it when they arrive (_on_stats)
        self._reference_used = path
        self.jobs.start("reference", _reference_work, self.stats, self.comparison, path,
                        message="Applying the reference of repeat scans")

    def cancel_bootstrap(self) -> None:
        """Ask a running bootstrap to stop at its next progress report."""
        self.bootstrap_jobs.cancel()

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Cancel the bootstrap and wait for the workers."""
        self.cancel_bootstrap()
        self.jobs.shutdown(timeout_ms)

    # ------------------------------------------------------------------ worker results
    def _on_stats(self, job, result: tuple[ReviewStatistics, str]) -> None:
        stats, problem = result
        self.stats = stats
        if problem:
            self.error_occurred.emit(strings.REFERENCE_NOT_USED.format(problem=problem))
        session = self.session
        if session is not None and session.state is not None \
                and session.state.comparison is self.comparison:
            session.publish(session.state.with_statistics(stats))
        self.motion_warning_changed.emit(stats.motion_warning)
        self.stats_ready.emit(stats)
        if job.kind == "statistics":  # not after a new verdict: seed preparation waits once
            self.analysis_finished.emit(self.comparison)
        if session is not None and session.state is not None:
            wanted = session.reference_for(session.state.inputs)
            if wanted != self._reference_used:  # chosen or built while these were computed
                self.set_reference(wanted)

    def _on_failed(self, _job, message: str) -> None:
        self.error_occurred.emit(f"Statistics could not be computed: {message}")
        self.analysis_finished.emit(self.comparison)


def _reference_work(stats, comparison, path, progress) -> tuple[ReviewStatistics, str]:
    """Worker: the same statistics judged against the reference at ``path`` (or none)."""
    from core.review import apply_verdict

    progress(0.1, "Reading the reference of repeat scans")
    verdict, problem = _verdict_for(path, comparison)
    return apply_verdict(stats, verdict), problem


def _bootstrap_work(bootstrap, comparison, n_boot: int, progress):
    return bootstrap(comparison, n_boot=n_boot, progress=progress)
