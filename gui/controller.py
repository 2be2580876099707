"""SessionController: opens a patient in a worker and holds the current review state."""

from __future__ import annotations

import dataclasses
import inspect
import logging
import os
from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import QObject, pyqtSignal

from core.blas import use_single_threaded_blas
from core.review_state import DisplayOptions, ReviewState
from core.settings import AnalysisSettings
from core.signal.session_voxels import VoxelCache
from core.warmup import hold_later_imports, release_later_imports
from gui.display_data import SliceData
from gui.jobs import JobRunner
from gui.strings import STRENGTH_MAP

__all__ = ["SessionController"]

log = logging.getLogger(__name__)


class SessionController(QObject):
    """Open a patient, run the comparison in a worker, and publish the review state.

    The controller holds the one current :class:`core.review_state.ReviewState`;
    every change (a new patient, its statistics, a display option) is a new
    state published through ``state_changed``.

    Signals
    -------
    state_changed(object)
        The new :class:`core.review_state.ReviewState` (after any change).
    display_changed(object)
        The new :class:`core.review_state.DisplayOptions` (also without a patient).
    demo_reference_ready(str)
        The demo's reference of repeat scans is built (its path).
    comparison_ready(object)
        A :class:`core.results.Comparison` for a newly opened or recomputed patient.
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
    registration_check_needed(object, object)
        Quick-preprocessing inputs whose registration check is not accepted
        (a :class:`core.io.preprocessing_route.RegistrationNotAccepted`), and
        the opener to run again once it is.
    """

    state_changed = pyqtSignal(object)
    display_changed = pyqtSignal(object)
    demo_reference_ready = pyqtSignal(str)
    comparison_ready = pyqtSignal(object)
    maps_ready = pyqtSignal(object)
    progress_changed = pyqtSignal(int, str)
    error_occurred = pyqtSignal(str)
    busy_changed = pyqtSignal(bool)
    cancelled = pyqtSignal()
    registration_check_needed = pyqtSignal(object, object)

    def __init__(self, settings: AnalysisSettings | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        use_single_threaded_blas()  # the window computes in its own threads (core.blas)
        self.settings = settings or AnalysisSettings()
        self.state: ReviewState | None = None
        self.display = DisplayOptions()
        #: Reference of untreated repeat scans for the verdict (None: within-scan only).
        self.reference_path: str | None = None
        #: The demo patient's own synthetic reference, once built (see reference_for).
        self.demo_reference: str | None = None
        #: The settings asked for when the review shown was computed (before they were
        #: fitted to its inputs); the window compares them with its menus.
        self.requested_settings: AnalysisSettings | None = None
        self._job_settings = self.settings
        #: The open patient's voxels, read once: QC, seed maps, GBC and every
        #: recomputation start from them (a file is read again only if it changed).
        self.voxels = VoxelCache()
        self.reference_jobs = JobRunner("demo reference", self)
        self.reference_jobs.succeeded.connect(self._on_demo_reference_built)
        self.reference_jobs.failed.connect(
            lambda _job, message: self.error_occurred.emit(
                f"The demo's reference of repeat scans could not be built: {message}"))
        self._opener: Callable | None = None  # the last opener, to retry after a check
        self.jobs = JobRunner("session", self)
        self.jobs.progressed.connect(self.progress_changed)
        self.jobs.busy_changed.connect(self.busy_changed)
        # while a patient opens, background imports not needed for its first view wait
        self.jobs.busy_changed.connect(
            lambda busy: hold_later_imports() if busy else release_later_imports())
        self.jobs.succeeded.connect(self._on_succeeded)
        self.jobs.failed.connect(lambda _job, message: self.error_occurred.emit(message))
        self.jobs.cancelled.connect(lambda _job: self.cancelled.emit())

    # ------------------------------------------------------------------ public API
    @property
    def busy(self) -> bool:
        """True while a job runs."""
        return self.jobs.busy

    @property
    def inputs(self):
        """Inputs of the current review (None before a patient is open)."""
        return self.state.inputs if self.state is not None else None

    @property
    def comparison(self):
        """Comparison of the current review (None before a patient is open)."""
        return self.state.comparison if self.state is not None else None

    def publish(self, state: ReviewState) -> None:
        """Make ``state`` the current review state and tell every view."""
        self.state = state
        self.display = state.display
        self.state_changed.emit(state)

    def set_display(self, **changes) -> None:
        """Change display options (:class:`core.review_state.DisplayOptions` fields)."""
        display = dataclasses.replace(self.display, **changes)
        if display == self.display:
            return
        self.display = display
        if self.state is not None:
            self.publish(self.state.with_display(**changes))
        self.display_changed.emit(display)

    # The openers import core in the worker: the scientific stack (nibabel, pandas,
    # nilearn, scipy) costs a second or more of imports, which must neither delay the
    # window nor block it when a patient is opened at once; core.warmup loads it in the
    # background once the window shows.
    def open_demo(self) -> None:
        # the first run generates the demo (~10 s): its progress goes to the job's
        self._start(lambda progress: _open("core.demo", "open_demo_patient", progress=progress))

    def reference_for(self, inputs) -> str | None:
        """Return the reference that judges these inputs (the demo patient: its own)."""
        if inputs is not None and inputs.kind == "demo" and self.demo_reference is not None:
            return self.demo_reference
        return self.reference_path

    def _build_demo_reference(self) -> None:
        """Build (or find cached) the demo's synthetic reference, in the background."""
        if self.demo_reference is not None or self.reference_jobs.busy \
                or os.environ.get("PREPOST_NO_DEMO_REFERENCE"):
            return
        self.reference_jobs.start("demo reference", _demo_reference_work,
                                  message="Building the demo's reference of repeat scans")

    def _on_demo_reference_built(self, _job, path) -> None:
        self.demo_reference = str(path)
        self.demo_reference_ready.emit(self.demo_reference)

    def open_fmriprep(self, path: str | Path) -> None:
        self._start(lambda: _open("core.io.inputs", "open_fmriprep", path))

    def open_nifti_pair(self, pre: str | Path, post: str | Path) -> None:
        self._start(lambda: _open("core.io.inputs", "open_nifti_pair", pre, post))

    def open_timeseries(self, pre: str | Path, post: str | Path) -> None:
        self._start(lambda: _open("core.io.inputs", "open_timeseries_pair", pre, post))

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
        """Open a patient with ``open_inputs()`` (called in the worker), e.g. a saved review.

        An ``open_inputs`` that takes one argument is given the job's
        ``progress(fraction, message)`` callback.
        """
        if settings is not None:
            self.settings = settings
        self._start(open_inputs)

    def cancel(self) -> None:
        """Ask the running job to stop at its next progress report."""
        self.jobs.cancel()

    def region_at(self, xyz_mm) -> tuple[str, str] | None:
        """Atlas region (name, network) of the current comparison at an MNI point."""
        if self.comparison is None or self.comparison.atlas is None:
            return None
        from core.maps.display import region_at  # loaded by then: a patient is open

        return region_at(self.comparison.atlas, xyz_mm)

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Cancel any job and wait for worker threads to finish."""
        self.reference_jobs.cancel()
        self.jobs.shutdown(timeout_ms)

    # ------------------------------------------------------------------ workers
    def _start(self, open_inputs: Callable) -> None:
        self._job_settings = self.settings  # the latest job wins: only its result arrives
        self._opener = open_inputs
        self.jobs.start("open", _work, open_inputs, self.settings, self.voxels,
                        message="Opening…")

    def _on_succeeded(self, _job, result) -> None:
        if isinstance(result, _CheckNeeded):  # quick preprocessing awaiting its check
            self.registration_check_needed.emit(result.pending, self._opener)
            return
        inputs, settings, comparison, maps = result
        self.requested_settings = self._job_settings
        self.settings = settings
        self.publish(ReviewState(inputs=inputs, comparison=comparison, display=self.display))
        self.maps_ready.emit(maps)
        self.comparison_ready.emit(comparison)
        if inputs.kind == "demo":
            self._build_demo_reference()


@dataclasses.dataclass(frozen=True)
class _CheckNeeded:
    """The opening stopped at an unaccepted registration check (quick preprocessing)."""

    pending: Exception


def _open(module: str, function: str, *args, **kwargs):
    """Run in the worker: import the opener there (not on the GUI thread) and open."""
    import importlib

    return getattr(importlib.import_module(module), function)(*args, **kwargs)


def _demo_reference_work(progress: Callable) -> str:
    """Worker: the demo's reference of repeat scans (~1 minute the first time, then cached)."""
    from core.demo_reference import ensure_demo_reference  # lazy: the scientific stack

    return str(ensure_demo_reference(progress=progress))


def _work(open_inputs: Callable, settings: AnalysisSettings, voxels: VoxelCache,
          progress: Callable):
    """Run in a worker thread: open, compute, paint maps. No Qt objects are touched.

    The sessions' voxels are read into ``voxels`` (or taken from it when held).
    """
    from core.io.preprocessing_route import RegistrationNotAccepted
    from core.maps.display import display_template, roi_map  # lazy: see the openers
    from core.pipeline import run_comparison

    progress(0.0, "Opening the patient's files")
    takes_progress = len(inspect.signature(open_inputs).parameters) > 0
    try:
        inputs = open_inputs(progress) if takes_progress else open_inputs()
    except RegistrationNotAccepted as pending:
        # the window shows the registration check (_on_succeeded); returned wrapped, because
        # superqt's workers treat a returned exception as an error
        return _CheckNeeded(pending)
    settings = _fit_settings(inputs, settings)
    # QC (DVARS, tSNR, carpet) follows the first view: StatsController completes it
    comparison = run_comparison(inputs, settings, progress, defer_qc=True, voxels=voxels)
    progress(1.0, "Painting brain maps")
    maps = None
    if comparison.atlas is not None:
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
