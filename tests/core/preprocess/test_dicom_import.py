"""import-dicom on the real GE EPI series: TR, slice timing, BIDS layout, anonymity."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import shutil
import subprocess
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from dicom_testkit import (
    REAL_PATIENT,
    SENTINELS,
    SLICES,
    TR_MS,
    VOLUMES,
    real_files,
    set_patient,
    write_visit,
)

from core.cli import main
from core.errors import AnalysisCancelled
from core.preprocess.bids_writer import REMOVED_FIELDS
from core.preprocess.dicom_import import import_dicom


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def imported(visits, tmp_path_factory):
    out = tmp_path_factory.mktemp("import") / "bids"
    before = {name: _hashes(folder) for name, folder in visits.items()}
    result = import_dicom(visits["pre"], visits["post"], out)
    assert {name: _hashes(folder) for name, folder in visits.items()} == before
    return result


def test_the_real_series_converts_with_the_dicom_repetition_time(imported):
    dicom_tr = {float(pydicom.dcmread(f, stop_before_pixels=True).RepetitionTime)
                for f in real_files()}
    assert dicom_tr == {TR_MS}
    for session in imported.sessions:
        assert session.tr == TR_MS / 1000
        assert session.shape == (64, 64, SLICES, VOLUMES)
        assert session.bold_series == "series 4 'Axial EPI-FMRI (Interleaved I to S)'"
        bold = imported.bids_dir / f"sub-01/ses-{session.label}/func" / \
            f"sub-01_ses-{session.label}_task-rest_bold.nii.gz"
        header = nib.load(bold).header
        assert header.get_zooms()[3] == pytest.approx(TR_MS / 1000)
        assert header.get_xyzt_units() == ("mm", "sec")
        sidecar = json.loads(bold.with_name(bold.name.replace(".nii.gz", ".json")).read_text())
        assert sidecar["RepetitionTime"] == pytest.approx(TR_MS / 1000)
        assert sidecar["TaskName"] == "rest"


def test_slice_timing_is_interleaved_inferior_to_superior(imported):
    """Closed form: odd slices (0, 2, ...) first, then even, one TR/15 apart."""
    order = [*range(0, SLICES, 2), *range(1, SLICES, 2)]
    expected = np.empty(SLICES)
    expected[order] = np.arange(SLICES) * (TR_MS / 1000) / SLICES
    bold_json = imported.bids_dir / "sub-01/ses-pre/func/sub-01_ses-pre_task-rest_bold.json"
    timing = np.array(json.loads(bold_json.read_text())["SliceTiming"])
    assert np.allclose(timing, expected, atol=1e-4)
    assert imported.sessions[0].has_slice_timing


def test_the_bids_dataset_has_the_expected_files(imported):
    root = imported.bids_dir
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == [
        "README", "dataset_description.json", "participants.tsv",
        "sub-01/ses-post/func/sub-01_ses-post_task-rest_bold.json",
        "sub-01/ses-post/func/sub-01_ses-post_task-rest_bold.nii.gz",
        "sub-01/ses-pre/func/sub-01_ses-pre_task-rest_bold.json",
        "sub-01/ses-pre/func/sub-01_ses-pre_task-rest_bold.nii.gz",
    ]
    description = json.loads((root / "dataset_description.json").read_text())
    assert description["BIDSVersion"] and description["DatasetType"] == "raw"
    assert [g["Name"] for g in description["GeneratedBy"]] == ["prepost-review", "dcm2niix"]
    assert description["GeneratedBy"][1]["Version"].startswith("v1.")
    assert (root / "participants.tsv").read_text() == "participant_id\nsub-01\n"
    readme = (root / "README").read_text()
    assert "does not keep" in readme and "birth date" in readme
    assert not [p for p in root.parent.iterdir() if p.name.startswith(".")]  # no staging left


def test_pre_and_post_hold_the_same_voxels_as_the_dicom(imported):
    """The second visit is the first one's data as another acquisition: same voxels."""
    pre, post = (nib.load(imported.bids_dir / f"sub-01/ses-{s}/func/"
                          f"sub-01_ses-{s}_task-rest_bold.nii.gz").get_fdata()
                 for s in ("pre", "post"))
    assert np.array_equal(pre, post)
    first = pydicom.dcmread(real_files()[0]).pixel_array  # slice 1 of volume 1
    assert {int(first.sum())} & {int(pre[..., k, 0].sum()) for k in range(SLICES)}


def test_sidecars_keep_acquisition_fields_and_drop_identifying_ones(imported):
    for sidecar in imported.bids_dir.rglob("*.json"):
        data = json.loads(sidecar.read_text())
        assert not set(data) & REMOVED_FIELDS, sidecar
        assert not [k for k in data if k.startswith("Patient") and k != "PatientPosition"]
        if sidecar.name.endswith("_bold.json"):
            assert {"EchoTime", "FlipAngle", "PhaseEncodingDirection", "Manufacturer"} <= set(data)


def _output_texts(root: Path) -> list[tuple[str, bytes]]:
    """Every output's name and content; NIfTI decompressed."""
    found = []
    for path in sorted(root.rglob("*")):
        found.append((str(path), str(path.relative_to(root)).encode()))
        if path.is_file():
            data = path.read_bytes()
            found.append((str(path), gzip.decompress(data) if path.suffix == ".gz" else data))
    return found


def test_the_real_patient_fields_never_leave_the_dicom(imported):
    name, patient_id, date = REAL_PATIENT
    for source in real_files()[:1]:
        ds = pydicom.dcmread(source, stop_before_pixels=True)
        assert (str(ds.PatientName), ds.PatientID, ds.StudyDate) == REAL_PATIENT
    for where, data in _output_texts(imported.bids_dir):
        text = data if not where.endswith(".nii.gz") else data[:352]  # header: text-like part
        for value in (name.encode(), b"Regression", date.encode(), b"2018-09-18"):
            assert value not in data, (where, value)
        assert patient_id.encode() not in text, where


def test_sentinel_identities_are_in_no_output_message_or_log(tmp_path, capsys, caplog):
    files = real_files()
    pre = write_visit(tmp_path / "in" / "pre", files, "s-pre", set_patient(SENTINELS))
    post = write_visit(tmp_path / "in" / "post", files, "s-post", set_patient(SENTINELS))
    assert pydicom.dcmread(next(pre.iterdir())).PatientID == SENTINELS["PatientID"]
    caplog.set_level(logging.DEBUG)
    assert main(["import-dicom", str(pre), str(post), "--out", str(tmp_path / "bids")]) == 0
    captured = capsys.readouterr()
    words = [*SENTINELS.values(), "Sentinel", "Jane", "5581237", "19610402", "1961-04-02"]
    for where, data in [*_output_texts(tmp_path / "bids"), ("stdout", captured.out.encode()),
                        ("stderr", captured.err.encode()), ("log", caplog.text.encode())]:
        for word in words:
            assert word.encode() not in data, (where, word)
    assert (tmp_path / "bids" / "sub-01").is_dir()  # the default label, not the PatientID


def test_subject_label_is_the_users_choice(visits, tmp_path, capsys):
    assert main(["import-dicom", str(visits["pre"]), str(visits["post"]), "--out",
                 str(tmp_path / "a"), "--subject", "sub-K042"]) == 0
    assert (tmp_path / "a" / "sub-K042" / "ses-post" / "func" /
            "sub-K042_ses-post_task-rest_bold.nii.gz").is_file()
    assert main(["import-dicom", str(visits["pre"]), str(visits["post"]), "--out",
                 str(tmp_path / "b"), "--subject", "Jane Doe"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and "letters and digits" in err[-1]
    assert not (tmp_path / "b").exists()


def test_t1w_goes_to_anat_and_the_localiser_is_ignored(visits_with_t1w, tmp_path):
    result = import_dicom(visits_with_t1w["pre"], visits_with_t1w["post"], tmp_path / "bids")
    for session in result.sessions:
        assert session.t1w_series == "series 2 'Sag T1 MPRAGE'"
        assert session.bold_series.startswith("series 4 ")
        t1w = tmp_path / f"bids/sub-01/ses-{session.label}/anat/sub-01_ses-{session.label}_T1w"
        assert nib.load(f"{t1w}.nii.gz").shape == (64, 64, SLICES)
        assert json.loads(Path(f"{t1w}.json").read_text())["MRAcquisitionType"] == "3D"
    assert not [n for n in result.notes if "T1w" in n]
    validator = shutil.which("bids-validator")
    if validator:  # an independent check where the BIDS validator is installed
        run = subprocess.run([validator, str(tmp_path / "bids"), "--ignoreWarnings"],
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout[-2000:]


def test_the_longest_bold_series_is_taken_and_can_be_overridden(visits, tmp_path):
    files = real_files()

    def shorter(ds, index) -> None:
        ds.SeriesNumber = 6
    for name in ("pre", "post"):
        folder = tmp_path / name
        shutil.copytree(visits[name], folder / "main")
        write_visit(folder / "short", files[: 6 * SLICES], f"{name}-short", shorter)
    result = import_dicom(tmp_path / "pre", tmp_path / "post", tmp_path / "auto")
    assert [s.n_volumes for s in result.sessions] == [VOLUMES, VOLUMES]
    assert any("took the longest BOLD series" in n and "series 6" in n for n in result.notes)
    chosen = import_dicom(tmp_path / "pre", tmp_path / "post", tmp_path / "chosen",
                          bold_series=6)
    assert [s.n_volumes for s in chosen.sessions] == [6, 6]
    mixed = import_dicom(tmp_path / "pre", tmp_path / "post", tmp_path / "mixed",
                         bold_series=(4, 6))
    assert [s.n_volumes for s in mixed.sessions] == [VOLUMES, 6]


def test_a_cancel_leaves_nothing_behind(visits, tmp_path):
    def progress(fraction: float, message: str) -> None:
        if "Converting post" in message:
            raise AnalysisCancelled(message)

    with pytest.raises(AnalysisCancelled):
        import_dicom(visits["pre"], visits["post"], tmp_path / "bids", progress=progress)
    assert list(tmp_path.iterdir()) == []


def test_visits_acquired_differently_are_noted(visits, tmp_path):
    def faster(ds, _index) -> None:
        ds.RepetitionTime = 2500

    post = write_visit(tmp_path / "post", real_files(), "post-tr", faster)
    result = import_dicom(visits["pre"], post, tmp_path / "bids")
    assert [s.tr for s in result.sessions] == [5.0, 2.5]
    assert ("the visits were acquired differently: pre TR 5 s, 64×64×15×10; post TR 2.5 s, "
            "64×64×15×10") in result.notes
    header = nib.load(tmp_path / "bids/sub-01/ses-post/func/sub-01_ses-post_task-rest_bold"
                      ".nii.gz").header
    assert header.get_zooms()[3] == pytest.approx(2.5)


def test_series_mixed_in_one_flat_folder_are_separated(tmp_path):
    """No folder per series: each series' files are linked apart before dcm2niix."""
    from dicom_testkit import as_localiser, as_t1w

    files = real_files()
    for name in ("pre", "post"):
        flat = tmp_path / name
        write_visit(flat, files, f"{name}-bold")
        write_visit(flat, files[:SLICES], f"{name}-t1", as_t1w)
        write_visit(flat, files[:3], f"{name}-loc", as_localiser)
        assert len(list(flat.iterdir())) == len(files) + SLICES + 3
    result = import_dicom(tmp_path / "pre", tmp_path / "post", tmp_path / "bids")
    assert [(s.n_volumes, s.t1w_series) for s in result.sessions] == \
        [(VOLUMES, "series 2 'Sag T1 MPRAGE'")] * 2
    assert list(tmp_path.glob(".bids.*")) == []
