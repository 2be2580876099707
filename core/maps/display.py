"""Brain maps for display: ROI values painted on the MNI template grid, region look-up.

The display grid is nilearn's MNI152 2009 template at 2 mm (package data, no
download).  Everything here is plain numpy/nibabel; nothing imports Qt.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np

from core.atlas.atlases import Atlas

if TYPE_CHECKING:
    import nibabel as nib

__all__ = ["display_template", "mm_to_voxel", "region_at", "roi_index_volume", "roi_map"]


@functools.lru_cache(maxsize=1)
def display_template() -> nib.Nifti1Image:
    """Return the MNI152 template that defines the display grid.

    Returns
    -------
    nibabel.Nifti1Image
        nilearn's ``load_mni152_template(resolution=2)``: a 3D float image with
        a diagonal, positive-axis affine (x to the right, y anterior, z up).
    """
    import nibabel as nib

    from core.atlas.templates import display_template_data

    data, affine = display_template_data()  # kept on disk: no nilearn import on later starts
    return nib.Nifti1Image(data, affine)


def mm_to_voxel(affine: np.ndarray, xyz_mm: Any) -> np.ndarray:
    """Convert MNI millimetres to the nearest voxel index of a grid.

    Parameters
    ----------
    affine : ndarray, shape (4, 4)
        Voxel-to-world affine of the grid.
    xyz_mm : array-like, shape (3,) or (n, 3)
        Coordinates in mm.

    Returns
    -------
    ndarray of int
        Voxel indices (may be outside the grid).
    """
    xyz = np.atleast_2d(np.asarray(xyz_mm, dtype=float))
    ijk = (np.linalg.inv(affine) @ np.c_[xyz, np.ones(len(xyz))].T)[:3].T
    out = np.rint(ijk).astype(int)
    return out[0] if np.ndim(xyz_mm) == 1 else out


@functools.lru_cache(maxsize=8)
def roi_index_volume(atlas: Atlas) -> np.ndarray:
    """Return, on the display grid, the atlas ROI index of every voxel.

    Label images are resampled (nearest neighbour) to the display grid; sphere
    atlases are painted as balls of their radius (a later ROI wins where
    spheres overlap).  The result is cached per atlas.

    Parameters
    ----------
    atlas : Atlas

    Returns
    -------
    ndarray of int32, shape of the display grid
        Index into ``atlas.roi_names``, or -1 outside every ROI.
    """
    template = display_template()
    shape, affine = template.shape[:3], template.affine
    if atlas.kind == "labels" and atlas.labels_img is not None:
        from nilearn.image import resample_to_img

        img = resample_to_img(atlas.labels_img, template, interpolation="nearest",
                              force_resample=True, copy_header=True)
        labels = np.asarray(img.dataobj).astype(np.int64)
        lut = np.full(int(labels.max()) + 1, -1, dtype=np.int32)
        for index, value in enumerate(atlas.label_values):
            if value <= labels.max():
                lut[value] = index
        return lut[np.clip(labels, 0, None)]
    volume = np.full(shape, -1, dtype=np.int32)
    radii = atlas.radius_mm if atlas.radius_mm is not None else np.full(atlas.n_rois, 5.0)
    step = np.abs(np.diag(affine)[:3])
    for index, (centre, radius) in enumerate(zip(atlas.coords_mm, radii, strict=True)):
        c = mm_to_voxel(affine, centre)
        half = np.ceil(radius / step).astype(int)
        lo = np.clip(c - half, 0, shape)
        hi = np.clip(c + half + 1, 0, shape)
        if np.any(hi <= lo):
            continue
        grid = np.meshgrid(*[np.arange(a, b) for a, b in zip(lo, hi, strict=True)],
                           indexing="ij")
        ijk = np.stack([g.ravel() for g in grid], axis=1)
        mm = ijk @ affine[:3, :3].T + affine[:3, 3]
        inside = np.sum((mm - centre) ** 2, axis=1) <= radius**2
        sel = ijk[inside]
        volume[sel[:, 0], sel[:, 1], sel[:, 2]] = index
    return volume


def roi_map(comparison: Any, values: Any) -> np.ndarray:
    """Paint one value per ROI of a comparison on the display grid.

    Parameters
    ----------
    comparison : Comparison
        Needs ``comparison.atlas`` and ``comparison.rois.atlas_index``.
    values : array-like, shape (n_rois,)
        One value per ROI, in the comparison's ROI order.

    Returns
    -------
    ndarray of float32, shape of the display grid
        The ROI's value inside each ROI, NaN elsewhere.

    Raises
    ------
    ValueError
        When the comparison has no atlas (pre-extracted time series) or the
        number of values does not match the ROIs.
    """
    atlas = comparison.atlas
    if atlas is None or comparison.rois.atlas_index is None:
        raise ValueError("expected a comparison made with an atlas, got one without "
                         "(pre-extracted time series cannot be shown on the brain)")
    values = np.asarray(values, dtype=np.float32).ravel()
    index = np.asarray(comparison.rois.atlas_index, dtype=int)
    if values.size != index.size:
        raise ValueError(f"expected {index.size} values (one per ROI), got {values.size}")
    lut = np.full(atlas.n_rois + 1, np.nan, dtype=np.float32)  # last entry: outside (-1)
    lut[index] = values
    return lut[roi_index_volume(atlas)]


def region_at(atlas: Atlas, xyz_mm: Any) -> tuple[str, str] | None:
    """Return the atlas region at an MNI coordinate.

    Parameters
    ----------
    atlas : Atlas
    xyz_mm : array-like, shape (3,)
        MNI coordinate in mm.

    Returns
    -------
    (name, network) or None
        The ROI whose label covers the point (label atlases) or whose sphere
        contains it (nearest centre, sphere atlases); None outside every ROI.
    """
    xyz = np.asarray(xyz_mm, dtype=float).ravel()
    if xyz.size != 3:
        raise ValueError(f"expected an x, y, z coordinate, got {xyz.size} values")
    if atlas.kind == "labels" and atlas.labels_img is not None:
        img = atlas.labels_img
        ijk = mm_to_voxel(img.affine, xyz)
        if np.any(ijk < 0) or np.any(ijk >= np.asarray(img.shape[:3])):
            return None
        value = int(np.asarray(img.dataobj[tuple(ijk)]))
        try:
            index = atlas.label_values.index(value)
        except ValueError:
            return None
        return atlas.roi_names[index], atlas.networks[index]
    if atlas.n_rois == 0:
        return None
    distance = np.linalg.norm(np.asarray(atlas.coords_mm) - xyz, axis=1)
    index = int(np.argmin(distance))
    radius = atlas.radius_mm[index] if atlas.radius_mm is not None else 5.0
    if distance[index] > radius:
        return None
    return atlas.roi_names[index], atlas.networks[index]
