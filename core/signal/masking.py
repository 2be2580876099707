"""The brain mask shared by both sessions of a patient."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.errors import InputError
from core.io.inputs import PatientInputs
from core.io.nifti import read_nifti
from core.io.scan import BoldScan, same_grid
from core.signal.extract import brain_mask_for

__all__ = ["analysis_mask"]


def analysis_mask(inputs: PatientInputs) -> np.ndarray:
    """Brain mask shared by both sessions.

    The intersection of the sessions' own brain masks when both are given,
    else nilearn's MNI152 brain mask on the data grid.

    Parameters
    ----------
    inputs : PatientInputs
        Image-based inputs.

    Returns
    -------
    ndarray of bool
    """
    pre, post = inputs.pre_scan, inputs.post_scan
    assert pre is not None and post is not None
    if pre.mask is not None and post.mask is not None:
        masks = [_mask_on_grid(m, pre) for m in (pre.mask, post.mask)]
        mask = masks[0] & masks[1]
    else:
        mask = brain_mask_for(pre.img)
    if not mask.any():
        raise InputError("expected a brain mask overlapping the images, found an empty mask")
    return mask


def _mask_on_grid(path: Path, scan: BoldScan) -> np.ndarray:
    from nilearn.image import resample_to_img

    img = read_nifti(path)
    if len(img.shape) != 3:
        raise InputError(f"expected a 3D brain mask, found shape {img.shape}", path)
    if not same_grid(img, scan.img):
        img = resample_to_img(img, scan.img, interpolation="nearest",
                              force_resample=True, copy_header=True)
    return np.asarray(img.dataobj) > 0
