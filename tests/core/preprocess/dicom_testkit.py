"""DICOM visits built at test time from the real GE EPI series in ../shared (never committed).

The real series (150 files: 15 slices x 10 volumes, TR 5000 ms) is the pre visit as
it is.  Other visits are copies rewritten with pydicom: new UIDs (a second visit is
another acquisition), patient fields set to sentinels, subsets of files, a synthetic
T1w series, a localiser, a truncated file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
REAL_SERIES = ROOT.parent / "shared" / "data" / "dicom" / "ge_epi_fmri"
SLICES, VOLUMES, TR_MS = 15, 10, 5000.0
REAL_PATIENT = ("Test^Regression", "DEV", "20180918")  # name, ID, the scan's date
SENTINELS = {"PatientName": "Doe^Jane^Sentinelname", "PatientID": "MRN5581237",
             "PatientBirthDate": "19610402", "InstitutionName": "Sentinel General Hospital",
             "ReferringPhysicianName": "Who^Referred^Sentinel"}


def real_files() -> list[Path]:
    files = sorted(REAL_SERIES.glob("*.dcm"))
    if len(files) != SLICES * VOLUMES:
        pytest.skip(f"the real DICOM series is not at {REAL_SERIES}")
    return files


def write_visit(dest: Path, files: list[Path], seed: str,
                edit: Callable | None = None) -> Path:
    """Copies of ``files`` in ``dest`` with UIDs of a new acquisition (``seed``)."""
    import pydicom
    from pydicom.uid import generate_uid

    dest.mkdir(parents=True, exist_ok=True)
    series = generate_uid(entropy_srcs=[seed, "series"])
    study = generate_uid(entropy_srcs=[seed, "study"])
    for index, source in enumerate(files):
        ds = pydicom.dcmread(source)
        ds.SeriesInstanceUID, ds.StudyInstanceUID = series, study
        ds.SOPInstanceUID = generate_uid(entropy_srcs=[seed, source.name])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        if edit is not None:
            edit(ds, index)
        ds.save_as(dest / f"{seed}-{index:05d}.dcm")
    return dest


def set_patient(values: dict) -> Callable:
    def edit(ds, _index) -> None:
        for key, value in values.items():
            setattr(ds, key, value)
    return edit


def as_t1w(ds, index) -> None:
    """Turn one EPI volume into a small 3D 'T1w' series (1 mm voxels, MPRAGE names)."""
    ds.SeriesNumber = 2
    ds.SeriesDescription = ds.ProtocolName = "Sag T1 MPRAGE"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND"]
    ds.MRAcquisitionType = "3D"
    ds.ScanningSequence = "GR\\IR"
    ds.RepetitionTime, ds.EchoTime, ds.InversionTime = 2300, 3, 900
    ds.PixelSpacing = [1, 1]
    ds.SliceThickness = ds.SpacingBetweenSlices = 1
    x, y, _ = (float(v) for v in ds.ImagePositionPatient)
    ds.ImagePositionPatient = [x, y, -20.0 + index]
    ds.SliceLocation = -20.0 + index
    ds.InstanceNumber = index + 1
    for key in ("NumberOfTemporalPositions", "TemporalPositionIdentifier"):
        if key in ds:
            delattr(ds, key)


def as_localiser(ds, index) -> None:
    ds.SeriesNumber = 1
    ds.SeriesDescription = ds.ProtocolName = "3-Plane Loc"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
    ds.InstanceNumber = index + 1
