"""``preprocess``: fMRIPrep when the site has it, else the labelled quick path.

``auto`` takes fMRIPrep when it is available and the subject has a T1w image, and
the quick path (:mod:`core.preprocess.quick`) otherwise, saying why.  Both write a
derivatives folder in fMRIPrep's layout that the fMRIPrep discovery opens.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import PreprocessingError
from core.preprocess.bids_dataset import (
    BidsSubject,
    check_derivatives_folder,
    read_bids_subject,
)
from core.preprocess.fmriprep_runner import (
    FmriprepRun,
    command_text,
    plan_fmriprep,
    run_fmriprep,
)
from core.preprocess.fmriprep_setup import find_fmriprep

__all__ = ["ENGINES", "EnginePlan", "PreprocessResult", "plan_preprocessing", "quick_module",
           "run_preprocessing"]

Progress = Callable[[float, str], None]
ENGINES = ("auto", "fmriprep", "quick")
QUICK_MODULE = "core.preprocess.quick"


@dataclass(frozen=True)
class EnginePlan:
    """What ``preprocess`` will do, decided before anything runs.

    Attributes
    ----------
    engine : {"fmriprep", "quick"}
    subject : BidsSubject
    out_dir : Path
    fmriprep : FmriprepRun or None
        The planned fMRIPrep command (engine "fmriprep").
    notes : tuple of str
        Why this engine (e.g. why not fMRIPrep).
    """

    engine: str
    subject: BidsSubject
    out_dir: Path
    fmriprep: FmriprepRun | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def command(self) -> str | None:
        """The exact fMRIPrep command line, when fMRIPrep runs."""
        return command_text(self.fmriprep.command) if self.fmriprep else None


@dataclass(frozen=True)
class PreprocessResult:
    """Where the derivatives are, and how they were made."""

    engine: str
    derivatives: Path
    command: str | None
    notes: tuple[str, ...]


def quick_module():
    """Import the quick path's module; a clear error when this installation lacks it.

    Returns
    -------
    module
        Provides ``run_quick_preprocessing(bids_dir, out_dir, subject, progress)``.
    """
    try:
        module = importlib.import_module(QUICK_MODULE)
    except ImportError as exc:
        if exc.name not in (QUICK_MODULE, None):
            raise  # a dependency of the quick path is missing: say which
        raise PreprocessingError("the quick preprocessing path is not available in this "
                                 f"installation ({QUICK_MODULE} is missing)") from exc
    missing = module.quick_path_missing()  # the installer leaves antspyx out
    if missing:
        raise PreprocessingError(missing)
    return module


def plan_preprocessing(bids_dir: str | Path, out_dir: str | Path, *, engine: str = "auto",
                       subject: str | None = None, fmriprep_image: str | None = None,
                       fs_license: str | Path | None = None,
                       work_dir: str | Path | None = None,
                       nprocs: int | None = None) -> EnginePlan:
    """Choose the engine and check everything it needs; run nothing.

    Parameters
    ----------
    bids_dir : str or Path
        A BIDS dataset with one subject and two sessions (``import-dicom`` writes one).
    out_dir : str or Path
        The derivatives folder to create.
    engine : {"auto", "fmriprep", "quick"}
    subject : str, optional
        Needed when the dataset has several subjects.
    fmriprep_image, fs_license, work_dir, nprocs
        See :func:`core.preprocess.fmriprep_setup.find_fmriprep` and
        :func:`core.preprocess.fmriprep_runner.plan_fmriprep`.

    Returns
    -------
    EnginePlan

    Raises
    ------
    PreprocessingError
        The engine asked for is unavailable (the message says what was looked for).
    """
    if engine not in ENGINES:
        raise PreprocessingError(f"expected an engine among {', '.join(ENGINES)}, got {engine!r}")
    found = read_bids_subject(bids_dir, subject)
    out = Path(out_dir).absolute()
    notes: list[str] = []
    no_fmriprep = ""
    if engine in ("auto", "fmriprep"):
        try:
            setup = find_fmriprep(fmriprep_image, fs_license)
            run = plan_fmriprep(setup, found, out, work_dir, nprocs)
            notes.append(f"engine: {setup.description}")
            if run.resumed:
                notes.append(f"resuming from the work folder {run.work_dir}")
            return EnginePlan("fmriprep", found, out, run, tuple(notes))
        except PreprocessingError as exc:
            if engine == "fmriprep":
                raise
            no_fmriprep = " ".join(str(exc).split())
            notes.append(f"not fMRIPrep: {no_fmriprep}")
    check_derivatives_folder(found.root.absolute(), out)
    try:
        quick_module()
    except PreprocessingError as exc:
        if no_fmriprep:  # auto: neither engine
            raise PreprocessingError(f"no preprocessing engine is available: {no_fmriprep}; "
                                     f"and {exc}") from exc
        raise PreprocessingError(f"{exc}; use --engine fmriprep where fMRIPrep is "
                                 "installed") from exc
    notes.append("engine: quick preprocessing (labelled; not comparable with fMRIPrep outputs)")
    return EnginePlan("quick", found, out, None, tuple(notes))


def run_preprocessing(plan: EnginePlan, progress: Progress | None = None) -> PreprocessResult:
    """Run a plan from :func:`plan_preprocessing`.

    Parameters
    ----------
    plan : EnginePlan
    progress : callable, optional
        ``progress(fraction, message)``; raising from it cancels.

    Returns
    -------
    PreprocessResult
    """
    if plan.engine == "fmriprep" and plan.fmriprep is not None:
        run = run_fmriprep(plan.fmriprep, plan.subject, progress)
        return PreprocessResult("fmriprep", run.derivatives, plan.command, plan.notes)
    quick = quick_module()
    quick.run_quick_preprocessing(plan.subject.root, plan.out_dir, plan.subject.label,
                                  progress or (lambda fraction, message: None))
    return PreprocessResult("quick", plan.out_dir, None, plan.notes)
