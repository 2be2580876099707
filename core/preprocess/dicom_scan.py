"""Read every DICOM file of a visit folder once: its series, damaged files, the patient.

The patient's name, ID and birth date are read only to be compared between the
two visits.  They are kept as keyed digests (a key drawn afresh for each run),
never as text, and no message or log line contains them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.errors import DicomImportError

__all__ = ["DicomFolder", "DicomSeries", "check_same_patient", "scan_dicom_folder"]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

#: Patient fields compared between the visits (as digests, never shown).
IDENTITY_FIELDS = ("PatientID", "PatientName", "PatientBirthDate")
_DIRECTORY_SOP_CLASS = "1.2.840.10008.1.3.10"  # DICOMDIR: an index, not an image
_RUN_KEY = secrets.token_bytes(16)


@dataclass(frozen=True)
class DicomSeries:
    """One series of a visit folder, as its DICOM headers describe it.

    Attributes
    ----------
    uid : str
        SeriesInstanceUID.
    number : int or None
        SeriesNumber.
    description : str
        SeriesDescription (or ProtocolName).
    files : tuple of Path
        Its image files.
    """

    uid: str
    number: int | None
    description: str
    files: tuple[Path, ...]

    @property
    def label(self) -> str:
        """``series 4 'Axial EPI'``: how messages name the series."""
        number = "?" if self.number is None else str(self.number)
        return f"series {number} '{self.description}'" if self.description else \
            f"series {number}"


@dataclass(frozen=True)
class DicomFolder:
    """What one visit folder holds.

    Attributes
    ----------
    folder : Path
    series : tuple of DicomSeries
        In series-number order.
    identities : dict
        Field name -> set of keyed digests of its non-empty values.
    """

    folder: Path
    series: tuple[DicomSeries, ...]
    identities: dict[str, frozenset[str]]

    @property
    def n_files(self) -> int:
        """Number of DICOM image files."""
        return sum(len(s.files) for s in self.series)

    def own_folder(self, series: DicomSeries) -> Path | None:
        """Return the folder holding all of this series' images and no other's, or None.

        Scanners and PACS usually export one series per folder; dcm2niix can then read
        that folder as it is.
        """
        folders = {f.parent for f in series.files}
        if len(folders) != 1:
            return None
        folder = folders.pop()
        others = any(f.parent == folder for s in self.series if s.uid != series.uid
                     for f in s.files)
        return None if others else folder


def _digest(value: object) -> str:
    text = " ".join(str(value).upper().replace("^", " ").split())
    return hashlib.blake2b(text.encode("utf-8"), key=_RUN_KEY, digest_size=16).hexdigest()


def _candidate_files(folder: Path) -> list[Path]:
    files = []
    for base, dirs, names in os.walk(folder):  # does not follow linked folders
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files += [Path(base) / n for n in sorted(names) if not n.startswith(".")]
    return files


def _pixel_bytes_expected(ds) -> int | None:
    """Bytes of uncompressed pixel data the header announces (None when compressed)."""
    meta = getattr(ds, "file_meta", None)
    syntax = getattr(meta, "TransferSyntaxUID", None)
    if syntax is None or syntax.is_compressed:
        return None
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    return int(ds.Rows) * int(ds.Columns) * samples * frames * int(ds.BitsAllocated) // 8


def _read_header(path: Path):
    """Read a DICOM image file whole; None for a non-DICOM or non-image file."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(path)
    except InvalidDicomError:
        return None  # not DICOM (a README, a licence, a viewer program): ignored
    except Exception as exc:  # a DICOM file that cannot be parsed to its end
        raise DicomImportError(f"this DICOM file is damaged or truncated ({type(exc).__name__}"
                               "); expected a complete file: copy the visit again from the "
                               "scanner or PACS", path) from exc
    if str(ds.get("SOPClassUID", "")) == _DIRECTORY_SOP_CLASS or "Rows" not in ds:
        return None  # DICOMDIR, reports, presentation states: no image
    expected = _pixel_bytes_expected(ds)
    pixels = ds.get("PixelData")
    if pixels is None or (expected is not None and len(pixels) < expected):
        found = 0 if pixels is None else len(pixels)
        raise DicomImportError(
            f"this DICOM file is truncated: its header announces {expected or 'some'} bytes "
            f"of pixel data, the file holds {found}; copy the visit again from the scanner "
            "or PACS", path)
    return ds


def scan_dicom_folder(folder: str | Path, progress: Progress | None = None) -> DicomFolder:
    """List the DICOM series of a visit folder (recursively) and check every file.

    Parameters
    ----------
    folder : str or Path
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    DicomFolder

    Raises
    ------
    DicomImportError
        The folder holds no DICOM image, a damaged or truncated file (named), or
        images of more than one patient.
    """
    folder = Path(folder)
    files = _candidate_files(folder)
    grouped: dict[str, list[Path]] = defaultdict(list)
    about: dict[str, tuple[int | None, str]] = {}
    identities: dict[str, set[str]] = {name: set() for name in IDENTITY_FIELDS}
    for index, path in enumerate(files):
        if progress is not None and index % 200 == 0:
            progress(index / max(len(files), 1), f"Reading DICOM headers in {folder.name} "
                     f"({index}/{len(files)})")
        ds = _read_header(path)
        if ds is None:
            continue
        uid = str(ds.get("SeriesInstanceUID", "")) or f"no-uid:{ds.get('SeriesNumber', '')}"
        grouped[uid].append(path)
        if uid not in about:
            number = ds.get("SeriesNumber")
            text = str(ds.get("SeriesDescription", "") or ds.get("ProtocolName", "") or "")
            about[uid] = (int(number) if number not in (None, "") else None, text.strip())
        for name in IDENTITY_FIELDS:
            value = ds.get(name)
            if value not in (None, ""):
                identities[name].add(_digest(value))
    if not grouped:
        raise DicomImportError(f"expected DICOM images of one visit, found none among "
                               f"{len(files)} files", folder)
    if len(identities["PatientID"]) > 1:
        raise DicomImportError(f"expected one patient per visit folder, found "
                               f"{len(identities['PatientID'])} different PatientIDs (values "
                               "not shown)", folder)
    series = tuple(sorted(
        (DicomSeries(uid, *about[uid], tuple(paths)) for uid, paths in grouped.items()),
        key=lambda s: (s.number is None, s.number or 0, s.uid)))
    log.info("DICOM folder scanned: %d files, %d series", sum(map(len, grouped.values())),
             len(series))
    return DicomFolder(folder, series, {k: frozenset(v) for k, v in identities.items()})


def check_same_patient(pre: DicomFolder, post: DicomFolder) -> str | None:
    """Refuse two visits of different patients; compare digests, never show values.

    Parameters
    ----------
    pre, post : DicomFolder

    Returns
    -------
    str or None
        A note when the headers hold no identity to compare (anonymised exports).

    Raises
    ------
    DicomImportError
        A patient field present in both visits differs.
    """
    differing = [name for name in IDENTITY_FIELDS
                 if pre.identities[name] and post.identities[name]
                 and pre.identities[name] != post.identities[name]]
    if differing:
        raise DicomImportError(
            f"expected the pre and post visits of one patient, but their {', '.join(differing)} "
            f"differ (values not shown): {pre.folder} and {post.folder}; choose the two visits "
            "of the same patient")
    compared = [n for n in IDENTITY_FIELDS if pre.identities[n] and post.identities[n]]
    if not compared:
        return ("the DICOM headers hold no patient ID, name or birth date (anonymised "
                "export): that both visits are the same patient could not be checked")
    return None
