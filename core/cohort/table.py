"""The cohort table: one row per subject, validated before any work starts."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from core.errors import InputError

__all__ = ["KNOWN_COLUMNS", "PATH_COLUMNS", "CohortRow", "read_cohort_table"]

#: Columns holding a path, relative to the table's folder unless absolute.
PATH_COLUMNS = ("pre", "post", "fmriprep", "confounds_pre", "confounds_post",
                "mask_pre", "mask_post")
KNOWN_COLUMNS = ("subject", *PATH_COLUMNS, "pre_session", "post_session")
_NIFTI = (".nii", ".nii.gz")
_TABLES = (".tsv", ".csv", ".tsv.gz", ".csv.gz")
# A folder name on every file system: no separators, no leading dot, no trailing dot.
_SUBJECT = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?\Z")
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
             *(f"LPT{i}" for i in range(10))}  # Windows device names


@dataclass(frozen=True)
class CohortRow:
    """One subject of the cohort table; paths absolute, absent cells ``None``.

    Attributes
    ----------
    subject : str
        Folder-safe ID; names the output folder (and picks the fMRIPrep subject).
    pre, post : str or None
        NIfTI files or time-series tables.
    fmriprep, pre_session, post_session : str or None
        An fMRIPrep derivatives folder and the two sessions.
    confounds_pre, confounds_post, mask_pre, mask_post : str or None
        Extras of NIfTI rows.
    """

    subject: str
    pre: str | None = None
    post: str | None = None
    fmriprep: str | None = None
    pre_session: str | None = None
    post_session: str | None = None
    confounds_pre: str | None = None
    confounds_post: str | None = None
    mask_pre: str | None = None
    mask_post: str | None = None

    @property
    def kind(self) -> str:
        """``"fmriprep"``, ``"nifti"`` or ``"timeseries"``."""
        if self.fmriprep:
            return "fmriprep"
        return "nifti" if _suffix_kind(self.pre or "") == "nifti" else "timeseries"

    def input_paths(self) -> list[Path]:
        """Every input file of the row, and its fMRIPrep folder."""
        return [Path(value) for column in PATH_COLUMNS
                if (value := getattr(self, column)) is not None]


def _suffix_kind(path: str) -> str:
    name = path.lower()
    if name.endswith(_NIFTI):
        return "nifti"
    return "timeseries" if name.endswith(_TABLES) else ""


def read_cohort_table(path: str | Path) -> list[CohortRow]:
    """Read and validate a cohort table (tab-separated, header row, one row per subject).

    Parameters
    ----------
    path : str or Path
        Columns ``subject, pre, post`` (both NIfTI ``.nii[.gz]`` or both
        time-series tables ``.tsv[.gz]``/``.csv[.gz]``) or ``subject,
        fmriprep, pre_session, post_session``; optional ``confounds_pre,
        confounds_post, mask_pre, mask_post`` (NIfTI rows only).  Both kinds
        of row may share one table.  Relative paths are relative to the
        table's folder.  Blank lines are ignored.

    Returns
    -------
    list of CohortRow
        In table order.

    Raises
    ------
    InputError
        Naming the table, the line and the column at fault: unknown or
        repeated columns, missing cells, unsafe or repeated subject IDs
        (case-insensitively, as on macOS and Windows), unknown suffixes.
    """
    path = Path(path).expanduser().resolve()
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            records = list(csv.reader(stream, delimiter="\t"))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"expected a readable, tab-separated cohort table ({exc})",
                         path) from exc
    lines = [(number, [c.strip() for c in cells]) for number, cells in enumerate(records, 1)
             if any(c.strip() for c in cells)]  # blank lines are skipped, not renumbered
    if not lines:
        raise InputError("expected a header row and one row per subject, found nothing", path)
    header = lines[0][1]
    unknown = [c for c in header if c not in KNOWN_COLUMNS]
    if unknown or "subject" not in header or len(set(header)) != len(header):
        raise InputError(f"expected tab-separated, unique columns among "
                         f"{', '.join(KNOWN_COLUMNS)}, including subject; found "
                         f"{', '.join(header)}", path)
    rows: list[CohortRow] = []
    seen: dict[str, tuple[int, str]] = {}
    for number, cells in lines[1:]:
        row = _row(cells, header, f"line {number}", path)
        first = seen.setdefault(row.subject.casefold(), (number, row.subject))
        if first[0] != number:
            raise InputError(f"line {number}: subject {row.subject} repeats {first[1]} of "
                             f"line {first[0]} (output folders are named by subject)", path)
        rows.append(row)
    if not rows:
        raise InputError("expected at least one subject row, found only the header", path)
    return rows


def _row(cells: list[str], header: list[str], where: str, table: Path) -> CohortRow:
    if len(cells) > len(header):
        raise InputError(f"{where}: expected {len(header)} tab-separated cells, "
                         f"found {len(cells)}", table)
    cells = cells + [""] * (len(header) - len(cells))  # editors drop trailing empty cells
    values = {k: v or None for k, v in zip(header, cells, strict=True)}
    subject = values["subject"] or ""
    if not _SUBJECT.match(subject) or subject.split(".")[0].upper() in _RESERVED:
        raise InputError(f"{where}, column subject: expected a folder-safe ID (letters, "
                         f"digits, . _ -; at most 64), found {subject!r}", table)
    where = f"{where} ({subject})"
    if (values.get("pre") or values.get("post")) and values.get("fmriprep"):
        raise InputError(f"{where}: expected pre/post or fmriprep, not both", table)
    fmriprep = bool(values.get("fmriprep") or values.get("pre_session")
                    or values.get("post_session"))
    needed = ("fmriprep", "pre_session", "post_session") if fmriprep else ("pre", "post")
    for column in needed:
        if not values.get(column):
            raise InputError(f"{where}, column {column}: expected a value, found an empty "
                             "cell or no such column", table)
    kinds = {"fmriprep"} if fmriprep else {_suffix_kind(values[c] or "")
                                            for c in ("pre", "post")}
    if len(kinds) != 1 or "" in kinds:
        raise InputError(f"{where}: expected pre and post both NIfTI (.nii, .nii.gz) or "
                         f"both time-series tables (.tsv, .csv, optionally .gz), found "
                         f"{values['pre']} and {values['post']}", table)
    extras = [c for c in ("confounds_pre", "confounds_post", "mask_pre", "mask_post")
              if values.get(c)]
    if extras and kinds != {"nifti"}:
        raise InputError(f"{where}: expected {', '.join(extras)} only with NIfTI pre/post, "
                         f"found them with {kinds.pop()} input", table)
    for column in PATH_COLUMNS:
        if (value := values.get(column)) is not None:
            values[column] = str((table.parent / Path(value).expanduser()).resolve())
    return CohortRow(subject, **{k: v for k, v in values.items() if k != "subject"})
