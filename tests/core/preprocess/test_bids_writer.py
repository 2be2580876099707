"""TR and slice timing checked against the header; sidecars cleaned; series kinds."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from core.errors import DicomImportError
from core.preprocess.bids_writer import (
    SessionImages,
    check_timing,
    clean_sidecar,
    write_bids_dataset,
)
from core.preprocess.dicom_scan import DicomSeries
from core.preprocess.series_convert import ConvertedImage, ConvertedSeries
from core.preprocess.series_kinds import choose_bold, choose_t1w, kind_of

SHAPE = (7, 8, 9, 12)  # unequal axes: a swapped axis cannot pass
SIDECAR = {"RepetitionTime": 2.5, "SliceTiming": list(np.arange(9) * 2.5 / 9),
           "EchoTime": 0.03, "PatientPosition": "HFS", "InstitutionName": "Somewhere",
           "PatientName": "X", "PatientWeight": 70, "AcquisitionDateTime": "2020-01-01T10:00"}


def _image(path: Path, tr: float, unit: str = "sec") -> Path:
    data = np.arange(np.prod(SHAPE), dtype=np.int16).reshape(SHAPE)
    img = nib.Nifti1Image(data, np.diag([3.0, 3.0, 4.0, 1.0]))
    img.header.set_zooms((3.0, 3.0, 4.0, tr))
    img.header.set_xyzt_units("mm", unit)
    nib.save(img, path)
    return path


def test_a_header_tr_reset_to_1_is_corrected_from_the_sidecar(tmp_path):
    header = nib.load(_image(tmp_path / "b.nii.gz", 1.0)).header
    sidecar, fix, notes = check_timing(header, SIDECAR, "pre")
    assert fix == 2.5
    assert notes == ["pre: the NIfTI header said TR 1 s, the DICOM (sidecar) 2.5 s; the header "
                     "was corrected to 2.5 s"]
    assert sidecar["SliceTiming"] == SIDECAR["SliceTiming"]


def test_a_header_tr_in_milliseconds_agrees(tmp_path):
    header = nib.load(_image(tmp_path / "b.nii.gz", 2500.0, "msec")).header
    assert check_timing(header, SIDECAR, "pre")[1:] == (None, [])


@pytest.mark.parametrize("timing", [list(np.arange(8) * 0.3), [0.0] * 8 + [2.6]])
def test_slice_timing_that_does_not_fit_is_left_out(tmp_path, timing):
    header = nib.load(_image(tmp_path / "b.nii.gz", 2.5)).header
    sidecar, fix, notes = check_timing(header, {**SIDECAR, "SliceTiming": timing}, "post")
    assert "SliceTiming" not in sidecar and fix is None
    assert "left out, so no slice-timing correction" in notes[0]


@pytest.mark.parametrize("tr", [None, 0, 5000])
def test_an_unusable_repetition_time_is_refused(tmp_path, tr):
    header = nib.load(_image(tmp_path / "b.nii.gz", 2.5)).header
    with pytest.raises(DicomImportError, match="expected the BOLD series' RepetitionTime"):
        check_timing(header, {**SIDECAR, "RepetitionTime": tr}, "pre")


def test_clean_sidecar_keeps_acquisition_fields_only():
    assert clean_sidecar(SIDECAR) == {k: SIDECAR[k] for k in
                                      ("RepetitionTime", "SliceTiming", "EchoTime",
                                       "PatientPosition")}


def test_the_written_bold_has_the_sidecar_tr_and_the_same_voxels(tmp_path):
    source = _image(tmp_path / "s.nii.gz", 1.0)
    before, affine = nib.load(source).get_fdata(), nib.load(source).affine
    files, notes = write_bids_dataset(
        tmp_path / "bids", "01", [SessionImages("pre", source, SIDECAR)],
        {"version": "0", "dcm2niix": "v1", "flags": "-z y"})
    bold = tmp_path / "bids/sub-01/ses-pre/func/sub-01_ses-pre_task-rest_bold.nii.gz"
    assert bold in files and len(notes) == 1
    written = nib.load(bold)
    assert written.header.get_zooms()[3] == pytest.approx(2.5)
    assert np.array_equal(written.get_fdata(), before)
    assert np.allclose(written.affine, affine)
    sidecar = json.loads(bold.with_name("sub-01_ses-pre_task-rest_bold.json").read_text())
    assert sidecar["TaskName"] == "rest" and "InstitutionName" not in sidecar


def _converted(number: int, shape, sidecar: dict, bval: bool = False) -> ConvertedSeries:
    image = ConvertedImage(Path(f"s{number}.nii.gz"), sidecar, shape, (1.0,) * len(shape), bval)
    return ConvertedSeries(DicomSeries(f"uid{number}", number, sidecar.get(
        "SeriesDescription", ""), ()), (image,))


EPI = {"ScanningSequence": "EP\\GR", "ImageType": ["ORIGINAL", "PRIMARY", "M", "ND"]}


@pytest.mark.parametrize(("shape", "sidecar", "bval", "kind"), [
    ((64, 64, 30, 200), EPI, False, "bold"),
    ((64, 64, 30, 4), EPI, False, "other"),  # too short for a time series
    ((64, 64, 30, 200), {"ScanningSequence": "GR"}, False, "other"),  # not EPI
    ((64, 64, 30, 200), {**EPI, "ImageType": ["DERIVED", "PRIMARY", "MOCO"]}, False, "derived"),
    ((64, 64, 30, 200), {**EPI, "ImageType": ["ORIGINAL", "PRIMARY", "P", "ND"]}, False,
     "derived"),
    ((96, 96, 60, 33), EPI, True, "dwi"),
    ((256, 256, 176), {"SeriesDescription": "t1_mprage_sag"}, False, "t1w"),
    ((256, 256, 176), {"BidsGuess": ["anat", "_T1w"]}, False, "t1w"),
    ((256, 256, 176), {"SeriesDescription": "T2 SPACE"}, False, "3d"),
    ((256, 256, 3), {"SeriesDescription": "AAHead_Scout"}, False, "localiser"),
    ((512, 512, 1), {"SeriesDescription": "Survey"}, False, "localiser"),
])
def test_series_kinds(shape, sidecar, bval, kind):
    series = _converted(3, shape, sidecar, bval)
    assert kind_of(series.images[0], series) == kind


def test_two_equally_long_bold_series_need_a_choice():
    series = [_converted(3, (64, 64, 30, 200), EPI), _converted(7, (64, 64, 30, 200), EPI)]
    with pytest.raises(DicomImportError, match=r"found 2 of 200 volumes .* --bold-series"):
        choose_bold(series, "visit")
    assert choose_bold(series, "visit", 7).series.source.number == 7


def test_the_largest_t1w_is_taken():
    series = [_converted(2, (176, 256, 256), {"SeriesDescription": "T1 MPRAGE"}),
              _converted(5, (88, 128, 128), {"SeriesDescription": "T1 MPRAGE lowres"})]
    choice = choose_t1w(series, "visit")
    assert choice.series.source.number == 2 and "series 5" in choice.note
    assert choose_t1w([series[1]], "visit", None).series.source.number == 5
    assert choose_t1w([], "visit") is None
