"""``import-dicom``: two visit folders from the scanner -> one anonymised BIDS dataset.

Everything is built in a staging folder beside the output and renamed into place at
the end, so the output appears whole or not at all; the input folders are only
read.  The subject label is the user's choice (default ``01``), never the DICOM's
PatientID.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.errors import DicomImportError
from core.io.files import check_new_folder
from core.preprocess.bids_writer import SessionImages, write_bids_dataset
from core.preprocess.dicom_scan import DicomFolder, check_same_patient, scan_dicom_folder
from core.preprocess.series_convert import (
    DCM2NIIX_FLAGS,
    ConvertedSeries,
    convert_series,
    dcm2niix_executable,
    dcm2niix_version,
)
from core.preprocess.series_kinds import Choice, choose_bold, choose_t1w
from core.settings import DEFAULT_MIN_VOLUMES

__all__ = ["DEFAULT_SUBJECT", "DicomImport", "ImportedSession", "import_dicom",
           "subject_label"]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
DEFAULT_SUBJECT = "01"
SESSIONS = ("pre", "post")


@dataclass(frozen=True)
class ImportedSession:
    """What one visit became."""

    label: str
    bold_series: str
    n_volumes: int
    shape: tuple[int, ...]
    tr: float
    has_slice_timing: bool
    t1w_series: str | None


@dataclass(frozen=True)
class DicomImport:
    """The result of :func:`import_dicom`."""

    bids_dir: Path
    subject: str
    sessions: tuple[ImportedSession, ...]
    notes: tuple[str, ...]
    files: tuple[Path, ...]


def subject_label(text: str | None) -> str:
    """Return a valid BIDS subject label (letters and digits; ``sub-`` prefix dropped).

    Parameters
    ----------
    text : str or None
        None gives :data:`DEFAULT_SUBJECT`.

    Returns
    -------
    str
    """
    if text is None:
        return DEFAULT_SUBJECT
    label = text[4:] if text.startswith("sub-") else text
    if not re.fullmatch(r"[A-Za-z0-9]+", label):
        raise DicomImportError(f"expected a subject label of letters and digits (BIDS), got "
                               f"{text!r}; do not use the patient's name or hospital ID")
    return label


def _is_within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def _check_folders(pre: Path, post: Path, out: Path) -> None:
    for name, folder in (("PRE_DIR", pre), ("POST_DIR", post)):
        if not folder.is_dir():
            raise DicomImportError(f"expected the {name} folder of one visit, found "
                                   f"{'a file' if folder.exists() else 'nothing'}", folder)
    if pre == post:
        raise DicomImportError("expected two visit folders (pre and post), got the same "
                               "folder twice; one session only cannot be compared", pre)
    if _is_within(pre, post) or _is_within(post, pre):
        raise DicomImportError(f"expected two separate visit folders, but one holds the other: "
                               f"{pre} and {post}")
    for folder in (pre, post):
        if _is_within(out, folder) or _is_within(folder, out):
            raise DicomImportError(f"the output folder {out} may not be inside an input folder "
                                   "or hold one; choose another output folder", folder)
    check_new_folder(out, "output folder", DicomImportError)


def _check_two_visits(pre: DicomFolder, post: DicomFolder, pre_bold: Choice,
                      post_bold: Choice) -> None:
    if pre_bold.series.source.uid == post_bold.series.source.uid:
        raise DicomImportError(
            f"the pre and post folders hold the same BOLD acquisition "
            f"({pre_bold.series.source.label}, same SeriesInstanceUID); expected two visits, "
            f"found one session only: {pre.folder} and {post.folder}")


def _convert_visit(scan: DicomFolder, staging: Path, label: str, progress: Progress,
                   start: float, span: float) -> list[ConvertedSeries]:
    converted = []
    for index, series in enumerate(scan.series):
        progress(start + span * index / len(scan.series),
                 f"Converting {label} {series.label} with dcm2niix "
                 f"({index + 1}/{len(scan.series)})")
        converted.append(convert_series(series, staging / label / f"{index:03d}",
                                        scan.own_folder(series)))
    return converted


def _session(label: str, bold: Choice, t1w: Choice | None, files: list[Path]) -> ImportedSession:
    written = next(f for f in files if f.name.endswith("_bold.json") and f"ses-{label}" in f.name)
    sidecar = json.loads(written.read_text(encoding="utf-8"))
    return ImportedSession(
        label=label, bold_series=bold.series.source.label, n_volumes=bold.image.n_volumes,
        shape=bold.image.shape, tr=float(sidecar.get("RepetitionTime", 0.0)),
        has_slice_timing="SliceTiming" in sidecar,
        t1w_series=t1w.series.source.label if t1w else None)


def _series_numbers(value: int | tuple[int, int] | None) -> tuple[int | None, int | None]:
    if value is None or isinstance(value, int):
        return value, value
    return value[0], value[1]


def import_dicom(pre_dir: str | Path, post_dir: str | Path, out_dir: str | Path, *,
                 subject: str | None = None,
                 bold_series: int | tuple[int, int] | None = None,
                 t1w_series: int | tuple[int, int] | None = None,
                 progress: Progress | None = None) -> DicomImport:
    """Convert a patient's pre and post visits into a new BIDS dataset ``out_dir``.

    Parameters
    ----------
    pre_dir, post_dir : str or Path
        One folder per visit, as the scanner or PACS exported it (any depth).
    out_dir : str or Path
        The BIDS dataset to create; it must not exist (or be empty).
    subject : str, optional
        BIDS subject label (default ``"01"``); never derived from the DICOM.
    bold_series, t1w_series : int or (int, int), optional
        SeriesNumber of the BOLD (T1w) series, the same in both visits or
        ``(pre, post)``; default: found from the sidecars and dimensions.
    progress : callable, optional
        ``progress(fraction, message)``; it may raise to cancel.

    Returns
    -------
    DicomImport

    Raises
    ------
    DicomImportError
        Bad folders, no BOLD series, one session only, two patients, a damaged
        DICOM file, or a series that cannot be converted; nothing is written then.
    """
    report = progress or (lambda fraction, message: None)
    pre, post, out = (Path(p).expanduser().absolute() for p in (pre_dir, post_dir, out_dir))
    label = subject_label(subject)
    _check_folders(pre, post, out)
    dcm2niix_executable()  # fail early when it is missing
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.importing-", dir=out.parent))
    try:
        report(0.0, "Reading the pre visit's DICOM headers")
        scans = {"pre": scan_dicom_folder(pre, lambda f, m: report(0.25 * f, m)),
                 "post": scan_dicom_folder(post, lambda f, m: report(0.25 + 0.25 * f, m))}
        notes = [n for n in [check_same_patient(scans["pre"], scans["post"])] if n]
        numbers = dict(zip(SESSIONS, zip(_series_numbers(bold_series),
                                         _series_numbers(t1w_series), strict=True), strict=True))
        chosen: dict[str, tuple[Choice, Choice | None]] = {}
        for index, name in enumerate(SESSIONS):
            converted = _convert_visit(scans[name], staging / "convert", name, report,
                                       0.5 + 0.2 * index, 0.2)
            folder = str(scans[name].folder)
            bold = choose_bold(converted, folder, numbers[name][0])
            t1w = choose_t1w(converted, folder, numbers[name][1])
            notes += [f"{name}: {c.note}" for c in (bold, t1w) if c is not None and c.note]
            chosen[name] = (bold, t1w)
        _check_two_visits(scans["pre"], scans["post"], chosen["pre"][0], chosen["post"][0])
        report(0.9, "Writing the BIDS dataset")
        from core import __version__

        provenance = {"version": __version__, "dcm2niix": dcm2niix_version(),
                      "flags": " ".join(DCM2NIIX_FLAGS)}
        sessions = [SessionImages(name, b.image.nifti, b.image.sidecar,
                                  t.image.nifti if t else None, t.image.sidecar if t else None)
                    for name, (b, t) in chosen.items()]
        files, timing_notes = write_bids_dataset(staging / "bids", label, sessions, provenance)
        notes += timing_notes
        imported = tuple(_session(name, b, t, files) for name, (b, t) in chosen.items())
        pre_s, post_s = imported
        if abs(pre_s.tr - post_s.tr) > 1e-3 or pre_s.shape[:3] != post_s.shape[:3]:
            notes.append(f"the visits were acquired differently: pre TR {pre_s.tr:g} s, "
                         f"{'×'.join(map(str, pre_s.shape))}; post TR {post_s.tr:g} s, "
                         f"{'×'.join(map(str, post_s.shape))}")
        notes += [f"{s.label}: only {s.n_volumes} volumes; the analysis needs at least "
                  f"{DEFAULT_MIN_VOLUMES} after scrubbing by default"
                  for s in imported if s.n_volumes < DEFAULT_MIN_VOLUMES]
        if not any(t for _, t in chosen.values()):
            notes.append("no T1w image in either visit: fMRIPrep needs one, so only the quick "
                         "preprocessing path can be used (or name it with --t1w-series)")
        if out.exists():
            out.rmdir()  # checked empty above
        (staging / "bids").rename(out)
        report(1.0, "DICOM import finished")
        log.info("DICOM import written: %d files", len(files))
        return DicomImport(out, label, imported, tuple(notes),
                           tuple(out / f.relative_to(staging / "bids") for f in files))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
