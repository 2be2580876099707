"""Helpers of the cohort tests, importable by Dask worker processes (tests/cohort on their path).

- :func:`synthetic_cohort`: small time-series pairs with Schaefer-style names, fast to analyse;
- :func:`slow_once_pair`: the real per-pair work, made slow on its first attempt for one
  subject (environment variables, so that it reaches ``dask worker`` processes);
- :class:`DaskProcesses`: ``dask scheduler`` and ``dask worker`` subprocesses on 127.0.0.1;
- :func:`drive`: a cohort driver (``python -c``) that runs with :func:`slow_once_pair`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from core.cohort.pair import analyze_pair
from core.settings import AnalysisSettings, DenoiseSettings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NETWORKS = ("Vis", "SomMot", "DorsAttn", "SalVentAttn", "Limbic", "Cont", "Default")
#: The options of :data:`SETTINGS`, as given to ``analyze``/``cohort``.
ARGV = ["--strategy", "none", "--no-filter", "--tr", "2"]
SETTINGS = AnalysisSettings(denoise=DenoiseSettings(strategy="none", band_pass=None), tr=2.0)
OUTPUT_FILES = {"connectivity_pre.tsv", "connectivity_post.tsv", "connectivity_delta.tsv",
                "partial_pre.tsv", "partial_post.tsv", "networks.tsv", "edges.tsv", "qc.tsv",
                "named_edges.tsv", "rois.tsv", "summary.json", "cohort.json",
                "reference_pair.npz"}


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment of driver and worker subprocesses: the repository and this folder."""
    path = os.pathsep.join([str(ROOT), str(HERE), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1", **extra}


def write_series(path: Path, names: list[str], volumes: int, rng: np.random.Generator) -> None:
    """Write a random time-series table (TSV; gzipped when ``path`` ends in .gz)."""
    import pandas as pd

    frame = pd.DataFrame(rng.standard_normal((volumes, len(names))), columns=names)
    frame.to_csv(path, sep="\t", index=False, float_format="%.5f")


def synthetic_cohort(folder: Path, n: int, rois_per_network: int = 3, volumes: int = 80,
                     seed: int = 0) -> Path:
    """Write ``n`` pairs ``sub-00 ...`` of Schaefer-named series and ``cohort.tsv``."""
    names = [f"7Networks_LH_{net}_{i}" for net in NETWORKS
             for i in range(1, rois_per_network + 1)]
    rng = np.random.default_rng(seed)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    rows = ["subject\tpre\tpost"]
    for s in range(n):
        for session in ("pre", "post"):
            write_series(folder / "data" / f"sub-{s:02d}_{session}.tsv", names, volumes, rng)
        rows.append(f"sub-{s:02d}\tdata/sub-{s:02d}_pre.tsv\tdata/sub-{s:02d}_post.tsv")
    (folder / "cohort.tsv").write_text("\n".join(rows) + "\n")
    return folder / "cohort.tsv"


def attempts(hook: Path, subject: str) -> int:
    """How many times :func:`slow_once_pair` started on ``subject``."""
    path = hook / f"{subject}.attempts"
    return len(path.read_text().split()) if path.exists() else 0


def slow_once_pair(row: dict, settings: AnalysisSettings, folder: str) -> dict:
    """``analyze_pair``, slow on the first attempt of subject ``$COHORT_SLOW_SUBJECT``.

    With ``$COHORT_HOOK_DIR`` set, every attempt appends its pid to
    ``<subject>.attempts`` and sleeps ``$COHORT_EACH_SECONDS``; the first
    attempt of the slow subject creates ``<subject>.<pid>.started`` (the test
    kills that pid) and sleeps ``$COHORT_SLOW_SECONDS``.
    """
    hook = Path(os.environ.get("COHORT_HOOK_DIR", "/nonexistent"))
    if hook.is_dir():
        with open(hook / f"{row['subject']}.attempts", "a") as stream:
            stream.write(f"{os.getpid()}\n")
        if row["subject"] == os.environ.get("COHORT_SLOW_SUBJECT"):
            try:
                os.close(os.open(hook / f"{row['subject']}.claimed", os.O_CREAT | os.O_EXCL))
                (hook / f"{row['subject']}.{os.getpid()}.started").touch()
                time.sleep(float(os.environ.get("COHORT_SLOW_SECONDS", "60")))
            except FileExistsError:
                pass
        time.sleep(float(os.environ.get("COHORT_EACH_SECONDS", "0")))
    return analyze_pair(row, settings, folder)


def drive(argv: list[str]) -> int:
    """``TABLE OUT ADDRESS``: run the cohort with :func:`slow_once_pair`; print the results."""
    from core.cohort import run_cohort

    table, out, address = argv
    outcome = run_cohort(table, out, SETTINGS, scheduler=address, pair_function=slow_once_pair)
    print(json.dumps(outcome.results))
    return outcome.exit_code


DRIVE = "import sys, cohort_testkit; sys.exit(cohort_testkit.drive(sys.argv[1:]))"


def wait_for(predicate, timeout: float, what: str) -> None:
    """Poll ``predicate`` every 50 ms; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class DaskProcesses:
    """``dask scheduler`` and ``dask worker`` subprocesses on 127.0.0.1, on free ports.

    Each runs in its own process group, killed whole by :meth:`kill_all`.
    """

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env = folder, env
        self.procs: list[subprocess.Popen] = []
        self.file = folder / "scheduler.json"

    def _start(self, *args: str) -> None:
        log = (self.folder / f"dask-{len(self.procs)}.log").open("w")
        dask = Path(sys.executable).with_name("dask")  # the CLI users run, same Python
        self.procs.append(subprocess.Popen([str(dask), *args], env=self.env, stdout=log,
                                           stderr=log, start_new_session=True))

    def start(self, workers: int = 2) -> str:
        """Start a scheduler and ``workers`` single-threaded workers; return the address."""
        from distributed import Client

        self._start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                    "--dashboard-address", ":0", "--scheduler-file", str(self.file))
        for _ in range(workers):
            self._start("worker", "--scheduler-file", str(self.file), "--nthreads", "1",
                        "--no-dashboard", "--host", "127.0.0.1")
        wait_for(self.file.exists, 30, "the scheduler file")
        address = json.loads(self.file.read_text())["address"]
        with Client(address, timeout="20s") as client:
            client.wait_for_workers(workers, timeout=60)
        return address

    def kill_all(self) -> None:
        """SIGKILL every process group started here and forget the scheduler file."""
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        self.procs.clear()
        self.file.unlink(missing_ok=True)
