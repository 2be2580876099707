"""What a BIDS dataset offers for preprocessing: one subject, two sessions, a T1w or not.

Only file names are read (``sub-*/ses-*/func|anat``), like fMRIPrep discovery.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from core.errors import PreprocessingError
from core.io.files import check_new_folder

__all__ = ["BidsSubject", "check_derivatives_folder", "read_bids_subject"]

_BOLD = re.compile(r"_task-(?P<task>[A-Za-z0-9]+)(?:_[a-z]+-[A-Za-z0-9]+)*_bold\.nii(?:\.gz)?$")
_T1W = re.compile(r"_T1w\.nii(?:\.gz)?$")


@dataclass(frozen=True)
class BidsSubject:
    """One subject of a BIDS dataset, as preprocessing sees it.

    Attributes
    ----------
    root : Path
    label : str
        Without ``sub-``.
    sessions : tuple of str
        Session labels (without ``ses-``) that have a BOLD run.
    tasks : tuple of str
        Task labels of those BOLD runs.
    t1w : tuple of Path
        T1w images of the subject, any session.
    """

    root: Path
    label: str
    sessions: tuple[str, ...]
    tasks: tuple[str, ...]
    t1w: tuple[Path, ...]

    @property
    def has_t1w(self) -> bool:
        """True when fMRIPrep's anatomical workflow has an image to work on."""
        return bool(self.t1w)


def _sessions(subject_dir: Path) -> dict[str, Path]:
    found = {p.name[4:]: p for p in sorted(subject_dir.glob("ses-*")) if p.is_dir()}
    return found or {"": subject_dir}


def read_bids_subject(bids_dir: str | Path, subject: str | None = None) -> BidsSubject:
    """Find the subject to preprocess and check it has two sessions of BOLD.

    Parameters
    ----------
    bids_dir : str or Path
    subject : str, optional
        Label with or without ``sub-``; needed when the dataset has several.

    Returns
    -------
    BidsSubject

    Raises
    ------
    PreprocessingError
        Not a BIDS dataset, no or several subjects (without ``subject``), or fewer
        than two sessions with a BOLD run.
    """
    root = Path(bids_dir)
    if not (root / "dataset_description.json").is_file():
        raise PreprocessingError("expected a BIDS dataset (with dataset_description.json), "
                                 "found none; create one with import-dicom", root)
    subjects = sorted(p.name[4:] for p in root.glob("sub-*") if p.is_dir())
    if subject is not None:
        wanted = subject[4:] if subject.startswith("sub-") else subject
        if wanted not in subjects:
            raise PreprocessingError(f"expected subject sub-{wanted}, found "
                                     f"{', '.join('sub-' + s for s in subjects) or 'none'}",
                                     root)
        subjects = [wanted]
    if len(subjects) != 1:
        raise PreprocessingError(f"expected one subject, found {len(subjects)} "
                                 f"({', '.join('sub-' + s for s in subjects) or 'none'}); "
                                 "choose one with --subject", root)
    label = subjects[0]
    sessions: list[str] = []
    tasks: set[str] = set()
    t1w: list[Path] = []
    for session, folder in _sessions(root / f"sub-{label}").items():
        bold = [m for p in sorted((folder / "func").glob("*_bold.nii*"))
                if (m := _BOLD.search(p.name))]
        if bold:
            sessions.append(session)
            tasks.update(m["task"] for m in bold)
        t1w += [p for p in sorted((folder / "anat").glob("*_T1w.nii*")) if _T1W.search(p.name)]
    named = [s for s in sessions if s]
    if len(named) < 2:
        found = ", ".join(f"ses-{s}" for s in named) or "no session folders"
        raise PreprocessingError(f"expected two sessions with a BOLD run for sub-{label} (pre "
                                 f"and post), found {found}; one session only cannot be "
                                 "compared", root)
    return BidsSubject(root, label, tuple(named), tuple(sorted(tasks)), tuple(t1w))


def check_derivatives_folder(bids_dir: Path, out_dir: Path) -> None:
    """Refuse a derivatives folder inside the dataset (an input) or one that has files.

    Parameters
    ----------
    bids_dir, out_dir : Path
        Absolute paths.

    Raises
    ------
    PreprocessingError
    """
    if out_dir == bids_dir or bids_dir in out_dir.parents or out_dir in bids_dir.parents:
        raise PreprocessingError(f"the derivatives folder may not be inside the BIDS dataset "
                                 f"or hold it (inputs are never written to): {out_dir}; choose "
                                 "a folder beside the dataset")
    check_new_folder(out_dir, "derivatives folder", PreprocessingError)
