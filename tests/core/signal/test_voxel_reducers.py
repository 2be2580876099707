"""Reductions made while voxels are read equal the ones made afterwards."""

import nibabel as nib
import numpy as np

from core.atlas.atlases import Atlas
from core.qc.voxel_measures import _voxel_moments
from core.signal.extract import masked_voxels, roi_weights
from core.signal.voxel_reducers import FiniteCheck, RoiAverager, VoxelMoments


def _two_roi_atlas(labels, affine, values) -> Atlas:
    return Atlas(name="test", title="test", kind="labels", roi_names=("a", "b"),
                 networks=("N", "M"), coords_mm=np.zeros((2, 3)),
                 labels_img=nib.Nifti1Image(labels, affine), label_values=tuple(values),
                 radius_mm=None, citation="", licence="")


def test_streamed_moments_and_roi_means_equal_the_array_ones(image):
    img, mask, affine = image
    labels = np.zeros(mask.shape, dtype=np.int16)
    labels[1:4, 2:7, 1:5], labels[4:6, 2:7, 1:5] = 1, 2
    weights = roi_weights(_two_roi_atlas(labels, affine, (1, 2)), mask, affine)
    t = img.shape[3]
    moments = VoxelMoments(int(mask.sum()), t)
    rois, finite = RoiAverager([weights, weights], t), FiniteCheck()
    voxels = masked_voxels(img, mask, (moments, rois, finite))
    expected = _voxel_moments(voxels)
    got = moments.result()
    for key in ("mean", "sd", "ar1", "diff_sq"):
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-6, atol=1e-9, err_msg=key)
    np.testing.assert_allclose(rois.volume_mean, voxels.astype(np.float64).mean(axis=0))
    for signals in rois.signals:
        np.testing.assert_allclose(signals, weights.average(voxels), rtol=1e-12)
    assert finite.n_bad == 0


def test_finite_check_counts_bad_voxels():
    check = FiniteCheck()
    block = np.ones((4, 10), dtype=np.float32)
    check.add(0, block)
    block[2, 3] = np.nan
    block[0, 7] = np.inf
    check.add(4, block)
    check.add(8, block)
    assert check.n_bad == 2


def test_roi_signals_while_reading_equal_average_of_voxels(image):
    from core.signal.extract import roi_signals

    img, mask, affine = image
    labels = np.zeros(mask.shape, dtype=np.int16)
    labels[1:6, 2:5, 1:5], labels[1:6, 5:7, 1:5] = 3, 7
    weights = roi_weights(_two_roi_atlas(labels, affine, (3, 7)), mask, affine)
    voxels = masked_voxels(img, mask)
    expected = weights.average(np.ascontiguousarray(voxels))  # the voxel-major route
    np.testing.assert_allclose(roi_signals(img, mask, [weights])[0], expected, rtol=1e-12)
    np.testing.assert_allclose(weights.average(voxels), expected, rtol=1e-12)
