"""The command line: import-dicom then preprocess (fake fMRIPrep), exit codes, interrupt."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fmriprep_testkit import alive, install_fake_fmriprep, make_bids

from core.cli import main
from core.io.fmriprep import discover_fmriprep, select_pre_post

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the fake is a POSIX script")


def test_from_dicom_to_derivatives_on_the_command_line(visits_with_t1w, tmp_path,
                                                       monkeypatch, capsys):
    site = install_fake_fmriprep(tmp_path / "site", monkeypatch)
    bids, deriv = tmp_path / "bids", tmp_path / "deriv"
    assert main(["import-dicom", str(visits_with_t1w["pre"]), str(visits_with_t1w["post"]),
                 "--out", str(bids)]) == 0
    err = capsys.readouterr().err
    assert "T1w series 2 'Sag T1 MPRAGE'" in err and f"wrote the BIDS dataset {bids}" in err
    assert main(["preprocess", str(bids), "--out", str(deriv), "--dry-run"]) == 0
    err = capsys.readouterr().err
    command = (f"fMRIPrep command: {site['bin'] / 'fmriprep'} {bids} {tmp_path}/deriv_work/"
               f"output participant --participant-label 01 -w {tmp_path}/deriv_work "
               "--output-spaces MNI152NLin2009cAsym:res-2 --fs-no-reconall --fs-license-file "
               f"{site['license']} --notrack --stop-on-first-crash")
    assert command in err.splitlines()
    assert not deriv.exists() and not (tmp_path / "deriv_work").exists()
    assert main(["preprocess", str(bids), "--out", str(deriv)]) == 0
    err = capsys.readouterr().err
    assert command in err.splitlines() and "note: engine: fMRIPrep (installed at" in err
    assert f"wrote the derivatives {deriv} (fmriprep)" in err
    pre, post = select_pre_post(discover_fmriprep(deriv), subject="01")
    assert (pre.session, post.session) == ("pre", "post")


def _error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len([line for line in lines if line.startswith("error: ")]) == 1, lines
    return lines[-1]


def test_engines_that_are_not_available_exit_2(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    for name in ("PREPOST_FMRIPREP_IMAGE", "FS_LICENSE", "FREESURFER_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(sys.modules, "core.preprocess.quick", None)  # not installed
    bids = make_bids(tmp_path / "bids")
    out = str(tmp_path / "deriv")
    assert main(["preprocess", str(bids), "--out", out, "--engine", "fmriprep"]) == 2
    assert _error_line(capsys) == (
        "error: fMRIPrep is not available: no container image named (--fmriprep-image or "
        "$PREPOST_FMRIPREP_IMAGE); no `fmriprep` on PATH; no `fmriprep-docker` on PATH")
    assert main(["preprocess", str(bids), "--out", out, "--engine", "quick"]) == 2
    assert _error_line(capsys) == (
        "error: the quick preprocessing path is not available in this installation "
        "(core.preprocess.quick is missing); use --engine fmriprep where fMRIPrep is installed")
    assert main(["preprocess", str(bids), "--out", out]) == 2
    line = _error_line(capsys)
    assert line.startswith("error: no preprocessing engine is available: fMRIPrep is not "
                           "available:") and "core.preprocess.quick is missing" in line
    assert not (tmp_path / "deriv").exists()


def test_main_py_dispatches_the_new_commands(tmp_path):
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}/usr/bin{os.pathsep}/bin"}
    for command in ("import-dicom", "preprocess"):
        result = subprocess.run([sys.executable, "main.py", command, "--help"], cwd=ROOT,
                                capture_output=True, text=True, timeout=120, env=env)
        assert result.returncode == 0 and f"usage: prepost-review {command}" in result.stdout


def test_ctrl_c_stops_fmriprep_and_the_same_command_resumes(tmp_path, monkeypatch):
    install_fake_fmriprep(tmp_path / "site", monkeypatch)
    # 1.5 s per step leaves ~18 s after the signal: a loaded machine's lag in following
    # the log (seen at 0.5 s per step) cannot let the fake finish before Ctrl+C
    monkeypatch.setenv("FAKE_FMRIPREP_DELAY", "1.5")
    bids = make_bids(tmp_path / "bids")
    command = [sys.executable, "main.py", "preprocess", str(bids), "--out",
               str(tmp_path / "deriv"), "--engine", "fmriprep"]
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ))
    lines = []
    for line in process.stderr:
        lines.append(line)
        if "BOLD ses-" in line:
            process.send_signal(signal.SIGINT)
            break
    rest = process.communicate(timeout=60)[1]
    assert process.returncode == 130, "".join(lines) + rest
    assert "its work folder" in rest and "run the same command again to resume" in rest
    work = tmp_path / "deriv_work"
    pids = [int(p) for p in (work / "fake.pids").read_text().split()]
    deadline = time.monotonic() + 10
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(p) for p in pids) and not (tmp_path / "deriv").exists()
    monkeypatch.setenv("FAKE_FMRIPREP_DELAY", "0")
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120,
                           env=dict(os.environ))
    assert again.returncode == 0, again.stderr
    assert "resuming from the work folder" in again.stderr and "from the work folder)" in \
        again.stderr
    assert (tmp_path / "deriv" / "dataset_description.json").is_file()
