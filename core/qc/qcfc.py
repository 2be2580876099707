"""QC-FC: does the connectivity change follow motion? And the QC table of both sessions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.qc.session import SessionQC
from core.results import Comparison

__all__ = ["QcFc", "qc_fc", "qc_table"]


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
                "percent_scrubbed": q.percent_scrubbed,
                "n_fd_over_threshold": q.n_fd_over_threshold if q.fd is not None else np.nan,
                "n_std_dvars_over_threshold": (q.n_std_dvars_over_threshold
                                               if q.std_dvars is not None else np.nan),
                "mean_fd_mm": q.mean_fd,
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
