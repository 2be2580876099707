"""Running a cohort on Dask distributed: one task per pair, collected as they finish."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import threading
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from core import __version__
from core.atlas.atlases import list_atlases
from core.cohort.pair import PairFunction, analyze_pair, run_pair
from core.cohort.summary_files import Progress, write_cohort_files
from core.cohort.table import CohortRow, read_cohort_table
from core.errors import InputError
from core.io.files import sha256_file
from core.settings import AnalysisSettings

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "EXIT_OK", "EXIT_SOME_FAILED", "CohortOutcome",
           "make_client", "run_cohort"]

log = logging.getLogger(__name__)

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_SOME_FAILED = 0, 1, 2, 3


@dataclass(frozen=True)
class CohortOutcome:
    """What a cohort run did.

    Attributes
    ----------
    exit_code : int
        0 every pair done or skipped, 3 some failed, 2 all failed on bad
        input, 1 all failed and some on an internal error.
    results : list of dict
        One per pair, in the order they finished: ``subject``, ``status``
        (``"done"``, ``"skipped"``, ``"failed"``), ``error`` ...
    finished : list of Path
        The subject folders done or skipped, in table order (for steps that
        use the whole cohort, such as the reference of repeat scans).
    out : Path
        The output folder.
    """

    exit_code: int
    results: list[dict[str, Any]]
    finished: list[Path]
    out: Path


def make_client(workers: int | None = None, scheduler: str | None = None) -> tuple[Any, bool]:
    """Connect to a scheduler, or start a local cluster of single-threaded processes.

    Parameters
    ----------
    workers : int, optional
        Local worker processes (default: one per CPU), one thread each.
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); only connects.

    Returns
    -------
    client : distributed.Client
    owned : bool
        Whether the cluster was started here (and must be shut down with it).
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler, timeout="30s"), False
    # Dask starts workers with MALLOC_TRIM_THRESHOLD_ set, which turns off glibc's dynamic
    # mmap threshold: every large temporary array is then mapped and unmapped, and a pair
    # of the retest cohort took 1.6 times as long.  Workers keep BLAS at one thread.
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
                         ), _ctrl_c_ignored():
        cluster = LocalCluster(  # the scheduler's HTTP server binds 8787 without a dashboard
            n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
            host="127.0.0.1", silence_logs=logging.ERROR,
            scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"})
    return Client(cluster), True


@contextlib.contextmanager
def _ctrl_c_ignored() -> Iterator[None]:
    """Ignore SIGINT while worker processes start, so that they inherit the ignoring.

    Ctrl-C then interrupts only this process, which cancels the pairs and shuts
    the cluster down, instead of every worker printing a traceback.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_cohort(table: str | Path, out: str | Path, settings: AnalysisSettings, *,
               client: Any = None, workers: int | None = None, scheduler: str | None = None,
               retries: int = 1, stream: TextIO | None = None,
               pair_function: PairFunction = analyze_pair) -> CohortOutcome:
    """Analyse every pair of a cohort table; write ``out``; report progress on ``stream``.

    Parameters
    ----------
    table : str or Path
        See :func:`core.cohort.table.read_cohort_table`.
    out : str or Path
        Output folder; it may hold no input, nor lie in an fMRIPrep folder.
    settings : AnalysisSettings
        As for ``analyze``; relative atlas and labels paths are resolved here.
    client : distributed.Client, optional
        Use this client (left open); else connect to ``scheduler`` or start a
        local cluster of ``workers`` processes (shut down at the end).
    workers : int, optional
    scheduler : str, optional
    retries : int, default=1
        Dask retries of unexpected exceptions (not of bad input; a worker that
        dies is governed by ``distributed.scheduler.allowed-failures``).
    stream : text stream, optional
        Progress line (default ``sys.stderr``).
    pair_function : callable, default=core.cohort.pair.analyze_pair
        The per-pair work (tests inject slow or failing variants).

    Returns
    -------
    CohortOutcome

    Raises
    ------
    InputError
        Bad table, missing option files or an output folder among the inputs.
    KeyboardInterrupt
        After cancelling the pending pairs; finished pairs stay written.
    """
    from distributed import as_completed

    table = Path(table).expanduser().resolve()
    rows = read_cohort_table(table)
    settings, option_files = _absolute_paths(settings)
    out = _check_out(Path(out).expanduser().resolve(), [table, *option_files], rows)
    stamps = _stamps(rows, settings, option_files)
    results: list[dict[str, Any]] = []
    with _locked(out):
        _remove_leftovers(out)
        owned = False
        if client is None:
            client, owned = make_client(workers, scheduler)
        run_id, futures = uuid.uuid4().hex[:8], []
        progress = Progress(len(rows), stream)
        try:
            futures = [client.submit(run_pair, asdict(row), settings, stamps[row.subject],
                                     str(out), pair_function, retries=retries, pure=False,
                                     key=f"cohort-{row.subject}-{run_id}") for row in rows]
            subject_of = {f.key: row.subject for f, row in zip(futures, rows, strict=True)}
            for future in as_completed(futures):
                result = _result(future, subject_of[future.key])
                future.release()  # else a shutdown warns about lost computed tasks
                log.info("%s: %s %s", result["subject"], result["status"], result["error"])
                results.append(result)
                progress.update(result["status"])
        except BaseException:
            client.cancel(futures)
            raise
        finally:
            if owned:
                client.shutdown()
                client.close()
        _remove_leftovers(out)  # attempts on workers that died
        write_cohort_files(out, [row.subject for row in rows], results)
    ok = {r["subject"] for r in results if r["status"] != "failed"}
    return CohortOutcome(_exit_code(results), results,
                         [out / row.subject for row in rows if row.subject in ok], out)


def _result(future: Any, subject: str) -> dict[str, Any]:
    """Return the task's result, or a failure row (an exception, dead workers, lost task)."""
    error = f"the task was {future.status} (scheduler or workers lost?)"
    try:
        if future.status == "finished":
            return future.result()
        if future.status == "error":
            raise future.exception()
    except Exception as exc:  # e.g. KilledWorker, or a bug in the analysis
        error = " ".join(f"{type(exc).__name__}: {exc}".split())
    log.error("%s: internal error: %s", subject, error)
    return {"subject": subject, "status": "failed", "internal": True, "error": error}


def _exit_code(results: list[dict[str, Any]]) -> int:
    failed = [r for r in results if r["status"] == "failed"]
    if not failed:
        return EXIT_OK
    if len(failed) < len(results):
        return EXIT_SOME_FAILED
    return EXIT_INTERNAL if any(r.get("internal") for r in failed) else EXIT_BAD_INPUT


def _absolute_paths(settings: AnalysisSettings) -> tuple[AnalysisSettings, list[Path]]:
    """Atlas and labels paths made absolute (workers may run elsewhere), and those files."""
    files = []
    atlas, labels = settings.atlas, settings.labels_table
    if atlas.strip().lower() not in {info.name for info in list_atlases()}:
        files.append(Path(atlas).expanduser().resolve())
        atlas = str(files[-1])
    if labels is not None:
        files.append(Path(labels).expanduser().resolve())
        labels = str(files[-1])
    for path in files:
        if not path.is_file():
            raise InputError("expected an atlas or labels file, found no file at this path",
                             path)
    return replace(settings, atlas=atlas, labels_table=labels), files


def _stamps(rows: list[CohortRow], settings: AnalysisSettings, option_files: list[Path]
            ) -> dict[str, dict[str, Any]]:
    """Each row's ``cohort.json``: what its outputs were computed from, as JSON."""
    common = {"settings": settings.to_dict(), "version": __version__,
              "option_files": {str(p): sha256_file(p) for p in option_files}}
    return {row.subject: json.loads(json.dumps({"row": asdict(row), **common}))
            for row in rows}


def _check_out(out: Path, option_inputs: list[Path], rows: list[CohortRow]) -> Path:
    inputs = [*option_inputs, *(p for row in rows for p in row.input_paths())]
    roots = [Path(row.fmriprep) for row in rows if row.fmriprep]
    held = [p for p in inputs if out in p.parents]
    inside = [r for r in roots if r == out or r in out.parents]
    if held or inside:
        raise InputError(f"expected an output folder outside the cohort's inputs, got {out}, "
                         f"which {'holds' if held else 'lies inside'} "
                         f"{(held or inside)[0]}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"the output folder cannot be created ({exc.strerror})", out) from exc
    return out


def _remove_leftovers(out: Path) -> None:
    """Delete the partial folders of attempts that died and folders moved aside."""
    for stale in [*out.glob(".*.partial-*"), *out.glob(".*.old-*")]:
        shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    """Hold ``out/.cohort.lock`` so that a second run cannot write into the same folder."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here
        yield
        return
    with (out / ".cohort.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError("expected no other cohort run writing into this folder, found "
                             "one running", out) from None
        except OSError as exc:  # file systems without locks
            log.warning("cannot lock %s (%s); do not run two cohorts into it", out, exc)
        yield
