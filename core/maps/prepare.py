"""Preparing a patient's voxels for live seed maps: denoised once, unit-norm series.

See :mod:`core.maps.seedmaps` for how the prepared sessions are used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from core.errors import InputError
from core.settings import check_seed_radius

if TYPE_CHECKING:
    from core.io.inputs import PatientInputs
    from core.io.scan import BoldScan
    from core.settings import AnalysisSettings, DenoiseSettings
log = logging.getLogger(__name__)

__all__ = [
    "PreparedSession",
    "ProgressCallback",
    "prepare_from_array",
    "prepare_patient",
    "prepare_session_voxels",
]


ProgressCallback = Callable[[float, str], None]


_CHUNK = 8192


@dataclass(eq=False)
class PreparedSession:
    """One session's denoised, standardised brain voxels, ready for seed maps and GBC.

    Attributes
    ----------
    data : ndarray of float32, shape (n_voxels, n_kept)
        Each row is the voxel's denoised series, centred and scaled to unit
        Euclidean norm over the kept volumes (zeros for constant voxels).
        Fortran-ordered when prepared from a scan (each volume contiguous).
    scale : ndarray of float32, shape (n_voxels,)
        Norm of each voxel's centred denoised series (``data * scale`` restores it).
    valid : ndarray of bool, shape (n_voxels,)
        False for voxels whose denoised signal has (numerically) zero variance.
    mask : ndarray of bool, 3D
        Brain mask; voxels are in its Fortran (nilearn) order.
    affine : ndarray, shape (4, 4)
        Voxel-to-MNI-mm affine of the grid.
    sample_mask : ndarray of int
        Kept (not scrubbed) volume indices.
    n_volumes : int
        Volumes before scrubbing.
    tr : float
        Repetition time in seconds.
    label : str
        Session label (e.g. ``"pre"``).
    """

    data: np.ndarray
    scale: np.ndarray
    valid: np.ndarray
    mask: np.ndarray
    affine: np.ndarray
    sample_mask: np.ndarray
    n_volumes: int
    tr: float
    label: str = ""
    _xyz: np.ndarray | None = field(default=None, repr=False)
    _tree: Any = field(default=None, repr=False)
    _position: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_voxels(self) -> int:
        """Number of brain voxels."""
        return int(self.data.shape[0])

    @property
    def n_kept(self) -> int:
        """Number of kept volumes."""
        return int(self.data.shape[1])

    @property
    def xyz_mm(self) -> np.ndarray:
        """World (MNI mm) coordinates of the brain voxels, shape (n_voxels, 3)."""
        if self._xyz is None:
            index = np.flatnonzero(self.mask.ravel(order="F"))
            ijk = np.column_stack(np.unravel_index(index, self.mask.shape, order="F"))
            self._xyz = ijk @ self.affine[:3, :3].T + self.affine[:3, 3]
        return self._xyz

    def build_index(self) -> None:
        """Build the voxel look-up structures (done lazily; call once in a worker)."""
        from scipy.spatial import cKDTree

        if self._tree is None:
            self._tree = cKDTree(self.xyz_mm)
        if self._position is None:
            position = np.full(self.mask.size, -1, dtype=np.int64)
            index = np.flatnonzero(self.mask.ravel(order="F"))
            position[index] = np.arange(index.size)
            self._position = position

    def sphere_indices(self, xyz_mm: Sequence[float], radius_mm: float) -> np.ndarray:
        """Brain voxels of a seed sphere, as nilearn's ``NiftiSpheresMasker`` selects them.

        Parameters
        ----------
        xyz_mm : sequence of 3 float
            Centre in MNI mm.
        radius_mm : float
            Sphere radius; voxels at a distance ``<= radius_mm`` are included.

        Returns
        -------
        ndarray of int
            Sorted row indices into :attr:`data` (the nearest voxel always
            included when it lies in the mask); may be empty.

        Raises
        ------
        ValueError
            A radius outside :data:`core.settings.SEED_RADIUS_RANGE_MM` or a
            centre that is not finite.
        """
        radius_mm = check_seed_radius(radius_mm)
        centre = np.asarray(xyz_mm, dtype=float).reshape(3)
        if not np.isfinite(centre).all():
            raise ValueError(f"expected a seed centre in MNI mm, got {centre.tolist()}")
        self.build_index()
        assert self._position is not None
        members = np.asarray(self._tree.query_ball_point(centre, r=float(radius_mm) + 1e-9),
                             dtype=np.int64)
        inverse = np.linalg.inv(self.affine)
        nearest = np.round(inverse[:3, :3] @ centre + inverse[:3, 3]).astype(int)
        if np.all(nearest >= 0) and np.all(nearest < self.mask.shape):
            flat = int(np.ravel_multi_index(tuple(nearest), self.mask.shape, order="F"))
            if self._position[flat] >= 0:
                members = np.append(members, self._position[flat])
        return np.unique(members)

    def mean_signal(self, indices: np.ndarray) -> np.ndarray:
        """Mean centred denoised signal of some voxels, shape (n_kept,), float64."""
        if indices.size == 0:
            return np.zeros(self.n_kept)
        weights = self.scale[indices].astype(np.float64)
        return (weights @ self.data[indices].astype(np.float64)) / indices.size

    def seed_vector(self, xyz_mm: Sequence[float], radius_mm: float) -> np.ndarray:
        """Unit-norm float32 seed signal of a sphere.

        Raises
        ------
        InputError
            When the sphere has no brain voxel or no varying signal.
        """
        indices = self.sphere_indices(xyz_mm, radius_mm)
        where = ", ".join(f"{v:g}" for v in np.asarray(xyz_mm, dtype=float).ravel())
        if indices.size == 0:
            raise InputError(f"expected a seed inside the brain mask, found none at ({where}) mm")
        signal = self.mean_signal(indices)
        norm = float(np.linalg.norm(signal))
        if not norm > 0:
            raise InputError(f"expected a varying signal in the seed at ({where}) mm, "
                             "found a constant one")
        return (signal / norm).astype(np.float32)


def _report_none(fraction: float, message: str) -> None:
    log.debug("%3.0f%% %s", 100 * fraction, message)


def _standardise(cleaned: np.ndarray, raw_max: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                       np.ndarray]:
    """Centre and unit-normalise columns of (n_kept, n) cleaned signals."""
    centred = cleaned - cleaned.mean(axis=0)
    norm = np.sqrt(np.einsum("ij,ij->j", centred, centred))
    tolerance = 1e-6 * np.sqrt(centred.shape[0]) * np.maximum(raw_max, 1e-30)
    valid = norm > tolerance
    inverse = np.where(valid, 1.0 / np.where(valid, norm, 1.0), 0.0)
    unit = (centred * inverse).T.astype(np.float32)
    return unit, np.where(valid, norm, 0.0).astype(np.float32), valid


def prepare_from_array(
    cleaned: np.ndarray,
    mask: np.ndarray,
    affine: np.ndarray,
    *,
    sample_mask: np.ndarray | None = None,
    n_volumes: int | None = None,
    tr: float = 1.0,
    label: str = "",
) -> PreparedSession:
    """Standardise already denoised voxel series (tests, synthetic data, benchmarks).

    Parameters
    ----------
    cleaned : ndarray, shape (n_voxels, n_kept)
        Denoised series of the mask's voxels in Fortran order.
    mask : ndarray of bool, 3D
    affine : ndarray, shape (4, 4)
    sample_mask : ndarray of int, optional
        Kept volume indices (default: all).
    n_volumes : int, optional
        Volumes before scrubbing (default: ``n_kept``).
    tr : float, default=1.0
    label : str, default=""

    Returns
    -------
    PreparedSession
    """
    cleaned = np.asarray(cleaned)
    if cleaned.shape[0] != int(mask.sum()):
        raise InputError(f"expected {int(mask.sum())} voxel rows (the mask), "
                         f"found {cleaned.shape[0]}")
    n_kept = cleaned.shape[1]
    data = np.empty(cleaned.shape, dtype=np.float32)
    scale = np.empty(cleaned.shape[0], dtype=np.float32)
    valid = np.empty(cleaned.shape[0], dtype=bool)
    for start in range(0, cleaned.shape[0], _CHUNK):
        part = cleaned[start:start + _CHUNK].astype(np.float64).T
        raw_max = np.abs(part).max(axis=0) if part.size else np.zeros(0)
        rows = slice(start, start + part.shape[1])
        data[rows], scale[rows], valid[rows] = _standardise(part, raw_max)
    prepared = PreparedSession(
        data=data, scale=scale, valid=valid, mask=np.asarray(mask, dtype=bool),
        affine=np.asarray(affine, dtype=float),
        sample_mask=np.arange(n_kept) if sample_mask is None else np.asarray(sample_mask),
        n_volumes=n_kept if n_volumes is None else n_volumes, tr=tr, label=label,
    )
    prepared.build_index()
    return prepared


def _denoise_settings(settings: Any) -> DenoiseSettings:
    from core.settings import AnalysisSettings, DenoiseSettings

    if settings is None:
        return DenoiseSettings()
    if isinstance(settings, AnalysisSettings):
        return settings.denoise
    return settings


def prepare_session_voxels(
    scan: BoldScan,
    mask: np.ndarray,
    settings: AnalysisSettings | DenoiseSettings | None = None,
    progress: ProgressCallback | None = None,
    *,
    strategy: str | None = None,
    label: str = "",
    chunk_size: int = _CHUNK,
) -> PreparedSession:
    """Mask, denoise and standardise one session's voxels.

    Denoising is the ROI path's (:func:`core.signal.denoise.select_confounds` and
    :func:`core.signal.denoise.clean_signals`) as its linear operator
    (:func:`core.signal.denoise.cleaning_operator`), applied to chunks of
    ``chunk_size`` voxels that are written back over the voxels read, so one
    copy of the session is held.  With ``gsr`` and strategy ``none``, the mean
    brain signal is regressed as in :func:`core.pipeline.run_comparison`.

    Parameters
    ----------
    scan : BoldScan
        The session's image, TR and confounds.
    mask : ndarray of bool
        Brain mask on the image grid (e.g. :func:`core.signal.masking.analysis_mask`).
    settings : AnalysisSettings or DenoiseSettings, optional
        Defaults to :class:`core.settings.DenoiseSettings` defaults.
    progress : callable, optional
        ``progress(fraction, message)`` called between chunks; may raise
        :class:`core.errors.AnalysisCancelled` to stop.
    strategy : str, optional
        Resolved denoising preset; by default the settings' strategy, else
        ``"simple"`` when the scan has a confounds table and ``"none"`` otherwise.
    label : str, default=""
        Session label for messages.
    chunk_size : int, default=8192
        Voxels cleaned per call.

    Returns
    -------
    PreparedSession

    Raises
    ------
    InputError
        Non-finite voxel values, too few volumes, or unusable confounds.
    AnalysisCancelled
        When ``progress`` raises it.
    """
    from core.signal.denoise import cleaning_operator, select_confounds
    from core.signal.extract import masked_voxels

    denoise = _denoise_settings(settings)
    report = progress or _report_none
    if strategy is None:
        strategy = denoise.strategy or ("simple" if scan.confounds is not None else "none")
    name = label or scan.path.name
    report(0.0, f"Reading {name} voxels")
    confounds, sample_mask = select_confounds(scan.confounds, scan.n_volumes, denoise, strategy)
    voxels = masked_voxels(scan.img, mask)
    if not np.isfinite(voxels).all():
        n_bad = int((~np.isfinite(voxels)).any(axis=1).sum())
        raise InputError(f"expected finite values inside the brain mask, found NaN or Inf in "
                         f"{n_bad} voxels", scan.path)
    if denoise.gsr and strategy == "none":
        import pandas as pd

        confounds = pd.DataFrame({"global_signal": voxels.mean(axis=0, dtype=np.float64)})
    report(0.1, f"Denoising {name} voxels")
    n_voxels = voxels.shape[0]
    if n_voxels == 0:
        raise InputError("expected brain voxels, found an empty mask", scan.path)
    # voxels are volume-major in memory: the denoised, standardised series of each chunk
    # of voxels is written back over its own raw columns, so no second copy of the
    # session is ever held (peak memory of the review window)
    buffer = voxels.T  # (n_volumes, n_voxels), C-contiguous
    del voxels
    scale = np.empty(n_voxels, dtype=np.float32)
    valid = np.empty(n_voxels, dtype=bool)
    kept = np.arange(scan.n_volumes) if sample_mask is None else np.asarray(sample_mask, int)
    # cleaning is linear: one matrix (the ROI path's own cleaning of the identity) applied
    # to every chunk is the same cleaning as filtering each voxel series, ~3x faster
    operator = cleaning_operator(scan.n_volumes, scan.tr, confounds, sample_mask, denoise,
                                 source=f"{name} ({scan.path.name})")
    for start in range(0, n_voxels, chunk_size):
        columns = slice(start, min(start + chunk_size, n_voxels))
        part = buffer[:, columns]
        raw_max = np.abs(part).max(axis=0).astype(np.float64)
        cleaned = operator @ part.astype(np.float64)
        unit, scale[columns], valid[columns] = _standardise(cleaned, raw_max)
        buffer[: cleaned.shape[0], columns] = unit.T
        done = columns.stop / n_voxels
        report(0.1 + 0.9 * done, f"Denoising {name} voxels ({100 * done:.0f}%)")
    data = buffer[: kept.size].T  # (n_voxels, n_kept), Fortran-ordered view
    if not valid.all():
        log.info("%s: %d voxels with a constant signal", name, int((~valid).sum()))
    prepared = PreparedSession(
        data=data, scale=scale, valid=valid, mask=np.asarray(mask, dtype=bool),
        affine=np.asarray(scan.affine, dtype=float), sample_mask=kept,
        n_volumes=scan.n_volumes, tr=scan.tr, label=label,
    )
    prepared.build_index()
    return prepared


def prepare_patient(
    inputs: PatientInputs,
    settings: AnalysisSettings | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[PreparedSession, PreparedSession]:
    """Prepare both sessions of a patient with the shared analysis mask.

    Parameters
    ----------
    inputs : PatientInputs
        Image-based inputs.
    settings : AnalysisSettings, optional
    progress : callable, optional
        ``progress(fraction, message)`` over both sessions; may raise
        :class:`core.errors.AnalysisCancelled`.

    Returns
    -------
    pre, post : PreparedSession

    Raises
    ------
    InputError
        For pre-extracted time-series inputs (no voxel data).
    """
    from core.settings import AnalysisSettings
    from core.signal.denoise import resolve_strategy
    from core.signal.masking import analysis_mask

    if not inputs.is_image_based:
        raise InputError("seed maps and global connectivity need voxel data (NIfTI or "
                         "fMRIPrep inputs), not ROI time-series tables")
    settings = settings or AnalysisSettings()
    report = progress or _report_none
    strategy, _ = resolve_strategy(inputs, settings)
    report(0.0, "Building brain mask")
    mask = analysis_mask(inputs)
    out = []
    for i, scan in enumerate((inputs.pre_scan, inputs.post_scan)):
        assert scan is not None

        def part(fraction: float, message: str, i: int = i) -> None:
            report(0.02 + 0.49 * (i + fraction), message)

        out.append(prepare_session_voxels(scan, mask, settings, part, strategy=strategy,
                                          label=inputs.sessions[i]))
    report(1.0, "Voxels prepared")
    return out[0], out[1]
