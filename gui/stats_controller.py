"""StatsController: QC and statistics tables of a comparison, and the bootstrap, in workers."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from PyQt6.QtCore import QObject, QThreadPool, pyqtSignal
from superqt.utils import create_worker

from core.errors import AnalysisCancelled
from gui.strings import UNEXPECTED
from gui.workers import guarded

__all__ = ["ReviewStats", "StatsController", "block_significance"]

log = logging.getLogger(__name__)
QCFC_MAX_POINTS = 4000


@dataclass(eq=False)
class ReviewStats:
    """Everything the QC and statistics tabs show for one comparison (no Qt).

    Attributes
    ----------
    edges : DataFrame
        :func:`core.stats.inference.edge_table` plus ``index_a, index_b`` (ROI indices).
    networks : DataFrame
        :func:`core.stats.inference.network_stats_table`.
    qc_pre, qc_post : core.qc.session.SessionQC or None
    qc_table : DataFrame or None
        :func:`core.qc.session.qc_table` (with the QC-FC rows).
    qcfc : core.qc.session.QcFc or None
    distance, delta_z : ndarray
        Inter-ROI distance (mm) and Δz of up to ``QCFC_MAX_POINTS`` edges (empty
        without ROI coordinates).
    motion_warning : str
        :func:`core.qc.session.motion_warning` ("" when the sessions agree or lack QC).
    """

    edges: pd.DataFrame
    networks: pd.DataFrame
    qc_pre: object | None = None
    qc_post: object | None = None
    qc_table: pd.DataFrame | None = None
    qcfc: object | None = None
    distance: np.ndarray | None = None
    delta_z: np.ndarray | None = None
    motion_warning: str = ""


def block_significance(networks: pd.DataFrame, alpha: float = 0.05) -> np.ndarray:
    """Network × network boolean matrix (q < alpha), in the order of the block matrices."""
    nets = list(dict.fromkeys(list(networks["network_a"]) + list(networks["network_b"])))
    pos = {n: i for i, n in enumerate(nets)}
    mask = np.zeros((len(nets), len(nets)), dtype=bool)
    for a, b, q in zip(networks["network_a"], networks["network_b"], networks["q"],
                       strict=True):
        mask[pos[a], pos[b]] = mask[pos[b], pos[a]] = bool(q < alpha)
    return mask


def compute_review_stats(comparison) -> ReviewStats:
    """Run in a worker thread: edge and network tests, QC table and QC-FC data."""
    from core.qc import motion_warning, qc_fc, qc_table
    from core.stats import edge_table, network_stats_table

    qc = comparison.complete_qc()
    edges = edge_table(comparison)
    n = len(comparison.rois)
    ii, jj = np.triu_indices(n, k=1)
    edges["index_a"], edges["index_b"] = ii, jj
    result = ReviewStats(edges=edges, networks=network_stats_table(comparison))
    if qc is not None:
        pre, post = qc
        result.motion_warning = motion_warning(pre, post) or ""
        result.qc_pre, result.qc_post = pre, post
        result.qcfc = qc_fc(comparison, pre, post)
        result.qc_table = qc_table(pre, post, result.qcfc)
    coords = comparison.rois.coords_mm
    if coords is not None and n >= 3:
        keep = np.arange(ii.size)
        if keep.size > QCFC_MAX_POINTS:
            keep = np.random.default_rng(0).choice(keep, QCFC_MAX_POINTS, replace=False)
        coords = np.asarray(coords, dtype=float)
        result.distance = np.linalg.norm(coords[ii[keep]] - coords[jj[keep]], axis=1)
        result.delta_z = comparison.delta_z[ii[keep], jj[keep]]
    return result


class StatsController(QObject):
    """Compute the review statistics of each comparison and run the bootstrap on request.

    Signals
    -------
    motion_warning_changed(str)
        The motion warning of the new comparison ("" when the sessions agree).
    stats_ready(object)
        A :class:`ReviewStats`.
    bootstrap_ready(object)
        The :func:`core.stats.bootstrap.bootstrap_network_ci` table.
    bootstrap_progress(int, str)
        Percent done and message.
    bootstrap_busy_changed(bool)
    bootstrap_cancelled()
    error_occurred(str)
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
    _progress = pyqtSignal(int, int, str)

    def __init__(self, parent: QObject | None = None, n_boot: int = 1000) -> None:
        super().__init__(parent)
        self.n_boot = n_boot
        self.comparison = None
        self.stats: ReviewStats | None = None
        self._generation = 0
        self._boot_generation = 0
        self._boot_cancel: list[bool] | None = None
        self._workers: set = set()
        self._progress.connect(self._on_progress)

    @property
    def bootstrap_running(self) -> bool:
        """True while a bootstrap runs."""
        return self._boot_cancel is not None

    def analyse(self, comparison) -> None:
        """Compute QC (when deferred), the tables and the motion warning in a worker."""
        self.cancel_bootstrap()
        self.comparison, self.stats = comparison, None
        self._generation += 1
        generation = self._generation
        self.motion_warning_changed.emit("")
        worker = create_worker(compute_review_stats, comparison, _start_thread=False,
                               _ignore_errors=True)
        worker.returned.connect(guarded(self, lambda result: self._on_stats(generation, result)))
        worker.errored.connect(guarded(self, lambda exc: self._on_error(generation, exc)))
        self._launch(worker)

    def run_bootstrap(self) -> None:
        """Bootstrap CIs of the network-level Δz of the current comparison."""
        if self.comparison is None or self.bootstrap_running:
            return
        from core.stats.bootstrap import bootstrap_network_ci

        cancel = [False]
        self._boot_cancel = cancel
        self._boot_generation += 1
        generation = self._boot_generation

        def progress(fraction: float, message: str) -> None:
            if cancel[0]:
                raise AnalysisCancelled(message)
            self._progress.emit(generation, round(100 * fraction), message)

        worker = create_worker(bootstrap_network_ci, self.comparison, n_boot=self.n_boot,
                               progress=progress, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(guarded(self, lambda table: self._on_bootstrap(generation, table)))
        worker.errored.connect(guarded(self, lambda exc: self._on_bootstrap_error(generation, exc)))
        worker.finished.connect(guarded(self, lambda: self._on_bootstrap_finished(generation)))
        self.bootstrap_busy_changed.emit(True)
        self.bootstrap_progress.emit(0, "Bootstrap starting")
        self._launch(worker)

    def cancel_bootstrap(self) -> None:
        """Ask a running bootstrap to stop at its next progress report."""
        if self._boot_cancel is not None:
            self._boot_cancel[0] = True
            self.bootstrap_progress.emit(0, "Cancelling…")

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Cancel the bootstrap and wait for the workers."""
        self.cancel_bootstrap()
        QThreadPool.globalInstance().waitForDone(timeout_ms)

    # ------------------------------------------------------------------ worker results
    def _launch(self, worker) -> None:
        self._workers.add(worker)
        worker.finished.connect(guarded(self, lambda: self._workers.discard(worker)))
        worker.start()

    def _on_stats(self, generation: int, result: ReviewStats) -> None:
        if generation == self._generation:
            self.stats = result
            self.motion_warning_changed.emit(result.motion_warning)
            self.stats_ready.emit(result)
            self.analysis_finished.emit(self.comparison)

    def _on_error(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        if isinstance(exc, (ValueError, OSError)):
            log.warning("statistics failed: %s", exc)
            self.error_occurred.emit(f"Statistics could not be computed: {exc}")
        else:
            log.error("statistics failed unexpectedly", exc_info=exc)
            self.error_occurred.emit(UNEXPECTED.format(kind=type(exc).__name__))
        self.analysis_finished.emit(self.comparison)

    def _on_progress(self, generation: int, percent: int, message: str) -> None:
        if generation == self._boot_generation and self.bootstrap_running:
            self.bootstrap_progress.emit(percent, message)

    def _on_bootstrap(self, generation: int, table: pd.DataFrame) -> None:
        if generation == self._boot_generation and self._boot_cancel is not None \
                and not self._boot_cancel[0]:
            self.bootstrap_ready.emit(table)

    def _on_bootstrap_error(self, generation: int, exc: BaseException) -> None:
        if generation != self._boot_generation:
            return
        if isinstance(exc, AnalysisCancelled):
            log.info("bootstrap cancelled")
            self.bootstrap_cancelled.emit()
        else:
            self._on_error(self._generation, exc)

    def _on_bootstrap_finished(self, generation: int) -> None:
        if generation == self._boot_generation:
            self._boot_cancel = None
            self.bootstrap_progress.emit(0, "")
            self.bootstrap_busy_changed.emit(False)
