"""SeedController: prepared voxel data, live seed maps and GBC maps, run off the GUI thread.

The controller owns one patient's prepared sessions (:func:`core.maps.seedmaps.prepare_patient`),
turns seed requests into Pre | Post | Δ seed maps (latest position wins: while one seed
map is computed, newer requests replace each other and only the last is computed next),
runs global brain connectivity (GBC) as a cancellable job, and exports the current map.
Views never call core; they call this object and listen to its signals.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, QThreadPool, QTimer, pyqtSignal
from superqt.utils import create_worker

from core.errors import AnalysisCancelled, InputError
from gui import strings
from gui.display_data import SliceData
from gui.workers import guarded

__all__ = ["DisplayGrid", "SeedController", "VoxelMaps"]

log = logging.getLogger(__name__)

#: Fixed colour scales (Fisher z) so that maps can be compared while the seed moves.
SEED_LEVEL = 1.2
SEED_DELTA_LEVEL = 0.8


@dataclass(eq=False)
class DisplayGrid:
    """Nearest-neighbour look-up from the display grid to the prepared brain voxels.

    Attributes
    ----------
    template : ndarray, 3D
        Display underlay (the strength maps' template, so views keep their grid).
    affine : ndarray, shape (4, 4)
        Display voxel-to-MNI affine.
    target : ndarray of int
        Flat (C-order) display voxels that fall on a prepared brain voxel.
    source : ndarray of int
        The prepared brain-voxel row shown at each ``target``.
    """

    template: np.ndarray
    affine: np.ndarray
    target: np.ndarray
    source: np.ndarray

    @classmethod
    def build(cls, template: np.ndarray, affine: np.ndarray, mask: np.ndarray,
              data_affine: np.ndarray) -> DisplayGrid:
        """Map every display voxel centre to the nearest voxel of the data grid's mask."""
        shape = template.shape
        ijk = np.indices(shape, dtype=np.float32).reshape(3, -1)
        to_data = np.linalg.inv(data_affine) @ np.asarray(affine, dtype=float)
        data_ijk = np.rint(to_data[:3, :3].astype(np.float32) @ ijk
                           + to_data[:3, 3:4].astype(np.float32)).astype(np.int64)
        inside = np.all((data_ijk >= 0) & (data_ijk < np.array(mask.shape)[:, None]), axis=0)
        flat = np.zeros(inside.size, dtype=np.int64)
        flat[inside] = np.ravel_multi_index(tuple(data_ijk[:, inside]), mask.shape, order="F")
        position = np.full(mask.size, -1, dtype=np.int64)
        brain = np.flatnonzero(mask.ravel(order="F"))
        position[brain] = np.arange(brain.size)
        row = np.where(inside, position[flat], -1)
        target = np.flatnonzero(row >= 0)
        return cls(template=template, affine=np.asarray(affine, dtype=float), target=target,
                   source=row[target])

    def volume(self, values: np.ndarray) -> np.ndarray:
        """Show a brain-voxel vector on the display grid (NaN off the brain)."""
        out = np.full(self.template.shape, np.nan, dtype=np.float32)
        out.reshape(-1)[self.target] = values[self.source]
        return out


@dataclass(eq=False)
class VoxelMaps:
    """One map of both sessions on the prepared brain voxels (what is shown and exported).

    Attributes
    ----------
    kind : str
        ``"seed"``, ``"gbc"`` or ``"gbc_gsr"``.
    pre, post, delta : ndarray of float32, shape (n_voxels,)
    title : str
        Shown above the views and stored in the NIfTI description.
    xyz_mm : tuple of float or None
        Seed centre (seed maps only).
    radius_mm : float or None
        Seed radius (seed maps only).
    stride : int
        GBC target stride (1 = all voxels).
    """

    kind: str
    pre: np.ndarray
    post: np.ndarray
    delta: np.ndarray
    title: str
    xyz_mm: tuple[float, float, float] | None = None
    radius_mm: float | None = None
    stride: int = 1

    @property
    def stem(self) -> str:
        """File-name stem for export."""
        if self.kind == "seed" and self.xyz_mm is not None:
            x, y, z = (f"{v:+.0f}".replace("+", "p").replace("-", "m") for v in self.xyz_mm)
            return f"seedmap_x{x}_y{y}_z{z}_r{self.radius_mm:g}mm"
        return self.kind + ("" if self.stride == 1 else f"_stride{self.stride}")


@dataclass
class _Job:
    generation: int
    kind: str
    cancelled: bool = False


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
    _worker_progress = pyqtSignal(int, int, str)

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
        self._job: _Job | None = None
        self._generation = 0
        self._workers: set = set()
        self._pending: tuple[float, float, float] | None = None
        self._seed_running = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._start_seed)
        self._worker_progress.connect(self._on_worker_progress)

    # ------------------------------------------------------------------ state
    @property
    def busy(self) -> bool:
        """True while a long job (preparation or GBC) runs."""
        return self._job is not None

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
        self.cancel()
        self._generation += 1
        self.inputs = self.prepared = self.display = self.current = None
        self._gbc_cache.clear()
        self._pending = None

    # ------------------------------------------------------------------ preparation
    def prepare(self, inputs, settings, template: np.ndarray | None = None,
                affine: np.ndarray | None = None) -> None:
        """Start preparing a patient's voxel data in the background.

        Parameters
        ----------
        inputs : core.io.inputs.PatientInputs
        settings : core.settings.AnalysisSettings
            The comparison's settings (same denoising as the ROI path).
        template, affine : optional
            Display grid (by default nilearn's 2 mm MNI template).
        """
        self._forget()  # no "idle" in between: a view restore waits for "ready"
        self.inputs = inputs
        if not inputs.is_image_based:
            self._set_state("no_voxels")
            return
        self._set_state("preparing")
        self._start_long("prepare", _prepare_work, inputs, settings, template, affine)

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
        worker = create_worker(_seed_work, self.prepared, self.display, xyz, self.radius_mm,
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
        if isinstance(exc, (InputError, ValueError)):
            self.error_occurred.emit(str(exc))
        else:
            log.error("seed map failed unexpectedly", exc_info=exc)
            self.error_occurred.emit(strings.UNEXPECTED.format(kind=type(exc).__name__))

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
            self.maps_ready.emit(_slice_data(cached, self.display))
            return
        self._start_long("gbc", _gbc_work, self.prepared, self.display, gsr, stride)

    # ------------------------------------------------------------------ long jobs
    def _start_long(self, kind: str, function, *args) -> None:
        if self._job is not None:
            self._job.cancelled = True
        was_busy = self._job is not None
        self._generation += 1
        job = _Job(self._generation, kind)
        self._job = job

        def progress(fraction: float, message: str) -> None:
            if job.cancelled:
                raise AnalysisCancelled(message)
            self._worker_progress.emit(job.generation, round(100 * fraction), message)

        worker = create_worker(function, *args, progress, _start_thread=False,
                               _ignore_errors=True)
        worker.returned.connect(guarded(self, lambda result: self._on_long_returned(job, result)))
        worker.errored.connect(guarded(self, lambda exc: self._on_long_errored(job, exc)))
        worker.finished.connect(guarded(self, lambda: self._on_long_finished(job, worker)))
        self._workers.add(worker)
        if not was_busy:
            self.busy_changed.emit(True)
        self.progress_changed.emit(0, strings.PREPARING if kind == "prepare" else
                                   strings.GBC_RUNNING)
        worker.start()

    def _on_worker_progress(self, generation: int, percent: int, message: str) -> None:
        if self._job is not None and generation == self._job.generation:
            self.progress_changed.emit(percent, message)

    def _on_long_returned(self, job: _Job, result) -> None:
        if job is not self._job or job.cancelled:
            return
        if job.kind == "prepare":
            self._on_prepared(result)
            return
        maps, data = result
        self._gbc_cache[(maps.kind == "gbc_gsr", maps.stride)] = maps
        self.current = maps
        self.maps_ready.emit(data)

    def _on_long_errored(self, job: _Job, exc: BaseException) -> None:
        if job is not self._job:
            return
        if isinstance(exc, AnalysisCancelled):
            log.info("%s job cancelled", job.kind)
            if job.kind == "prepare":
                self._set_state("failed")
            self.cancelled.emit()
            return
        if job.kind == "prepare":
            self._set_state("failed")
        if isinstance(exc, (InputError, ValueError, OSError, MemoryError)):
            log.warning("%s job failed: %s", job.kind, exc)
            self.error_occurred.emit(str(exc))
        else:
            log.error("%s job failed unexpectedly", job.kind, exc_info=exc)
            self.error_occurred.emit(strings.UNEXPECTED.format(kind=type(exc).__name__))

    def _on_long_finished(self, job: _Job, worker) -> None:
        self._workers.discard(worker)
        if job is self._job:
            self._job = None
            self.progress_changed.emit(0 if job.cancelled else 100, "")
            self.busy_changed.emit(False)

    def cancel(self) -> None:
        """Ask the running preparation or GBC job to stop at its next progress report."""
        if self._job is not None:
            self._job.cancelled = True
            self.progress_changed.emit(0, "Cancelling…")

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Cancel work and wait for this controller's worker threads."""
        self.cancel()
        self._pending = None
        self._timer.stop()
        QThreadPool.globalInstance().waitForDone(timeout_ms)

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


# ---------------------------------------------------------------------- worker functions
def _prepare_work(inputs, settings, template, affine, progress):
    """Worker thread: prepare both sessions and the display look-up. No Qt objects."""
    from core.maps.seedmaps import prepare_patient

    pre, post = prepare_patient(inputs, settings, progress)
    if template is None:
        from core.maps.display import display_template

        img = display_template()
        template, affine = img.get_fdata(dtype="float32"), img.affine
    return pre, post, DisplayGrid.build(template, affine, pre.mask, pre.affine)


def seed_title(xyz_mm, radius_mm: float) -> str:
    """Title of a seed map (also the NIfTI description)."""
    x, y, z = xyz_mm
    return f"Seed map: r to {radius_mm:g} mm sphere at ({x:.0f}, {y:.0f}, {z:.0f})"


def _seed_work(prepared, display: DisplayGrid, xyz, radius_mm: float):
    """Worker thread: seed maps of both sessions, placed on the display grid."""
    from core.maps.seedmaps import seed_maps

    start = time.perf_counter()
    z_pre, z_post, delta = seed_maps(prepared[0], prepared[1], xyz, radius_mm)
    core_ms = 1e3 * (time.perf_counter() - start)
    maps = VoxelMaps("seed", z_pre, z_post, delta, seed_title(xyz, radius_mm), xyz_mm=xyz,
                     radius_mm=radius_mm)
    return maps, _slice_data(maps, display), core_ms


def _gbc_work(prepared, display: DisplayGrid, gsr: bool, stride: int, progress):
    """Worker thread: GBC of both sessions (blockwise), placed on the display grid."""
    from core.maps.gbc import gbc_maps

    pre, post, delta = gbc_maps(prepared[0], prepared[1], gsr=gsr, stride=stride,
                                progress=progress)
    title = strings.GBC_TITLE_GSR if gsr else strings.GBC_TITLE
    if stride > 1:
        title += f" · targets: one voxel in {stride} per axis"
    maps = VoxelMaps("gbc_gsr" if gsr else "gbc", pre, post, delta, title, stride=stride)
    return maps, _slice_data(maps, display)


def _slice_data(maps: VoxelMaps, display: DisplayGrid) -> SliceData:
    """Display volumes of a map with fixed symmetric scales."""
    if maps.kind == "seed":
        level, delta_level = SEED_LEVEL, SEED_DELTA_LEVEL
    else:
        level = max(float(np.percentile(np.abs(np.r_[maps.pre, maps.post]), 99)), 1e-3)
        delta_level = max(float(np.percentile(np.abs(maps.delta), 99)), 1e-3)
    label = "seed z" if maps.kind == "seed" else "GBC z"
    return SliceData(template=display.template, affine=display.affine,
                     pre=display.volume(maps.pre), post=display.volume(maps.post),
                     delta=display.volume(maps.delta), title=maps.title,
                     levels=(-level, level), delta_max=delta_level, signed=True, label=label)
