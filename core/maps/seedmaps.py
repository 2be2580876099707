"""Seed-to-voxel connectivity maps, computed live from prepared voxel data.

Each session is prepared once (in a worker thread, :mod:`core.maps.prepare`): the
brain voxels are denoised exactly like the ROI path
(:func:`core.signal.denoise.clean_signals`, i.e. nilearn ``signal.clean`` with the
session's confounds, scrubbing sample mask, detrending and band-pass), centred
and scaled to unit norm over the kept volumes — as one linear map applied to the
voxels held in memory, never a second copy.  A seed map is then one float32
matrix-vector product with those voxels: ``r_i = u_i · s`` where ``s`` is the
unit-norm seed signal (:meth:`core.maps.prepare.PreparedSession.correlations`).

The seed signal is the mean denoised signal of the sphere's voxels (mask
voxels within the radius of the point, plus the voxel nearest to the point),
as nilearn's ``NiftiSpheresMasker`` computes it. Because cleaning is linear,
the mean of the cleaned voxels equals the cleaned sphere mean (tested against
nilearn within 1e-5).

Typical use from a GUI worker thread::

    pre, post = prepare_patient(inputs, settings, progress)
    z_pre, z_post, delta = seed_maps(pre, post, (6, 16, -10), radius_mm=6.0)
    volume = to_volume(delta, pre.mask)          # NaN outside the brain
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from core.errors import InputError
from core.maps.prepare import PreparedSession
from core.signal.connectivity import R_MAX

if TYPE_CHECKING:
    pass
log = logging.getLogger(__name__)

__all__ = ["seed_map", "seed_maps", "to_volume"]


def _fisher(r: np.ndarray) -> np.ndarray:
    np.clip(r, -R_MAX, R_MAX, out=r)
    return np.arctanh(r, out=r)


def seed_map(prepared: PreparedSession, xyz_mm: Sequence[float],
             radius_mm: float = 6.0) -> np.ndarray:
    """Fisher z map of a seed sphere's mean signal with every brain voxel.

    Parameters
    ----------
    prepared : PreparedSession
    xyz_mm : sequence of 3 float
        Seed centre in MNI mm.
    radius_mm : float, default=6.0

    Returns
    -------
    ndarray of float32, shape (n_voxels,)
        ``arctanh(r)`` (r clipped to ±:data:`R_MAX`); 0 at constant voxels.

    Raises
    ------
    InputError
        When the sphere holds no brain voxel or no varying signal.
    """
    seed = prepared.seed_vector(xyz_mm, radius_mm)
    return _fisher(prepared.correlations(seed))


def seed_maps(pre: PreparedSession, post: PreparedSession, xyz_mm: Sequence[float],
              radius_mm: float = 6.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seed maps of both sessions and their difference.

    Parameters
    ----------
    pre, post : PreparedSession
        Prepared with the same mask.
    xyz_mm : sequence of 3 float
    radius_mm : float, default=6.0

    Returns
    -------
    z_pre, z_post, delta : ndarray of float32, shape (n_voxels,)
        ``delta = z_post - z_pre``.
    """
    if pre.n_voxels != post.n_voxels:
        raise InputError("expected pre and post prepared with the same brain mask, found "
                         f"{pre.n_voxels} and {post.n_voxels} voxels")
    z_pre = seed_map(pre, xyz_mm, radius_mm)
    z_post = seed_map(post, xyz_mm, radius_mm)
    return z_pre, z_post, z_post - z_pre


def to_volume(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Put a brain-voxel vector back on the 3D grid.

    Parameters
    ----------
    values : ndarray, shape (n_voxels,)
        In the mask's Fortran voxel order.
    mask : ndarray of bool, 3D

    Returns
    -------
    ndarray of float32
        NaN outside the mask.
    """
    values = np.asarray(values)
    n_voxels = int(np.count_nonzero(mask))
    if values.shape != (n_voxels,):
        raise InputError(f"expected {n_voxels} values (one per mask voxel), "
                         f"found shape {values.shape}")
    volume = np.full(mask.size, np.nan, dtype=np.float32)
    volume[np.flatnonzero(np.asarray(mask).ravel(order="F"))] = values
    return volume.reshape(mask.shape, order="F")
