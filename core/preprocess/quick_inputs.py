"""What the quick path preprocesses: one subject's BOLD runs (and T1w) in a BIDS dataset."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib

from core.errors import InputError
from core.io.nifti import read_nifti

__all__ = ["MIN_VOLUMES", "QuickSession", "find_quick_inputs"]

#: Fewest volumes worth preprocessing (a reference, motion and a mean need a few).
MIN_VOLUMES = 3
_BOLD_RE = re.compile(r"_task-(?P<task>[A-Za-z0-9]+)(?:_[a-z]+-[A-Za-z0-9]+)*_bold\.nii(?:\.gz)?$")


@dataclass(frozen=True)
class QuickSession:
    """One session's raw BOLD run and the T1w used for it.

    Attributes
    ----------
    session : str
        Session label without ``ses-``.
    bold : Path
    tr : float
        Repetition time in seconds (sidecar, else header).
    slice_timing : tuple of float or None
        From the sidecar; recorded (slice-timing correction is not done).
    t1w : Path or None
        This session's T1w, else the subject's, else another session's.
    t1w_session : str or None
        The session the T1w comes from (None for ``sub-*/anat``).
    n_volumes : int
    warnings : tuple of str
    """

    session: str
    bold: Path
    tr: float
    slice_timing: tuple[float, ...] | None
    t1w: Path | None
    t1w_session: str | None
    n_volumes: int
    warnings: tuple[str, ...] = ()


def _natkey(text: str) -> list[object]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def _pick_bold(func: Path) -> tuple[Path | None, list[str]]:
    found = sorted((p for p in func.glob("*_bold.nii*") if _BOLD_RE.search(p.name)),
                   key=lambda p: _natkey(p.name))
    if not found:
        return None, []
    rest = [p for p in found if _BOLD_RE.search(p.name)["task"].lower().startswith("rest")]  # type: ignore[index]
    chosen = (rest or found)[0]
    notes = [f"{len(found)} BOLD runs in {func}; used {chosen.name}"] if len(found) > 1 else []
    return chosen, notes


def _first_t1w(folder: Path) -> Path | None:
    found = sorted(folder.glob("*_T1w.nii*"), key=lambda p: _natkey(p.name))
    return found[0] if found else None


def _timing(bold: Path, img: nib.Nifti1Image) -> tuple[float, tuple[float, ...] | None, list[str]]:
    sidecar = bold.with_name(re.sub(r"\.nii(\.gz)?$", ".json", bold.name))
    meta: dict = {}
    if sidecar.is_file():
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"expected a readable JSON sidecar ({exc})", sidecar) from exc
    header_tr = float(img.header.get_zooms()[3]) if len(img.shape) == 4 else 0.0
    unit = img.header.get_xyzt_units()[1]
    if unit == "msec":
        header_tr /= 1000.0
    notes = []
    tr = meta.get("RepetitionTime")
    if tr is None:
        if not header_tr > 0:
            raise InputError("expected the repetition time in the JSON sidecar "
                             "(RepetitionTime) or the NIfTI header, found neither", bold)
        tr = header_tr
        notes.append(f"{bold.name}: no sidecar RepetitionTime; used the header's {tr:g} s")
    elif header_tr > 0 and abs(header_tr - float(tr)) > 1e-3:
        notes.append(f"{bold.name}: the header says TR {header_tr:g} s, the sidecar "
                     f"{float(tr):g} s; used the sidecar")
    if not 0.1 < float(tr) < 30:
        raise InputError(f"expected a repetition time in seconds (0.1–30), found {tr}", bold)
    timing = meta.get("SliceTiming")
    return float(tr), tuple(float(t) for t in timing) if timing else None, notes


def find_quick_inputs(bids_dir: str | Path, subject: str) -> list[QuickSession]:
    """Find one subject's BOLD run in every session of a BIDS dataset.

    Parameters
    ----------
    bids_dir : str or Path
        BIDS root holding ``sub-<ID>/ses-<S>/func/*_task-rest_bold.nii.gz``
        (+ JSON) and optional ``anat/*_T1w.nii.gz``.
    subject : str
        With or without ``sub-``.

    Returns
    -------
    list of QuickSession
        In natural session order; at least two.

    Raises
    ------
    InputError
        No such subject, fewer than two sessions with BOLD, a BOLD file that is
        not 4D or too short, or no repetition time.
    """
    root = Path(bids_dir).expanduser()
    label = subject[4:] if subject.startswith("sub-") else subject
    sub = root / f"sub-{label}"
    if not sub.is_dir():
        found = ", ".join(p.name for p in sorted(root.glob("sub-*"))) or "none"
        raise InputError(f"expected a subject folder sub-{label}, found {found}", root)
    subject_t1w = _first_t1w(sub / "anat")
    sessions = []
    for folder in sorted(sub.glob("ses-*"), key=lambda p: _natkey(p.name)):
        bold, notes = _pick_bold(folder / "func")
        if bold is not None:
            sessions.append((folder.name[4:], bold, notes, _first_t1w(folder / "anat")))
    if len(sessions) < 2:
        found = ", ".join(f"ses-{s[0]}" for s in sessions) or "none"
        raise InputError(f"expected BOLD runs (ses-*/func/*_bold.nii.gz) in two sessions (pre "
                         f"and post), found {found}", sub)
    any_t1w = next(((t, s) for s, _, _, t in sessions if t is not None), (None, None))
    result = []
    for session, bold, notes, own_t1w in sessions:
        img = read_nifti(bold)
        if len(img.shape) != 4 or img.shape[3] < MIN_VOLUMES:
            found = f"a {len(img.shape)}D image of shape {img.shape}"
            raise InputError(f"expected a 4D BOLD series of at least {MIN_VOLUMES} volumes, "
                             f"found {found}", bold)
        tr, timing, tr_notes = _timing(bold, img)
        t1w, t1w_session = ((own_t1w, session) if own_t1w is not None
                            else (subject_t1w, None) if subject_t1w is not None else any_t1w)
        result.append(QuickSession(session=session, bold=bold, tr=tr, slice_timing=timing,
                                   t1w=t1w, t1w_session=t1w_session, n_volumes=img.shape[3],
                                   warnings=tuple(notes + tr_notes)))
    return result
