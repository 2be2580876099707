"""Images must state where they lie, TRs must be plausible, tables must hold numbers only."""

from __future__ import annotations

import json
import re

import nibabel as nib
import numpy as np
import pytest

from core.errors import ConfoundsError, InputError, TimeseriesTableError
from core.io.inputs import open_nifti_pair
from core.io.scan import load_bold
from core.io.table_cells import read_confounds_table
from core.io.timeseries_table import read_timeseries_table
from core.pipeline import run_comparison
from core.qc.motion import read_motion
from core.settings import AnalysisSettings, DenoiseSettings
from core.signal.denoise import select_confounds
from tests.core.io.test_core_bad_inputs import (
    N_VOLUMES,
    SMALL_SHAPE,
    bold_data,
    confounds_frame,
    covering_affine,
    write_bold,
    write_image,
    write_tsv,
)


def _without_orientation(path, zooms=(0.0, 0.0, 0.0)):
    """The bad-input report's case: sform and qform codes 0, voxel sizes 0."""
    img = nib.Nifti1Image(bold_data(), None)
    img.header.set_sform(None, code=0)
    img.header.set_qform(None, code=0)
    img.header["pixdim"][1:4] = zooms
    img.header["pixdim"][4] = 2.0
    nib.save(img, str(path))
    return path


def _save_with_header(path, sform, zooms):
    """Write the sform and pixdim as given, byte for byte (nibabel would mend them)."""
    header = nib.Nifti1Header()
    header.set_data_shape((*SMALL_SHAPE, N_VOLUMES))
    header.set_data_dtype(np.float32)
    header.set_sform(sform, code=4)
    header.set_xyzt_units("mm", "sec")
    header["pixdim"][1:5] = [*zooms, 2.0]
    header["vox_offset"] = 352
    data = bold_data().astype(np.float32).tobytes(order="F")
    path.write_bytes(header.binaryblock + b"\x00" * 4 + data)
    return path


def test_image_without_orientation_is_refused(tmp_path):
    path = _without_orientation(tmp_path / "lost.nii.gz", zooms=(3.0, 3.0, 3.0))
    with pytest.raises(InputError, match="found sform and qform codes 0") as error:
        load_bold(path)
    assert "lost.nii.gz" in str(error.value)


def test_pair_with_one_unoriented_session_is_refused_not_resampled(tmp_path):
    pre = write_bold(tmp_path / "pre.nii.gz")
    post = _without_orientation(tmp_path / "post.nii.gz")
    with pytest.raises(InputError, match=r"post\.nii\.gz: expected voxel sizes above 0 mm"):
        open_nifti_pair(pre, post)


@pytest.mark.parametrize(("zooms", "found"), [
    ((0.0, 2.0, 2.0), "0 x 2 x 2 mm"),
    ((2.0, np.nan, 2.0), "2 x nan x 2 mm"),
])
def test_zero_or_non_finite_voxel_sizes_are_refused(tmp_path, zooms, found):
    path = tmp_path / "flat.nii"
    _save_with_header(path, covering_affine(SMALL_SHAPE), zooms)
    with pytest.raises(InputError, match=f"expected voxel sizes above 0 mm, found {found}"):
        load_bold(path)


def test_singular_affine_is_refused(tmp_path):
    affine = covering_affine(SMALL_SHAPE)
    affine[2, 2] = 0.0
    path = _save_with_header(tmp_path / "singular.nii", affine, (18.0, 18.0, 18.0))
    with pytest.raises(InputError, match=r"invertible voxel-to-world affine.*singular"):
        load_bold(path)


def test_grid_at_the_origin_is_refused(tmp_path):
    """A 1 mm grid whose corner sits at the MNI origin: nibabel's guess for a bare header."""
    path = write_bold(tmp_path / "origin.nii.gz", (64, 64, 36), n_volumes=4,
                      affine=np.eye(4) * [1, 1, 1.01, 1])
    with pytest.raises(InputError, match="without an origin offset"):
        load_bold(path)


def test_slab_in_mni_space_warns_that_rois_are_left_out(tmp_path):
    affine = np.diag([-4.0, 4.0, 4.0, 1.0])
    affine[:3, 3] = [32, -40, 0]
    path = write_bold(tmp_path / "slab.nii.gz", (16, 20, 5), affine=affine)
    scan = load_bold(path)
    assert any("covers only" in w and "left out" in w for w in scan.warnings)


@pytest.mark.parametrize(("header_tr", "message"), [
    (0.05, "between 0.1 and 10, got 0.05"),
    (25.0, "between 0.1 and 10, got 25"),
])
def test_header_tr_outside_the_plausible_range_is_refused(tmp_path, header_tr, message):
    path = write_bold(tmp_path / "odd_tr.nii.gz", tr=header_tr)
    with pytest.raises(InputError, match=message) as error:
        load_bold(path)
    assert "odd_tr.nii.gz" in str(error.value) and "--tr" in str(error.value)


@pytest.mark.parametrize(("value", "message"), [
    (0, "between 0.1 and 10, got 0"),
    (-2, "between 0.1 and 10, got -2"),
    ("2", "expected RepetitionTime as a number of seconds, found '2'"),
])
def test_sidecar_tr_is_checked_too(tmp_path, value, message):
    path = write_bold(tmp_path / "run_bold.nii.gz")
    (tmp_path / "run_bold.json").write_text(json.dumps({"RepetitionTime": value}))
    with pytest.raises(InputError, match=message) as error:
        load_bold(path)
    assert "run_bold.json" in str(error.value)


def test_text_in_a_confounds_column_names_file_column_and_row(tmp_path):
    frame = confounds_frame().astype(object)
    frame.loc[7, "trans_y"] = "moved"
    table = write_tsv(tmp_path / "confounds.tsv", frame)
    expected = r"expected numbers or n/a in column 'trans_y', found 'moved' in row 8 \(line 9"
    for read in (read_confounds_table, read_motion,
                 lambda t: select_confounds(t, N_VOLUMES, DenoiseSettings(), "simple")):
        with pytest.raises(ConfoundsError, match=expected) as error:
            read(table)
        assert "confounds.tsv" in str(error.value)


def test_fmriprep_n_a_cells_are_read_as_missing(tmp_path):
    table = write_tsv(tmp_path / "confounds.tsv", confounds_frame())
    frame = read_confounds_table(table)
    assert np.isnan(frame["framewise_displacement"].iloc[0])
    assert np.isfinite(frame["framewise_displacement"].iloc[1:]).all()


def test_empty_cell_in_a_timeseries_table_names_column_and_row(tmp_path):
    path = tmp_path / "series.tsv"
    rows = ["a\tb"] + [f"{i}\t{i % 3}" for i in range(10)]
    rows[4] = "3\t"
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(TimeseriesTableError,
                       match=r"column 'b', found an empty cell in row 4 \(line 5"):
        read_timeseries_table(path)


def test_different_trs_without_a_filter_are_refused(tmp_path):
    pre = write_bold(tmp_path / "pre.nii.gz", tr=1.0)
    post = write_bold(tmp_path / "post.nii.gz", tr=2.0, seed=1)
    inputs = open_nifti_pair(pre, post)
    assert any("differ in TR (1 s and 2 s)" in w for w in inputs.warnings)
    settings = AnalysisSettings(atlas="dosenbach160", denoise=DenoiseSettings(
        strategy="none", band_pass=None, min_volumes=10))
    expected = ("expected the same TR for pre and post when no band-pass filter is applied, "
                "got 1 s (pre.nii.gz) and 2 s (post.nii.gz)")
    with pytest.raises(InputError, match=re.escape(expected)):
        run_comparison(inputs, settings)


def test_band_pass_above_nyquist_of_an_image_is_refused_before_reading(tmp_path):
    pre = write_image(tmp_path / "pre.nii.gz", bold_data(), tr=2.0)
    post = write_image(tmp_path / "post.nii.gz", bold_data(seed=1), tr=2.0)
    settings = AnalysisSettings(atlas="dosenbach160", denoise=DenoiseSettings(
        strategy="none", band_pass=(0.01, 0.6), min_volumes=10))
    with pytest.raises(InputError, match=r"Nyquist frequency 0.25 Hz of TR 2 s, got 0.6 Hz"):
        run_comparison(open_nifti_pair(pre, post), settings)
