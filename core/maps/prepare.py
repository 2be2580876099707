"""A patient's voxels ready for live seed maps and GBC: the denoising as one linear map.

Denoising (:func:`core.signal.denoise.clean_signals`: detrending, confound
regression, scrubbing, band-pass) is linear in the signal, so the cleaned series
of every voxel is ``P x`` with one matrix ``P`` (:func:`core.signal.denoise.cleaning_operator`,
the ROI path's own).  A seed map or GBC needs the centred cleaned series
``y = L x`` (``L = C P``, ``C`` centring over the kept volumes) only through dot
products and norms, so nothing is denoised in place: the voxels stay as read, in
memory (:class:`core.signal.session_voxels.SessionVoxels`), and another strategy,
filter or GSR only needs another ``L`` and the norms of ``L x`` (one pass).  The
voxels are held as changes ``d`` from the first volume ``o`` (``x = d + o 1``),
hence ``y = L d + o ℓ`` with ``ℓ = L 1``.

Dot products need fewer numbers than the kept volumes: with the singular value
decomposition ``L = U S Vᵀ``, ``y_i · y_j = (S Vᵀ x_i) · (S Vᵀ x_j)``, and
band-pass filtering leaves few singular values that matter.  The *basis*
``B = S Vᵀ`` keeps those above :data:`BASIS_TOLERANCE` of the largest (e.g. 207
of 300 at TR 2 s with the default 0.01–0.1 Hz band, 221 of 600 at TR 0.8 s); a
dropped one changes a correlation by less than ``1e-10`` times the ratio of the
voxel's raw to denoised power.  Norms and GBC products run in that basis.

See :mod:`core.maps.seedmaps` and :mod:`core.maps.gbc` for how prepared sessions are used.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from core.errors import InputError
from core.settings import check_seed_radius
from core.signal.session_voxels import FileKey, SessionVoxels, VoxelCache, read_session_voxels

if TYPE_CHECKING:
    from core.io.inputs import PatientInputs
    from core.io.scan import BoldScan
    from core.settings import AnalysisSettings, DenoiseSettings
log = logging.getLogger(__name__)

__all__ = [
    "PreparedSession",
    "ProgressCallback",
    "prepare_from_array",
    "prepare_from_voxels",
    "prepare_patient",
    "prepare_session_voxels",
]


ProgressCallback = Callable[[float, str], None]


_CHUNK = 8192


@dataclass(eq=False)
class PreparedSession:
    """One session's voxels and its denoising, ready for seed maps and GBC.

    Attributes
    ----------
    voxels : SessionVoxels
        The session's brain voxels as read (shared, never modified).
    operator : ndarray of float64, shape (n_kept, n_volumes)
        ``L``: denoising followed by centring over the kept volumes.
    drift : ndarray of float64, shape (n_kept,)
        ``ℓ = L 1``: what the denoising leaves of a constant (0 when detrended).
    basis : ndarray of float32, shape (rank, n_volumes)
        ``B`` with ``Bᵀ B = Lᵀ L`` (see the module notes).
    basis_drift : ndarray of float32, shape (rank,)
        ``B 1``.
    scale : ndarray of float32, shape (n_voxels,)
        Norm of each voxel's centred denoised series (0 for constant voxels).
    valid : ndarray of bool, shape (n_voxels,)
        False for voxels whose denoised signal has (numerically) zero variance.
    sample_mask : ndarray of int
        Kept (not scrubbed) volume indices.
    n_volumes : int
        Volumes before scrubbing.
    tr : float
        Repetition time in seconds.
    label : str
        Session label (e.g. ``"pre"``).
    """

    voxels: SessionVoxels
    operator: np.ndarray
    drift: np.ndarray
    basis: np.ndarray
    basis_drift: np.ndarray
    scale: np.ndarray
    valid: np.ndarray
    sample_mask: np.ndarray
    n_volumes: int
    tr: float
    label: str = ""
    _inverse: np.ndarray | None = field(default=None, repr=False)
    _xyz: np.ndarray | None = field(default=None, repr=False)
    _tree: Any = field(default=None, repr=False)
    _position: np.ndarray | None = field(default=None, repr=False)

    @property
    def mask(self) -> np.ndarray:
        """Brain mask; voxels are in its Fortran (nilearn) order."""
        return self.voxels.mask

    @property
    def affine(self) -> np.ndarray:
        """Voxel-to-MNI-mm affine of the grid."""
        return self.voxels.affine

    @property
    def inverse_scale(self) -> np.ndarray:
        """``1 / scale``, 0 for constant voxels (float32)."""
        if self._inverse is None:
            self._inverse = np.where(self.valid, 1.0 / np.where(self.valid, self.scale, 1.0),
                                     0.0).astype(np.float32)
        return self._inverse

    @property
    def n_voxels(self) -> int:
        """Number of brain voxels."""
        return self.voxels.n_voxels

    @property
    def n_kept(self) -> int:
        """Number of kept volumes."""
        return int(self.operator.shape[0])

    @property
    def rank(self) -> int:
        """Dimension of the basis in which dot products are computed."""
        return int(self.basis.shape[0])

    def unit(self, columns: slice | np.ndarray) -> np.ndarray:
        """Unit-norm denoised series of some voxels, in the basis: shape (n_columns, rank).

        ``unit(a) @ unit(b).T`` are the correlations of the voxels' denoised
        series.  Rows of constant voxels are 0.  Float32.
        """
        out = self.basis @ self.voxels.data[:, columns]
        out += np.outer(self.basis_drift, self.voxels.origin[columns])
        out *= self.inverse_scale[columns]
        return np.ascontiguousarray(out.T)

    def correlations(self, vector: np.ndarray) -> np.ndarray:
        """Correlation of every voxel's denoised series with a centred unit-norm series.

        Parameters
        ----------
        vector : ndarray, shape (n_kept,)
            Centred (sums to 0) and of unit norm.

        Returns
        -------
        ndarray of float32, shape (n_voxels,)
            ``r_i = y_i · vector / |y_i|`` (0 for constant voxels): one product
            with the voxels as read, ``d_i · (Lᵀ vector) + o_i (ℓ · vector)``.
        """
        vector = np.asarray(vector, dtype=np.float64)
        return self._products(self.operator.T @ vector, float(self.drift @ vector))

    def basis_correlations(self, vector: np.ndarray) -> np.ndarray:
        """As :meth:`correlations`, for a vector given in the basis (shape (rank,))."""
        vector = np.asarray(vector, dtype=np.float64)
        return self._products(self.basis.T.astype(np.float64) @ vector,
                              float(self.basis_drift.astype(np.float64) @ vector))

    def _products(self, weights: np.ndarray, drift: float) -> np.ndarray:
        r = weights.astype(np.float32) @ self.voxels.data
        r += self.voxels.origin * np.float32(drift)
        r *= self.inverse_scale
        return r

    @property
    def xyz_mm(self) -> np.ndarray:
        """World (MNI mm) coordinates of the brain voxels, shape (n_voxels, 3)."""
        if self._xyz is None:
            self.build_index()
        assert self._xyz is not None
        return self._xyz

    def build_index(self) -> None:
        """Build the voxel look-up structures (once per held session; call in a worker)."""
        if self._tree is None:
            self._xyz, self._tree, self._position = self.voxels.remember(
                "voxel index", lambda: _voxel_index(self.mask, self.affine))

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
            Sorted brain-voxel indices (the nearest voxel always
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
        """Mean centred denoised signal of some voxels, shape (n_kept,), float64.

        Denoising is linear: the mean of the cleaned voxels is the cleaned mean voxel.
        """
        if indices.size == 0:
            return np.zeros(self.n_kept)
        mean_change = self.voxels.data[:, indices].mean(axis=1, dtype=np.float64)
        mean_origin = float(self.voxels.origin[indices].mean(dtype=np.float64))
        return self.operator @ mean_change + mean_origin * self.drift

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


#: Voxel look-ups by grid and mask (both sessions of a patient share theirs).
_INDEXES: dict[bytes, tuple[np.ndarray, Any, np.ndarray]] = {}
_INDEXES_LOCK = threading.Lock()


def _voxel_index(mask: np.ndarray, affine: np.ndarray) -> tuple[np.ndarray, Any, np.ndarray]:
    """MNI coordinates, k-d tree and position (flat grid index → voxel) of the brain voxels."""
    key = hashlib.sha1(np.packbits(mask).tobytes() + repr(mask.shape).encode()
                       + np.asarray(affine, dtype=float).tobytes()).digest()
    with _INDEXES_LOCK:
        known = _INDEXES.get(key)
        if known is None:
            if len(_INDEXES) >= 2:
                _INDEXES.clear()
            known = _INDEXES[key] = _build_voxel_index(mask, affine)
    return known


def _build_voxel_index(mask: np.ndarray, affine: np.ndarray
                       ) -> tuple[np.ndarray, Any, np.ndarray]:
    from scipy.spatial import cKDTree

    index = np.flatnonzero(mask.ravel(order="F"))
    ijk = np.column_stack(np.unravel_index(index, mask.shape, order="F"))
    xyz = ijk @ affine[:3, :3].T + affine[:3, 3]
    position = np.full(mask.size, -1, dtype=np.int64)
    position[index] = np.arange(index.size)
    return xyz, cKDTree(xyz), position


def _report_none(fraction: float, message: str) -> None:
    log.debug("%3.0f%% %s", 100 * fraction, message)


#: Singular values of the denoising below this fraction of the largest are left out.
BASIS_TOLERANCE = 1e-5


def _centring_operator(operator: np.ndarray) -> np.ndarray:
    """``C P``: the cleaning followed by centring over the kept volumes."""
    operator = np.asarray(operator, dtype=np.float64)
    return operator - operator.mean(axis=0)


def _basis(centred: np.ndarray) -> np.ndarray:
    """``B = S Vᵀ`` of ``L = U S Vᵀ``, singular values above the tolerance only."""
    _, values, vt = np.linalg.svd(centred, full_matrices=False)
    keep = values > BASIS_TOLERANCE * (values[0] if values.size else 0.0)
    return values[keep, None] * vt[keep]


def _norms(voxels: SessionVoxels, basis: np.ndarray, drift: np.ndarray,
           report: ProgressCallback, name: str, chunk_size: int = _CHUNK
           ) -> tuple[np.ndarray, np.ndarray]:
    """Norm of every voxel's centred denoised series, and which voxels are not constant."""
    n_voxels = voxels.n_voxels
    scale = np.empty(n_voxels, dtype=np.float32)
    valid = np.empty(n_voxels, dtype=bool)
    rows = max(basis.shape[0], 1)
    for start in range(0, n_voxels, chunk_size):
        columns = slice(start, min(start + chunk_size, n_voxels))
        part = voxels.data[:, columns]
        cleaned = basis @ part
        cleaned += np.outer(drift, voxels.origin[columns])
        norm = np.sqrt(np.einsum("tv,tv->v", cleaned, cleaned, dtype=np.float64))
        # a voxel is constant when its cleaned norm is at rounding level of its values
        level = np.abs(voxels.origin[columns]) + np.abs(part).max(axis=0)
        tolerance = 1e-6 * np.sqrt(rows) * np.maximum(level, 1e-30)
        valid[columns] = norm > tolerance
        scale[columns] = np.where(valid[columns], norm, 0.0)
        done = columns.stop / n_voxels
        report(0.1 + 0.9 * done, f"Denoising {name} voxels ({100 * done:.0f}%)")
    return scale, valid


def prepare_from_voxels(
    voxels: SessionVoxels,
    operator: np.ndarray,
    *,
    sample_mask: np.ndarray | None = None,
    tr: float = 1.0,
    label: str = "",
    progress: ProgressCallback | None = None,
    chunk_size: int = _CHUNK,
) -> PreparedSession:
    """Prepare voxels held in memory for seed maps and GBC under one denoising.

    Only the voxel norms are computed (one pass, ``chunk_size`` voxels at a
    time); they are kept with the voxels, so the same denoising again costs
    nothing.

    Parameters
    ----------
    voxels : SessionVoxels
    operator : ndarray, shape (n_kept, n_volumes)
        The cleaning operator (:func:`core.signal.denoise.cleaning_operator`; a
        comparison's ``cleaning_operator``).
    sample_mask : ndarray of int, optional
        Kept volume indices (default: all).
    tr : float, default=1.0
    label : str, default=""
    progress : callable, optional
        ``progress(fraction, message)`` between chunks; may raise
        :class:`core.errors.AnalysisCancelled`.
    chunk_size : int, default=8192

    Returns
    -------
    PreparedSession
    """
    operator = np.asarray(operator, dtype=np.float64)
    if operator.ndim != 2 or operator.shape[1] != voxels.n_volumes:
        raise InputError(f"expected a cleaning operator with {voxels.n_volumes} columns "
                         f"(one per volume), found shape {operator.shape}")
    report = progress or _report_none
    name = label or "session"
    centred = _centring_operator(operator)
    # the same denoising computed again (another atlas: the operator is cleaned beside other
    # columns) differs in the last bits: the key rounds them away
    rounded = np.round(centred / max(float(np.abs(centred).max()), 1e-300), 9) + 0.0
    key = ("voxel norms", hashlib.sha1(rounded.tobytes()).hexdigest())

    def compute() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        basis = _basis(centred)
        basis32, basis_drift = basis.astype(np.float32), basis.sum(axis=1).astype(np.float32)
        scale, valid = _norms(voxels, basis32, basis_drift, report, name, chunk_size)
        return basis32, basis_drift, scale, valid

    report(0.1, f"Denoising {name} voxels")
    basis, basis_drift, scale, valid = voxels.remember(key, compute)
    if not valid.all():
        log.info("%s: %d voxels with a constant signal", name, int((~valid).sum()))
    kept = np.arange(operator.shape[0]) if sample_mask is None else np.asarray(sample_mask, int)
    prepared = PreparedSession(voxels=voxels, operator=centred, drift=centred.sum(axis=1),
                               basis=basis, basis_drift=basis_drift, scale=scale, valid=valid,
                               sample_mask=kept, n_volumes=voxels.n_volumes, tr=tr, label=label)
    prepared.build_index()
    return prepared


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
    """Prepare already denoised voxel series (tests, synthetic data, benchmarks).

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
    origin = cleaned[:, 0].astype(np.float32)
    data = np.ascontiguousarray((cleaned - origin[:, None].astype(cleaned.dtype)).T,
                                dtype=np.float32)
    voxels = SessionVoxels(data=data, origin=origin, mask=np.asarray(mask, dtype=bool),
                           affine=np.asarray(affine, dtype=float),
                           key=FileKey("<array>", 0, 0))
    prepared = prepare_from_voxels(voxels, np.eye(cleaned.shape[1]), tr=tr, label=label,
                                   sample_mask=sample_mask)
    if n_volumes is not None:
        prepared.n_volumes = n_volumes
    return prepared


def _denoise_settings(settings: Any) -> DenoiseSettings:
    from core.settings import AnalysisSettings, DenoiseSettings

    if settings is None:
        return DenoiseSettings()
    if isinstance(settings, AnalysisSettings):
        return settings.denoise
    return settings


def session_operator(scan: BoldScan, voxels: SessionVoxels, denoise: DenoiseSettings,
                     strategy: str, source: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Return the ROI path's cleaning operator of a session, and its kept volumes.

    With ``gsr`` and strategy ``none`` the mean brain signal is the confound,
    as in :func:`core.pipeline.run_comparison`.
    """
    from core.signal.denoise import cleaning_operator, select_confounds

    confounds, sample_mask = select_confounds(scan.confounds, scan.n_volumes, denoise, strategy)
    if denoise.gsr and strategy == "none":
        import pandas as pd

        global_signal = voxels.data.mean(axis=1, dtype=np.float64) + voxels.origin.mean(
            dtype=np.float64)
        confounds = pd.DataFrame({"global_signal": global_signal})
    operator = cleaning_operator(scan.n_volumes, scan.tr, confounds, sample_mask, denoise,
                                 source=source)
    return operator, sample_mask


def prepare_session_voxels(
    scan: BoldScan,
    mask: np.ndarray,
    settings: AnalysisSettings | DenoiseSettings | None = None,
    progress: ProgressCallback | None = None,
    *,
    strategy: str | None = None,
    label: str = "",
    chunk_size: int = _CHUNK,
    voxels: SessionVoxels | None = None,
    cleaning: tuple[np.ndarray, np.ndarray] | None = None,
) -> PreparedSession:
    """Read (unless held), and prepare one session's voxels under the ROI path's denoising.

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
        Voxels cleaned per product.
    voxels : SessionVoxels, optional
        The session's voxels already held (read when omitted).
    cleaning : (ndarray, ndarray), optional
        The cleaning operator and kept volumes already computed for these
        settings (a comparison session's ``cleaning_operator`` and
        ``sample_mask``); computed when omitted.

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
    denoise = _denoise_settings(settings)
    report = progress or _report_none
    if strategy is None:
        strategy = denoise.strategy or ("simple" if scan.confounds is not None else "none")
    name = label or scan.path.name
    if voxels is None:
        from core.signal.voxel_reducers import FiniteCheck

        report(0.0, f"Reading {name} voxels")
        finite = FiniteCheck()
        voxels = read_session_voxels(scan.img, mask, scan.path, (finite,))
        if finite.n_bad:
            raise InputError(f"expected finite values inside the brain mask, found NaN or Inf "
                             f"in {finite.n_bad} voxels", scan.path)
    if cleaning is None:
        operator, sample_mask = session_operator(scan, voxels, denoise, strategy,
                                                 f"{name} ({scan.path.name})")
    else:
        operator, sample_mask = cleaning
    return prepare_from_voxels(voxels, operator, sample_mask=sample_mask, tr=scan.tr,
                               label=label, progress=report, chunk_size=chunk_size)


def prepare_patient(
    inputs: PatientInputs,
    settings: AnalysisSettings | None = None,
    progress: ProgressCallback | None = None,
    *,
    voxels: VoxelCache | None = None,
    cleaning: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
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
    voxels : VoxelCache, optional
        Sessions' voxels held in memory (e.g. by the review window after its
        first view): used when they are those of these files, unchanged; a
        session read here is added to it.
    cleaning : sequence of 2 (ndarray, ndarray), optional
        Each session's cleaning operator and kept volumes, already computed with
        these settings (a comparison's ``cleaning_operator`` and ``sample_mask``).

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
    from threadpoolctl import threadpool_limits

    report(0.0, "Building brain mask")
    mask = analysis_mask(inputs)
    done = [0.0, 0.0]
    lock = threading.Lock()

    def one(i: int) -> PreparedSession:
        scan = (inputs.pre_scan, inputs.post_scan)[i]
        assert scan is not None

        def part(fraction: float, message: str) -> None:
            with lock:
                done[i] = fraction
                overall = 0.02 + 0.98 * (done[0] + done[1]) / 2
            report(overall, message)

        held = voxels.get(scan.path, mask) if voxels is not None else None
        prepared = prepare_session_voxels(scan, mask, settings, part, strategy=strategy,
                                          label=inputs.sessions[i], voxels=held,
                                          cleaning=cleaning[i] if cleaning else None)
        if voxels is not None and held is None:
            voxels.put(prepared.voxels)
        return prepared

    # the sessions side by side, each with single-threaded BLAS: under load, BLAS threads
    # synchronising on every product of a chunk cost more than they bring
    with threadpool_limits(limits=1, user_api="blas"), \
            ThreadPoolExecutor(max_workers=2, thread_name_prefix="prepare") as pool:
        pre, post = pool.map(one, (0, 1))
    report(1.0, "Voxels prepared")
    return pre, post
