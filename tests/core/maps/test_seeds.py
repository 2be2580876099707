"""Clinical seed presets sit in the brain and in their expected AAL3 regions; named edges."""

from __future__ import annotations

import warnings

import nibabel as nib
import numpy as np
import pytest

from core.io.inputs import open_fmriprep
from core.maps.prepare import prepare_session_voxels
from core.maps.seeds import (
    EDGE_COLUMNS,
    NAMED_EDGES,
    empty_named_edges,
    load_clinical_seeds,
    named_edges,
    seed_by_name,
)
from core.settings import DenoiseSettings
from core.signal.masking import analysis_mask

EXPECTED = {"sgACC", "PCC", "mPFC", "dlPFC_L", "dlPFC_R", "amygdala_L", "amygdala_R",
            "insula_L", "insula_R"}


def _value_at(img, xyz):
    inverse = np.linalg.inv(img.affine)
    ijk = np.rint(inverse[:3, :3] @ np.asarray(xyz) + inverse[:3, 3]).astype(int)
    return np.asarray(img.dataobj)[tuple(ijk)]


def test_presets_are_complete_and_cited():
    seeds = load_clinical_seeds()
    assert {s.name for s in seeds} == EXPECTED
    for seed in seeds:
        assert seed.source and seed.label and len(seed.xyz_mm) == 3
    assert seed_by_name("sgacc").xyz_mm == (6.0, 16.0, -10.0)
    with pytest.raises(KeyError):
        seed_by_name("nowhere")


@pytest.mark.parametrize("seed", load_clinical_seeds(), ids=lambda s: s.name)
def test_seed_in_brain_mask_and_expected_region(seed):
    from nilearn.datasets import load_mni152_brain_mask

    from core.atlas.atlases import load_atlas

    assert _value_at(load_mni152_brain_mask(resolution=2), seed.xyz_mm) > 0
    atlas = load_atlas("aal3")
    img = atlas.labels_img
    names = dict(zip(atlas.label_values, atlas.roi_names, strict=True))
    data = np.asarray(img.dataobj)
    ijk = np.argwhere(data > 0)
    xyz = ijk @ img.affine[:3, :3].T + img.affine[:3, 3]
    near = np.linalg.norm(xyz - np.asarray(seed.xyz_mm), axis=1) <= 4.0
    labels = {names.get(int(v), "") for v in data[tuple(ijk[near].T)]}
    here = names.get(int(_value_at(img, seed.xyz_mm)), "")
    ok = [lab for lab in labels if lab.startswith(seed.expected_regions)]
    assert here.startswith(seed.expected_regions) or ok, (seed.name, here, sorted(labels))


@pytest.fixture(scope="module")
def prepared(demo_root):
    inputs = open_fmriprep(demo_root)
    mask = analysis_mask(inputs)
    settings = DenoiseSettings(strategy="none", band_pass=None, detrend=False)
    return inputs, mask, [prepare_session_voxels(s, mask, settings)
                          for s in (inputs.pre_scan, inputs.post_scan)]


def test_named_edges_equal_nilearn_sphere_signals(prepared):
    from nilearn.maskers import NiftiSpheresMasker

    inputs, mask, (pre, post) = prepared
    table = named_edges(pre, post, radius_mm=6.0)
    assert tuple(table.columns) == EDGE_COLUMNS
    assert list(table["edge"]) == [e.edge for e in NAMED_EDGES]
    assert np.allclose(table["delta_z"], table["z_post"] - table["z_pre"])
    assert np.allclose(np.arctanh(table["r_pre"]), table["z_pre"])
    seeds = {s.name: s.xyz_mm for s in load_clinical_seeds()}
    mask_img = nib.Nifti1Image(mask.astype(np.uint8), inputs.pre_scan.affine)
    names = ["dlPFC_L", "sgACC", "insula_R", "PCC", "mPFC"]
    masker = NiftiSpheresMasker([seeds[n] for n in names], radius=6.0, mask_img=mask_img,
                                standardize=False, detrend=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        signals = masker.fit_transform(inputs.post_scan.img)
    r_dlpfc = np.corrcoef(signals[:, 0], signals[:, 1])[0, 1]
    dmn = signals[:, 3:5].mean(axis=1)
    r_insula = np.corrcoef(signals[:, 2], dmn)[0, 1]
    rows = table.set_index("edge")
    assert abs(rows.loc["dlPFC(L)–sgACC", "r_post"] - r_dlpfc) < 1e-5
    assert abs(rows.loc["insula(R)–DMN", "r_post"] - r_insula) < 1e-5


def test_empty_named_edges_for_tables():
    table = empty_named_edges()
    assert tuple(table.columns) == EDGE_COLUMNS and len(table) == 0
    assert "voxel" in table.attrs["note"]
