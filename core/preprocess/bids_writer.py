"""Write the BIDS dataset of one patient's two visits (into a staging folder).

File names carry only the subject label the user chose and the session labels
``pre`` and ``post``.  Sidecars are dcm2niix's anonymised ones (``-ba y``) minus the
fields that can still point at a person or a place (:data:`REMOVED_FIELDS`).  The
repetition time and slice timing are checked against the NIfTI header here.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from core.errors import DicomImportError

__all__ = ["BIDS_VERSION", "REMOVED_FIELDS", "SessionImages", "check_timing", "clean_sidecar",
           "write_bids_dataset"]

BIDS_VERSION = "1.10.0"
TASK = "rest"
#: Sidecar fields removed on top of dcm2niix's anonymisation: people, places, devices, dates.
REMOVED_FIELDS = frozenset({
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "PatientAge",
    "PatientWeight", "PatientSize", "OtherPatientIDs", "PatientComments",
    "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName", "StationName",
    "DeviceSerialNumber", "ReferringPhysicianName", "PerformingPhysicianName",
    "OperatorsName", "AccessionNumber", "StudyID", "StudyInstanceUID", "SeriesInstanceUID",
    "AcquisitionDateTime", "AcquisitionDate", "StudyDate", "SeriesDate", "ContentDate",
    "ImageComments", "StudyComments", "RequestingPhysician", "BidsGuess",
})
_TR_TOLERANCE_S = 1e-3


@dataclass(frozen=True)
class SessionImages:
    """The NIfTI files (from dcm2niix) and sidecars of one visit."""

    label: str
    bold: Path
    bold_sidecar: dict
    t1w: Path | None = None
    t1w_sidecar: dict | None = None


def clean_sidecar(sidecar: dict) -> dict:
    """Drop identifying fields (:data:`REMOVED_FIELDS` and any ``Patient…`` field).

    Parameters
    ----------
    sidecar : dict

    Returns
    -------
    dict
        A new dictionary; ``PatientPosition`` (head first, supine...) is kept.
    """
    return {key: value for key, value in sidecar.items()
            if key not in REMOVED_FIELDS
            and not (key.startswith("Patient") and key != "PatientPosition")}


def check_timing(header, sidecar: dict, where: str) -> tuple[dict, float | None, list[str]]:
    """Check TR and slice timing of a BOLD sidecar against its NIfTI header.

    Parameters
    ----------
    header : nibabel.Nifti1Header
    sidecar : dict
        dcm2niix's sidecar of the series.
    where : str
        The visit (for messages).

    Returns
    -------
    sidecar : dict
        Possibly without an unusable ``SliceTiming``.
    header_tr : float or None
        The TR to write into the header when it disagrees with the sidecar's.
    notes : list of str

    Raises
    ------
    DicomImportError
        The sidecar has no usable ``RepetitionTime``.
    """
    notes: list[str] = []
    tr = sidecar.get("RepetitionTime")
    if not isinstance(tr, (int, float)) or not 0.1 <= float(tr) <= 30:
        raise DicomImportError(f"{where}: expected the BOLD series' RepetitionTime in the DICOM "
                               f"(0.1-30 s), found {tr!r}; this series cannot be used")
    tr = float(tr)
    zooms = header.get_zooms()
    unit = header.get_xyzt_units()[1]
    header_tr = float(zooms[3]) * {"msec": 1e-3, "usec": 1e-6}.get(unit, 1.0) \
        if len(zooms) > 3 else None
    fix = None
    if header_tr is None or abs(header_tr - tr) > _TR_TOLERANCE_S:
        fix = tr
        notes.append(f"{where}: the NIfTI header said TR {header_tr or 0:g} s, the DICOM "
                     f"(sidecar) {tr:g} s; the header was corrected to {tr:g} s")
    n_slices = int(header.get_data_shape()[2])
    timing = sidecar.get("SliceTiming")
    sidecar = dict(sidecar)
    if timing is None:
        notes.append(f"{where}: no slice timing in the DICOM; fMRIPrep will skip slice-timing "
                     "correction")
    elif len(timing) != n_slices or not all(0 <= float(t) < tr for t in timing):
        del sidecar["SliceTiming"]
        notes.append(f"{where}: SliceTiming ({len(timing)} values, {min(timing):g}-"
                     f"{max(timing):g} s) does not fit {n_slices} slices within TR {tr:g} s; "
                     "it was left out, so no slice-timing correction will be done")
    return sidecar, fix, notes


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def _place_nifti(source: Path, target: Path, tr: float | None) -> None:
    """Move dcm2niix's file into the dataset; rewrite it only to correct the TR."""
    if tr is None:
        shutil.move(source, target)
        return
    import nibabel as nib

    image = nib.Nifti1Image.from_filename(source)
    header = image.header.copy()
    header.set_zooms((*header.get_zooms()[:3], tr))
    header.set_xyzt_units("mm", "sec")
    nib.save(nib.Nifti1Image(image.dataobj, image.affine, header), target)


def _readme(subject: str, provenance: dict) -> str:
    return (
        f"BIDS dataset written by prepost-review import-dicom ({provenance['version']}) with "
        f"dcm2niix {provenance['dcm2niix']} (flags: {provenance['flags']}).\n\n"
        f"One patient, subject label '{subject}' (chosen at import, never taken from the "
        "DICOM), two sessions: ses-pre and ses-post. Each has func/…_task-rest_bold.nii.gz "
        "with its JSON sidecar and, when the visit had one, anat/…_T1w.nii.gz.\n\n"
        "What this dataset keeps from the DICOM: the images; acquisition parameters "
        "(RepetitionTime, SliceTiming, EchoTime, FlipAngle, phase encoding, scanner "
        "manufacturer, model and software version, field strength, series description and "
        "protocol name, time of day of the acquisition). What it does not keep: patient "
        "name, ID, birth date, sex, age, weight and size, all dates, institution, station, "
        "device serial number, physicians and operators, accession and study numbers, "
        "UIDs and free-text comments.\n"
    )


def write_bids_dataset(root: Path, subject: str, sessions: list[SessionImages],
                       provenance: dict) -> tuple[list[Path], list[str]]:
    """Write the dataset into ``root`` (a new folder in the staging area).

    Parameters
    ----------
    root : Path
    subject : str
        BIDS label without ``sub-``.
    sessions : list of SessionImages
    provenance : dict
        ``version`` (prepost-review), ``dcm2niix`` (its version), ``flags``.

    Returns
    -------
    files : list of Path
    notes : list of str
        Header corrections and slice-timing remarks.
    """
    import nibabel as nib

    root.mkdir(parents=True)
    files: list[Path] = []
    notes: list[str] = []
    description = {
        "Name": "prepost-review DICOM import", "BIDSVersion": BIDS_VERSION,
        "DatasetType": "raw",
        "GeneratedBy": [
            {"Name": "prepost-review", "Version": provenance["version"],
             "Description": "import-dicom: anonymised conversion of two visits"},
            {"Name": "dcm2niix", "Version": provenance["dcm2niix"]},
        ],
    }
    _write_json(root / "dataset_description.json", description)
    (root / "participants.tsv").write_text(f"participant_id\nsub-{subject}\n", encoding="utf-8")
    (root / "README").write_text(_readme(subject, provenance), encoding="utf-8")
    files += [root / "dataset_description.json", root / "participants.tsv", root / "README"]
    for session in sessions:
        stem = f"sub-{subject}_ses-{session.label}"
        func = root / f"sub-{subject}" / f"ses-{session.label}" / "func"
        func.mkdir(parents=True)
        bold = func / f"{stem}_task-{TASK}_bold.nii.gz"
        header = nib.Nifti1Image.from_filename(session.bold).header
        sidecar, tr_fix, timing_notes = check_timing(
            header, clean_sidecar(session.bold_sidecar), session.label)
        notes += timing_notes
        _place_nifti(session.bold, bold, tr_fix)
        _write_json(bold.with_name(f"{stem}_task-{TASK}_bold.json"),
                    {"TaskName": TASK, **sidecar})
        files += [bold, bold.with_name(f"{stem}_task-{TASK}_bold.json")]
        if session.t1w is not None:
            anat = func.parent / "anat"
            anat.mkdir()
            t1w = anat / f"{stem}_T1w.nii.gz"
            _place_nifti(session.t1w, t1w, None)
            _write_json(anat / f"{stem}_T1w.json", clean_sidecar(session.t1w_sidecar or {}))
            files += [t1w, anat / f"{stem}_T1w.json"]
    return files, notes
