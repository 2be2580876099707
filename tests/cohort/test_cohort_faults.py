"""Faults with a real ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1.

A worker killed in the middle of a pair, the whole run killed and run again, and a
scheduler that gives up on a pair that kills its workers.  The slow first attempt of
one subject comes from ``cohort_testkit.slow_once_pair`` (environment variables).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pandas as pd
import pytest
from cohort_testkit import (
    ARGV,
    DRIVE,
    OUTPUT_FILES,
    ROOT,
    DaskProcesses,
    attempts,
    subprocess_env,
    synthetic_cohort,
    wait_for,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def hook(tmp_path):
    folder = tmp_path / "hook"
    folder.mkdir()
    return folder


def _complete(folder):
    return {p.name for p in folder.iterdir()} == OUTPUT_FILES


def test_worker_killed_mid_pair_is_retried_on_another(tmp_path, hook):
    env = subprocess_env(COHORT_HOOK_DIR=str(hook), COHORT_SLOW_SUBJECT="sub-02",
                         COHORT_SLOW_SECONDS="120", COHORT_EACH_SECONDS="0.2")
    dask = DaskProcesses(tmp_path, env)
    table, out = synthetic_cohort(tmp_path / "in", 6), tmp_path / "out"
    try:
        address = dask.start(workers=2)
        driver = subprocess.Popen([sys.executable, "-c", DRIVE, str(table), str(out), address],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        wait_for(lambda: list(hook.glob("sub-02.*.started")), 60, "the slow pair")
        wait_for(lambda: len(list(out.glob("sub-*"))) >= 2, 60, "two finished pairs")
        finished_before = {p.name for p in out.glob("sub-*")}
        victim = int(next(hook.glob("sub-02.*.started")).name.split(".")[1])
        os.kill(victim, signal.SIGKILL)  # the worker process; its nanny starts a new one
        stdout, stderr = driver.communicate(timeout=120)
        assert driver.returncode == 0, stderr
        results = {r["subject"]: r for r in json.loads(stdout.splitlines()[-1])}
        # "skipped": a pair finished just before the kill whose result died with the
        # worker is run again by Dask, and finds its outputs complete
        assert {r["status"] for r in results.values()} <= {"done", "skipped"}
        assert results["sub-02"]["pid"] != victim and attempts(hook, "sub-02") == 2
        for subject in finished_before:  # neither lost nor computed again
            assert attempts(hook, subject) == 1
        assert all(_complete(out / f"sub-{i:02d}") for i in range(6))
        assert not list(out.glob(".*partial*"))
    finally:
        dask.kill_all()


def test_whole_run_killed_then_rerun_computes_only_the_rest(tmp_path, hook):
    env = subprocess_env(COHORT_HOOK_DIR=str(hook), COHORT_EACH_SECONDS="0.7")
    dask = DaskProcesses(tmp_path, env)
    table, out = synthetic_cohort(tmp_path / "in", 8), tmp_path / "out"
    try:
        address = dask.start(workers=2)
        driver = subprocess.Popen([sys.executable, "-c", DRIVE, str(table), str(out), address],
                                  env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: len(list(out.glob("sub-*"))) >= 3, 60, "three finished pairs")
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait(timeout=10)
        dask.kill_all()  # the whole run: driver, scheduler, workers mid-pair
        finished = {p.name for p in out.glob("sub-*")}
        assert 3 <= len(finished) < 8 and all(_complete(out / s) for s in finished)
        stamps = {s: (out / s / "networks.tsv").stat().st_mtime_ns for s in finished}
        address = dask.start(workers=2)
        rerun = subprocess.run([sys.executable, str(ROOT / "main.py"), "cohort", str(table),
                                "--out", str(out), "--scheduler", address, *ARGV],
                               env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        assert (f"{8 - len(finished)} done, {len(finished)} skipped, 0 failed, 0 remaining"
                in rerun.stderr)
        assert {s: (out / s / "networks.tsv").stat().st_mtime_ns for s in finished} == stamps
        assert all(_complete(out / f"sub-{i:02d}") for i in range(8))
        assert not [p for p in out.glob(".*") if p.name != ".cohort.lock"]
        assert pd.read_csv(out / "cohort_networks.tsv", sep="\t")["subject"].nunique() == 8
    finally:
        dask.kill_all()


def test_pair_that_keeps_killing_workers_becomes_a_failure_row(tmp_path, hook):
    """With ``allowed-failures=0`` one dead worker gives up the pair (KilledWorker).

    Two pairs on two idle workers: one each, so that no other pair waits on the
    worker that is killed (it would be given up as well).
    """
    env = subprocess_env(COHORT_HOOK_DIR=str(hook), COHORT_SLOW_SUBJECT="sub-01",
                         COHORT_SLOW_SECONDS="120",
                         DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="0")
    dask = DaskProcesses(tmp_path, env)
    table, out = synthetic_cohort(tmp_path / "in", 2), tmp_path / "out"
    try:
        address = dask.start(workers=2)
        driver = subprocess.Popen([sys.executable, "-c", DRIVE, str(table), str(out), address],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        wait_for(lambda: list(hook.glob("sub-01.*.started")), 60, "the slow pair")
        os.kill(int(next(hook.glob("sub-01.*.started")).name.split(".")[1]), signal.SIGKILL)
        _, stderr = driver.communicate(timeout=120)
        assert driver.returncode == 3, stderr
        failures = pd.read_csv(out / "failures.tsv", sep="\t")
        assert list(failures["subject"]) == ["sub-01"]
        assert failures["error"][0].startswith("KilledWorker")
        assert _complete(out / "sub-00")
        assert not (out / "sub-01").exists()
    finally:
        dask.kill_all()
