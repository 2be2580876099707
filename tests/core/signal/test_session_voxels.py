"""Voxels read once and held: the same numbers as reading again, and no second read."""

from __future__ import annotations

import os
import shutil

import nibabel as nib
import numpy as np
import pytest

from core.io.inputs import open_fmriprep
from core.settings import AnalysisSettings, DenoiseSettings
from core.signal import extract
from core.signal.extract import masked_voxels, roi_weights
from core.signal.session_voxels import FileKey, VoxelCache, read_session_voxels
from core.signal.voxel_reducers import RoiAverager
from tests.core.signal.test_voxel_reducers import _two_roi_atlas


def test_held_voxels_are_the_image_as_changes_from_its_first_volume(image):
    img, mask, _ = image
    held = read_session_voxels(img, mask, img.get_filename())
    raw = masked_voxels(img, mask)  # (n_voxels, n_volumes)
    assert held.data.flags.c_contiguous and held.data.dtype == np.float32
    assert held.data.shape == (img.shape[3], int(mask.sum()))
    np.testing.assert_array_equal(held.origin, raw[:, 0])
    # exact: BOLD-like values stay within a factor 2 of their first volume
    np.testing.assert_array_equal(held.data + held.origin, raw.T)


def test_roi_signals_from_memory_equal_the_ones_made_while_reading(image):
    img, mask, affine = image
    labels = np.zeros(mask.shape, dtype=np.int16)
    labels[1:4, 2:7, 1:5], labels[4:6, 2:7, 1:5] = 1, 2
    weights = roi_weights(_two_roi_atlas(labels, affine, (1, 2)), mask, affine)
    averager = RoiAverager([weights], img.shape[3])
    held = read_session_voxels(img, mask, img.get_filename(), (averager,))
    averager.add_origin(held.origin)
    (signals,), global_signal = held.roi_signals([weights], block=5)
    # bit for bit: a recomputation from memory reproduces the numbers of the first read
    np.testing.assert_array_equal(signals, averager.signals[0])
    np.testing.assert_array_equal(global_signal, averager.volume_mean)
    np.testing.assert_allclose(signals, weights.average(masked_voxels(img, mask)), rtol=1e-12)


def test_the_cache_keys_on_path_size_and_modification_time(image, tmp_path):
    img, mask, _ = image
    path = img.get_filename()
    cache = VoxelCache()
    held = read_session_voxels(img, mask, path)
    cache.put(held)
    assert cache.get(path, mask) is held
    assert cache.get(path, ~mask) is None, "another mask: other voxels"
    info = os.stat(path)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 10**9))
    assert cache.get(path, mask) is None, "a file changed on disk is read again"
    assert FileKey.of(path) != held.key
    cache.keep_only([tmp_path / "other.nii.gz"])
    assert len(cache) == 0 and cache.nbytes == 0


@pytest.fixture
def demo_copy(demo_root, tmp_path):
    """A private copy of the demo patient, whose files a test may touch."""
    return shutil.copytree(demo_root, tmp_path / "demo")


def test_a_review_reads_each_file_once(demo_copy, demo_comparison, monkeypatch):
    """Open, QC, seed preparation, another atlas, strategy and GSR: two reads in all."""
    from core.maps.prepare import prepare_patient
    from core.pipeline import run_comparison

    reads: list[str] = []
    real = extract.masked_voxels

    def counting(img, *args, **kwargs):
        reads.append(str(img.get_filename()))
        return real(img, *args, **kwargs)

    monkeypatch.setattr(extract, "masked_voxels", counting)
    monkeypatch.setattr("core.pipeline.masked_voxels", counting)
    cache = VoxelCache()
    inputs = open_fmriprep(demo_copy)
    first = run_comparison(inputs, AnalysisSettings(), defer_qc=True, voxels=cache)
    assert len(reads) == 2 and len(cache) == 2
    qc = first.quality_control()
    for got, expected in zip(qc, demo_comparison.qc, strict=True):  # same numbers as reading
        np.testing.assert_allclose(got.dvars, expected.dvars, rtol=1e-6)
        np.testing.assert_allclose(got.tsnr_map, expected.tsnr_map, rtol=1e-5)
        np.testing.assert_allclose(got.carpet.data, expected.carpet.data, atol=1e-5)
    np.testing.assert_array_equal(first.delta_z, demo_comparison.delta_z)
    cleaning = [(s.cleaning_operator, s.sample_mask) for s in (first.pre, first.post)]
    pre, _ = prepare_patient(inputs, AnalysisSettings(), voxels=cache, cleaning=cleaning)
    assert pre.voxels is cache.get(inputs.pre_scan.path, pre.mask)
    other = AnalysisSettings(atlas="aal3", denoise=DenoiseSettings(strategy="scrubbing",
                                                                  gsr=True))
    again = run_comparison(inputs, other, defer_qc=True, voxels=cache)
    again.quality_control()
    prepare_patient(inputs, other, voxels=cache)
    assert len(reads) == 2, reads
    fresh = run_comparison(open_fmriprep(demo_copy), other)  # no cache: reads again
    np.testing.assert_array_equal(again.delta_z, fresh.delta_z)
    assert len(reads) == 4
    path = inputs.post_scan.path
    img = nib.load(path)
    nib.save(nib.Nifti1Image(np.asarray(img.dataobj) * 1.01, img.affine, img.header), path)
    run_comparison(open_fmriprep(demo_copy), other, defer_qc=True, voxels=cache)
    assert reads[4:] == [str(path)], "only the file changed on disk is read again"
    # the seed map from the held voxels and the comparison's operator equals the one of a
    # session read and denoised on its own (tests/core/maps/test_seedmaps: = nilearn's)
    from core.maps.prepare import prepare_session_voxels
    from core.maps.seedmaps import seed_map

    alone = prepare_session_voxels(inputs.pre_scan, pre.mask, AnalysisSettings(),
                                   strategy=first.strategy)
    xyz = (-8.0, -56.0, 26.0)
    assert np.abs(seed_map(pre, xyz) - seed_map(alone, xyz)).max() < 1e-5


def test_roi_means_are_the_same_when_the_weights_come_late(image):
    """A cold start reads before the atlas is resampled: the missed volumes come from memory."""
    from concurrent.futures import Future

    from core.pipeline import _LateAverager

    img, mask, affine = image
    labels = np.zeros(mask.shape, dtype=np.int16)
    labels[1:4, 2:7, 1:5], labels[4:6, 2:7, 1:5] = 1, 2
    weights = roi_weights(_two_roi_atlas(labels, affine, (1, 2)), mask, affine)
    pending: Future = Future()
    late = _LateAverager(pending, img.shape[3])

    class ReadyAfterTwoBlocks:
        calls = 0

        def add(self, first, block):
            self.calls += 1
            if self.calls == 2:
                pending.set_result([weights])

    held = read_session_voxels(img, mask, img.get_filename(), (ReadyAfterTwoBlocks(), late))
    averager = late.finish(held.data)
    averager.add_origin(held.origin)
    (expected,), _ = held.roi_signals([weights])
    np.testing.assert_array_equal(averager.signals[0], expected)
