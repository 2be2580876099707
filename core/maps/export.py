"""Export of voxel maps (seed maps, GBC, Δ) as NIfTI images in MNI space.

Files are written atomically: to a temporary file in the destination folder,
then renamed over the target, so a crash never leaves a half-written map.
Refusing to write into input folders is the caller's job.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.errors import InputError
from core.io.files import atomic_path

__all__ = ["map_to_nifti", "save_map"]

_MNI_XFORM_CODE = 4  # NIfTI "MNI_152" space


def map_to_nifti(values: np.ndarray, affine: np.ndarray, mask: np.ndarray | None = None,
                 description: str = ""):
    """Build a float32 NIfTI image of a map on the data grid.

    Parameters
    ----------
    values : ndarray
        Either (n_voxels,) in the mask's Fortran voxel order (``mask`` needed)
        or a 3D volume on the grid.
    affine : ndarray, shape (4, 4)
        Voxel-to-MNI-mm affine.
    mask : ndarray of bool, optional
        Brain mask for 1D values; voxels outside are NaN.
    description : str, default=""
        Stored in the header's ``descrip`` field (at most 79 characters).

    Returns
    -------
    nibabel.Nifti1Image
    """
    import nibabel as nib

    from core.maps.seedmaps import to_volume

    values = np.asarray(values)
    if values.ndim == 1:
        if mask is None:
            raise InputError("expected a brain mask to place a voxel vector on the grid")
        volume = to_volume(values, mask)
    elif values.ndim == 3:
        volume = values.astype(np.float32)
    else:
        raise InputError(f"expected a voxel vector or a 3D volume, found shape {values.shape}")
    img = nib.Nifti1Image(volume, np.asarray(affine, dtype=float))
    img.header.set_xyzt_units("mm")
    img.set_qform(img.affine, code=_MNI_XFORM_CODE)
    img.set_sform(img.affine, code=_MNI_XFORM_CODE)
    img.header["descrip"] = description.encode("ascii", "replace")[:79]
    return img


def save_map(path: str | Path, values: np.ndarray, affine: np.ndarray,
             mask: np.ndarray | None = None, description: str = "") -> Path:
    """Save a map as ``.nii`` or ``.nii.gz`` atomically.

    Parameters
    ----------
    path : str or Path
        Destination; its suffix chooses compression.
    values, affine, mask, description
        See :func:`map_to_nifti`.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    InputError
        Bad suffix or shape.
    OSError
        When the folder cannot be written.
    """
    import nibabel as nib

    path = Path(path)
    name = path.name.lower()
    suffix = ".nii.gz" if name.endswith(".nii.gz") else ".nii" if name.endswith(".nii") else ""
    if not suffix:
        raise InputError("expected a .nii or .nii.gz file name", path)
    img = map_to_nifti(values, affine, mask, description)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix) as temporary:
        nib.save(img, temporary)
    return path
