"""Every bad input: the CLI exits 2 with one line, the window shows the problem and then
still opens the demo, inputs stay byte-identical and no partial output is left (issue 9)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from core.cli import main as cli_main
from tests.core.io.test_core_bad_inputs import (
    MNI_SHAPE,
    bold_data,
    confounds_frame,
    write_bold,
    write_image,
    write_tsv,
)

Case = Callable[[Path], tuple[list[str], Path]]  # -> (CLI input arguments, file to name)


def _pair(tmp: Path, pre: Path, post: Path | None = None) -> tuple[list[str], Path]:
    post = post or write_bold(tmp / "post_bold.nii.gz", seed=3)
    return ["--pre", str(pre), "--post", str(post)], pre


def truncated(tmp):
    good = write_bold(tmp / "good.nii.gz")
    bad = tmp / "truncated_bold.nii.gz"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    return _pair(tmp, bad)


def png_renamed(tmp):
    bad = tmp / "photo_bold.nii"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(600))
    return _pair(tmp, bad)


def empty_file(tmp):
    bad = tmp / "empty_bold.nii.gz"
    bad.write_bytes(b"")
    return _pair(tmp, bad)


def three_d(tmp):
    return _pair(tmp, write_image(tmp / "anat_3d.nii.gz", bold_data(n_volumes=None)))


def five_d(tmp):
    return _pair(tmp, write_image(tmp / "five_d.nii.gz", bold_data(n_volumes=20)[..., None]
                                  .repeat(2, axis=4)))


def one_volume(tmp):
    return _pair(tmp, write_bold(tmp / "one_vol.nii.gz", n_volumes=1))


def nan_voxels(tmp):
    data = bold_data(MNI_SHAPE, 60)
    data[20:24, 25:30, 20:24, 5] = np.nan
    pre = write_image(tmp / "nan_bold.nii.gz", data)
    return _pair(tmp, pre, write_bold(tmp / "post_bold.nii.gz", MNI_SHAPE, 60, seed=3))


def tr_missing(tmp):
    return _pair(tmp, write_bold(tmp / "no_tr_bold.nii.gz", tr=None))


def native_space(tmp):
    return _pair(tmp, write_bold(tmp / "sub-1_space-T1w_desc-preproc_bold.nii.gz"))


def identity_affine(tmp):
    return _pair(tmp, write_bold(tmp / "voxel_coords_bold.nii.gz", affine=np.eye(4)))


def too_few_volumes(tmp):
    pre = write_bold(tmp / "short_bold.nii.gz", MNI_SHAPE, 30)
    return _pair(tmp, pre, write_bold(tmp / "post_bold.nii.gz", MNI_SHAPE, 30, seed=3))


def confounds_short(tmp):
    pre = write_bold(tmp / "pre_bold.nii.gz", MNI_SHAPE, 60)
    post = write_bold(tmp / "post_bold.nii.gz", MNI_SHAPE, 60, seed=3)
    short = write_tsv(tmp / "short_confounds.tsv", confounds_frame(40))
    ok = write_tsv(tmp / "post_confounds.tsv", confounds_frame(60))
    return ["--pre", str(pre), "--post", str(post), "--confounds-pre", str(short),
            "--confounds-post", str(ok)], short


def confounds_missing_columns(tmp):
    pre = write_bold(tmp / "pre_bold.nii.gz", MNI_SHAPE, 60)
    post = write_bold(tmp / "post_bold.nii.gz", MNI_SHAPE, 60, seed=3)
    odd = write_tsv(tmp / "odd_confounds.tsv", pd.DataFrame({"heart_rate": np.ones(60)}))
    ok = write_tsv(tmp / "post_confounds.tsv", confounds_frame(60))
    return ["--pre", str(pre), "--post", str(post), "--confounds-pre", str(odd),
            "--confounds-post", str(ok), "--strategy", "simple"], odd


def all_scrubbed(tmp):
    pre = write_bold(tmp / "pre_bold.nii.gz", MNI_SHAPE, 60)
    post = write_bold(tmp / "post_bold.nii.gz", MNI_SHAPE, 60, seed=3)
    moving = write_tsv(tmp / "moving_confounds.tsv", confounds_frame(60, fd=2.0))
    ok = write_tsv(tmp / "post_confounds.tsv", confounds_frame(60))
    return ["--pre", str(pre), "--post", str(post), "--confounds-pre", str(moving),
            "--confounds-post", str(ok), "--strategy", "scrubbing"], moving


def symlink_loop(tmp):
    a, b = tmp / "loop_a.nii.gz", tmp / "loop_b.nii.gz"
    a.symlink_to(b)
    b.symlink_to(a)
    return _pair(tmp, a)


def huge_sparse(tmp):
    header = nib.Nifti1Header()
    header.set_data_shape((256, 256, 256, 2400))
    header.set_data_dtype(np.float32)
    header.set_sform(np.array([[-1.0, 0, 0, 128], [0, 1, 0, -128], [0, 0, 1, -100],
                               [0, 0, 0, 1]]), code=4)
    header["pixdim"][4] = 2.0
    path = tmp / "huge_bold.nii"
    with path.open("wb") as stream:
        stream.write(header.binaryblock + b"\x00" * 4)
        stream.truncate(352 + 256**3 * 2400 * 4)
    return _pair(tmp, path)


def missing_file(tmp):
    return _pair(tmp, tmp / "does_not_exist_bold.nii.gz")


def folder_as_file(tmp):
    folder = tmp / "folder_bold.nii.gz"
    folder.mkdir()
    return _pair(tmp, folder)


def no_orientation(tmp):
    """sform and qform codes 0, voxel sizes 0: nibabel would invent a 1 mm grid at the origin."""
    header = nib.Nifti1Header()
    header.set_data_shape((12, 12, 8, 20))
    header.set_data_dtype(np.float32)
    header["pixdim"][1:5] = [0, 0, 0, 2.0]
    header["vox_offset"] = 352
    path = tmp / "unoriented_bold.nii"
    path.write_bytes(header.binaryblock + b"\x00" * 4
                     + bold_data((12, 12, 8), 20).tobytes(order="F"))
    return _pair(tmp, path)


def text_in_confounds(tmp):
    pre = write_bold(tmp / "pre_bold.nii.gz", MNI_SHAPE, 60)
    post = write_bold(tmp / "post_bold.nii.gz", MNI_SHAPE, 60, seed=3)
    frame = confounds_frame(60).astype(object)
    frame.loc[9, "rot_z"] = "see notes"
    wordy = write_tsv(tmp / "wordy_confounds.tsv", frame)
    ok = write_tsv(tmp / "post_confounds.tsv", confounds_frame(60))
    return ["--pre", str(pre), "--post", str(post), "--confounds-pre", str(wordy),
            "--confounds-post", str(ok), "--strategy", "simple"], wordy


def different_trs_unfiltered(tmp):
    pre = write_bold(tmp / "tr1_bold.nii.gz", MNI_SHAPE, 60, tr=1.0)
    return _pair(tmp, pre, write_bold(tmp / "post_bold.nii.gz", MNI_SHAPE, 60, seed=3))


def empty_fmriprep_folder(tmp):
    folder = tmp / "empty_derivatives"
    folder.mkdir()
    return ["--fmriprep", str(folder)], folder


CASES = [truncated, png_renamed, empty_file, three_d, five_d, one_volume, nan_voxels,
         tr_missing, native_space, identity_affine, too_few_volumes, confounds_short,
         confounds_missing_columns, all_scrubbed, symlink_loop, huge_sparse, missing_file,
         folder_as_file, empty_fmriprep_folder, no_orientation, text_in_confounds,
         different_trs_unfiltered]


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()
            and p.stat().st_size < 10**8}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_cli_refuses_with_one_line(case, tmp_path, capsys):
    inputs = tmp_path / "in put ü"  # spaces and non-ASCII in every path
    inputs.mkdir()
    args, named = case(inputs)
    before = _hashes(inputs)
    out = tmp_path / "out"
    code = cli_main(["analyze", *args, "--no-filter", "--out", str(out)])
    assert code == 2
    lines = [line for line in capsys.readouterr().err.strip().splitlines()
             if not line.startswith("[")]  # progress lines
    assert len(lines) == 1 and lines[0].startswith("error:"), lines
    assert named.name in lines[0]
    assert _hashes(inputs) == before
    assert not out.exists() or not any(out.iterdir())


def test_window_shows_each_problem_then_opens_the_demo(qtbot, isolated_settings, tmp_path):
    from gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    for case in CASES:
        folder = tmp_path / case.__name__
        folder.mkdir()
        args, named = case(folder)
        if len(args) > 4:  # confounds tables: the window opens them from fMRIPrep folders
            continue
        if case is different_trs_unfiltered:  # the window filters by default: a warning only
            continue
        before = _hashes(folder)
        with qtbot.waitSignal(window.error_shown, timeout=60000) as shown:
            if args[0] == "--fmriprep":
                window.open_path(args[1])
            else:
                window.open_path(args[1], args[3])
        assert named.name in shown.args[0], (case.__name__, shown.args[0])
        assert _hashes(folder) == before
    with qtbot.waitSignal(window.controller.comparison_ready, timeout=120000):
        window.open_demo()
    window.close()
