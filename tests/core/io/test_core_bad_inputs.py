"""Bad and awkward inputs: every problem is an :class:`core.errors.InputError` naming the file.

Each case checks the key words of the message (what was expected, what was
found) and that the offending file's name appears in it.  Images are small
float32 series built with nibabel in ``tmp_path``.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.errors import ConfoundsError, InputError, InputFileError, TimeseriesTableError
from core.io.inputs import open_nifti_pair, open_timeseries_pair
from core.io.nifti import read_nifti
from core.io.scan import check_mni_space, load_bold
from core.io.timeseries_table import read_timeseries_table
from core.pipeline import run_comparison
from core.settings import AnalysisSettings, DenoiseSettings
from core.signal.denoise import clean_signals, select_confounds

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

#: 4 mm grid whose box covers the MNI152 brain.
MNI_AFFINE = np.array(
    [[-4.0, 0, 0, 90], [0, 4.0, 0, -126], [0, 0, 4.0, -72], [0, 0, 0, 1]]
)
MNI_SHAPE = (45, 54, 45)
#: A small, coarse grid spanning the MNI box, enough for loader-level checks.
SMALL_SHAPE = (10, 12, 10)


def covering_affine(shape) -> np.ndarray:
    """An MNI-oriented affine whose grid of ``shape`` spans the MNI brain box."""
    sizes = np.array([180.0, 216.0, 180.0]) / np.asarray(shape[:3], dtype=float)
    return np.array([[-sizes[0], 0, 0, 90], [0, sizes[1], 0, -126], [0, 0, sizes[2], -72],
                     [0, 0, 0, 1]])
N_VOLUMES = 40
MOTION = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]


def bold_data(shape=SMALL_SHAPE, n_volumes=N_VOLUMES, seed=0) -> np.ndarray:
    """Random float32 BOLD-like data around 100."""
    rng = np.random.default_rng(seed)
    size = (*shape, n_volumes) if n_volumes is not None else shape
    return (100 + rng.standard_normal(size)).astype(np.float32)


def write_image(
    path: Path,
    data: np.ndarray,
    affine: np.ndarray | None = None,
    tr: float | None = 2.0,
    time_units: str = "sec",
) -> Path:
    """Save ``data`` as NIfTI-1 with ``pixdim[4] = tr`` (0 when ``tr`` is None)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img = nib.Nifti1Image(data, covering_affine(data.shape) if affine is None else affine)
    img.header.set_xyzt_units("mm", time_units)
    if data.ndim >= 4:
        img.header["pixdim"][4] = 0.0 if tr is None else tr
    nib.save(img, str(path))
    return path


def write_bold(path: Path, shape=SMALL_SHAPE, n_volumes=N_VOLUMES, seed=0, **kwargs) -> Path:
    """A valid 4D series on the MNI-like grid."""
    return write_image(path, bold_data(shape, n_volumes, seed), **kwargs)


def confounds_frame(n_volumes=N_VOLUMES, fd=0.05, seed=1) -> pd.DataFrame:
    """An fMRIPrep-like confounds table with every column nilearn's presets use."""
    rng = np.random.default_rng(seed)
    columns = {}
    for base in [*MOTION, "csf", "white_matter", "global_signal"]:
        values = rng.standard_normal(n_volumes)
        derivative = np.r_[np.nan, np.diff(values)]
        columns[base] = values
        columns[f"{base}_power2"] = values**2
        columns[f"{base}_derivative1"] = derivative
        columns[f"{base}_derivative1_power2"] = derivative**2
    fd_values = np.full(n_volumes, fd, dtype=float) if np.isscalar(fd) else np.asarray(fd, float)
    columns["framewise_displacement"] = np.r_[np.nan, fd_values[1:]]
    columns["std_dvars"] = np.r_[np.nan, np.ones(n_volumes - 1)]
    return pd.DataFrame(columns)


def write_tsv(path: Path, frame: pd.DataFrame) -> Path:
    """Write a table the way fMRIPrep does (tab separated, ``n/a`` for missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, sep="\t", index=False, na_rep="n/a")
    return path


def write_table(path: Path, n_rows=30, n_rois=4, seed=2) -> Path:
    """A valid ROI time-series table."""
    rng = np.random.default_rng(seed)
    names = [f"roi_{i}" for i in range(n_rois)]
    return write_tsv(path, pd.DataFrame(rng.standard_normal((n_rows, n_rois)), columns=names))


def fast_settings(strategy="none", band_pass=None, min_volumes=10, atlas="dosenbach160"):
    """Quick analysis settings (coordinate atlas, no filter by default)."""
    return AnalysisSettings(
        atlas=atlas,
        denoise=DenoiseSettings(strategy=strategy, band_pass=band_pass, min_volumes=min_volumes),
    )


def names_file(error: pytest.ExceptionInfo, path: Path) -> bool:
    """True when the error message names the file."""
    return path.name in str(error.value)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------
# unreadable files
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii"])
def test_truncated_image(tmp_path, suffix):
    path = write_bold(tmp_path / f"sub-01_bold{suffix}")
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputFileError, match=r"truncated|damaged") as error:
        load_bold(path)
    assert names_file(error, path)


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_png_renamed_as_nifti(tmp_path, suffix):
    path = tmp_path / f"screenshot{suffix}"
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    path.write_bytes(png)
    with pytest.raises(InputFileError, match=r"expected a NIfTI.*found a file without the NIfTI"
                       ) as error:
        load_bold(path)
    assert names_file(error, path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty_bold.nii.gz"
    path.write_bytes(b"")
    with pytest.raises(InputFileError, match=r"expected a NIfTI.*too short") as error:
        read_nifti(path)
    assert names_file(error, path)


def test_folder_instead_of_file(tmp_path):
    path = tmp_path / "sub-01_bold.nii.gz"
    path.mkdir()
    with pytest.raises(InputFileError, match=r"expected a NIfTI file.*found a folder") as error:
        load_bold(path)
    assert names_file(error, path)


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere_bold.nii.gz"
    with pytest.raises(InputFileError, match="not found") as error:
        load_bold(path)
    assert names_file(error, path)
    assert isinstance(error.value, ValueError)


def test_path_with_spaces_and_non_ascii_loads(tmp_path):
    folder = tmp_path / "Patiënt Müller ñ 患者"
    pre = write_bold(folder / "pré scan ü.nii.gz")
    post = write_bold(folder / "post scan ø.nii", seed=1)
    inputs = open_nifti_pair(pre, post)
    assert inputs.pre_scan.n_volumes == N_VOLUMES
    assert inputs.post_scan.path == post
    assert inputs.pre_scan.tr == pytest.approx(2.0)


# ---------------------------------------------------------------------------
# image shape and values
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "found"),
    [((10, 12, 10), r"3D image"), ((7, 8, 9, 20, 2), r"5D image of shape \(7, 8, 9, 20, 2\)")],
)
def test_not_a_4d_image(tmp_path, shape, found):
    path = write_image(tmp_path / "odd_bold.nii.gz", bold_data(shape, None))
    with pytest.raises(InputError, match=rf"expected a 4D image.*found a {found}") as error:
        load_bold(path)
    assert names_file(error, path)


def test_single_volume(tmp_path):
    path = write_bold(tmp_path / "one_bold.nii.gz", n_volumes=1)
    with pytest.raises(InputError, match=r"expected a time series, found 1 volume") as error:
        load_bold(path)
    assert names_file(error, path)


@pytest.mark.parametrize("bad_value", [np.nan, np.inf])
def test_non_finite_voxels_inside_brain(tmp_path, bad_value):
    data = bold_data(MNI_SHAPE, N_VOLUMES, seed=3)
    centre = tuple(n // 2 for n in MNI_SHAPE)  # near MNI (0, -18, 18): inside the brain
    data[centre[0] - 1 : centre[0] + 1, centre[1], centre[2], 5:9] = bad_value
    pre = write_image(tmp_path / "pre_bold.nii", data)
    post = write_bold(tmp_path / "post_bold.nii", MNI_SHAPE, seed=4)
    inputs = open_nifti_pair(pre, post)
    with pytest.raises(InputError, match=r"expected finite values.*found NaN or Inf in 2 voxels"
                       ) as error:
        run_comparison(inputs, fast_settings())
    assert names_file(error, pre)


# ---------------------------------------------------------------------------
# repetition time
# ---------------------------------------------------------------------------


def test_tr_missing_suggests_flag(tmp_path):
    path = write_bold(tmp_path / "notr_bold.nii.gz", tr=None)
    with pytest.raises(InputError, match=r"expected a repetition time.*--tr") as error:
        load_bold(path)
    assert names_file(error, path)


def test_tr_in_milliseconds_is_converted_with_warning(tmp_path):
    path = write_bold(tmp_path / "ms_bold.nii.gz", tr=2000.0, time_units="sec")
    scan = load_bold(path)
    assert scan.tr == pytest.approx(2.0)
    assert scan.tr_source == "header"
    assert any("milliseconds" in w and path.name in w for w in scan.warnings)


def test_tr_from_sidecar_when_header_is_zero(tmp_path):
    path = write_bold(tmp_path / "sub-01_bold.nii.gz", tr=None)
    sidecar = tmp_path / "sub-01_bold.json"
    sidecar.write_text(json.dumps({"RepetitionTime": 1.5}), encoding="utf-8")
    scan = load_bold(path)
    assert scan.tr == pytest.approx(1.5)
    assert (scan.tr_source, scan.sidecar) == ("sidecar", sidecar)


def test_tr_override_wins(tmp_path):
    path = write_bold(tmp_path / "sub-01_bold.nii.gz", tr=2.0)
    (tmp_path / "sub-01_bold.json").write_text(json.dumps({"RepetitionTime": 1.5}))
    scan = load_bold(path, tr=0.8)
    assert scan.tr == pytest.approx(0.8)
    assert scan.tr_source == "override"


# ---------------------------------------------------------------------------
# space and grid
# ---------------------------------------------------------------------------


def test_pre_and_post_on_different_grids_are_resampled_with_a_warning(tmp_path):
    pre = write_bold(tmp_path / "pre_bold.nii.gz", (10, 12, 10))
    post_affine = np.diag([-5.0, 5.0, 5.0, 1.0])
    post_affine[:3, 3] = [90, -126, -72]
    post = write_bold(tmp_path / "post_bold.nii.gz", (8, 10, 8), affine=post_affine)
    inputs = open_nifti_pair(pre, post)
    assert inputs.post_scan.img.shape[:3] == (10, 12, 10)
    assert np.allclose(inputs.post_scan.img.affine, inputs.pre_scan.img.affine)
    message = " ".join(inputs.warnings)
    assert "different grids" in message and "resampled" in message
    assert "(10, 12, 10)" in message and "(8, 10, 8)" in message
    assert pre.name in message and post.name in message


def _oblique_affine() -> np.ndarray:
    angle = np.deg2rad(15)
    rotation = np.array(
        [[1, 0, 0], [0, np.cos(angle), -np.sin(angle)], [0, np.sin(angle), np.cos(angle)]]
    )
    affine = covering_affine(SMALL_SHAPE)
    affine[:3, :3] = rotation @ affine[:3, :3]
    return affine


@pytest.mark.parametrize(
    ("name", "affine", "found"),
    [
        ("sub-01_bold.nii.gz", np.eye(4), r"MNI space, found an identity affine"),
        ("sub-01_bold.nii.gz", _oblique_affine(), r"MNI space, found an oblique affine"),
        ("sub-01_space-T1w_desc-preproc_bold.nii.gz", covering_affine(SMALL_SHAPE),
         r"MNI space, found space-T1w in the file name"),
    ],
    ids=["identity", "oblique", "space-T1w"],
)
def test_native_space_images(tmp_path, name, affine, found):
    path = write_bold(tmp_path / name, affine=affine)
    with pytest.raises(InputError, match=rf"expected an (axis-aligned )?image in {found}"
                       ) as error:
        load_bold(path)
    assert names_file(error, path)
    with pytest.raises(InputError, match="MNI"):
        check_mni_space(nib.load(str(path)), path)


# ---------------------------------------------------------------------------
# confounds
# ---------------------------------------------------------------------------


def test_confounds_with_fewer_rows_than_volumes(tmp_path):
    table = write_tsv(tmp_path / "short_confounds.tsv", confounds_frame(N_VOLUMES - 10))
    with pytest.raises(ConfoundsError, match=rf"expected {N_VOLUMES} rows.*found 30") as error:
        select_confounds(table, N_VOLUMES, DenoiseSettings(), "simple")
    assert names_file(error, table)


def test_confounds_lacking_strategy_columns(tmp_path):
    table = write_tsv(tmp_path / "odd_confounds.tsv", pd.DataFrame({"heart_rate": np.ones(40)}))
    with pytest.raises(ConfoundsError, match=r"'simple' strategy cannot use this table.*motion"
                       ) as error:
        select_confounds(table, N_VOLUMES, DenoiseSettings(), "simple")
    assert names_file(error, table)


def test_confounds_with_nan_after_first_row(tmp_path):
    frame = confounds_frame()
    frame.loc[12, "trans_x"] = np.nan
    table = write_tsv(tmp_path / "holey_confounds.tsv", frame)
    with pytest.raises(ConfoundsError, match=r"expected finite confound values.*trans_x"
                       ) as error:
        select_confounds(table, N_VOLUMES, DenoiseSettings(), "simple")
    assert names_file(error, table)


def test_every_volume_scrubbed(tmp_path):
    pre = write_bold(tmp_path / "pre_bold.nii", MNI_SHAPE, seed=5)
    post = write_bold(tmp_path / "post_bold.nii", MNI_SHAPE, seed=6)
    moving = write_tsv(tmp_path / "pre_confounds.tsv", confounds_frame(fd=2.0))
    still = write_tsv(tmp_path / "post_confounds.tsv", confounds_frame(fd=0.05))
    inputs = open_nifti_pair(pre, post, confounds_pre=moving, confounds_post=still)
    with pytest.raises(ConfoundsError, match=r"expected at least 10 volumes left.*found 0 of 40"
                       ) as error:
        run_comparison(inputs, fast_settings(strategy="scrubbing"))
    assert names_file(error, moving)


def test_too_few_volumes_after_scrubbing(tmp_path):
    fd = np.full(N_VOLUMES, 2.0)
    fd[10:25] = 0.05  # one still stretch of 15 volumes (nilearn keeps segments >= 5)
    table = write_tsv(tmp_path / "mostly_moving_confounds.tsv", confounds_frame(fd=fd))
    settings = DenoiseSettings(strategy="scrubbing", min_volumes=20)
    with pytest.raises(ConfoundsError, match=r"expected at least 20 volumes left.*of 40"
                       ) as error:
        select_confounds(table, N_VOLUMES, settings, "scrubbing")
    assert names_file(error, table)


def test_min_volumes_checked_when_cleaning():
    signals = np.random.default_rng(7).standard_normal((40, 3))
    with pytest.raises(InputError, match=r"expected at least 30 volumes after scrubbing, "
                       r"found 12 of 40") as error:
        clean_signals(signals, 2.0, None, np.arange(12), DenoiseSettings(min_volumes=30),
                      source="pre (sub-01_bold.nii.gz)")
    assert "sub-01_bold.nii.gz" in str(error.value)


def test_too_few_volumes_for_band_pass(tmp_path):
    pre = write_table(tmp_path / "pre_timeseries.tsv", n_rows=10)
    post = write_table(tmp_path / "post_timeseries.tsv", n_rows=10, seed=3)
    inputs = open_timeseries_pair(pre, post, tr=2.0)
    settings = fast_settings(band_pass=(0.01, 0.1), min_volumes=3)
    with pytest.raises(InputError, match=r"band-pass filtering needs more volumes.*--no-filter"
                       ) as error:
        run_comparison(inputs, settings)
    assert names_file(error, pre)


# ---------------------------------------------------------------------------
# ROI time-series tables
# ---------------------------------------------------------------------------


def _no_header(path: Path) -> None:
    rows = np.random.default_rng(0).standard_normal((20, 3))
    path.write_text("\n".join("\t".join(f"{v:.4f}" for v in row) for row in rows) + "\n")


def _non_numeric(path: Path) -> None:
    frame = pd.read_csv(write_table(path), sep="\t").astype(object)
    frame.iloc[5, 1] = "abc"
    frame.to_csv(path, sep="\t", index=False)


def _nan_cell(path: Path) -> None:
    frame = pd.read_csv(write_table(path), sep="\t")
    frame.iloc[7, 2] = np.nan
    frame.to_csv(path, sep="\t", index=False, na_rep="n/a")


def _inf_cell(path: Path) -> None:
    frame = pd.read_csv(write_table(path), sep="\t")
    frame.iloc[3, 1] = np.inf
    frame.to_csv(path, sep="\t", index=False)


def _single_column(path: Path) -> None:
    write_table(path, n_rois=1)


def _too_few_rows(path: Path) -> None:
    write_table(path, n_rows=2)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_no_header, r"expected a header row with ROI names, found numbers"),
        (_non_numeric, r"expected numbers in column '\w+', found 'abc' in row 6 \(line 7"),
        (_nan_cell, r"expected numbers in column '\w+', found 'n/a' in row 8 \(line 9"),
        (_inf_cell, r"expected finite values, found 1 NaN/Inf cells, the first in column "
                    r"'\w+', row 4 \(line 5"),
        (_single_column, r"expected at least 2 ROI columns, found 1"),
        (_too_few_rows, r"expected at least 3 rows \(volumes\), found 2"),
    ],
    ids=["no-header", "non-numeric", "nan-cell", "inf-cell", "single-column", "too-few-rows"],
)
def test_bad_timeseries_table(tmp_path, make, message):
    path = tmp_path / "sub-01_timeseries.tsv"
    make(path)
    with pytest.raises(TimeseriesTableError, match=message) as error:
        read_timeseries_table(path)
    assert names_file(error, path)


def test_timeseries_tables_with_different_columns(tmp_path):
    pre = write_table(tmp_path / "pre_timeseries.tsv")
    post = write_tsv(
        tmp_path / "post_timeseries.tsv",
        pd.read_csv(pre, sep="\t").rename(columns={"roi_3": "roi_x"}),
    )
    with pytest.raises(InputError, match=r"expected the same ROI columns.*roi_3, roi_x"
                       ) as error:
        open_timeseries_pair(pre, post)
    assert names_file(error, post)


# ---------------------------------------------------------------------------
# constant ROIs
# ---------------------------------------------------------------------------


def test_constant_roi_in_image_is_dropped_with_warning(tmp_path):
    data = bold_data(MNI_SHAPE, N_VOLUMES, seed=8)
    data[23:] = 100.0  # voxels with x < 0 mm (left hemisphere) carry no signal
    pre = write_image(tmp_path / "pre_bold.nii", data)
    post = write_bold(tmp_path / "post_bold.nii", MNI_SHAPE, seed=9)
    comparison = run_comparison(open_nifti_pair(pre, post), fast_settings())
    assert any("constant signal and were left out" in w for w in comparison.warnings)
    assert comparison.rois.names
    assert all(np.isfinite(s.r).all() for s in (comparison.pre, comparison.post))


def test_constant_roi_in_table_is_dropped_with_warning(tmp_path):
    pre = write_table(tmp_path / "pre_timeseries.tsv", n_rows=30, n_rois=4)
    frame = pd.read_csv(pre, sep="\t")
    frame["roi_2"] = 5.0
    write_tsv(pre, frame)
    post = write_table(tmp_path / "post_timeseries.tsv", n_rows=30, n_rois=4, seed=5)
    comparison = run_comparison(open_timeseries_pair(pre, post), fast_settings(min_volumes=3))
    assert comparison.rois.names == ["roi_0", "roi_1", "roi_3"]
    assert any("constant signal" in w and "roi_2" in w for w in comparison.warnings)


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------


def _truncate(path: Path) -> None:
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])


def _nan_inside_brain(path: Path) -> None:
    img = nib.load(str(path))
    data = np.asarray(img.dataobj).copy()
    data[22, 27, 22, :] = np.nan
    write_image(path, data)


@pytest.mark.parametrize(
    ("spoil", "message"),
    [(_truncate, r"truncated"), (_nan_inside_brain, r"NaN or Inf")],
    ids=["truncated-file", "nan-in-brain"],
)
def test_cli_bad_input_exit_code_and_no_side_effects(tmp_path, capsys, spoil, message):
    inputs_dir = tmp_path / "inputs"
    pre = write_bold(inputs_dir / "pre_bold.nii", MNI_SHAPE, seed=10)
    post = write_bold(inputs_dir / "post_bold.nii", MNI_SHAPE, seed=11)
    spoil(pre)
    before = {p: sha256(p) for p in (pre, post)}
    out = tmp_path / "results"
    code = main([
        "analyze", "--pre", str(pre), "--post", str(post), "--out", str(out),
        "--atlas", "dosenbach160", "--strategy", "none", "--no-filter", "--min-volumes", "10",
    ])
    assert code == 2
    stderr = capsys.readouterr().err
    lines = [line for line in stderr.splitlines() if line.strip()]
    error_lines = [line for line in lines if line.startswith("error:")]
    assert len(error_lines) == 1 and lines[-1] == error_lines[0]
    assert re.search(message, error_lines[0]) and pre.name in error_lines[0]
    assert "Traceback" not in stderr
    if spoil is _truncate:  # fails before any work: the error is the only line
        assert lines == error_lines
    assert {p: sha256(p) for p in (pre, post)} == before
    assert sorted(p.name for p in inputs_dir.iterdir()) == ["post_bold.nii", "pre_bold.nii"]
    if out.exists():
        assert not list(out.rglob("*.part"))
        assert not [p for p in out.rglob("*") if p.is_file()]


def test_cli_missing_file(tmp_path, capsys):
    post = write_bold(tmp_path / "post_bold.nii.gz")
    code = main(["analyze", "--pre", str(tmp_path / "gone_bold.nii.gz"), "--post", str(post),
                 "--out", str(tmp_path / "out")])
    assert code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error:") and "gone_bold.nii.gz" in lines[0]
    assert "not found" in lines[0]
