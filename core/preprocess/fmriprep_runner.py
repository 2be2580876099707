"""Run fMRIPrep on one subject: follow its log, cancel it, resume it, open its result.

fMRIPrep writes into ``WORK/output`` (inside its work folder) and the folder is
renamed to the derivatives folder only when fMRIPrep succeeded and the existing
fMRIPrep discovery finds both sessions in MNI space, so the derivatives folder
appears whole or not at all.  A cancelled or failed run keeps ``WORK``: the same
command resumes from it (nipype reuses every finished step).  A cancel terminates
fMRIPrep's whole process group.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.errors import PreprocessingError
from core.preprocess.bids_dataset import BidsSubject, check_derivatives_folder
from core.preprocess.fmriprep_log import FmriprepLogProgress
from core.preprocess.fmriprep_setup import FmriprepSetup, fmriprep_command

__all__ = ["FmriprepRun", "command_text", "default_work_dir", "plan_fmriprep", "run_fmriprep"]

Progress = Callable[[float, str], None]
LOG_NAME = "prepost-fmriprep.log"
_HEARTBEAT_S = 1.0
_GRACE_S = 20.0


@dataclass(frozen=True)
class FmriprepRun:
    """One fMRIPrep run: where, with which command, and whether it resumed."""

    command: tuple[str, ...]
    derivatives: Path
    work_dir: Path
    log: Path
    resumed: bool
    templateflow: Path | None = None

    @property
    def staging(self) -> Path:
        """Where fMRIPrep writes until it has succeeded."""
        return self.work_dir / "output"


def command_text(command: Sequence[str]) -> str:
    """Return the command as one line a user can paste into a terminal."""
    if sys.platform == "win32":
        return subprocess.list2cmdline(list(command))
    import shlex

    return shlex.join(command)


def default_work_dir(out_dir: str | Path) -> Path:
    """``DERIV_DIR_work`` beside the derivatives folder (kept for resuming)."""
    out = Path(out_dir).absolute()
    return out.with_name(f"{out.name}_work")


def _check_paths(bids: Path, out: Path, work: Path) -> None:
    check_derivatives_folder(bids, out)
    if work == bids or bids in work.parents or work in bids.parents:
        raise PreprocessingError(f"the work folder may not be inside the BIDS dataset or hold "
                                 f"it (inputs are never written to): {work}")
    if work == out or out in work.parents or work in out.parents:
        raise PreprocessingError(f"the work folder {work} must be separate from the "
                                 f"derivatives folder {out}")


def plan_fmriprep(setup: FmriprepSetup, subject: BidsSubject, out_dir: str | Path,
                  work_dir: str | Path | None = None, nprocs: int | None = None) -> FmriprepRun:
    """Check the folders and build the command, without running anything.

    Parameters
    ----------
    setup : FmriprepSetup
    subject : BidsSubject
    out_dir : str or Path
        The derivatives folder to create.
    work_dir : str or Path, optional
        Default :func:`default_work_dir`; an existing one is resumed.
    nprocs : int, optional

    Returns
    -------
    FmriprepRun
    """
    if not subject.has_t1w:
        raise PreprocessingError(
            f"fMRIPrep needs a T1w image and sub-{subject.label} has none in {subject.root}; "
            "import the visit's T1w series (import-dicom --t1w-series N) or use --engine "
            "quick")
    bids, out = subject.root.absolute(), Path(out_dir).absolute()
    work = Path(work_dir).absolute() if work_dir else default_work_dir(out)
    _check_paths(bids, out, work)
    rest = [t for t in subject.tasks if t == "rest"]
    task = None if len(subject.tasks) == 1 else (rest[0] if rest else None)
    if task is None and len(subject.tasks) > 1:
        raise PreprocessingError(f"expected one resting-state task, found tasks "
                                 f"{', '.join(subject.tasks)} for sub-{subject.label}", bids)
    resumed = work.is_dir() and any(work.iterdir())
    command = fmriprep_command(setup, bids, work / "output", work, subject.label, task, nprocs)
    templateflow = setup.templateflow if setup.kind == "native" else None
    return FmriprepRun(tuple(command), out, work, work / LOG_NAME, resumed, templateflow)


def _start(command: Sequence[str], templateflow: Path | None) -> subprocess.Popen:
    options: dict = {"start_new_session": True} if os.name == "posix" else \
        {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
    env = dict(os.environ)
    if templateflow is not None:
        env["TEMPLATEFLOW_HOME"] = str(templateflow)
    try:
        return subprocess.Popen(list(command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, text=True, bufsize=1,
                                errors="replace", env=env, **options)
    except OSError as exc:
        raise PreprocessingError(f"could not start fMRIPrep ({exc})", command[0]) from exc


def _stop(process: subprocess.Popen) -> None:
    """Terminate the process and everything it started (its process group)."""
    if process.poll() is not None:
        return
    if os.name == "posix":
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
    else:
        process.terminate()
    try:
        process.wait(timeout=_GRACE_S)
    except subprocess.TimeoutExpired:
        if os.name == "posix":
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait()


def _pump(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _follow(process: subprocess.Popen, log_file, tracker: FmriprepLogProgress,
            report: Progress) -> int:
    """Copy the output to the log and report progress until the process ends."""
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    shown = (-1.0, "")
    last = time.monotonic()
    while True:
        try:
            line = lines.get(timeout=_HEARTBEAT_S)
        except queue.Empty:
            line = ""
        if line is None:
            break
        if line:
            log_file.write(line)
            tracker.feed(line)
        now = (round(tracker.fraction, 3), tracker.message)
        if now != shown or time.monotonic() - last >= _HEARTBEAT_S:
            report(*now)  # also where a cancel takes effect
            shown, last = now, time.monotonic()
    log_file.flush()
    return process.wait()


def _open_result(run: FmriprepRun, subject: BidsSubject) -> None:
    """Check the output with the fMRIPrep discovery, then rename it into place."""
    from core.io.fmriprep import discover_fmriprep, select_pre_post

    dataset = discover_fmriprep(run.staging)
    select_pre_post(dataset, subject=subject.label)
    if run.derivatives.exists():
        run.derivatives.rmdir()  # checked empty before the run
    run.staging.rename(run.derivatives)


def run_fmriprep(run: FmriprepRun, subject: BidsSubject,
                 progress: Progress | None = None) -> FmriprepRun:
    """Run the planned command; return when the derivatives folder is in place.

    Parameters
    ----------
    run : FmriprepRun
        From :func:`plan_fmriprep`.
    subject : BidsSubject
    progress : callable, optional
        ``progress(fraction, message)``, called at least every second; when it
        raises (a cancel), fMRIPrep's process group is terminated and the error
        re-raised.  The work folder is kept for resuming.

    Returns
    -------
    FmriprepRun

    Raises
    ------
    PreprocessingError
        fMRIPrep failed (the message quotes its error and names its log).
    """
    report = progress or (lambda fraction, message: None)
    run.work_dir.mkdir(parents=True, exist_ok=True)
    run.staging.mkdir(exist_ok=True)
    tracker = FmriprepLogProgress()
    with run.log.open("a", encoding="utf-8") as log_file:
        log_file.write(f"\n# {time.strftime('%Y-%m-%d %H:%M:%S')} "
                       f"{'resuming' if run.resumed else 'starting'}: "
                       f"{command_text(run.command)}\n")
        log_file.flush()
        report(0.01, "Starting fMRIPrep" + (" (resuming from its work folder)"
                                            if run.resumed else ""))
        process = _start(run.command, run.templateflow)
        try:
            code = _follow(process, log_file, tracker, report)
        except BaseException:
            _stop(process)
            log_file.write("# stopped at the user's request; the same command resumes\n")
            raise
    if code != 0:
        detail = tracker.error or "no error line in its output"
        raise PreprocessingError(
            f"fMRIPrep stopped with exit code {code}: {detail}; its log: {run.log}; run the "
            f"same command again to resume from the work folder {run.work_dir}")
    report(0.98, "fMRIPrep finished; opening its outputs")
    _open_result(run, subject)
    report(1.0, "fMRIPrep outputs ready")
    return run
