"""Our fast extraction and connectivity equal nilearn's maskers + np.corrcoef (1e-5)."""

from __future__ import annotations

import warnings

import nibabel as nib
import numpy as np
import pytest
from nilearn.maskers import NiftiLabelsMasker, NiftiSpheresMasker

from core.atlas.atlases import load_atlas
from core.io.inputs import open_fmriprep
from core.pipeline import run_comparison
from core.settings import AnalysisSettings, DenoiseSettings
from core.signal.connectivity import fisher_z, network_blocks, roi_strength
from core.signal.masking import analysis_mask

TOL = 1e-5


@pytest.fixture(scope="module")
def demo_inputs(demo_root):
    return open_fmriprep(demo_root)


def _mask_img(inputs):
    mask = analysis_mask(inputs)
    return nib.Nifti1Image(mask.astype(np.uint8), inputs.pre_scan.affine)


def _reference_z(timeseries):
    r = np.corrcoef(timeseries, rowvar=False)
    return fisher_z(r)


def test_labels_no_denoising_equals_nilearn(demo_inputs):
    settings = AnalysisSettings(
        atlas="schaefer100", denoise=DenoiseSettings(strategy="none", band_pass=None,
                                                     detrend=False))
    ours = run_comparison(demo_inputs, settings)
    atlas = load_atlas("schaefer100")
    masker = NiftiLabelsMasker(atlas.labels_img, mask_img=_mask_img(demo_inputs),
                               standardize=False, detrend=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = masker.fit_transform(demo_inputs.pre_scan.img)
    assert reference.shape[1] == len(ours.rois)
    ref_z = _reference_z(reference)
    assert np.abs(ours.pre.z - ref_z).max() < TOL
    assert np.abs(ours.pre.timeseries - reference).max() / np.abs(reference).max() < TOL


def test_labels_with_confounds_scrubbing_and_filter_equal_nilearn(demo_inputs):
    from nilearn.interfaces.fmriprep import load_confounds_strategy

    settings = AnalysisSettings(atlas="schaefer100",
                                denoise=DenoiseSettings(strategy="scrubbing"))
    ours = run_comparison(demo_inputs, settings)
    scan = demo_inputs.post_scan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        confounds, sample_mask = load_confounds_strategy(str(scan.path), "scrubbing")
        confounds = confounds.loc[:, ~confounds.columns.str.startswith("cosine")]
        masker = NiftiLabelsMasker(
            load_atlas("schaefer100").labels_img, mask_img=_mask_img(demo_inputs),
            standardize=False, detrend=True, low_pass=0.1, high_pass=0.01, t_r=scan.tr)
        reference = masker.fit_transform(scan.img, confounds=confounds, sample_mask=sample_mask)
    assert sample_mask is not None and len(sample_mask) < scan.n_volumes  # scrubbing happened
    assert ours.post.n_kept == len(sample_mask)
    assert np.abs(ours.post.z - _reference_z(reference)).max() < TOL


def test_spheres_equal_nilearn_spheres_masker(demo_inputs):
    settings = AnalysisSettings(
        atlas="dosenbach160", denoise=DenoiseSettings(strategy="none", band_pass=None,
                                                      detrend=False))
    ours = run_comparison(demo_inputs, settings)
    atlas = load_atlas("dosenbach160")
    kept = ours.rois.atlas_index
    masker = NiftiSpheresMasker(
        [tuple(c) for c in atlas.coords_mm[kept]], radius=float(atlas.radius_mm[0]),
        mask_img=_mask_img(demo_inputs), allow_overlap=True, standardize=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = masker.fit_transform(demo_inputs.pre_scan.img)
    assert np.abs(ours.pre.z - _reference_z(reference)).max() < TOL


def test_partial_correlation_equals_nilearn_connectivity_measure(demo_inputs):
    from nilearn.connectome import ConnectivityMeasure

    ours = run_comparison(demo_inputs, AnalysisSettings(atlas="schaefer100"))
    measure = ConnectivityMeasure(kind="partial correlation", standardize=False)
    reference = measure.fit_transform([ours.pre.timeseries])[0]
    assert np.abs(ours.pre.partial_r - reference).max() < TOL


def test_network_blocks_and_strength_by_brute_force():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(7, 7))
    z = (z + z.T) / 2
    np.fill_diagonal(z, 0)
    networks = ["A", "B", "A", "C", "B", "A", ""]
    table = network_blocks({"z": z}, networks).set_index(["network_a", "network_b"])
    idx = {n: [i for i, m in enumerate(networks) if m == n] for n in set(networks)}
    within_a = [z[i, j] for i in idx["A"] for j in idx["A"] if i < j]
    assert table.loc[("A", "A"), "z"] == pytest.approx(np.mean(within_a))
    between = [z[i, j] for i in idx["A"] for j in idx["C"]]
    assert table.loc[("A", "C"), "z"] == pytest.approx(np.mean(between))
    assert table.loc[("A", "Unassigned"), "n_edges"] == 3
    assert np.isnan(table.loc[("C", "C"), "z"])  # a single-ROI network has no inner edge
    strength = roi_strength(z)
    assert strength[3] == pytest.approx(z[3, [0, 1, 2, 4, 5, 6]].mean())
