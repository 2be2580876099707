"""Quality control of the two sessions: motion, DVARS, tSNR, carpet data and QC-FC.

Everything returns plain numbers and numpy arrays; drawing is the interface's
job.  Voxel arrays stay float32 (n_voxels, n_volumes) and are reduced in
chunks, so no full float64 copy of a 4D image is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from core.atlases import Atlas
from core.errors import ConfoundsError
from core.results import Comparison
from core.scan import BoldScan

__all__ = [
    "MOTION_COLUMNS",
    "CarpetData",
    "QcFc",
    "SessionQC",
    "carpet_data",
    "comparison_qc",
    "dvars",
    "framewise_displacement",
    "grey_matter_mask",
    "motion_warning",
    "qc_fc",
    "qc_table",
    "read_motion",
    "session_qc",
    "temporal_snr",
    "voxel_groups",
]

MOTION_COLUMNS = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")
_CHUNK = 4096
_ROBUST_VOXELS = 20000


def read_motion(confounds: str | Path) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Read the six motion parameters and fMRIPrep's FD column from a confounds table.

    Parameters
    ----------
    confounds : str or Path
        fMRIPrep ``*_desc-confounds_timeseries.tsv``.

    Returns
    -------
    motion : ndarray, shape (n_volumes, 6), or None
        Translations (mm) and rotations (radians); None when a column is missing.
    fd_column : ndarray, shape (n_volumes,), or None
        ``framewise_displacement`` (NaN at volume 0) when present.
    """
    try:
        table = pd.read_csv(confounds, sep="\t", na_values=["n/a"])
    except (OSError, ValueError) as exc:
        raise ConfoundsError(f"expected a tab-separated confounds table ({exc})",
                             confounds) from exc
    motion = None
    if all(c in table.columns for c in MOTION_COLUMNS):
        motion = table[list(MOTION_COLUMNS)].to_numpy(dtype=np.float64)
    fd = table["framewise_displacement"].to_numpy(dtype=np.float64) \
        if "framewise_displacement" in table.columns else None
    return motion, fd


def framewise_displacement(motion: np.ndarray, radius_mm: float = 50.0) -> np.ndarray:
    """Framewise displacement of Power et al. (2012).

    ``FD_t = Σ|Δtrans| + radius × Σ|Δrot|`` with rotations in radians turned
    into arc length on a sphere of ``radius_mm``.

    Parameters
    ----------
    motion : ndarray, shape (n_volumes, 6)
        ``trans_x, trans_y, trans_z`` (mm), ``rot_x, rot_y, rot_z`` (radians).
    radius_mm : float, default=50
        Head radius.

    Returns
    -------
    ndarray, shape (n_volumes,)
        NaN at volume 0 (no previous volume), as in fMRIPrep.
    """
    motion = np.asarray(motion, dtype=np.float64)
    if motion.ndim != 2 or motion.shape[1] != 6:
        raise ValueError(f"expected motion parameters of shape (n, 6), got {motion.shape}")
    step = np.abs(np.diff(motion, axis=0))
    fd = step[:, :3].sum(axis=1) + radius_mm * step[:, 3:].sum(axis=1)
    return np.concatenate([[np.nan], fd])


def _voxel_moments(voxels: np.ndarray, max_robust: int = _ROBUST_VOXELS) -> dict[str, np.ndarray]:
    """Per-voxel mean, SD, lag-1 autocorrelation, per-volume squared steps, robust SD.

    The robust SD (IQR / 1.349) only enters the mean that standardises DVARS,
    so it is computed on an evenly spaced subset of at most ``max_robust``
    voxels: the quantile selection is the slowest step of QC, and the mean over
    20,000 voxels is within a fraction of a percent of the mean over all.
    """
    n_vox, t = voxels.shape
    out = {k: np.zeros(n_vox) for k in ("mean", "sd", "ar1")}
    diff_sq = np.zeros(max(t - 1, 0))
    for start in range(0, n_vox, _CHUNK):
        block = voxels[start : start + _CHUNK].astype(np.float64)
        sl = slice(start, start + block.shape[0])
        out["mean"][sl] = block.mean(axis=1)
        centred = block - out["mean"][sl, None]
        denom = (centred**2).sum(axis=1)
        out["sd"][sl] = np.sqrt(denom / max(t, 1))
        out["ar1"][sl] = np.where(denom > 0, (centred[:, 1:] * centred[:, :-1]).sum(axis=1)
                                  / np.where(denom > 0, denom, 1.0), 0.0)
        diff_sq += (np.diff(block, axis=1) ** 2).sum(axis=0)
    out["diff_sq"] = diff_sq
    out.update(_robust_moments(voxels, out["ar1"], max_robust))
    return out


def _robust_subset(n_vox: int, max_robust: int = _ROBUST_VOXELS) -> np.ndarray:
    return np.unique(np.linspace(0, n_vox - 1, min(n_vox, max_robust)).astype(int))


def _robust_moments(voxels: np.ndarray, ar1: np.ndarray, max_robust: int = _ROBUST_VOXELS
                    ) -> dict[str, np.ndarray]:
    """Robust SD (IQR / 1.349) and lag-1 autocorrelation of an even subset of voxels."""
    subset = _robust_subset(voxels.shape[0], max_robust)
    return _robust_from(voxels[subset], ar1[subset])


def _robust_from(rows: np.ndarray, ar1: np.ndarray) -> dict[str, np.ndarray]:
    q75, q25 = np.percentile(rows, [75, 25], axis=1)
    return {"robust_sd": (q75 - q25) / 1.349, "robust_ar1": ar1}


def dvars(voxels: np.ndarray, moments: dict[str, np.ndarray] | None = None
          ) -> tuple[np.ndarray, np.ndarray]:
    """DVARS (Power et al. 2012) and standardised DVARS (Nichols 2013, as fMRIPrep).

    Parameters
    ----------
    voxels : ndarray, shape (n_voxels, n_volumes)
        Brain voxels (float32 is fine; reduced in float64 chunks).
    moments : dict, optional
        Pre-computed voxel moments (internal reuse).

    Returns
    -------
    dvars : ndarray, shape (n_volumes,)
        RMS over voxels of the volume-to-volume change; NaN at volume 0.
    std_dvars : ndarray, shape (n_volumes,)
        DVARS divided by its expected value under temporal stationarity,
        ``mean_v(robust_sd_v × sqrt(2 (1 − ar1_v)))``; NaN at volume 0.
    """
    m = moments if moments is not None else _voxel_moments(voxels)
    return _dvars_from(m, voxels.shape[0])


def _dvars_from(m: dict[str, np.ndarray], n_voxels: int) -> tuple[np.ndarray, np.ndarray]:
    raw = np.sqrt(m["diff_sq"] / max(n_voxels, 1))
    ok = m["robust_sd"] > 0
    expected = float(np.mean(np.sqrt(2 * (1 - m["robust_ar1"][ok])) * m["robust_sd"][ok])) \
        if ok.any() else np.nan
    std = raw / expected if expected and np.isfinite(expected) else np.full_like(raw, np.nan)
    return np.concatenate([[np.nan], raw]), np.concatenate([[np.nan], std])


def temporal_snr(voxels: np.ndarray) -> np.ndarray:
    """Temporal SNR of each voxel: mean over time divided by SD over time (ddof 0).

    Parameters
    ----------
    voxels : ndarray, shape (n_voxels, n_volumes)

    Returns
    -------
    ndarray of float32, shape (n_voxels,)
        0 where the SD is 0.
    """
    m = _voxel_moments(voxels)
    return _tsnr_from(m)


def _tsnr_from(m: dict[str, np.ndarray]) -> np.ndarray:
    sd = m["sd"]
    return np.where(sd > 0, m["mean"] / np.where(sd > 0, sd, 1.0), 0.0).astype(np.float32)


def grey_matter_mask(mask: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Return nilearn's MNI152 grey-matter mask on the data grid, restricted to ``mask``.

    Parameters
    ----------
    mask : ndarray of bool, 3D
        Brain mask of the data grid.
    affine : ndarray, shape (4, 4)

    Returns
    -------
    ndarray of bool, shape (n_mask_voxels,)
        Grey-matter flag of each brain voxel, in ``masked_voxels`` order.
    """
    from core.templates import template_mask

    flat = template_mask("grey_matter", mask.shape, affine).ravel(order="F")
    return flat[np.flatnonzero(mask.ravel(order="F"))]


def voxel_groups(atlas: Atlas | None, mask: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Network label of every brain voxel, from the atlas ROI that contains it.

    Parameters
    ----------
    atlas : Atlas or None
    mask : ndarray of bool, 3D
    affine : ndarray, shape (4, 4)

    Returns
    -------
    ndarray of str, shape (n_mask_voxels,)
        The ROI's network ("Unassigned" when the atlas gives none), "Other"
        outside every ROI, or "Brain" for every voxel when no atlas is given.
    """
    n_vox = int(mask.sum())
    if atlas is None:
        return np.full(n_vox, "Brain", dtype=object)
    from core.extract import roi_weights

    info = roi_weights(atlas, mask, affine)
    member = info.matrix.tocoo()
    groups = np.full(n_vox, "Other", dtype=object)
    nets = np.asarray([n or "Unassigned" for n in atlas.networks], dtype=object)
    groups[member.col[::-1]] = nets[info.kept[member.row[::-1]]]
    return groups


@dataclass(eq=False)
class CarpetData:
    """Voxel × time data for a carpet plot, rows grouped.

    Attributes
    ----------
    data : ndarray of float32, shape (n_rows, n_volumes)
        Each row a voxel's time series, z-scored over time.
    groups : list of str
        Group names in row order.
    group_starts : ndarray of int
        First row of each group (``len(groups) + 1`` entries, last = n_rows).
    voxel_index : ndarray of int
        Index of each row's voxel among the brain voxels.
    """

    data: np.ndarray
    groups: list[str]
    group_starts: np.ndarray
    voxel_index: np.ndarray


def carpet_data(voxels: np.ndarray, groups: Sequence[str] | np.ndarray, max_rows: int = 1500,
                order: Sequence[str] | None = None) -> CarpetData:
    """Z-scored voxel time series grouped by label and evenly subsampled.

    Parameters
    ----------
    voxels : ndarray, shape (n_voxels, n_volumes)
    groups : sequence of str
        Label of every voxel; groups appear in order of first appearance,
        with "Other" last.
    max_rows : int, default=1500
        Rows kept in total, shared among groups in proportion to their size
        (at least one per group).
    order : sequence of str, optional
        Preferred group order (e.g. the atlas's networks); others follow.

    Returns
    -------
    CarpetData
    """
    index, names, starts = _carpet_plan(groups, max_rows, order)
    return _carpet_from(voxels[index], names, starts, index)


def _carpet_plan(groups: Sequence[str] | np.ndarray, max_rows: int,
                 order: Sequence[str] | None) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Rows (brain-voxel indices) of a carpet plot, its group names and group starts."""
    labels = np.asarray(groups, dtype=object)
    names = list(dict.fromkeys(labels.tolist()))
    rank = {g: i for i, g in enumerate(order or [])}
    names = sorted(names, key=lambda g: (g == "Other", rank.get(g, len(rank)), names.index(g)))
    n_vox = labels.size
    rows, starts = [], [0]
    for name in names:
        members = np.flatnonzero(labels == name)
        k = max(1, min(members.size, round(max_rows * members.size / max(n_vox, 1))))
        rows.append(members[np.linspace(0, members.size - 1, k).round().astype(int)])
        starts.append(starts[-1] + k)
    index = np.concatenate(rows) if rows else np.zeros(0, dtype=int)
    return index, names, np.asarray(starts)


def _carpet_from(rows: np.ndarray, names: list[str], starts: np.ndarray,
                 index: np.ndarray) -> CarpetData:
    data = np.asarray(rows, dtype=np.float32).copy()
    data -= data.mean(axis=1, keepdims=True)
    sd = data.std(axis=1, keepdims=True)
    data /= np.where(sd > 0, sd, 1.0)
    return CarpetData(data, names, starts, index)


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
    def percent_scrubbed(self) -> float:
        """Percentage of volumes left out by scrubbing."""
        return 100.0 * (1 - self.n_kept / self.n_volumes) if self.n_volumes else float("nan")


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
        :class:`core.denoise.CleanedSignals`).
    mask : ndarray of bool, optional
        Brain mask on the scan's grid (:func:`core.pipeline.analysis_mask`).
    atlas : Atlas, optional
        Groups the carpet rows by network.
    voxels : ndarray, shape (n_voxels, n_volumes), optional
        Already-read brain voxels (:func:`core.extract.masked_voxels`); read when omitted.
    max_carpet_rows : int, default=1500
    moments : dict, optional
        ``mean``, ``sd``, ``ar1`` and ``diff_sq`` of ``voxels`` already
        accumulated while they were read
        (:meth:`core.voxel_reducers.VoxelMoments.result`).

    Returns
    -------
    SessionQC
    """
    qc = _scrubbing_and_motion(scan, session)
    if scan is None:
        return qc
    if mask is None:
        from core.extract import brain_mask_for

        mask = brain_mask_for(scan.img)
    if voxels is None:
        from core.extract import masked_voxels

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
    from core.extract import masked_voxels
    from core.voxel_reducers import VoxelMoments, VoxelSampler

    qc = _scrubbing_and_motion(scan, session)
    n_vox = int(mask.sum())
    order = [n or "Unassigned" for n in dict.fromkeys(atlas.networks)] if atlas else None
    index, names, starts = _carpet_plan(voxel_groups(atlas, mask, scan.affine),
                                        max_carpet_rows, order)
    subset = _robust_subset(n_vox)
    moments = VoxelMoments(n_vox, scan.n_volumes)
    sampler = VoxelSampler(np.concatenate([index, subset]), scan.n_volumes)
    masked_voxels(scan.img, mask, (moments, sampler), keep=False)
    rows = sampler.samples.T  # (n_rows, n_volumes)
    result = moments.result()
    result.update(_robust_from(rows[index.size :], result["ar1"][subset]))
    _fill_voxel_qc(qc, scan, mask, result, _carpet_from(rows[: index.size], names, starts, index))
    return qc


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


def motion_warning(qc_pre: SessionQC, qc_post: SessionQC, fd_threshold: float = 0.1,
                   scrub_threshold: float = 10.0) -> str | None:
    """Return a warning when the sessions differ in motion, else None.

    Parameters
    ----------
    qc_pre, qc_post : SessionQC
    fd_threshold : float, default=0.1
        Largest acceptable difference of mean FD in mm.
    scrub_threshold : float, default=10
        Largest acceptable difference of the percentage of scrubbed volumes.

    Returns
    -------
    str or None
    """
    reasons = []
    fd_diff = qc_post.mean_fd - qc_pre.mean_fd
    if np.isfinite(fd_diff) and abs(fd_diff) > fd_threshold:
        reasons.append(f"mean FD {qc_pre.mean_fd:.2f} mm ({qc_pre.label}) vs "
                       f"{qc_post.mean_fd:.2f} mm ({qc_post.label})")
    scrub_diff = qc_post.percent_scrubbed - qc_pre.percent_scrubbed
    if np.isfinite(scrub_diff) and abs(scrub_diff) > scrub_threshold:
        reasons.append(f"{qc_pre.percent_scrubbed:.0f}% vs {qc_post.percent_scrubbed:.0f}% "
                       "of volumes scrubbed")
    if not reasons:
        return None
    return ("the sessions differ in head motion (" + "; ".join(reasons) + "): motion "
            "differences alone change connectivity, interpret changes with caution")


@dataclass(frozen=True)
class QcFc:
    """QC-FC check of one comparison.

    Attributes
    ----------
    distance_r, abs_distance_r : float
        Pearson correlation over edges of Δz (and of |Δz|) with the Euclidean
        distance between ROI centres; NaN without coordinates.
    fd_difference : float
        Mean FD post − pre (mm).
    note : str
    """

    distance_r: float
    abs_distance_r: float
    fd_difference: float
    note: str


def qc_fc(comparison: Comparison, qc_pre: SessionQC, qc_post: SessionQC) -> QcFc:
    """Relate edge Δz to inter-ROI distance and report the FD difference.

    Motion inflates short-range relative to long-range connectivity (Power et
    al. 2012), so a clear distance dependence of Δz together with a motion
    difference suggests that part of the change is motion.

    Parameters
    ----------
    comparison : Comparison
    qc_pre, qc_post : SessionQC

    Returns
    -------
    QcFc
    """
    fd_diff = qc_post.mean_fd - qc_pre.mean_fd
    coords = comparison.rois.coords_mm
    if coords is None or len(comparison.rois) < 3:
        return QcFc(np.nan, np.nan, fd_diff, "ROI coordinates unknown: no distance check")
    ii, jj = np.triu_indices(len(comparison.rois), k=1)
    distance = np.linalg.norm(np.asarray(coords)[ii] - np.asarray(coords)[jj], axis=1)
    delta = comparison.delta_z[ii, jj]
    r = float(np.corrcoef(delta, distance)[0, 1])
    r_abs = float(np.corrcoef(np.abs(delta), distance)[0, 1])
    note = (f"Δz vs distance r = {r:+.2f}; mean FD post − pre = {fd_diff:+.2f} mm. "
            "A negative r with more motion post (or positive r with less) suggests "
            "motion-driven change.")
    return QcFc(r, r_abs, fd_diff, note)


def qc_table(qc_pre: SessionQC, qc_post: SessionQC, qcfc: QcFc | None = None) -> pd.DataFrame:
    """QC measures of both sessions for ``qc.tsv``.

    Parameters
    ----------
    qc_pre, qc_post : SessionQC
    qcfc : QcFc, optional
        Adds rows ``qcfc_delta_z_distance_r`` and ``qcfc_abs_delta_z_distance_r``
        (value in the ``difference`` column, pre/post empty).

    Returns
    -------
    DataFrame
        Columns ``measure, pre, post, difference`` (post − pre).
    """
    def stats(q: SessionQC) -> dict[str, float]:
        def mean(a: np.ndarray | None) -> float:
            return float(np.nanmean(a)) if a is not None else float("nan")
        return {"n_volumes": q.n_volumes, "n_kept": q.n_kept,
                "percent_scrubbed": q.percent_scrubbed, "mean_fd_mm": q.mean_fd,
                "max_fd_mm": q.max_fd, "mean_dvars": mean(q.dvars),
                "mean_std_dvars": mean(q.std_dvars), "mean_tsnr_gm": q.mean_tsnr_gm}

    pre, post = stats(qc_pre), stats(qc_post)
    table = pd.DataFrame({"measure": list(pre), "pre": list(pre.values()),
                          "post": list(post.values())})
    table["difference"] = table["post"] - table["pre"]
    if qcfc is not None:
        extra = pd.DataFrame({"measure": ["qcfc_delta_z_distance_r",
                                          "qcfc_abs_delta_z_distance_r"],
                              "pre": np.nan, "post": np.nan,
                              "difference": [qcfc.distance_r, qcfc.abs_distance_r]})
        table = pd.concat([table, extra], ignore_index=True)
    return table


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
    from core.pipeline import analysis_mask

    mask = analysis_mask(inputs)
    return (session_qc(inputs.pre_scan, comparison.pre, mask, comparison.atlas),
            session_qc(inputs.post_scan, comparison.post, mask, comparison.atlas))
