"""antspyx glue for the quick path: reproducible worker processes, images and transforms.

ANTs runs in worker processes, never in the caller's: antspyx holds Python's
global interpreter lock for the whole of a registration (a second or, for
SyN, a minute), which would freeze a window's event loop.  Each worker runs
ITK single-threaded with a fixed random seed, so two runs give identical
results whatever the number of workers (ITK's multi-threaded metrics sum in
a varying order).  Every ANTs file (one ``.mat`` per volume, warps) goes to
the run's private scratch folder, which the caller deletes.

Transforms are kept as 4 × 4 matrices in RAS millimetres that map a point of
the *fixed* image to the matching point of the *moving* image (ANTs'
convention, with ITK's LPS converted).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "RAS_LPS",
    "init_worker",
    "matrix_from_ants_file",
    "matrix_to_ants_file",
    "to_ants_image",
]

#: diag(-1, -1, 1, 1): converts between RAS (NIfTI, nibabel) and LPS (ITK) millimetres.
RAS_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])


def init_worker(seed: int, scratch: str) -> None:
    """Set up a worker process: one ITK thread, a fixed seed, temporary files in ``scratch``.

    Parameters
    ----------
    seed : int
        ANTs' random seed (sampling of the metric).
    scratch : str
        The run's private folder; ``TMPDIR`` points there too.
    """
    os.environ["ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS"] = "1"
    os.environ["ANTS_RANDOM_SEED"] = str(seed)
    os.environ["TMPDIR"] = scratch
    tempfile.tempdir = scratch
    import matplotlib

    matplotlib.use("Agg")  # the check images are drawn off screen
    import ants

    ants.config._random_seed = int(seed)  # antspyx passes it as --random-seed


def to_ants_image(data: np.ndarray, affine: np.ndarray) -> Any:
    """Make an ANTs image from a 3D array and its RAS voxel-to-mm affine.

    Parameters
    ----------
    data : ndarray, shape (x, y, z)
    affine : ndarray, shape (4, 4)

    Returns
    -------
    ants.ANTsImage
        float32, with ITK's origin, spacing and direction (LPS).
    """
    import ants

    lps = RAS_LPS @ np.asarray(affine, dtype=float)
    spacing = np.linalg.norm(lps[:3, :3], axis=0)
    return ants.from_numpy(np.asarray(data, dtype=np.float32), origin=lps[:3, 3].tolist(),
                           spacing=spacing.tolist(), direction=lps[:3, :3] / spacing)


def matrix_from_ants_file(path: str | Path) -> np.ndarray:
    """Read an ANTs linear transform file as a 4 × 4 RAS matrix (fixed point → moving point).

    Parameters
    ----------
    path : str or Path
        A ``*GenericAffine.mat`` written by ``antsRegistration``.

    Returns
    -------
    ndarray, shape (4, 4)
    """
    import ants

    transform = ants.read_transform(str(path))
    parameters = np.asarray(transform.parameters, dtype=float)
    centre = np.asarray(transform.fixed_parameters, dtype=float)
    linear = parameters[:9].reshape(3, 3)
    lps = np.eye(4)
    lps[:3, :3] = linear
    lps[:3, 3] = parameters[9:12] + centre - linear @ centre
    return RAS_LPS @ lps @ RAS_LPS


def matrix_to_ants_file(matrix: np.ndarray, path: str | Path) -> str:
    """Write a 4 × 4 RAS matrix (fixed point → moving point) as an ANTs transform file.

    Parameters
    ----------
    matrix : ndarray, shape (4, 4)
    path : str or Path
        Ending in ``.mat``.

    Returns
    -------
    str
        ``path``, for an ANTs transform list.
    """
    import ants

    lps = RAS_LPS @ np.asarray(matrix, dtype=float) @ RAS_LPS
    transform = ants.create_ants_transform(
        transform_type="AffineTransform", precision="float", dimension=3,
        matrix=lps[:3, :3], translation=lps[:3, 3])
    ants.write_transform(transform, str(path))
    return str(path)
