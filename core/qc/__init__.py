"""Quality control of the two sessions: motion, DVARS, tSNR, carpet data and QC-FC.

Everything returns plain numbers and numpy arrays; drawing is the interface's job.
"""

from __future__ import annotations

from core.qc.carpet import CarpetData, carpet_data, voxel_groups
from core.qc.motion import MOTION_COLUMNS, framewise_displacement, motion_warning, read_motion
from core.qc.qcfc import QcFc, qc_fc, qc_table
from core.qc.session import (
    SessionQC,
    comparison_qc,
    held_session_qc,
    session_qc,
    streamed_session_qc,
)
from core.qc.voxel_measures import dvars, grey_matter_mask, temporal_snr

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
    "held_session_qc",
    "motion_warning",
    "qc_fc",
    "qc_table",
    "read_motion",
    "session_qc",
    "streamed_session_qc",
    "temporal_snr",
    "voxel_groups",
]
