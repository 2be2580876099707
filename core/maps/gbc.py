"""Voxel-wise global brain connectivity (GBC): three measures, blockwise, with progress and cancel.

GBC of a voxel summarises the correlations ``r_ij`` of its prepared (denoised)
signal with the signals of all *other* target voxels ``j``.  Three measures:

``mean_z`` (the default; Abdallah et al. 2017)
    Mean Fisher z, ``mean_j arctanh(r_ij)``.
``mean_r``
    Mean correlation, ``mean_j r_ij``.  It needs no voxel × voxel product:
    with unit-norm centred series ``u_i``, ``Σ_j r_ij = u_i · Σ_j u_j``, so the
    whole map is two passes over the voxels (closed form, tested against the
    brute-force matrix).
``degree``
    Fraction of the other targets with ``r_ij > threshold`` (default 0.25,
    Buckner et al. 2009).

``mean_z`` and ``degree`` need every ``r_ij``: the voxel × voxel matrix is
computed in tiles (float32 products of unit series, never whole) on every core
(:mod:`core.maps.gbc_tiles`).  With all voxels as targets it is symmetric: each
pair is computed once, the tile's row sums going to its sources and its column
sums to its targets.

Cost, with ``V`` brain voxels, ``T`` volumes and ``K`` the rank of the denoising
(:attr:`core.maps.prepare.PreparedSession.rank`; 2 mm: ``V`` ≈ 235,000, ``T`` =
300, ``K`` = 207 with the default band-pass at TR 2 s):

==========  ===========================  ==============================================
measure     multiply-adds                2 mm, one session
==========  ===========================  ==============================================
mean_r      ≈ 2 V T                      ≈ 1.4e8: a fraction of a second
mean_z      ≈ V² K / 2 (+ V² / 2 atanh)  ≈ 5.7e12: minutes; ``stride=2``: 1/4 of it
degree      ≈ V² K / 2 (+ V² / 2 tests)  as ``mean_z``, a little cheaper per pair
==========  ===========================  ==============================================

The naive product of every voxel with every other over the ``T`` volumes is
``V² T`` multiply-adds (1.7e13): symmetry halves it and the rank cuts it again.
With ``stride=2`` the targets are 1/8 of the voxels but no pair is shared, so
1/4 of the symmetric cost.  (:func:`gbc_flops` gives the operations of the
tiles; the unit series of each tile's targets are computed again from the
voxels, which adds about ``T / 8192`` of it.)

Global signal regression (``gsr=True``): the global signal ``g`` is the mean of
the prepared (denoised, centred) series over the brain voxels; it is regressed
from every voxel series before the correlations.  With ``c_i = u_i · ĝ``
(``ĝ = g / |g|``) the residual of ``u_i`` is ``u_i − c_i ĝ``, of norm
``sqrt(1 − c_i²)``; the unit residuals are what the tiles correlate.  This
regression happens after denoising; it differs from ``DenoiseSettings(gsr=True)``,
which adds the global signal to the nuisance regressors before filtering.

For interactive use, ``stride=2`` correlates every voxel with the targets of a
lattice of every second voxel along each axis (a 4 mm lattice on 2 mm data):
the map keeps full resolution, it is about 8× faster, and because neighbouring
voxels are strongly correlated the mean over the lattice estimates the mean over
all voxels closely.  Voxels with a constant signal are not targets and get 0.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from core.maps.gbc_tiles import lattice_sums, symmetric_sums
from core.maps.prepare import PreparedSession

__all__ = ["DEGREE_THRESHOLD", "GBC_MEASURES", "gbc_flops", "gbc_map", "gbc_maps"]

log = logging.getLogger(__name__)

ProgressCallback = Callable[[float, str], None]

#: The GBC measures, the first the default.
GBC_MEASURES = ("mean_z", "mean_r", "degree")
#: Correlation above which a pair counts towards the degree.
DEGREE_THRESHOLD = 0.25
#: Source voxels whose unit series are computed at once (their products with all targets):
#: the targets' unit series are computed again for each block, ``T / SOURCE_BLOCK`` more work.
SOURCE_BLOCK = 8192


def _report_none(fraction: float, message: str) -> None:
    log.debug("%3.0f%% %s", 100 * fraction, message)


def _lattice(prepared: PreparedSession, valid: np.ndarray, stride: int) -> np.ndarray:
    targets = valid.copy()
    if stride > 1:
        index = np.flatnonzero(prepared.mask.ravel(order="F"))
        ijk = np.unravel_index(index, prepared.mask.shape, order="F")
        for axis in ijk:
            targets &= (axis % stride) == 0
    return np.flatnonzero(targets)


class _UnitSeries:
    """Unit-norm series of voxels, residuals of the global signal with ``gsr``."""

    def __init__(self, prepared: PreparedSession, gsr: bool) -> None:
        self.prepared = prepared
        self.valid = prepared.valid
        self.inverse: np.ndarray | None = None
        self.c = np.zeros(0, dtype=np.float32)
        self.g = np.zeros(prepared.rank)  # in the basis of the prepared session
        if gsr:  # the mean denoised series over the brain: the cleaned mean voxel
            voxels = prepared.voxels
            g = (prepared.basis.astype(np.float64) @ _row_means(voxels.data)
                 + float(voxels.origin.mean(dtype=np.float64)) * prepared.basis_drift)
            norm = float(np.linalg.norm(g))
            self.g = g / norm if norm > 0 else np.zeros_like(g)
            self.c = prepared.basis_correlations(self.g) if norm > 0 else np.zeros(
                prepared.n_voxels, dtype=np.float32)
            residual = np.sqrt(np.clip(1.0 - self.c.astype(np.float64) ** 2, 0.0, None))
            self.valid = prepared.valid & (residual > 1e-6)
            self.inverse = np.where(self.valid, 1.0 / np.where(self.valid, residual, 1.0),
                                    0.0).astype(np.float32)

    def rows(self, columns: np.ndarray) -> np.ndarray:
        """(len(columns), rank) float32 unit series in the basis (0 for invalid voxels)."""
        rows = self.prepared.unit(columns)
        if self.inverse is not None:
            rows -= np.outer(self.c[columns], self.g.astype(np.float32))
            rows *= self.inverse[columns, None]
        return rows

    def dot_all(self, vector: np.ndarray) -> np.ndarray:
        """``w_i · vector`` for every voxel's unit series ``w_i`` (float64; vector in the basis)."""
        out = self.prepared.basis_correlations(vector).astype(np.float64)
        if self.inverse is not None:
            out -= self.c * float(self.g @ vector)
            out *= self.inverse
        return out

    def sum_of(self, columns: np.ndarray) -> np.ndarray:
        """Sum of the unit series of ``columns`` in the basis (float64): one voxel pass."""
        p = self.prepared
        weights = np.zeros(p.n_voxels, dtype=np.float32)
        weights[columns] = p.inverse_scale[columns]
        if self.inverse is not None:
            weights[columns] *= self.inverse[columns]
        change = _weighted_rows(p.voxels.data, weights)
        total = (p.basis.astype(np.float64) @ change
                 + float(p.voxels.origin.astype(np.float64) @ weights) * p.basis_drift)
        if self.inverse is not None:
            total -= self.g * float((self.c[columns] * self.inverse[columns]).sum(
                dtype=np.float64))
        return total


def _weighted_rows(data: np.ndarray, weights: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """Return ``data @ weights`` in float64: float32 products over voxel chunks, summed."""
    out = np.zeros(data.shape[0])
    for start in range(0, data.shape[1], chunk):
        out += data[:, start : start + chunk] @ weights[start : start + chunk]
    return out


def _row_means(data: np.ndarray) -> np.ndarray:
    """Mean of each row (volume) over the voxels, float64."""
    return _weighted_rows(data, np.full(data.shape[1], 1.0 / data.shape[1], dtype=np.float32))


def gbc_flops(n_voxels: int, rank: int, measure: str = "mean_z",
              n_targets: int | None = None, n_volumes: int | None = None) -> float:
    """Floating-point operations (2 per multiply-add) of the products a GBC map computes.

    Parameters
    ----------
    n_voxels : int
        Source voxels.
    rank : int
        Dimension of the unit series (:attr:`core.maps.prepare.PreparedSession.rank`).
    measure : str, default="mean_z"
    n_targets : int, optional
        Targets (default: all voxels, the symmetric case: each pair once).
    n_volumes : int, optional
        Volumes of the voxels held (``mean_r`` passes over them; default ``rank``).

    Returns
    -------
    float
    """
    if measure == "mean_r":
        return 4.0 * n_voxels * (n_volumes or rank)
    if n_targets is None or n_targets == n_voxels:
        return float(n_voxels) * (n_voxels + 1) * rank
    return 2.0 * n_voxels * n_targets * rank


def gbc_map(
    prepared: PreparedSession,
    *,
    measure: str = "mean_z",
    gsr: bool = False,
    stride: int = 1,
    threshold: float = DEGREE_THRESHOLD,
    block_size: int | None = None,
    progress: ProgressCallback | None = None,
) -> np.ndarray:
    """Voxel-wise GBC of one session.

    Parameters
    ----------
    prepared : PreparedSession
        From :func:`core.maps.prepare.prepare_patient`.
    measure : {"mean_z", "mean_r", "degree"}, default="mean_z"
        See the module notes.
    gsr : bool, default=False
        Regress the global brain signal first (see the module notes).
    stride : int, default=1
        Use as targets only voxels whose indices are multiples of ``stride``
        on every axis (2 → a 4 mm target lattice on 2 mm data, ~8× faster).
    threshold : float, default=0.25
        ``degree`` only: the correlation a pair must exceed.
    block_size : int, optional
        Source voxels per block of work (default :data:`SOURCE_BLOCK`).
    progress : callable, optional
        ``progress(fraction, message)`` with the fraction of the work done,
        every half second and at the end; may raise
        :class:`core.errors.AnalysisCancelled` (the work stops within a tile).

    Returns
    -------
    ndarray of float32, shape (n_voxels,)
        The measure for every voxel; 0 at constant voxels.
    """
    report = progress or _report_none
    if stride < 1:
        raise ValueError(f"expected a stride of at least 1, got {stride}")
    if measure not in GBC_MEASURES:
        raise ValueError(f"expected a GBC measure among {', '.join(GBC_MEASURES)}, "
                         f"got {measure!r}")
    units = _UnitSeries(prepared, gsr)
    sources = np.flatnonzero(units.valid)
    targets = _lattice(prepared, units.valid, stride)
    out = np.zeros(prepared.n_voxels, dtype=np.float32)
    if targets.size < 2:
        return out
    is_target = np.zeros(prepared.n_voxels, dtype=bool)
    is_target[targets] = True
    others = targets.size - is_target[sources].astype(np.float64)
    label = prepared.label or "session"
    if measure == "mean_r":
        total = units.dot_all(units.sum_of(targets))[sources] - is_target[sources]
        out[sources] = total / others
        report(1.0, f"Global connectivity of {label} (100%)")
        return out
    block = block_size or SOURCE_BLOCK
    if targets.size == sources.size:
        sums = symmetric_sums(units.rows, sources, prepared.n_voxels, measure, threshold,
                              block, report, label)
    else:
        sums = lattice_sums(units.rows, sources, targets, prepared.n_voxels, measure,
                            threshold, block, report, label)
    out[sources] = sums[sources] / others
    return out


def gbc_maps(
    pre: PreparedSession,
    post: PreparedSession,
    *,
    measure: str = "mean_z",
    gsr: bool = False,
    stride: int = 1,
    threshold: float = DEGREE_THRESHOLD,
    block_size: int | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GBC of both sessions and their difference.

    Parameters
    ----------
    pre, post : PreparedSession
        Prepared with the same brain mask.
    measure, gsr, stride, threshold, block_size
        See :func:`gbc_map`.
    progress : callable, optional
        ``progress(fraction, message)`` over both sessions; may raise
        :class:`core.errors.AnalysisCancelled`.

    Returns
    -------
    gbc_pre, gbc_post, delta : ndarray of float32, shape (n_voxels,)
        ``delta = gbc_post - gbc_pre``.
    """
    report = progress or _report_none
    maps = []
    for i, session in enumerate((pre, post)):

        def part(fraction: float, message: str, i: int = i) -> None:
            report(0.5 * (i + fraction), message)

        maps.append(gbc_map(session, measure=measure, gsr=gsr, stride=stride,
                            threshold=threshold, block_size=block_size, progress=part))
    return maps[0], maps[1], maps[1] - maps[0]
