"""Quality control of one session, and of both sessions of a comparison.

Everything returns plain numbers and numpy arrays; drawing is the interface's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from core.atlas.atlases import Atlas
from core.io.scan import BoldScan
from core.qc.carpet import CarpetData, _carpet_from, _carpet_plan, voxel_groups
from core.qc.motion import (
    FD_THRESHOLD_MM,
    STD_DVARS_THRESHOLD,
    framewise_displacement,
    read_motion,
)
from core.qc.voxel_measures import (
    _dvars_from,
    _robust_from,
    _robust_moments,
    _robust_subset,
    _tsnr_from,
    _volume_major_moments,
    _voxel_moments,
    grey_matter_mask,
)
from core.results import Comparison
from core.signal.session_voxels import SessionVoxels

__all__ = ["KeptVolumes", "SessionQC", "comparison_qc", "held_session_qc", "session_qc",
           "streamed_session_qc"]


@dataclass(eq=False)
class SessionQC:
    """Quality-control measures of one session.

    Attributes
    ----------
    label : str
    n_volumes, n_kept : int
        Volumes before and after scrubbing.
    scrubbed : ndarray of bool, shape (n_volumes,)
        True for volumes left out of the connectivity.
    fd : ndarray or None, shape (n_volumes,)
        Framewise displacement (mm), NaN at volume 0; None without motion data.
    dvars, std_dvars : ndarray or None, shape (n_volumes,)
        NaN at volume 0; None without voxel data.
    tsnr_map : ndarray of float32 or None, 3D
        tSNR on the data grid, 0 outside the brain mask.
    affine : ndarray or None
    mean_tsnr_gm : float
        Mean tSNR over grey-matter voxels (NaN without voxel data).
    carpet : CarpetData or None
    warnings : list of str
    """

    label: str
    n_volumes: int
    n_kept: int
    scrubbed: np.ndarray
    fd: np.ndarray | None = None
    dvars: np.ndarray | None = None
    std_dvars: np.ndarray | None = None
    tsnr_map: np.ndarray | None = None
    affine: np.ndarray | None = None
    mean_tsnr_gm: float = float("nan")
    carpet: CarpetData | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def mean_fd(self) -> float:
        """Mean FD over volumes 1..n-1 (NaN without motion data)."""
        return float(np.nanmean(self.fd)) if self.fd is not None else float("nan")

    @property
    def max_fd(self) -> float:
        """Largest FD (NaN without motion data)."""
        return float(np.nanmax(self.fd)) if self.fd is not None else float("nan")

    @property
    def n_fd_over_threshold(self) -> int:
        """Volumes with FD above nilearn's scrubbing threshold (0.5 mm), scrubbed or not."""
        return _count_over(self.fd, FD_THRESHOLD_MM)

    @property
    def n_std_dvars_over_threshold(self) -> int:
        """Volumes with std. DVARS above nilearn's scrubbing threshold (1.5), scrubbed or not."""
        return _count_over(self.std_dvars, STD_DVARS_THRESHOLD)

    @property
    def percent_scrubbed(self) -> float:
        """Percentage of volumes left out by scrubbing."""
        return 100.0 * (1 - self.n_kept / self.n_volumes) if self.n_volumes else float("nan")


def _count_over(values: np.ndarray | None, threshold: float) -> int:
    if values is None:
        return 0
    values = np.asarray(values, dtype=float)
    return int(np.count_nonzero(np.isfinite(values) & (values > threshold)))


class KeptVolumes(Protocol):
    """What QC needs to know about a session's scrubbing (a SessionConnectivity fits)."""

    label: str
    n_volumes: int
    sample_mask: np.ndarray


def session_qc(
    scan: BoldScan | None,
    session: KeptVolumes,
    mask: np.ndarray | None = None,
    atlas: Atlas | None = None,
    voxels: np.ndarray | None = None,
    max_carpet_rows: int = 1500,
    moments: dict[str, np.ndarray] | None = None,
) -> SessionQC:
    """Compute the quality-control measures of one session.

    Parameters
    ----------
    scan : BoldScan or None
        The session's image (None for ROI time-series tables: only the
        scrubbing measures are then available).
    session : KeptVolumes
        Provides ``label``, the kept volumes (``sample_mask``) and ``n_volumes``
        (a :class:`core.results.SessionConnectivity` or
        :class:`core.signal.denoise.CleanedSignals`).
    mask : ndarray of bool, optional
        Brain mask on the scan's grid (:func:`core.pipeline.analysis_mask`).
    atlas : Atlas, optional
        Groups the carpet rows by network.
    voxels : ndarray, shape (n_voxels, n_volumes), optional
        Already-read brain voxels (:func:`core.signal.extract.masked_voxels`); read when omitted.
    max_carpet_rows : int, default=1500
    moments : dict, optional
        ``mean``, ``sd``, ``ar1`` and ``diff_sq`` of ``voxels`` already
        accumulated while they were read
        (:meth:`core.signal.voxel_reducers.VoxelMoments.result`).

    Returns
    -------
    SessionQC
    """
    qc = _scrubbing_and_motion(scan, session)
    if scan is None:
        return qc
    if mask is None:
        from core.signal.extract import brain_mask_for

        mask = brain_mask_for(scan.img)
    if voxels is None:
        from core.signal.extract import masked_voxels

        voxels = masked_voxels(scan.img, mask)
    if moments is None:
        moments = _voxel_moments(voxels)
    else:
        moments = {**moments, **_robust_moments(voxels, moments["ar1"])}
    order = [n or "Unassigned" for n in dict.fromkeys(atlas.networks)] if atlas else None
    index, names, starts = _carpet_plan(voxel_groups(atlas, mask, scan.affine),
                                        max_carpet_rows, order)
    _fill_voxel_qc(qc, scan, mask, moments, _carpet_from(voxels[index], names, starts, index))
    return qc


def streamed_session_qc(scan: BoldScan, session: KeptVolumes, mask: np.ndarray,
                        atlas: Atlas | None = None, max_carpet_rows: int = 1500) -> SessionQC:
    """Compute :func:`session_qc` while reading the voxels again, without keeping them.

    Only the moments, the robust-SD subset and the carpet rows are retained
    (a few percent of the voxels), so it can run after the first view of a
    patient without holding both sessions' voxels in memory meanwhile.

    Parameters
    ----------
    scan : BoldScan
    session : KeptVolumes
    mask : ndarray of bool
    atlas : Atlas, optional
    max_carpet_rows : int, default=1500

    Returns
    -------
    SessionQC
    """
    from core.signal.extract import masked_voxels
    from core.signal.voxel_reducers import VoxelMoments, VoxelSampler

    qc = _scrubbing_and_motion(scan, session)
    n_vox = int(mask.sum())
    order = [n or "Unassigned" for n in dict.fromkeys(atlas.networks)] if atlas else None
    index, names, starts = _carpet_plan(voxel_groups(atlas, mask, scan.affine),
                                        max_carpet_rows, order)
    subset = _robust_subset(n_vox)
    moments = VoxelMoments(n_vox, scan.n_volumes)
    sampler = VoxelSampler(np.concatenate([index, subset]), scan.n_volumes)
    origin = np.empty(n_vox, dtype=np.float32)
    masked_voxels(scan.img, mask, (moments, sampler), keep=False, origin=origin)
    rows = sampler.samples.T  # (n_rows, n_volumes), changes from the first volume
    result = moments.result()
    result["mean"] = result["mean"] + origin
    result.update(_robust_from(rows[index.size :], result["ar1"][subset]))
    _fill_voxel_qc(qc, scan, mask, result, _carpet_from(rows[: index.size], names, starts, index))
    return qc


def held_session_qc(scan: BoldScan, session: KeptVolumes, voxels: SessionVoxels,
                    atlas: Atlas | None = None, max_carpet_rows: int = 1500) -> SessionQC:
    """Compute :func:`session_qc` from a session's voxels held in memory.

    The voxel moments do not depend on the analysis settings: they are computed
    once per session and kept with the voxels (``voxels.memo``); another atlas
    only picks other carpet rows.

    Parameters
    ----------
    scan : BoldScan
    session : KeptVolumes
    voxels : SessionVoxels
        The session's voxels (:func:`core.signal.session_voxels.read_session_voxels`).
    atlas : Atlas, optional
    max_carpet_rows : int, default=1500

    Returns
    -------
    SessionQC
    """
    qc = _scrubbing_and_motion(scan, session)
    mask = voxels.mask
    order = [n or "Unassigned" for n in dict.fromkeys(atlas.networks)] if atlas else None
    index, names, starts = _carpet_plan(voxel_groups(atlas, mask, scan.affine),
                                        max_carpet_rows, order)
    moments = voxels.remember("qc moments", lambda: _held_moments(voxels))
    _fill_voxel_qc(qc, scan, mask, moments,
                   _carpet_from(voxels.rows(index), names, starts, index))
    return qc


def _held_moments(voxels: SessionVoxels) -> dict[str, np.ndarray]:
    """Return the voxel moments and robust SD (:func:`core.qc.voxel_measures._voxel_moments`)."""
    moments = _volume_major_moments(voxels.data)  # changes from the first volume: add it
    moments["mean"] = moments["mean"] + voxels.origin
    return moments


def _scrubbing_and_motion(scan: BoldScan | None, session: KeptVolumes) -> SessionQC:
    scrubbed = np.ones(session.n_volumes, dtype=bool)
    scrubbed[np.asarray(session.sample_mask, dtype=int)] = False
    qc = SessionQC(session.label, session.n_volumes, int(np.size(session.sample_mask)), scrubbed)
    if scan is None:
        return qc
    if scan.confounds is not None:
        motion, fd_column = read_motion(scan.confounds)
        if motion is not None:
            qc.fd = framewise_displacement(motion)
        elif fd_column is not None:
            qc.fd = fd_column
    if qc.fd is None:
        qc.warnings.append(f"{session.label}: no motion parameters; FD is not available")
    return qc


def _fill_voxel_qc(qc: SessionQC, scan: BoldScan, mask: np.ndarray,
                   moments: dict[str, np.ndarray], carpet: CarpetData) -> None:
    qc.dvars, qc.std_dvars = _dvars_from(moments, int(mask.sum()))
    tsnr = _tsnr_from(moments)
    volume = np.zeros(mask.shape, dtype=np.float32, order="F")
    volume.reshape(-1, order="F")[np.flatnonzero(mask.ravel(order="F"))] = tsnr
    qc.tsnr_map, qc.affine = volume, scan.affine
    gm = grey_matter_mask(mask, scan.affine)
    qc.mean_tsnr_gm = float(tsnr[gm].mean()) if gm.any() else float("nan")
    qc.carpet = carpet


def comparison_qc(comparison: Comparison, inputs) -> tuple[SessionQC, SessionQC]:
    """QC of both sessions of a finished comparison (reads the voxels again).

    Parameters
    ----------
    comparison : Comparison
    inputs : PatientInputs
        The inputs the comparison was computed from.

    Returns
    -------
    (SessionQC, SessionQC)
        Pre and post.
    """
    if not inputs.is_image_based:
        return session_qc(None, comparison.pre), session_qc(None, comparison.post)
    from core.signal.masking import analysis_mask

    mask = analysis_mask(inputs)
    return (session_qc(inputs.pre_scan, comparison.pre, mask, comparison.atlas),
            session_qc(inputs.post_scan, comparison.post, mask, comparison.atlas))
