"""Head motion: realignment parameters, framewise displacement (Power 2012), motion warning."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.io.table_cells import read_confounds_table

if TYPE_CHECKING:  # annotations only: session.py imports this module
    from core.qc.session import SessionQC

__all__ = ["FD_THRESHOLD_MM", "MOTION_COLUMNS", "SCRUBBING_STRATEGIES", "STD_DVARS_THRESHOLD",
           "framewise_displacement", "motion_note", "motion_warning", "read_motion"]


MOTION_COLUMNS = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")
#: High-motion thresholds of nilearn's ``scrubbing`` preset (``load_confounds_strategy``):
#: FD in mm and standardised DVARS.  Volumes over them are counted whatever the strategy.
FD_THRESHOLD_MM = 0.5
STD_DVARS_THRESHOLD = 1.5
#: The denoising strategies that leave high-motion volumes out (scrub them).
SCRUBBING_STRATEGIES = ("scrubbing",)


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
    table = read_confounds_table(confounds)
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
    else:  # high-motion volumes count also when the strategy keeps them
        share = [100.0 * q.n_fd_over_threshold / q.n_volumes if q.n_volumes else np.nan
                 for q in (qc_pre, qc_post)]
        if np.isfinite(share[1] - share[0]) and abs(share[1] - share[0]) > scrub_threshold:
            reasons.append(f"{share[0]:.0f}% vs {share[1]:.0f}% of volumes with FD > "
                           f"{FD_THRESHOLD_MM:g} mm")
    if not reasons:
        return None
    return ("the sessions differ in head motion (" + "; ".join(reasons) + "): motion "
            "differences alone change connectivity, interpret changes with caution")


def motion_note(qc_pre: SessionQC, qc_post: SessionQC, strategy: str) -> str:
    """One sentence: high-motion volumes per session and whether the strategy scrubbed them.

    Parameters
    ----------
    qc_pre, qc_post : SessionQC
    strategy : str
        The denoising strategy used (resolved, e.g. ``"simple"``).

    Returns
    -------
    str
        Empty without motion data.
    """
    if qc_pre.fd is None and qc_post.fd is None:
        return ""
    counts = (f"{qc_pre.n_fd_over_threshold} of {qc_pre.n_volumes} volumes ({qc_pre.label}) "
              f"and {qc_post.n_fd_over_threshold} of {qc_post.n_volumes} ({qc_post.label}) "
              f"have FD > {FD_THRESHOLD_MM:g} mm")
    if strategy in SCRUBBING_STRATEGIES:
        return (f"{counts}; the '{strategy}' strategy left out {qc_pre.n_volumes - qc_pre.n_kept}"
                f" and {qc_post.n_volumes - qc_post.n_kept} volumes (FD > {FD_THRESHOLD_MM:g} mm"
                f" or std. DVARS > {STD_DVARS_THRESHOLD:g}, with their neighbours).")
    return (f"{counts}; they were kept: the '{strategy}' strategy does not scrub (only "
            f"'{SCRUBBING_STRATEGIES[0]}' leaves high-motion volumes out).")
