"""SeedController: prepared voxel data, live seed maps and GBC maps, run off the GUI thread.

The controller owns one patient's prepared sessions (:func:`core.maps.prepare.prepare_patient`),
turns seed requests into Pre | Post | Δ seed maps (latest position wins: while one seed
map is computed, newer requests replace each other and only the last is computed next),
runs global brain connectivity (GBC) as a cancellable job, and exports the current map.
Views never call core; they call this object and listen to its signals.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, QTimer, pyqtSignal
from superqt.utils import create_worker

from core.errors import InputError
from gui import strings
from gui.jobs import JobRunner, user_message
from gui.seed_work import DisplayGrid, VoxelMaps, gbc_work, prepare_work, seed_work, slice_data
from gui.workers import guarded

__all__ = ["DisplayGrid", "SeedController", "VoxelMaps"]

log = logging.getLogger(__name__)

class SeedController(QObject):
    """Prepare voxel data once per patient, then compute seed and GBC maps on request.

    Signals
    -------
    state_changed(str)
        One of ``"idle"``, ``"no_voxels"``, ``"preparing"``, ``"ready"``, ``"failed"``.
    maps_ready(object)
        A :class:`gui.display_data.SliceData` of the new current map.
    progress_changed(int, str)
        Percent and message of the running long job (preparation or GBC).
    busy_changed(bool)
        True while a long job runs.
    error_occurred(str)
        One-line message for the user.
    cancelled()
        A long job stopped at the user's request.
    """

    state_changed = pyqtSignal(str)
    maps_ready = pyqtSignal(object)
    progress_changed = pyqtSignal(int, str)
    busy_changed = pyqtSignal(bool)
    error_occurred = pyqtSignal(str)
    cancelled = pyqtSignal()

    #: GBC target stride used on grids of 3 mm or finer unless full resolution is asked for.
    interactive_stride = 2

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = "idle"
        self.inputs = None
        self.prepared: tuple | None = None
        self.display: DisplayGrid | None = None
        self.current: VoxelMaps | None = None
        self.radius_mm = 6.0
        self.last_core_ms = float("nan")
        self.request_time = 0.0
        self._gbc_cache: dict[tuple[bool, int], VoxelMaps] = {}
        self._generation = 0
        self._workers: set = set()
        self.jobs = JobRunner("seed maps", self)
        self.jobs.progressed.connect(self.progress_changed)
        self.jobs.busy_changed.connect(self.busy_changed)
        self.jobs.succeeded.connect(self._on_long_returned)
        self.jobs.failed.connect(self._on_long_failed)
        self.jobs.cancelled.connect(self._on_long_cancelled)
        self._pending: tuple[float, float, float] | None = None
        self._seed_running = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._start_seed)

    # ------------------------------------------------------------------ state
    @property
    def busy(self) -> bool:
        """True while a long job (preparation or GBC) runs."""
        return self.jobs.busy

    @property
    def ready(self) -> bool:
        """True once both sessions are prepared."""
        return self.prepared is not None

    @property
    def voxel_mm(self) -> float:
        """Smallest voxel size of the prepared grid in mm (NaN before preparation)."""
        if self.prepared is None:
            return float("nan")
        return float(np.min(np.linalg.norm(self.prepared[0].affine[:3, :3], axis=0)))

    def gbc_stride(self, full_resolution: bool) -> int:
        """Target stride for GBC: the interactive stride on grids of 3 mm or finer."""
        if full_resolution or not self.voxel_mm <= 3.0 + 1e-3:
            return 1
        return self.interactive_stride

    def _set_state(self, state: str) -> None:
        self.state = state
        self.state_changed.emit(state)

    def reset(self) -> None:
        """Forget the patient (a new one is being opened) and cancel running work."""
        self._forget()
        self._set_state("idle")

    def _forget(self) -> None:
        self.jobs.forget()
        self._generation += 1
        self.inputs = self.prepared = self.display = self.current = None
        self._gbc_cache.clear()
        self._pending = None

    # ------------------------------------------------------------------ preparation
    def prepare(self, inputs, settings, template: np.ndarray | None = None,
                affine: np.ndarray | None = None, voxels=None, comparison=None) -> None:
        """Start preparing a patient's voxel data in the background.

        Parameters
        ----------
        inputs : core.io.inputs.PatientInputs
        settings : core.settings.AnalysisSettings
            The comparison's settings (same denoising as the ROI path).
        template, affine : optional
            Display grid (by default nilearn's 2 mm MNI template).
        voxels : core.signal.session_voxels.VoxelCache, optional
            The sessions' voxels already held (read when absent).
        comparison : core.results.Comparison, optional
            Computed from ``inputs`` with ``settings``: its cleaning operators are reused.
        """
        self._forget()  # no "idle" in between: a view restore waits for "ready"
        self.inputs = inputs
        if not inputs.is_image_based:
            self._set_state("no_voxels")
            return
        self._set_state("preparing")
        cleaning = None
        if comparison is not None and all(
                s.cleaning_operator is not None for s in (comparison.pre, comparison.post)):
            cleaning = [(s.cleaning_operator, s.sample_mask)
                        for s in (comparison.pre, comparison.post)]
        self._start_long("prepare", prepare_work, inputs, settings, template, affine, voxels,
                         cleaning)

    def _on_prepared(self, result) -> None:
        self.prepared = result[:2]
        self.display = result[2]
        self._set_state("ready")

    # ------------------------------------------------------------------ seed maps
    def request_seed(self, xyz_mm) -> None:
        """Ask for the seed map at an MNI point; the latest request wins."""
        if self.prepared is None:
            return
        self._pending = tuple(float(v) for v in np.asarray(xyz_mm, dtype=float).ravel()[:3])
        self.request_time = time.perf_counter()
        if not self._seed_running and not self._timer.isActive():
            self._timer.start()

    def set_radius(self, radius_mm: float) -> None:
        """Change the seed radius; the current seed map is recomputed."""
        self.radius_mm = float(radius_mm)
        if self.current is not None and self.current.kind == "seed":
            self.request_seed(self.current.xyz_mm)

    def _start_seed(self) -> None:
        if self._pending is None or self.prepared is None or self.display is None:
            return
        xyz, self._pending = self._pending, None
        self._seed_running = True
        generation = self._generation
        worker = create_worker(seed_work, self.prepared, self.display, xyz, self.radius_mm,
                               _start_thread=False, _ignore_errors=True)
        worker.returned.connect(
            guarded(self, lambda result: self._on_seed_returned(generation, result)))
        worker.errored.connect(guarded(self, lambda exc: self._on_seed_errored(generation, exc)))
        worker.finished.connect(guarded(self, lambda: self._on_seed_finished(worker)))
        self._workers.add(worker)
        worker.start()

    def _on_seed_returned(self, generation: int, result) -> None:
        if generation != self._generation:
            return
        maps, data, core_ms = result
        self.last_core_ms = core_ms
        self.current = maps
        self.maps_ready.emit(data)  # painted even if a newer request waits: drags stay live

    def _on_seed_errored(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self.error_occurred.emit(user_message(exc, "The seed map"))

    def _on_seed_finished(self, worker) -> None:
        self._workers.discard(worker)
        self._seed_running = False
        if self._pending is not None:
            self._timer.start()

    # ------------------------------------------------------------------ GBC
    def compute_gbc(self, gsr: bool, full_resolution: bool = False) -> None:
        """Compute (or show the cached) GBC maps in the background."""
        if self.prepared is None or self.display is None:
            self.error_occurred.emit(strings.SEED_NOT_READY)
            return
        stride = self.gbc_stride(full_resolution)
        cached = self._gbc_cache.get((gsr, stride))
        if cached is not None:
            self.current = cached
            self.maps_ready.emit(slice_data(cached, self.display))
            return
        self._start_long("gbc", gbc_work, self.prepared, self.display, gsr, stride)

    # ------------------------------------------------------------------ long jobs
    def _start_long(self, kind: str, function, *args) -> None:
        self.jobs.start(kind, function, *args,
                        message=strings.PREPARING if kind == "prepare" else strings.GBC_RUNNING)

    def _on_long_returned(self, job, result) -> None:
        if job.kind == "prepare":
            self._on_prepared(result)
            return
        maps, data = result
        self._gbc_cache[(maps.kind == "gbc_gsr", maps.stride)] = maps
        self.current = maps
        self.maps_ready.emit(data)

    def _on_long_failed(self, job, message: str) -> None:
        if job.kind == "prepare":
            self._set_state("failed")
        self.error_occurred.emit(message)

    def _on_long_cancelled(self, job) -> None:
        if job.kind == "prepare":
            self._set_state("failed")
        self.cancelled.emit()

    def cancel(self) -> None:
        """Ask the running preparation or GBC job to stop at its next progress report."""
        self.jobs.cancel()

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Cancel work and wait for this controller's worker threads."""
        self._pending = None
        self._timer.stop()
        self.jobs.shutdown(timeout_ms)

    # ------------------------------------------------------------------ export
    def export(self, folder: str | Path) -> list[Path]:
        """Save the current map's pre, post and Δ as NIfTI files (MNI space, data grid).

        Raises
        ------
        InputError
            Nothing to export, or the folder is (inside) one of the patient's input folders.
        """
        from core.maps.export import save_map
        from core.report.analysis_files import check_output_dir

        if self.current is None or self.prepared is None:
            raise InputError("there is no seed or GBC map to export yet")
        out = check_output_dir(folder, self.inputs)
        pre = self.prepared[0]
        maps = self.current
        paths = []
        for part, values in (("pre", maps.pre), ("post", maps.post), ("delta", maps.delta)):
            paths.append(save_map(out / f"{maps.stem}_{part}.nii.gz", values, pre.affine,
                                  mask=pre.mask, description=f"{part}: {maps.title}"))
        return paths


