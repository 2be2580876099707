"""Seed maps from prepared voxels equal nilearn maskers + np.corrcoef (1e-5); export."""

from __future__ import annotations

import warnings

import nibabel as nib
import numpy as np
import pytest

from core.errors import AnalysisCancelled, InputError
from core.io.inputs import open_fmriprep
from core.maps.export import save_map
from core.maps.prepare import prepare_from_array, prepare_session_voxels
from core.maps.seedmaps import seed_map, seed_maps, to_volume
from core.settings import DenoiseSettings
from core.signal.connectivity import R_MAX
from core.signal.masking import analysis_mask

TOL = 1e-5
SEED = (-8.0, -56.0, 26.0)  # PCC


@pytest.fixture(scope="module")
def demo(demo_root):
    inputs = open_fmriprep(demo_root)
    return inputs, analysis_mask(inputs)


def _reference_z(scan, mask, xyz, radius, *, confounds=None, sample_mask=None, **clean):
    """Seed map by nilearn: spheres masker for the seed, NiftiMasker for (a subset of) voxels."""
    from nilearn.maskers import NiftiMasker, NiftiSpheresMasker

    mask_img = nib.Nifti1Image(mask.astype(np.uint8), scan.affine)
    # Voxels on a lattice of every 3rd voxel keep the reference cheap.
    sub = np.zeros_like(mask)
    sub[::3, ::3, ::3] = True
    sub &= mask
    sub_img = nib.Nifti1Image(sub.astype(np.uint8), scan.affine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seed = NiftiSpheresMasker([xyz], radius=radius, mask_img=mask_img, **clean).fit_transform(
            scan.img, confounds=confounds, sample_mask=sample_mask)[:, 0]
        voxels = NiftiMasker(sub_img, **clean).fit_transform(
            scan.img, confounds=confounds, sample_mask=sample_mask)
    r = np.concatenate([np.corrcoef(seed, voxels[:, i:i + 2000], rowvar=False)[0, 1:]
                        for i in range(0, voxels.shape[1], 2000)])
    z = np.arctanh(np.clip(r, -R_MAX, R_MAX))
    return z, sub  # NiftiMasker orders voxels like boolean indexing: volume[sub]


def test_seed_map_without_denoising_equals_nilearn(demo):
    inputs, mask = demo
    scan = inputs.pre_scan
    settings = DenoiseSettings(strategy="none", band_pass=None, detrend=False)
    prepared = prepare_session_voxels(scan, mask, settings)
    ours = seed_map(prepared, SEED, 6.0)
    ref, in_sub = _reference_z(scan, mask, SEED, 6.0, standardize=False, detrend=False)
    assert np.abs(to_volume(ours, mask)[in_sub] - ref).max() < TOL


def test_seed_map_with_default_denoising_equals_nilearn(demo):
    from nilearn.interfaces.fmriprep import load_confounds_strategy

    inputs, mask = demo
    scan = inputs.pre_scan
    prepared = prepare_session_voxels(scan, mask, DenoiseSettings(strategy="simple"))
    xyz = (6.0, 16.0, -10.0)
    ours = seed_map(prepared, xyz, 6.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        confounds, sample_mask = load_confounds_strategy(str(scan.path), "simple")
    confounds = confounds.loc[:, ~confounds.columns.str.startswith("cosine")]
    ref, in_sub = _reference_z(scan, mask, xyz, 6.0, confounds=confounds,
                               sample_mask=sample_mask, standardize=False, detrend=True,
                               low_pass=0.1, high_pass=0.01, t_r=scan.tr)
    assert np.abs(to_volume(ours, mask)[in_sub] - ref).max() < TOL


def test_seed_map_with_scrubbing_equals_nilearn(demo):
    from nilearn.interfaces.fmriprep import load_confounds_strategy

    inputs, mask = demo
    scan = inputs.post_scan
    prepared = prepare_session_voxels(scan, mask, DenoiseSettings(strategy="scrubbing"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        confounds, sample_mask = load_confounds_strategy(str(scan.path), "scrubbing")
    assert sample_mask is not None and len(sample_mask) < scan.n_volumes
    assert prepared.n_kept == len(sample_mask)
    confounds = confounds.loc[:, ~confounds.columns.str.startswith("cosine")]
    ours = seed_map(prepared, SEED, 6.0)
    ref, in_sub = _reference_z(scan, mask, SEED, 6.0, confounds=confounds,
                               sample_mask=sample_mask, standardize=False, detrend=True,
                               low_pass=0.1, high_pass=0.01, t_r=scan.tr)
    assert np.abs(to_volume(ours, mask)[in_sub] - ref).max() < TOL


def test_seed_map_with_global_signal_regression_equals_nilearn(demo):
    """GSR with strategy none: the brain's mean signal is the confound, as nilearn is given it."""
    inputs, mask = demo
    scan = inputs.post_scan
    prepared = prepare_session_voxels(scan, mask, DenoiseSettings(strategy="none", gsr=True))
    data = np.asarray(scan.img.dataobj, dtype=np.float64)[mask]  # (n_voxels, n_volumes)
    global_signal = data.mean(axis=0)[:, None]
    ours = seed_map(prepared, SEED, 6.0)
    ref, in_sub = _reference_z(scan, mask, SEED, 6.0, confounds=global_signal,
                               standardize=False, detrend=True, low_pass=0.1, high_pass=0.01,
                               t_r=scan.tr)
    assert np.abs(to_volume(ours, mask)[in_sub] - ref).max() < TOL


def test_seed_maps_delta_and_volume(demo):
    inputs, mask = demo
    settings = DenoiseSettings(strategy="none", band_pass=None)
    pre = prepare_session_voxels(inputs.pre_scan, mask, settings, label="pre")
    post = prepare_session_voxels(inputs.post_scan, mask, settings, label="post")
    z_pre, z_post, delta = seed_maps(pre, post, SEED)
    assert z_pre.dtype == np.float32 and z_pre.shape == (int(mask.sum()),)
    assert np.array_equal(delta, z_post - z_pre)
    # nothing is denoised into a copy: the voxels are held once, volume-major, as read
    held = pre.voxels.data
    assert held.flags.c_contiguous and held.dtype == np.float32
    assert held.shape == (inputs.pre_scan.n_volumes, int(mask.sum()))
    # unit series in the denoising's basis: their dot products are the correlations
    unit = pre.unit(slice(0, 500))
    assert pre.rank <= pre.n_kept and unit.shape == (500, pre.rank)
    from scipy.signal import detrend

    raw = held[:, :500].astype(np.float64) + pre.voxels.origin[:500]
    assert pre.rank == pre.n_kept - 2, "linear detrending leaves T - 2 dimensions"
    expected = np.corrcoef(detrend(raw, axis=0).T[pre.valid[:500]])
    assert np.abs(unit[pre.valid[:500]] @ unit[pre.valid[:500]].T - expected).max() < 1e-5
    volume = to_volume(delta, mask)
    assert volume.shape == mask.shape
    assert np.isnan(volume[~mask]).all()
    assert np.isfinite(volume[mask]).all()
    ijk = np.argwhere(mask)[100]
    flat = np.ravel_multi_index(tuple(ijk), mask.shape, order="F")
    row = int(np.searchsorted(np.flatnonzero(mask.ravel(order="F")), flat))
    assert volume[tuple(ijk)] == delta[row]
    with pytest.raises(InputError):
        seed_map(pre, (0.0, 0.0, 200.0), 6.0)


def test_prepare_can_be_cancelled(demo):
    inputs, mask = demo
    calls = []

    def progress(fraction, message):
        calls.append(fraction)
        if len(calls) > 2:
            raise AnalysisCancelled

    with pytest.raises(AnalysisCancelled):
        prepare_session_voxels(inputs.pre_scan, mask, DenoiseSettings(strategy="none"),
                               progress, chunk_size=2000)
    assert len(calls) == 3


def test_constant_voxels_are_zero_and_flagged():
    rng = np.random.default_rng(0)
    mask = np.ones((4, 4, 2), dtype=bool)
    data = rng.standard_normal((32, 40))
    data[5] = 3.0
    prepared = prepare_from_array(data, mask, np.diag([2.0, 2.0, 2.0, 1.0]))
    assert not prepared.valid[5] and prepared.valid.sum() == 31
    assert np.all(prepared.unit(np.arange(32))[5] == 0)
    z = seed_map(prepared, (0.0, 0.0, 0.0), 2.0)
    assert z[5] == 0


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii"])
def test_export_round_trip(tmp_path, demo, suffix):
    inputs, mask = demo
    rng = np.random.default_rng(1)
    values = rng.standard_normal(int(mask.sum())).astype(np.float32)
    affine = inputs.pre_scan.affine
    path = save_map(tmp_path / f"seed_delta{suffix}", values, affine, mask, "seed map delta")
    assert path.is_file() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    img = nib.load(path)
    assert np.allclose(img.affine, affine)
    assert int(img.header["sform_code"]) == 4
    data = np.asarray(img.dataobj)
    assert np.isnan(data[~mask]).all()
    assert np.array_equal(data, to_volume(values, mask), equal_nan=True)
    again = save_map(tmp_path / f"vol{suffix}", data, affine)
    assert np.array_equal(np.asarray(nib.load(again).dataobj), data, equal_nan=True)
    with pytest.raises(InputError):
        save_map(tmp_path / "map.txt", values, affine, mask)
    with pytest.raises(InputError):
        save_map(tmp_path / "map.nii", values, affine)
