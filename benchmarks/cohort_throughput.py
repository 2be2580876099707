"""Cohort throughput on the real retest cohort (18 pairs): a serial loop against ``cohort``.

Run from the repository root::

    python3 benchmarks/cohort_throughput.py [WORKDIR] [ROUNDS]   # /tmp/cohort_throughput, 2

All measured in the same run, on the same pairs and options (``--strategy none
--no-filter --tr 2 --labels rois.tsv``, as the cohort's README recommends), in
ROUNDS interleaved rounds (the machine may be shared: each round is printed, and the
best of the rounds):

- serial loop: ``core.cohort.analyze_pair`` on each pair in one process (the work of
  ``analyze`` without the start-up of 18 processes), once with the BLAS/OpenMP threads
  of a default start, once with ``OMP_NUM_THREADS=1`` (also MKL, OpenBLAS), which is
  what Dask's nanny gives its workers, and once more with ``MALLOC_TRIM_THRESHOLD_``
  as Dask sets it for workers (``core.cohort.make_client`` removes it);
- ``run_cohort`` on a local cluster of 1 and of 2 single-threaded worker processes,
  including the start and shutdown of the cluster;
- the rerun with every pair up to date (skipped after the SHA-256 check), 2 workers.

Each line gives pairs per minute, the ratio to the serial loop with default threads,
and the CPU time that other processes on the machine used meanwhile (Linux: all busy
time in ``/proc/stat`` minus this process and its children), to tell a slow figure from
a busy machine.
"""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.settings import AnalysisSettings, DenoiseSettings  # noqa: E402

RETEST = Path("/work/shared/data/retest_cohort")
SETTINGS = AnalysisSettings(labels_table=str(RETEST / "rois.tsv"), tr=2.0,
                            denoise=DenoiseSettings(strategy="none", band_pass=None))
SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
# Dask's nanny writes its workers' variables (OMP_NUM_THREADS=1 ...) into the environment of
# the process that starts a local cluster: the serial runs get the environment of the start.
START_ENVIRONMENT = dict(os.environ)


def cpu_seconds() -> tuple[float, float]:
    """(busy CPU seconds of the whole machine, of this process and its reaped children)."""
    own = sum(getattr(resource.getrusage(who), field) for who in
              (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
              for field in ("ru_utime", "ru_stime"))
    try:
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    except OSError:
        return float("nan"), own
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK"), own


def measured(function, *args) -> tuple[float, float, object]:
    """Run ``function(*args)``: (seconds, CPU seconds used by other processes, result)."""
    busy, own = cpu_seconds()
    start = time.perf_counter()
    result = function(*args)
    seconds = time.perf_counter() - start
    busy_after, own_after = cpu_seconds()
    return seconds, max(0.0, (busy_after - busy) - (own_after - own)), result


def absolute_table(work: Path) -> Path:
    """The cohort table with absolute paths, outside the (read-only) data folder."""
    lines = (RETEST / "cohort.tsv").read_text().splitlines()
    rows = [lines[0]] + ["\t".join([s, *(str(RETEST / p) for p in paths)])
                         for s, *paths in (line.split("\t") for line in lines[1:])]
    work.mkdir(parents=True, exist_ok=True)
    (work / "cohort.tsv").write_text("\n".join(rows) + "\n")
    return work / "cohort.tsv"


def serial(table: Path, out: Path) -> None:
    """Child process: the serial loop; prints its seconds and thread pools as JSON."""
    from core.cohort import analyze_pair, read_cohort_table

    try:
        from threadpoolctl import threadpool_info

        pools = [(p["internal_api"], p["num_threads"]) for p in threadpool_info()]
    except ImportError:
        pools = []
    rows = read_cohort_table(table)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    start = time.perf_counter()
    for row in rows:
        analyze_pair(asdict(row), SETTINGS, str(out / row.subject))
    print(json.dumps({"seconds": time.perf_counter() - start, "threads": pools}))


def run_serial(table: Path, out: Path, env: dict[str, str]) -> dict:
    """Run :func:`serial` in a fresh process with ``env`` (thread pools are set at start)."""
    done = subprocess.run([sys.executable, __file__, "--serial", str(table), str(out)],
                          env={**START_ENVIRONMENT, **env}, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.splitlines()[-1])


def run_dask(table: Path, out: Path, workers: int) -> list[dict]:
    """Run ``run_cohort`` on a new local cluster (started and shut down here)."""
    from core.cohort import run_cohort

    outcome = run_cohort(table, out, SETTINGS, workers=workers, stream=io.StringIO())
    assert outcome.exit_code == 0, outcome.results
    return outcome.results


def one_round(table: Path, work: Path, n: int) -> dict[str, tuple[float, float]]:
    """Every measurement once: (seconds, others' CPU seconds) by name."""
    timings: dict[str, tuple[float, float]] = {}
    for name, env in (("serial loop, default threads", {}),
                      ("serial loop, OMP_NUM_THREADS=1", SINGLE_THREAD),
                      ("serial loop, 1 thread, MALLOC_TRIM_THRESHOLD_=65536",
                       {**SINGLE_THREAD, "MALLOC_TRIM_THRESHOLD_": "65536"})):
        seconds, others, result = measured(run_serial, table, work / "serial", env)
        timings[name] = seconds, others
        print(f"  {name}: thread pools {result['threads']}")
    for workers in (1, 2):
        shutil.rmtree(work / f"dask{workers}", ignore_errors=True)
        seconds, others, results = measured(run_dask, table, work / f"dask{workers}", workers)
        per_pair = sorted(r["seconds"] for r in results)
        timings[f"cohort, {workers} worker(s), incl. cluster start"] = seconds, others
        print(f"  {workers} worker(s): seconds per pair median {per_pair[n // 2]:.1f}, "
              f"max {per_pair[-1]:.1f}")
    seconds, others, results = measured(run_dask, table, work / "dask2", 2)
    assert {r["status"] for r in results} == {"skipped"}
    timings["cohort rerun, all skipped (SHA-256 check), 2 workers"] = seconds, others
    return timings


def report(title: str, timings: dict[str, tuple[float, float]], n: int) -> None:
    """Print seconds, pairs per minute, the ratio to the default serial loop, others' CPU."""
    print(title)
    reference = timings["serial loop, default threads"][0]
    for name, (seconds, others) in timings.items():
        print(f"  {name:54s} {seconds:6.1f} s {60 * n / seconds:6.1f} pairs/min "
              f"x{reference / seconds:5.2f}   others used {others:5.1f} CPU s")


def main() -> None:
    """Measure and print the tables."""
    import logging

    import distributed  # noqa: F401  (its import sets the level lowered here)

    logging.getLogger("distributed").setLevel(logging.ERROR)
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/cohort_throughput")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    table = absolute_table(work)
    n = len(table.read_text().splitlines()) - 1
    print(f"{n} pairs (419 ROIs, 234 volumes), {os.cpu_count()} CPUs, options: "
          "--strategy none --no-filter --tr 2 --labels rois.tsv")
    rounds_timings = []
    for index in range(rounds):
        rounds_timings.append(one_round(table, work, n))
        report(f"round {index + 1}", rounds_timings[-1], n)
    report(f"best of {rounds} rounds", {k: min(m[k] for m in rounds_timings)
                                        for k in rounds_timings[0]}, n)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serial"]:
        serial(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()
