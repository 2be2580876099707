"""SessionController: background work, cancel, errors (offscreen, real demo patient)."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QThreadPool

from core.results import Comparison
from gui.controller import SessionController
from gui.display_data import SliceData


@pytest.fixture
def controller(qtbot):
    ctl = SessionController()
    yield ctl
    ctl.shutdown()
    assert QThreadPool.globalInstance().activeThreadCount() == 0, "a worker was left running"


def test_open_demo_emits_comparison_and_maps(qtbot, controller):
    maps = []
    controller.maps_ready.connect(maps.append)
    busy = []
    controller.busy_changed.connect(busy.append)
    with qtbot.waitSignal(controller.comparison_ready, timeout=60000) as blocker:
        controller.open_demo()
    comparison = blocker.args[0]
    assert isinstance(comparison, Comparison)
    assert comparison.pre.z.shape == (len(comparison.rois), len(comparison.rois))
    assert isinstance(maps[0], SliceData)
    assert maps[0].pre.shape == maps[0].template.shape
    qtbot.waitUntil(lambda: busy == [True, False], timeout=10000)
    assert controller.comparison is comparison
    _name, network = controller.region_at(comparison.rois.coords_mm[10]) or ("", "")
    assert network in set(comparison.rois.networks)


def test_cancel_stops_a_running_job(qtbot, controller):
    ready = []
    controller.comparison_ready.connect(ready.append)
    busy = []
    controller.busy_changed.connect(busy.append)
    with qtbot.waitSignal(controller.cancelled, timeout=60000):
        controller.open_demo()
        controller.cancel()
    qtbot.waitUntil(lambda: busy == [True, False], timeout=10000)
    assert not controller.busy
    assert ready == []


def test_bad_file_reports_an_error_naming_it_then_demo_opens(qtbot, controller, tmp_path):
    bad = tmp_path / "pre_bold.nii.gz"
    bad.write_text("this is not a NIfTI image\n")
    other = tmp_path / "post_bold.nii.gz"
    other.write_text("neither is this\n")
    with qtbot.waitSignal(controller.error_occurred, timeout=60000) as blocker:
        controller.open_nifti_pair(bad, other)
    assert "pre_bold.nii.gz" in blocker.args[0]
    assert "Traceback" not in blocker.args[0]
    qtbot.waitUntil(lambda: not controller.busy, timeout=10000)
    with qtbot.waitSignal(controller.comparison_ready, timeout=60000):
        controller.open_demo()


def test_recompute_without_patient_is_an_error(qtbot, controller):
    with qtbot.waitSignal(controller.error_occurred, timeout=2000) as blocker:
        controller.recompute()
    assert "Open a patient" in blocker.args[0]
