"""Rigid head-motion estimation (antspyx) and fMRIPrep-named motion confounds.

Each volume is registered rigidly to one reference volume of the same run
(mean squares: same contrast), starting from the identity so that every
estimate is independent of the others and of how volumes are split between
worker processes.  The estimates become fMRIPrep's columns (``trans_x`` …
in mm, ``rot_x`` … in radians, ``framewise_displacement`` after Power et
al. 2012), so the existing confounds reader, QC and denoising use them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial.transform import Rotation

from core.preprocess.quick_ants import matrix_from_ants_file, to_ants_image
from core.qc.motion import MOTION_COLUMNS, framewise_displacement

__all__ = ["MOTION_SETTINGS", "choose_reference", "estimate_motion", "motion_table"]

#: antspyx settings of the per-volume rigid registration (see the module docstring).
MOTION_SETTINGS = {
    "type_of_transform": "Rigid", "aff_metric": "meansquares", "aff_iterations": (50, 20),
    "aff_shrink_factors": (2, 1), "aff_smoothing_sigmas": (1, 0),
    "aff_random_sampling_rate": 0.1,
}


def choose_reference(volumes: np.ndarray, max_volumes: int = 60) -> int:
    """Pick the volume closest to the run's voxel-wise median as the motion reference.

    Parameters
    ----------
    volumes : ndarray, shape (n_volumes, ...)
        The run, volume first.
    max_volumes : int, default=60
        The median is taken over at most this many evenly spaced volumes.

    Returns
    -------
    int
        Index of the reference volume (least mean absolute difference).
    """
    n = volumes.shape[0]
    picks = np.unique(np.linspace(0, n - 1, min(n, max_volumes)).astype(int))
    median = np.median(np.asarray(volumes[picks], dtype=np.float32), axis=0)
    distance = [float(np.mean(np.abs(np.asarray(volumes[t], dtype=np.float32) - median)))
                for t in range(n)]
    return int(np.argmin(distance))


def estimate_motion(bold_npy: str, affine: np.ndarray, reference: int, indices: list[int],
                    scratch: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Register volumes rigidly to the reference (run in a worker process).

    Parameters
    ----------
    bold_npy : str
        The run saved as ``(n_volumes, z, y, x)`` float32 (``.npy``, memory-mapped).
    affine : ndarray, shape (4, 4)
        Voxel-to-scanner-mm affine of the run.
    reference : int
        Index of the reference volume.
    indices : list of int
        Volumes to register.
    scratch : str
        Private folder for ANTs' files; each is deleted once read.
    name : str
        Prefix of this run's files in ``scratch`` (runs are processed side by side).

    Returns
    -------
    matrices : ndarray, shape (len(indices), 4, 4)
        RAS transforms from reference points to the same points in each volume.
    warped_sum : ndarray, shape (x, y, z)
        Sum of the volumes moved onto the reference (for the run's mean).
    """
    import ants

    run = np.load(bold_npy, mmap_mode="r")
    fixed = to_ants_image(run[reference].T, affine)
    matrices = np.empty((len(indices), 4, 4))
    warped_sum = np.zeros(run.shape[1:][::-1], dtype=np.float64)
    for k, t in enumerate(indices):
        if t == reference:
            matrices[k] = np.eye(4)
            warped_sum += run[t].T
            continue
        prefix = str(Path(scratch) / f"{name}_motion_{t:05d}_")
        result = ants.registration(fixed, to_ants_image(run[t].T, affine), outprefix=prefix,
                                   initial_transform="Identity", **MOTION_SETTINGS)
        matrices[k] = matrix_from_ants_file(result["fwdtransforms"][0])
        warped_sum += result["warpedmovout"].numpy()
        for leftover in Path(scratch).glob(Path(prefix).name + "*"):
            leftover.unlink()
    return matrices, warped_sum


def motion_table(matrices: np.ndarray, centre_mm: np.ndarray) -> pd.DataFrame:
    """Six rigid parameters and framewise displacement, in fMRIPrep's column names.

    Parameters
    ----------
    matrices : ndarray, shape (n_volumes, 4, 4)
        RAS transforms from the reference to each volume.
    centre_mm : ndarray, shape (3,)
        Centre of rotation (the reference's field-of-view centre, scanner mm):
        translations are its displacement.

    Returns
    -------
    DataFrame
        ``trans_x, trans_y, trans_z`` (mm), ``rot_x, rot_y, rot_z`` (radians,
        extrinsic x-y-z Euler angles) and ``framewise_displacement`` (mm, NaN
        at volume 0; Power et al. 2012, 50 mm head radius).
    """
    centre = np.asarray(centre_mm, dtype=float)
    rotation = matrices[:, :3, :3]
    shift = np.einsum("nij,j->ni", rotation, centre) + matrices[:, :3, 3] - centre
    angles = Rotation.from_matrix(rotation).as_euler("xyz")
    values = np.hstack([shift, angles])
    table = pd.DataFrame(values, columns=list(MOTION_COLUMNS))
    table["framewise_displacement"] = framewise_displacement(values)
    return table
