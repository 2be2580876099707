"""A small 4D image and its brain mask, as .nii.gz and as .nii."""

import nibabel as nib
import numpy as np
import pytest

from core.signal.extract import READ_BLOCK


@pytest.fixture(params=[".nii.gz", ".nii"])
def image(tmp_path, request):
    rng = np.random.default_rng(0)
    t = 3 * READ_BLOCK + 5  # a partial last block
    data = (1000 + 20 * rng.standard_normal((7, 8, 6, t))).astype(np.float32)
    data[..., 1:] += 5 * data[..., :-1] / 1000  # some autocorrelation
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    path = tmp_path / f"bold{request.param}"
    nib.save(nib.Nifti1Image(data, affine), path)
    mask = np.zeros(data.shape[:3], dtype=bool)
    mask[1:6, 2:7, 1:5] = True
    return nib.load(path), mask, affine
