"""The fMRIPrep route with a fake `fmriprep` on PATH: command, log, cancel, resume, result."""

from __future__ import annotations

import json
import os
import sys
import threading
import time

import pytest
from fmriprep_testkit import alive, install_fake_fmriprep, make_bids, script

from core.errors import AnalysisCancelled, PreprocessingError
from core.io.fmriprep import discover_fmriprep, select_pre_post
from core.preprocess.bids_dataset import read_bids_subject
from core.preprocess.engines import plan_preprocessing, run_preprocessing
from core.preprocess.fmriprep_log import FmriprepLogProgress
from core.preprocess.fmriprep_runner import LOG_NAME
from core.preprocess.fmriprep_setup import FmriprepSetup, find_fmriprep, fmriprep_command

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the fake is a POSIX script")


@pytest.fixture
def fake(tmp_path, monkeypatch):
    return install_fake_fmriprep(tmp_path / "site", monkeypatch)


def test_the_command_has_the_flags_this_product_needs(fake, tmp_path):
    bids = make_bids(tmp_path / "bids")
    plan = plan_preprocessing(bids, tmp_path / "deriv", engine="fmriprep")
    work = tmp_path / "deriv_work"
    assert plan.engine == "fmriprep" and not plan.fmriprep.resumed
    assert list(plan.fmriprep.command) == [
        str(fake["bin"] / "fmriprep"), str(bids), str(work / "output"), "participant",
        "--participant-label", "01", "-w", str(work),
        "--output-spaces", "MNI152NLin2009cAsym:res-2", "--fs-no-reconall",
        "--fs-license-file", str(fake["license"]), "--notrack", "--stop-on-first-crash"]
    assert plan.command.startswith(f"{fake['bin'] / 'fmriprep'} {bids} ")
    assert not (tmp_path / "deriv").exists() and not work.exists()  # planning writes nothing


def test_a_run_follows_the_log_and_opens_with_the_fmriprep_discovery(fake, tmp_path):
    bids = make_bids(tmp_path / "bids")
    plan = plan_preprocessing(bids, tmp_path / "deriv", engine="fmriprep")
    seen: list[tuple[float, str]] = []
    result = run_preprocessing(plan, lambda f, m: seen.append((f, m)))
    assert result.derivatives == tmp_path / "deriv" and result.engine == "fmriprep"
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    messages = [m for _, m in seen]
    assert any("anatomical (T1w) workflow" in m for m in messages)
    assert any("BOLD ses-pre" in m for m in messages) and any("BOLD ses-post" in m for m in
                                                                messages)
    assert any("15 steps done" in m for m in messages)  # 8 anat + ... counted as they finish
    pre, post = select_pre_post(discover_fmriprep(result.derivatives), subject="01")
    assert (pre.session, post.session) == ("pre", "post")
    assert pre.space == "MNI152NLin2009cAsym" and pre.res == "2" and pre.confounds is not None
    log = (tmp_path / "deriv_work" / LOG_NAME).read_text()
    assert "fMRIPrep finished successfully!" in log and plan.command in log
    assert not (tmp_path / "deriv_work" / "output").exists()  # moved into place


def test_the_result_opens_for_analysis(fake, tmp_path):
    from core.io.inputs import open_fmriprep

    bids = make_bids(tmp_path / "bids")
    result = run_preprocessing(plan_preprocessing(bids, tmp_path / "deriv", engine="fmriprep"))
    inputs = open_fmriprep(result.derivatives)
    assert (inputs.kind, inputs.subject, inputs.sessions) == ("fmriprep", "sub-01", ("pre", "post"))
    assert inputs.pre_scan.n_volumes == 60 and inputs.post_scan.n_volumes == 60


def test_cancel_ends_the_process_group_and_a_rerun_resumes(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_FMRIPREP_DELAY", "0.3")
    bids = make_bids(tmp_path / "bids")
    plan = plan_preprocessing(bids, tmp_path / "deriv", engine="fmriprep")
    work = plan.fmriprep.work_dir

    def cancel_in_bold(fraction: float, message: str) -> None:
        if "BOLD ses-pre" in message:
            raise AnalysisCancelled(message)

    started = time.monotonic()
    with pytest.raises(AnalysisCancelled):
        run_preprocessing(plan, cancel_in_bold)
    assert time.monotonic() - started < 30
    pids = [int(p) for p in (work / "fake.pids").read_text().split()]
    deadline = time.monotonic() + 10
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(p) for p in pids), "fMRIPrep or its child survived the cancel"
    assert not (tmp_path / "deriv").exists()
    done_before = (work / "fake_done.txt").read_text().split()
    assert 8 <= len(done_before) < 21
    assert "stopped at the user's request" in (work / LOG_NAME).read_text()

    monkeypatch.setenv("FAKE_FMRIPREP_DELAY", "0")
    again = plan_preprocessing(bids, tmp_path / "deriv", engine="fmriprep")
    assert again.fmriprep.resumed and again.fmriprep.command == plan.fmriprep.command
    assert any("resuming from the work folder" in n for n in again.notes)
    seen: list[str] = []
    run_preprocessing(again, lambda f, m: seen.append(m))
    assert any(f"({len(done_before)} from the work folder)" in m for m in seen)
    calls = [json.loads(line) for line in (work / "fake_calls.jsonl").read_text().splitlines()]
    assert len(calls) == 2 and calls[0] == calls[1]  # same command, same -w
    assert (tmp_path / "deriv" / "sub-01" / "ses-post" / "func").is_dir()


def test_a_failed_run_says_why_and_writes_no_derivatives(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_FMRIPREP_FAIL_AT", "bold_ses_post_task_rest_wf.node2")
    bids = make_bids(tmp_path / "bids")
    plan = plan_preprocessing(bids, tmp_path / "deriv", engine="fmriprep")
    with pytest.raises(PreprocessingError) as error:
        run_preprocessing(plan)
    text = str(error.value)
    assert "fMRIPrep stopped with exit code 1: fMRIPrep failed: Workflow did not execute " \
           "cleanly" in text
    assert LOG_NAME in text and "resume" in text
    assert not (tmp_path / "deriv").exists()


def test_fmriprep_needs_a_t1w(fake, tmp_path):
    bids = make_bids(tmp_path / "bids", t1w=False)
    with pytest.raises(PreprocessingError, match="fMRIPrep needs a T1w image and sub-01 has "
                                                 "none"):
        plan_preprocessing(bids, tmp_path / "deriv", engine="fmriprep")


def test_auto_takes_the_quick_path_without_t1w(fake, tmp_path, monkeypatch):
    import types

    calls = []
    quick = types.ModuleType("core.preprocess.quick")
    quick.run_quick_preprocessing = lambda *args: calls.append(args)
    quick.quick_path_missing = lambda: ""  # antspyx installed
    monkeypatch.setitem(sys.modules, "core.preprocess.quick", quick)
    bids = make_bids(tmp_path / "bids", t1w=False)
    plan = plan_preprocessing(bids, tmp_path / "deriv")
    assert plan.engine == "quick" and plan.command is None
    assert "not fMRIPrep: fMRIPrep needs a T1w image" in plan.notes[0]
    result = run_preprocessing(plan)
    assert result.engine == "quick" and calls[0][:3] == (bids, tmp_path / "deriv", "01")
    assert plan_preprocessing(make_bids(tmp_path / "bids2"), tmp_path / "d2").engine == \
        "fmriprep"


def test_nothing_available_says_what_was_looked_for(tmp_path, monkeypatch):
    empty = tmp_path / "empty_bin"
    empty.mkdir()
    for name in ("PREPOST_FMRIPREP_IMAGE", "FS_LICENSE", "FREESURFER_HOME"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(PreprocessingError) as error:
        find_fmriprep(environ={"PATH": str(empty)})
    assert str(error.value) == (
        "fMRIPrep is not available: no container image named (--fmriprep-image or "
        "$PREPOST_FMRIPREP_IMAGE); no `fmriprep` on PATH; no `fmriprep-docker` on PATH")


def test_missing_templates_and_licence_are_named(tmp_path, monkeypatch):
    site = install_fake_fmriprep(tmp_path / "site", monkeypatch, templates=False)
    with pytest.raises(PreprocessingError, match=r"TemplateFlow templates are not all in .*"
                                                 "tpl-OASIS30ANTs_res-01_T1w.nii.gz"):
        find_fmriprep()
    monkeypatch.delenv("FS_LICENSE")
    for name in ("tpl-MNI152NLin2009cAsym/tpl-MNI152NLin2009cAsym_res-01_T1w.nii.gz",
                 "tpl-MNI152NLin2009cAsym/tpl-MNI152NLin2009cAsym_res-02_T1w.nii.gz",
                 "tpl-OASIS30ANTs/tpl-OASIS30ANTs_res-01_T1w.nii.gz"):
        (site["templateflow"] / name).parent.mkdir(parents=True, exist_ok=True)
        (site["templateflow"] / name).write_bytes(b"\0" * 20_000)
    with pytest.raises(PreprocessingError, match="no FreeSurfer licence file"):
        find_fmriprep()


def test_a_docker_image_needs_a_running_docker(tmp_path, monkeypatch):
    site = install_fake_fmriprep(tmp_path / "site", monkeypatch)
    (site["bin"] / "fmriprep").unlink()
    script(site["bin"], "docker", 'echo "Cannot connect to the Docker daemon at '
                                  'unix:///var/run/docker.sock." >&2; exit 1')
    with pytest.raises(PreprocessingError, match=r"docker has no local image "
                                                 "nipreps/fmriprep:25.2.0, or the Docker daemon "
                                                 "is not running .*Cannot connect"):
        find_fmriprep("docker:nipreps/fmriprep:25.2.0")
    script(site["bin"], "docker", "exit 0")
    setup = find_fmriprep("docker:nipreps/fmriprep:25.2.0")
    assert (setup.kind, setup.image) == ("docker", "nipreps/fmriprep:25.2.0")


def test_container_commands_mount_inputs_read_only(tmp_path):
    paths = (tmp_path / "bids", tmp_path / "w" / "output", tmp_path / "w")
    license_file = tmp_path / "license.txt"
    docker = fmriprep_command(FmriprepSetup("docker", "docker", "nipreps/fmriprep:25.2.0",
                                            license_file), *paths, "01")
    assert docker[:4] == ["docker", "run", "--rm", "--init"]
    assert f"{paths[0]}:/data:ro" in docker and f"{license_file}:/opt/freesurfer/license.txt:ro" \
        in docker
    if hasattr(os, "getuid"):
        assert docker[docker.index("-u") + 1] == f"{os.getuid()}:{os.getgid()}"
    tail = docker[docker.index("nipreps/fmriprep:25.2.0"):]
    assert tail[:8] == ["nipreps/fmriprep:25.2.0", "/data", "/out", "participant",
                        "--participant-label", "01", "-w", "/work"]
    apptainer = fmriprep_command(FmriprepSetup("apptainer", "apptainer", "/img/fmriprep.sif",
                                               license_file, tmp_path / "tf"), *paths, "01")
    assert apptainer[:3] == ["apptainer", "run", "--cleanenv"]
    assert f"{tmp_path / 'tf'}:/templateflow:ro" in apptainer
    assert "TEMPLATEFLOW_HOME=/templateflow" in apptainer


def test_one_session_and_output_inside_the_dataset_are_refused(fake, tmp_path):
    one = make_bids(tmp_path / "one", sessions=("pre",))
    with pytest.raises(PreprocessingError, match=r"expected two sessions .* found ses-pre; one "
                                                 "session only"):
        read_bids_subject(one)
    bids = make_bids(tmp_path / "bids")
    with pytest.raises(PreprocessingError, match="may not be inside the BIDS dataset"):
        plan_preprocessing(bids, bids / "derivatives" / "fmriprep", engine="fmriprep")


def test_log_progress_counts_steps_and_keeps_the_error():
    tracker = FmriprepLogProgress()
    lines = ["260324-19:46:31,556 nipype.workflow IMPORTANT:", "\t fMRIPrep started!",
             '\t [Node] Finished "fmriprep_25_2_wf.sub_01_wf.anat_fit_wf.brain_extraction_wf'
             '.n4", elapsed time 2.1s.',
             '\t [Node] "fmriprep_25_2_wf.sub_01_wf.bold_ses_post_task_rest_wf.hmc" found '
             'cached.',
             "260324-19:50:00,000 nipype.workflow CRITICAL:",
             "\t fMRIPrep failed: 1 raised. Re-raising first."]
    fractions = []
    for line in lines:
        tracker.feed(line)
        fractions.append(tracker.fraction)
    assert fractions == sorted(fractions) and 0.02 < fractions[-1] < 0.95
    assert (tracker.steps, tracker.cached, tracker.stage) == (2, 1, "BOLD ses-post")
    assert tracker.error == "fMRIPrep failed: 1 raised. Re-raising first."
    assert tracker.message == "fMRIPrep: BOLD ses-post, 2 steps done (1 from the work folder)"


def test_a_cancel_from_another_thread_takes_effect_within_seconds(fake, tmp_path, monkeypatch):
    """The GUI cancels from its thread: the next heartbeat (1 s) raises in the worker."""
    monkeypatch.setenv("FAKE_FMRIPREP_DELAY", "5")  # silent for 5 s between log lines
    plan = plan_preprocessing(make_bids(tmp_path / "bids"), tmp_path / "deriv",
                              engine="fmriprep")
    cancelled = threading.Event()

    def progress(fraction: float, message: str) -> None:
        if cancelled.is_set():
            raise AnalysisCancelled(message)

    errors: list[BaseException] = []

    def work() -> None:
        try:
            run_preprocessing(plan, progress)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    time.sleep(1.5)
    cancelled.set()
    started = time.monotonic()
    thread.join(timeout=30)
    assert not thread.is_alive() and time.monotonic() - started < 5
    assert isinstance(errors[0], AnalysisCancelled)
