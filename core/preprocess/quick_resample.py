"""One resampling of every volume into the template's grid, transforms composed (antspyx).

Each volume is interpolated once: the map from a template point to the point
of that volume (template → T1w warp and affine when a T1w was used, then one
affine per volume: EPI registration composed with the volume's motion) goes
to ``ants.apply_transforms`` as one list, which composes it before sampling.
Runs in worker processes; results go straight into a memory-mapped array.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.preprocess.quick_ants import matrix_to_ants_file, to_ants_image
from core.preprocess.quick_registration import template_images

__all__ = ["field_of_view", "resample_volumes"]


def _template_grid(resolution_mm: int):
    template = template_images(resolution_mm)[0]
    return to_ants_image(np.zeros(template.shape, dtype=np.float32), template.affine)


def resample_volumes(bold_npy: str, affine: np.ndarray, out_npy: str, indices: list[int],
                     link: list[str], matrices: np.ndarray, resolution_mm: int,
                     scratch: str, name: str) -> None:
    """Resample volumes of a run into the template grid (run in a worker).

    Parameters
    ----------
    bold_npy : str
        The run, ``(n_volumes, z, y, x)`` float32 ``.npy``.
    affine : ndarray, shape (4, 4)
        Its voxel-to-scanner-mm affine.
    out_npy : str
        Output ``.npy`` of shape ``(n_volumes, z, y, x)`` in the template grid,
        opened read-write; rows ``indices`` are filled.
    indices : list of int
    link : list of str
        ANTs transform files applied first (template → T1w), or empty.
    matrices : ndarray, shape (len(indices), 4, 4)
        Per volume, the RAS map from the end of ``link`` (the template, or the
        T1w) to that volume.
    resolution_mm : int
    scratch, name : str
        Private folder and file prefix for the per-volume transform files,
        each deleted after use.
    """
    import ants

    run = np.load(bold_npy, mmap_mode="r")
    out = np.load(out_npy, mmap_mode="r+")
    grid = _template_grid(resolution_mm)
    for k, t in enumerate(indices):
        path = Path(scratch) / f"{name}_volume_{t:05d}.mat"
        transforms = [*link, matrix_to_ants_file(matrices[k], path)]
        moved = ants.apply_transforms(grid, to_ants_image(run[t].T, affine), transforms,
                                      interpolator="linear")
        out[t] = moved.numpy().T
        path.unlink()
    out.flush()


def field_of_view(shape: tuple[int, int, int], affine: np.ndarray, link: list[str],
                  matrix: np.ndarray, resolution_mm: int, scratch: str, name: str
                  ) -> np.ndarray:
    """Template voxels that the run's reference volume covers entirely (run in a worker).

    Parameters
    ----------
    shape : tuple of int
        Spatial shape of the run.
    affine : ndarray, shape (4, 4)
    link, matrix : see :func:`resample_volumes` (``matrix`` for the reference volume)
    resolution_mm : int
    scratch, name : str

    Returns
    -------
    ndarray of bool, shape of the template grid
    """
    import ants

    grid = _template_grid(resolution_mm)
    path = Path(scratch) / f"{name}_fov.mat"
    transforms = [*link, matrix_to_ants_file(matrix, path)]
    ones = to_ants_image(np.ones(shape, dtype=np.float32), affine)
    covered = ants.apply_transforms(grid, ones, transforms, interpolator="linear").numpy()
    path.unlink()
    return covered > 0.999
