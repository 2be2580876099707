"""Find fMRIPrep outputs on disk and pick one patient's pre and post runs.

Only file names are read.  Folders are listed with non-recursive globs
(``sub-*/[ses-*/]func/``), so symbolic-link loops cannot make discovery hang.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from core.errors import FmriprepLayoutError

__all__ = [
    "MNI_SPACES",
    "FmriprepDataset",
    "FmriprepRun",
    "discover_fmriprep",
    "select_pre_post",
]

#: TemplateFlow names of MNI-aligned volumetric spaces; any space starting with "MNI" is accepted.
MNI_SPACES: tuple[str, ...] = (
    "MNI152NLin2009cAsym", "MNI152NLin6Asym", "MNI152NLin2009cSym", "MNI152NLin6Sym",
    "MNI152NLin2009aAsym", "MNI152NLin2009aSym", "MNI152NLin2009bAsym", "MNI152NLin2009bSym",
    "MNI152Lin", "MNI305", "MNIColin27",
)  # fmt: skip
_PREFERRED_SPACES = ("MNI152NLin2009cAsym", "MNI152NLin6Asym")
_PRE_NAMES = ("pre", "base", "before", "t0")  # prefixes: "base" covers "baseline"
_POST_NAMES = ("post", "follow", "after", "t1")  # "follow" covers "followup"
_ENTITY_ORDER = ("sub", "ses", "task", "acq", "run", "space", "res")
_KEYS = (*_ENTITY_ORDER, "desc")
_NAME_RE = re.compile(
    r"^(?P<ents>[a-z]+-[A-Za-z0-9]+(?:_[a-z]+-[A-Za-z0-9]+)*)"
    r"_(?P<suffix>bold|mask|timeseries|regressors)(?P<ext>\.nii\.gz|\.nii|\.json|\.tsv)$"
)
_MINIMAL_RE = re.compile(r"_(?:boldref\.nii(?:\.gz)?|xfm\.txt)$")
_PREPROC = "*_desc-preproc_bold.nii[.gz]"
_CLUE_MESSAGES = {
    "minimal": f"expected preprocessed BOLD series ({_PREPROC}) in sub-*/func/, found only BOLD "
    "references and transforms, which looks like fMRIPrep '--level minimal' output (no "
    "preprocessed BOLD and usually no confounds); please rerun fMRIPrep with '--level full' "
    "(the default) and '--output-spaces MNI152NLin2009cAsym'",
    "raw": f"expected fMRIPrep outputs ({_PREPROC}), found raw BIDS BOLD files; choose the "
    "fMRIPrep derivatives folder, or run fMRIPrep on this dataset first",
}


@dataclass(frozen=True)
class FmriprepRun:
    """One preprocessed BOLD run and its companion files.

    Entity values are stored without their ``key-`` prefix.  ``space`` is
    ``"native"`` when the file name has no ``space-`` entity.  ``acq`` is an
    addition to the documented API (default ``None``).
    """

    subject: str
    session: str | None
    task: str
    run: str | None
    space: str
    res: str | None
    bold: Path
    sidecar: Path | None
    mask: Path | None
    confounds: Path | None
    acq: str | None = None

    @property
    def label(self) -> str:
        """Short human-readable name, e.g. ``sub-01 ses-pre task-rest run-1 space-MNI…``."""
        values = (self.subject, self.session, self.task, self.acq, self.run, self.space, self.res)
        return " ".join(f"{k}-{v}" for k, v in zip(_ENTITY_ORDER, values, strict=True) if v)


@dataclass(frozen=True)
class FmriprepDataset:
    """All preprocessed BOLD runs under ``root``, the folder holding the ``sub-*`` folders."""

    root: Path
    runs: tuple[FmriprepRun, ...]

    def subjects(self) -> list[str]:
        """Return the subject labels (without ``sub-``) in natural order."""
        return _natsorted({r.subject for r in self.runs})

    def sessions(self, subject: str) -> list[str]:
        """Return the session labels (without ``ses-``) of ``subject`` in natural order."""
        label = _strip(subject, "sub")
        return _natsorted({r.session for r in self.runs if r.subject == label and r.session})

    def tasks(self, subject: str | None = None) -> list[str]:
        """Return the task labels, of one subject or of all subjects, in natural order."""
        subject = _strip(subject, "sub")
        return _natsorted({r.task for r in self.runs if subject in (None, r.subject)})

    def spaces(self) -> list[str]:
        """Return the output spaces present, in natural order."""
        return _natsorted({r.space for r in self.runs})


def discover_fmriprep(root: str | Path) -> FmriprepDataset:
    """List the preprocessed BOLD runs of an fMRIPrep derivatives folder.

    Parameters
    ----------
    root : str or Path
        The fMRIPrep output folder (holding ``sub-*/``), or a folder one level
        above it holding ``fmriprep/`` or ``derivatives/fmriprep/`` (for
        example a BIDS root).  The first candidate with preprocessed BOLD wins.

    Returns
    -------
    FmriprepDataset
        Runs in natural order; sidecar, mask and confounds are ``None`` when
        absent.  File names that are not fMRIPrep BOLD outputs are ignored.

    Raises
    ------
    FmriprepLayoutError
        If ``root`` is not a folder, has no ``sub-*`` folders, holds only
        ``--level minimal`` outputs or raw BIDS data, or holds no
        ``*_desc-preproc_bold.nii[.gz]`` file.
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise FmriprepLayoutError("expected an fMRIPrep derivatives folder, found nothing", root)
    if not root.is_dir():
        raise FmriprepLayoutError("expected an fMRIPrep derivatives folder, found a file", root)
    bases = [b for b in _candidate_roots(root) if _subject_dirs(b)]
    if not bases:
        found = "a single subject folder" if root.name.startswith("sub-") else "none"
        raise FmriprepLayoutError(
            f"expected an fMRIPrep derivatives folder with sub-<label>/ folders, found {found}",
            root,
        )
    clues: dict[str, Path] = {}
    for base in bases:
        runs, kinds = _scan(base)
        if runs:
            return FmriprepDataset(root=base, runs=runs)
        for kind in kinds:
            clues.setdefault(kind, base)
    for kind, message in _CLUE_MESSAGES.items():
        if kind in clues:
            raise FmriprepLayoutError(message, clues[kind])
    raise FmriprepLayoutError(
        f"expected {_PREPROC} files in sub-*/[ses-*/]func/ folders, found none", bases[0]
    )


def select_pre_post(
    dataset: FmriprepDataset,
    subject: str | None = None,
    pre_session: str | None = None,
    post_session: str | None = None,
    task: str | None = None,
    run: str | None = None,
    space: str | None = None,
) -> tuple[FmriprepRun, FmriprepRun]:
    """Pick the pre-treatment and post-treatment runs of one patient.

    Labels may be given with or without their ``key-`` prefix.

    Parameters
    ----------
    dataset : FmriprepDataset
        Result of :func:`discover_fmriprep`.
    subject : str, optional
        Defaults to the only subject.
    pre_session, post_session : str, optional
        When omitted, sessions named like pre/baseline/before/t0 and
        post/followup/after/t1 are used if both exist; otherwise the first two
        sessions in natural order (pass sessions explicitly when there are more
        than two).  If only one is given, the other is the named one, else the
        next (for post) or the earliest (for pre) other session.
    task : str, optional
        Defaults to ``"rest"`` if present, else the only task, else the only
        task whose name starts with "rest".
    run : str, optional
        Defaults to the first run in natural order (``run-2`` before ``run-10``)
        in each session.
    space : str, optional
        An MNI space; defaults to MNI152NLin2009cAsym, then MNI152NLin6Asym,
        then the first other MNI space present in both sessions.  Resolution
        ``2`` is preferred, else the first resolution in natural order.

    Returns
    -------
    tuple of FmriprepRun
        ``(pre, post)`` in the same space and resolution; their sidecar, mask
        and confounds may be ``None``.

    Raises
    ------
    FmriprepLayoutError
        If no MNI-space output exists, or the subject, task, sessions, space or
        run cannot be chosen unambiguously; the message lists what was found.
    """
    root = dataset.root
    subjects = dataset.subjects()
    subject = _choose(subject, subjects, "sub", "this dataset", root, _only(subjects))
    mine = [r for r in dataset.runs if r.subject == subject]
    mni = [r for r in mine if _is_mni(r.space)]
    if not mni:
        raise FmriprepLayoutError(
            f"expected preprocessed BOLD in an MNI space for sub-{subject}, found only space(s) "
            f"{', '.join(_natsorted({r.space for r in mine}))}; this analysis needs MNI-space "
            "output, so rerun fMRIPrep with '--output-spaces MNI152NLin2009cAsym'",
            root,
        )
    tasks = _natsorted({r.task for r in mni})
    resting = [t for t in tasks if t.lower().startswith("rest")]
    rest = "rest" if "rest" in tasks else _only(tasks) or _only(resting)
    task = _choose(task, tasks, "task", f"sub-{subject} in MNI space", root, rest, "task-rest")
    runs = [r for r in mni if r.task == task]
    where = f"sub-{subject} task-{task} in MNI space"
    pre, post = _pick_sessions(runs, pre_session, post_session, where, root)
    by_ses = {ses: [r for r in runs if r.session == ses] for ses in (pre, post)}
    space, res = _pick_space(by_ses[pre], by_ses[post], _strip(space, "space"), pre, post, root)
    picked = []
    for ses in (pre, post):
        found = sorted(
            (r for r in by_ses[ses] if (r.space, r.res) == (space, res)),
            key=lambda r: (_natkey(r.run), _natkey(r.acq)),
        )
        labels = [r.run for r in found if r.run]
        wanted = _strip(run, "run")
        if wanted is not None and wanted.isdigit():  # "01" selects run-1
            wanted = next((x for x in labels if x.isdigit() and int(x) == int(wanted)), wanted)
        wanted = _choose(wanted, labels, "run", f"{where} ses-{ses}", root) if run else None
        picked.append(next(r for r in found if wanted in (None, r.run)))
    return picked[0], picked[1]


def _natkey(text: str | None) -> list[object]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text or "")]


def _natsorted(items) -> list:
    return sorted(items, key=_natkey)


def _is_mni(space: str | None) -> bool:
    return bool(space) and str(_strip(space, "space")).startswith("MNI")


def _only(items: list[str]) -> str | None:
    return items[0] if len(items) == 1 else None


def _strip(label: str | None, key: str) -> str | None:
    label = None if label is None else str(label).strip()
    return label[len(key) + 1 :] if label and label.startswith(f"{key}-") else label


def _choose(value, options, key, where, root, default=None, wanted=None) -> str:
    """Return ``value`` (or ``default``) if it is one of ``options``; else raise listing them."""
    value = _strip(value, key) if value is not None else default
    if value is not None and value in options:
        return value
    wanted = f"{key}-{value}" if value is not None else wanted or f"a single {key}-<label>"
    found = ", ".join(f"{key}-{o}" for o in options) or "none"
    raise FmriprepLayoutError(f"expected {wanted} for {where}, found {found}; choose one", root)


def _subject_dirs(folder: Path) -> list[Path]:
    try:
        return [p for p in sorted(folder.glob("sub-*")) if p.is_dir()]
    except OSError:
        return []


def _candidate_roots(root: Path) -> list[Path]:
    found = [root, root / "fmriprep", root / "derivatives" / "fmriprep"]
    for parent in (root, root / "derivatives"):
        found.extend(sorted(parent.glob("fmriprep*")) if parent.is_dir() else [])
    return [p for i, p in enumerate(found) if p not in found[:i] and p.is_dir()]


def _parse(name: str) -> tuple[dict[str, str], str, str] | None:
    match = _NAME_RE.match(name)
    if match is None:
        return None
    ents: dict[str, str] = {}
    for token in match["ents"].split("_"):
        key, _, value = token.partition("-")
        if key not in _KEYS or key in ents:
            return None
        ents[key] = value
    return (ents, match["suffix"], match["ext"]) if "sub" in ents else None


def _scan(base: Path) -> tuple[tuple[FmriprepRun, ...], set[str]]:
    """Index the func/ folders of ``base``; also report 'minimal' or 'raw' clues."""
    files: dict[tuple[str, ...], Path] = {}
    bolds: dict[tuple[str, ...], tuple[dict[str, str], Path]] = {}
    kinds: set[str] = set()
    for sub in _subject_dirs(base):
        for func in [sub / "func", *(s / "func" for s in sorted(sub.glob("ses-*")))]:
            try:
                entries = sorted(os.scandir(func), key=lambda e: e.name) if func.is_dir() else []
            except OSError:
                continue
            for entry in entries:
                if not entry.is_file():  # folders, symlinked ones included, are not entered
                    continue
                if _MINIMAL_RE.search(entry.name):
                    kinds.add("minimal")
                parsed = _parse(entry.name)
                if parsed is None:
                    continue
                ents, suffix, ext = parsed
                desc, path, key = ents.get("desc"), Path(entry.path), _key(ents)
                if suffix == "bold" and desc is None and "space" not in ents and ext != ".json":
                    kinds.add("raw")
                elif suffix == "bold" and desc == "preproc" and ext != ".json" and "task" in ents:
                    if key not in bolds or ext == ".nii.gz":
                        bolds[key] = (ents, path)
                else:
                    files.setdefault((suffix, desc or "", ext, *key), path)

    def find(suffix: str, desc: str, exts: tuple[str, ...], key: tuple[str, ...]) -> Path | None:
        return next((files[k] for e in exts if (k := (suffix, desc, e, *key)) in files), None)

    runs = []
    for key, (ents, bold) in bolds.items():
        table = (*key[:5], "", "")
        runs.append(FmriprepRun(
            subject=ents["sub"], session=ents.get("ses"), task=ents["task"], run=ents.get("run"),
            space=ents.get("space", "native"), res=ents.get("res"), bold=bold,
            sidecar=find("bold", "preproc", (".json",), key),
            mask=find("mask", "brain", (".nii.gz", ".nii"), key),
            confounds=find("timeseries", "confounds", (".tsv",), table)
            or find("regressors", "confounds", (".tsv",), table),
            acq=ents.get("acq"),
        ))  # fmt: skip
    order = ("subject", "session", "task", "acq", "run", "space", "res")
    runs.sort(key=lambda r: [_natkey(getattr(r, name)) for name in order])
    return tuple(runs), kinds


def _key(ents: dict[str, str]) -> tuple[str, ...]:
    return tuple(ents.get(k, "") for k in _ENTITY_ORDER)


def _by_name(sessions: list[str], prefixes: tuple[str, ...]) -> str | None:
    hits = (s for p in prefixes for s in sessions if s.lower().startswith(p))
    return next(hits, None)


def _pick_sessions(
    runs: list[FmriprepRun], pre: str | None, post: str | None, where: str, root: Path
) -> tuple[str, str]:
    sessions = _natsorted({r.session for r in runs if r.session})
    pre = pre and _choose(pre, sessions, "ses", where, root)
    post = post and _choose(post, sessions, "ses", where, root)
    if len(sessions) < 2:
        found = f"one: ses-{sessions[0]}" if sessions else "none (no ses-<label> in file names)"
        raise FmriprepLayoutError(
            f"expected two sessions (pre and post) for {where}, found {found}", root
        )
    named_pre, named_post = _by_name(sessions, _PRE_NAMES), _by_name(sessions, _POST_NAMES)
    if not pre and not post:
        if named_pre and named_post and named_pre != named_post:
            return named_pre, named_post
        return sessions[0], sessions[1]
    if not pre:
        others = [s for s in sessions if s != post]
        pre = named_pre if named_pre in others else others[0]
    elif not post:
        others = [s for s in sessions if s != pre]
        later = sessions[sessions.index(pre) + 1 :]
        post = named_post if named_post in others else (later or others)[0]
    if pre == post:
        raise FmriprepLayoutError(
            f"expected different pre and post sessions for {where}, found ses-{pre} for both", root
        )
    return str(pre), str(post)


def _pick_space(
    pre_runs: list[FmriprepRun], post_runs: list[FmriprepRun],
    space: str | None, pre: str, post: str, root: Path,
) -> tuple[str, str | None]:  # fmt: skip
    if space is not None and not _is_mni(space):
        raise FmriprepLayoutError(
            f"expected an MNI space, found space-{space} requested; this analysis needs "
            "MNI-space output ('--output-spaces MNI152NLin2009cAsym')",
            root,
        )
    common = {(r.space, r.res) for r in pre_runs} & {(r.space, r.res) for r in post_runs}
    common = {c for c in common if space in (None, c[0])}
    if not common:
        pre_found, post_found = (
            ", ".join(_natsorted({r.space + (f" res-{r.res}" if r.res else "") for r in runs}))
            for runs in (pre_runs, post_runs)
        )
        raise FmriprepLayoutError(
            f"expected {f'space-{space}' if space else 'a common MNI space'} in both sessions, "
            f"found {pre_found or 'none'} in ses-{pre} and {post_found or 'none'} in ses-{post}",
            root,
        )
    spaces = {s for s, _ in common}
    chosen = next((s for s in _PREFERRED_SPACES if s in spaces), _natsorted(spaces)[0])
    reses = [r for s, r in common if s == chosen]
    return chosen, "2" if "2" in reses else sorted(reses, key=_natkey)[0]
