"""import-dicom's bad input: one clear `error:` line, exit 2, nothing half written."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from dicom_testkit import (
    SLICES,
    as_localiser,
    as_t1w,
    real_files,
    set_patient,
    write_visit,
)

from core.cli import main


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _refused(capsys, pre: Path, post: Path, out: Path, *extra: str) -> str:
    """Run import-dicom expecting exit 2; return its one error line."""
    inputs = {str(f): _hashes(f) for f in (pre, post) if f.is_dir()}
    code = main(["import-dicom", str(pre), str(post), "--out", str(out), *extra])
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert code == 2, err
    assert len(errors) == 1, err
    assert not out.exists() or not any(out.iterdir())
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]
    assert {str(f): _hashes(f) for f in (pre, post) if f.is_dir()} == inputs
    return errors[0]


@pytest.fixture
def bold_post(tmp_path):
    return write_visit(tmp_path / "post", real_files(), "post")


def test_a_folder_without_bold(tmp_path, capsys, bold_post):
    pre = write_visit(tmp_path / "pre", real_files()[:SLICES], "pre-t1", as_t1w)
    line = _refused(capsys, pre, bold_post, tmp_path / "bids")
    assert "expected a BOLD time series" in line
    assert "series 2 'Sag T1 MPRAGE' (a T1w image, 64×64×15)" in line
    assert str(pre) in line and "--bold-series" in line


def test_a_3d_only_series(tmp_path, capsys, bold_post):
    pre = write_visit(tmp_path / "pre", real_files()[:SLICES], "pre-3d")
    line = _refused(capsys, pre, bold_post, tmp_path / "bids")
    assert "a single 3D image, 64×64×15" in line and "expected a BOLD time series" in line


def test_a_localiser_only(tmp_path, capsys, bold_post):
    pre = write_visit(tmp_path / "pre", real_files()[:3], "pre-loc", as_localiser)
    line = _refused(capsys, pre, bold_post, tmp_path / "bids")
    assert "series 1 '3-Plane Loc' (a localiser" in line


def test_a_localiser_named_as_the_bold_series(tmp_path, capsys, bold_post):
    pre = tmp_path / "pre"
    write_visit(pre / "bold", real_files(), "pre-bold")
    write_visit(pre / "loc", real_files()[:3], "pre-loc", as_localiser)
    line = _refused(capsys, pre, bold_post, tmp_path / "bids", "--bold-series", "1")
    assert "expected a BOLD time series as series 1" in line and "localiser" in line


def test_a_series_number_that_does_not_exist(tmp_path, capsys, bold_post):
    pre = write_visit(tmp_path / "pre", real_files(), "pre")
    line = _refused(capsys, pre, bold_post, tmp_path / "bids", "--bold-series", "9")
    assert "expected a series number 9 for the BOLD series, found series 4" in line


def test_one_session_only_the_same_folder_twice(tmp_path, capsys, bold_post):
    line = _refused(capsys, bold_post, bold_post, tmp_path / "bids")
    assert "same folder twice" in line and "one session only" in line


def test_one_session_only_the_same_acquisition_in_both_folders(tmp_path, capsys, bold_post):
    copy = tmp_path / "copy"
    shutil.copytree(bold_post, copy)
    line = _refused(capsys, bold_post, copy, tmp_path / "bids")
    assert "same BOLD acquisition" in line and "one session only" in line


def test_one_session_only_the_post_folder_missing(tmp_path, capsys, bold_post):
    with pytest.raises(SystemExit) as stop:  # argparse: one line, exit 2
        main(["import-dicom", str(bold_post), "--out", str(tmp_path / "bids")])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "required: POST_DIR" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bids").exists()


def test_mixed_subjects_are_refused_without_showing_who(tmp_path, capsys):
    jane = {"PatientName": "Doe^Jane", "PatientID": "MRN1000001"}
    john = {"PatientName": "Roe^John", "PatientID": "MRN2000002"}
    pre = write_visit(tmp_path / "pre", real_files(), "pre", set_patient(jane))
    post = write_visit(tmp_path / "post", real_files(), "post", set_patient(john))
    line = _refused(capsys, pre, post, tmp_path / "bids")
    assert "PatientID, PatientName differ (values not shown)" in line
    for value in (*jane.values(), *john.values(), "Doe", "Roe", "1000001", "2000002"):
        assert value not in line


def test_two_patients_in_one_visit_folder(tmp_path, capsys, bold_post):
    pre = tmp_path / "pre"
    write_visit(pre / "a", real_files(), "a", set_patient({"PatientID": "MRN1000001"}))
    write_visit(pre / "b", real_files()[:SLICES], "b", set_patient({"PatientID": "MRN2"}))
    line = _refused(capsys, pre, bold_post, tmp_path / "bids")
    assert "2 different PatientIDs (values not shown)" in line and "MRN" not in line


@pytest.mark.parametrize("keep", [12000, -100], ids=["in-the-header", "in-the-pixels"])
def test_a_truncated_dicom_file_is_named(tmp_path, capsys, bold_post, keep):
    pre = write_visit(tmp_path / "pre", real_files(), "pre")
    victim = sorted(pre.iterdir())[76]
    data = victim.read_bytes()
    victim.write_bytes(data[:keep])
    assert 0 < victim.stat().st_size < len(data)
    line = _refused(capsys, pre, bold_post, tmp_path / "bids")
    assert str(victim) in line and "truncated" in line


def test_a_missing_slice_is_reported_from_dcm2niix(tmp_path, capsys, bold_post):
    pre = write_visit(tmp_path / "pre", real_files(), "pre")
    sorted(pre.iterdir())[76].unlink()
    line = _refused(capsys, pre, bold_post, tmp_path / "bids")
    assert "not convertible: dcm2niix: DICOM images may be missing" in line


def test_a_folder_without_dicom(tmp_path, capsys, bold_post):
    pre = tmp_path / "pre"
    pre.mkdir()
    (pre / "notes.txt").write_text("no images here")
    line = _refused(capsys, pre, bold_post, tmp_path / "bids")
    assert "expected DICOM images of one visit, found none among 1 files" in line


def test_the_output_may_not_be_inside_an_input(tmp_path, capsys, bold_post):
    pre = write_visit(tmp_path / "pre", real_files(), "pre")
    line = _refused(capsys, pre, bold_post, pre / "bids")
    assert "may not be inside an input folder" in line


def test_an_output_folder_with_files_is_not_touched(tmp_path, capsys, bold_post):
    pre = write_visit(tmp_path / "pre", real_files(), "pre")
    out = tmp_path / "bids"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["import-dicom", str(pre), str(bold_post), "--out", str(out)]) == 2
    assert "expected a new or empty output folder" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
