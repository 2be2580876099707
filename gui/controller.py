"""SessionController: the only caller of core; runs core work in background workers."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PyQt6.QtCore import QObject, QThreadPool, pyqtSignal
from superqt.utils import create_worker

from core.errors import AnalysisCancelled, InputError
from core.settings import AnalysisSettings
from gui.display_data import SliceData
from gui.strings import STRENGTH_MAP, UNEXPECTED
from gui.workers import guarded

__all__ = ["SessionController"]

log = logging.getLogger(__name__)


@dataclass
class _Job:
    generation: int
    cancelled: bool = False


class SessionController(QObject):
    """Open a patient, run the comparison in a worker, and report through signals.

    Signals
    -------
    comparison_ready(object)
        A :class:`core.results.Comparison` for the current patient.
    maps_ready(object)
        A :class:`gui.display_data.SliceData` (or None without an atlas), emitted
        just before ``comparison_ready``.
    progress_changed(int, str)
        Percent done and what is happening.
    error_occurred(str)
        One-line message for the user.
    busy_changed(bool)
        True while a job runs.
    cancelled()
        The running job stopped at the user's request.
    """

    comparison_ready = pyqtSignal(object)
    maps_ready = pyqtSignal(object)
    progress_changed = pyqtSignal(int, str)
    error_occurred = pyqtSignal(str)
    busy_changed = pyqtSignal(bool)
    cancelled = pyqtSignal()
    _worker_progress = pyqtSignal(int, int, str)

    def __init__(self, settings: AnalysisSettings | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings or AnalysisSettings()
        self.inputs = None
        self.comparison = None
        self._job: _Job | None = None
        self._generation = 0
        self._workers: set = set()
        self._worker_progress.connect(self._on_worker_progress)

    # ------------------------------------------------------------------ public API
    @property
    def busy(self) -> bool:
        """True while a job runs."""
        return self._job is not None

    def open_demo(self) -> None:
        from core.demo import open_demo_patient

        self._start(open_demo_patient)

    def open_fmriprep(self, path: str | Path) -> None:
        from core.io.inputs import open_fmriprep

        self._start(lambda: open_fmriprep(path))

    def open_nifti_pair(self, pre: str | Path, post: str | Path) -> None:
        from core.io.inputs import open_nifti_pair

        self._start(lambda: open_nifti_pair(pre, post))

    def open_timeseries(self, pre: str | Path, post: str | Path) -> None:
        from core.io.inputs import open_timeseries_pair

        self._start(lambda: open_timeseries_pair(pre, post))

    def recompute(self, settings: AnalysisSettings | None = None) -> None:
        """Run the comparison again on the open patient with new settings."""
        if settings is not None:
            self.settings = settings
        if self.inputs is None:
            self.error_occurred.emit("Open a patient first; there is nothing to recompute.")
            return
        inputs = self.inputs
        self._start(lambda: inputs)

    def open_inputs(self, open_inputs: Callable, settings: AnalysisSettings | None = None
                    ) -> None:
        """Open a patient with ``open_inputs()`` (called in the worker), e.g. a saved review."""
        if settings is not None:
            self.settings = settings
        self._start(open_inputs)

    def cancel(self) -> None:
        """Ask the running job to stop at its next progress report."""
        if self._job is not None:
            self._job.cancelled = True
            self.progress_changed.emit(0, "Cancelling…")

    def region_at(self, xyz_mm) -> tuple[str, str] | None:
        """Atlas region (name, network) of the current comparison at an MNI point."""
        from core.maps.display import region_at

        if self.comparison is None or self.comparison.atlas is None:
            return None
        return region_at(self.comparison.atlas, xyz_mm)

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Cancel any job and wait for worker threads to finish."""
        self.cancel()
        QThreadPool.globalInstance().waitForDone(timeout_ms)

    # ------------------------------------------------------------------ workers
    def _start(self, open_inputs: Callable) -> None:
        if self._job is not None:
            self._job.cancelled = True
        self._generation += 1
        job = _Job(self._generation)
        was_busy = self._job is not None
        self._job = job
        settings = self.settings

        def progress(fraction: float, message: str) -> None:
            if job.cancelled:
                raise AnalysisCancelled(message)
            self._worker_progress.emit(job.generation, round(100 * fraction), message)

        worker = create_worker(_work, open_inputs, settings, progress, _start_thread=False,
                               _ignore_errors=True)
        worker.returned.connect(guarded(self, lambda result: self._on_returned(job, result)))
        worker.errored.connect(guarded(self, lambda exc: self._on_errored(job, exc)))
        worker.finished.connect(guarded(self, lambda: self._on_finished(job, worker)))
        self._workers.add(worker)
        if not was_busy:
            self.busy_changed.emit(True)
        self.progress_changed.emit(0, "Opening…")
        worker.start()

    def _on_worker_progress(self, generation: int, percent: int, message: str) -> None:
        if self._job is not None and generation == self._job.generation:
            self.progress_changed.emit(percent, message)

    def _on_returned(self, job: _Job, result) -> None:
        if job is not self._job or job.cancelled:
            return
        inputs, settings, comparison, maps = result
        self.inputs, self.settings, self.comparison = inputs, settings, comparison
        self.maps_ready.emit(maps)
        self.comparison_ready.emit(comparison)

    def _on_errored(self, job: _Job, exc: BaseException) -> None:
        if job is not self._job:
            return
        if isinstance(exc, AnalysisCancelled):
            log.info("job %d cancelled", job.generation)
            self.cancelled.emit()
        elif isinstance(exc, (InputError, ValueError, OSError)):
            log.warning("job %d failed: %s", job.generation, exc)
            self.error_occurred.emit(str(exc))
        else:
            log.error("job %d failed unexpectedly", job.generation, exc_info=exc)
            self.error_occurred.emit(UNEXPECTED.format(kind=type(exc).__name__))

    def _on_finished(self, job: _Job, worker) -> None:
        self._workers.discard(worker)
        if job is self._job:
            self._job = None
            self.progress_changed.emit(100 if not job.cancelled else 0, "")
            self.busy_changed.emit(False)


def _work(open_inputs: Callable, settings: AnalysisSettings, progress: Callable):
    """Run in a worker thread: open, compute, paint maps. No Qt objects are touched."""
    from core.pipeline import run_comparison

    progress(0.0, "Opening the patient's files")
    inputs = open_inputs()
    settings = _fit_settings(inputs, settings)
    # QC (DVARS, tSNR, carpet) follows the first view: StatsController completes it
    comparison = run_comparison(inputs, settings, progress, defer_qc=True)
    progress(1.0, "Painting brain maps")
    maps = None
    if comparison.atlas is not None:
        from core.maps.display import display_template, roi_map

        template = display_template()
        pre = roi_map(comparison, comparison.pre.strength)
        post = roi_map(comparison, comparison.post.strength)
        maps = SliceData(template=template.get_fdata(dtype="float32"), affine=template.affine,
                         pre=pre, post=post, delta=post - pre, title=STRENGTH_MAP)
    progress(1.0, "Done")
    return inputs, settings, comparison, maps


def _fit_settings(inputs, settings: AnalysisSettings) -> AnalysisSettings:
    """Drop denoising options that pre-extracted tables cannot support, with a warning."""
    if inputs.is_image_based:
        return settings
    denoise = settings.denoise
    changes: dict = {}
    if denoise.strategy not in (None, "none"):
        changes["strategy"] = "none"
    if denoise.gsr:
        changes["gsr"] = False
        inputs.warnings.append("global signal regression needs voxel data; it was not applied")
    if denoise.band_pass is not None and (inputs.table_tr or settings.tr) is None:
        changes["band_pass"] = None
        inputs.warnings.append("no repetition time is known for the tables; band-pass "
                               "filtering was switched off")
    if not changes:
        return settings
    return dataclasses.replace(settings, denoise=dataclasses.replace(denoise, **changes))
