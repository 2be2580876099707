"""File → Import DICOM…: import in a job, plan and run a (fake) fMRIPrep, cancel, open."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pytest

KITS = Path(__file__).resolve().parents[1] / "core" / "preprocess"
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the fake is a POSIX script")


def _kit(name: str):
    spec = importlib.util.spec_from_file_location(name, KITS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def dialog(window, tmp_path, monkeypatch):
    dicom, fake = _kit("dicom_testkit"), _kit("fmriprep_testkit")
    files = dicom.real_files()
    for name in ("pre", "post"):
        dicom.write_visit(tmp_path / name / "bold", files, f"{name}-bold")
        dicom.write_visit(tmp_path / name / "t1", files[: dicom.SLICES], f"{name}-t1",
                          dicom.as_t1w)
    site = fake.install_fake_fmriprep(tmp_path / "site", monkeypatch)
    monkeypatch.delenv("FS_LICENSE")  # the dialog's licence field provides it
    shown = window.show_dicom_import()
    shown.pre.edit.setText(str(tmp_path / "pre"))
    shown.post.edit.setText(str(tmp_path / "post"))
    shown.bids.edit.setText(str(tmp_path / "bids"))
    shown.license.edit.setText(str(site["license"]))
    shown.fake = fake
    return shown


def _finish(qtbot, dialog, button) -> None:
    with qtbot.waitSignal(dialog.jobs.busy_changed, timeout=120000,
                          check_params_cb=lambda busy: not busy):
        button.click()


def test_import_plan_run_and_open(qtbot, window, dialog, tmp_path):
    assert window.actions_.import_dicom.text() == "Import DICOM…"
    assert window.empty_buttons["import_dicom"].text() == "Import DICOM…"
    _finish(qtbot, dialog, dialog.import_button)
    summary = dialog.summary.toPlainText()
    assert "BIDS dataset written" in summary and "T1w: series 2 'Sag T1 MPRAGE'" in summary
    assert dialog.deriv.text() == f"{tmp_path / 'bids'}_derivatives"
    assert not dialog.run_button.isEnabled()
    dialog.engine.setCurrentIndex(1)  # fMRIPrep
    _finish(qtbot, dialog, dialog.check_button)
    plan = dialog.command.toPlainText()
    assert "Command: " in plan and "--output-spaces MNI152NLin2009cAsym:res-2" in plan
    assert str(tmp_path / "site" / "bin" / "fmriprep") in plan
    assert dialog.run_button.isEnabled()
    with qtbot.waitSignal(dialog.derivatives_ready, timeout=120000) as ready:
        dialog.run_button.click()
    assert ready.args[0] == tmp_path / "bids_derivatives"
    qtbot.waitUntil(lambda: not dialog.jobs.busy, timeout=10000)
    from gui.settings_store import recent_patients

    assert recent_patients()[0] == {"kind": "fmriprep",
                                    "paths": [str(tmp_path / "bids_derivatives")]}
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=120000)


def test_cancel_stops_fmriprep(qtbot, dialog, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_FMRIPREP_DELAY", "1")
    _finish(qtbot, dialog, dialog.import_button)
    _finish(qtbot, dialog, dialog.check_button)
    dialog.run_button.click()
    qtbot.waitUntil(lambda: "steps done" in dialog.status.text(), timeout=60000)
    assert dialog.cancel_button.isEnabled() and not dialog.close_button.isEnabled()
    with qtbot.waitSignal(dialog.jobs.cancelled, timeout=60000):
        dialog.cancel_button.click()
    assert "Cancelled" in dialog.status.text()
    pids = [int(p) for p in (tmp_path / "bids_derivatives_work" / "fake.pids").read_text()
            .split()]
    deadline = time.monotonic() + 10
    while any(dialog.fake.alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(dialog.fake.alive(p) for p in pids)
    assert not (tmp_path / "bids_derivatives").exists()


def test_bad_input_is_one_red_line(qtbot, dialog, tmp_path):
    dialog.post.edit.setText(str(tmp_path / "pre"))
    _finish(qtbot, dialog, dialog.import_button)
    assert "same folder twice" in dialog.status.text()
    assert "color:#b00" in dialog.status.styleSheet()
    assert not (tmp_path / "bids").exists()
