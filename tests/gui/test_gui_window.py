"""The main window end to end (offscreen): empty state, demo, errors, settings, screenshot."""

from __future__ import annotations

import numpy as np
from PyQt6.QtGui import QImage

from gui import strings
from gui.main_window import MainWindow


def test_empty_state_offers_open_actions_and_disclaimer(window):
    assert window.stack.currentIndex() == 0
    assert set(window.empty_buttons) == {"open_demo", "open_fmriprep", "open_nifti",
                                         "open_timeseries", "import_dicom"}
    assert window.disclaimer.isVisible()
    assert "not a diagnostic device" in window.disclaimer.text()
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus == ["File", "View", "Analysis", "Help"]


def test_demo_from_empty_state_fills_views_and_status(qtbot, window):
    with qtbot.waitSignal(window.controller.comparison_ready, timeout=60000):
        window.empty_buttons["open_demo"].click()
    assert window.stack.currentIndex() == 1
    assert "sub-" in window.header.text()
    assert window.matrices.images[0].image is not None
    assert window.slices.pane("Pre", "axial").overlay.image is not None
    comparison = window.comparison
    # clicking a matrix cell moves the cursor to the first ROI and shows both time series
    last = len(comparison.rois) - 1
    window.matrices.cell_clicked.emit(3, last)
    assert np.allclose(window.cursor.position, comparison.rois.coords_mm[3])
    assert len(window.timeseries.plots[0].listDataItems()) == 2
    short = comparison.rois.names[last].split("Networks_")[-1]
    assert short in window.timeseries.plots[1].titleLabel.text
    # the status bar names the region under the cursor and the values
    window.cursor.set_position((-6.0, -52.0, 26.0))
    text = window.readout.text()
    assert "MNI x -6  y -52  z +26 mm" in text
    assert "Default" in text and "pre" in text and "Δ" in text


def test_bad_file_shows_error_then_demo_still_opens(qtbot, window, tmp_path):
    bad = tmp_path / "broken_pre.nii.gz"
    bad.write_text("not an image")
    post = tmp_path / "broken_post.nii.gz"
    post.write_text("not an image")
    with qtbot.waitSignal(window.error_shown, timeout=60000) as blocker:
        window.open_path(bad, post)
    assert "broken_pre.nii.gz" in blocker.args[0]
    assert window.last_error == blocker.args[0]
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=10000)
    with qtbot.waitSignal(window.controller.comparison_ready, timeout=60000):
        window.actions_.open_demo.trigger()
    assert window.stack.currentIndex() == 1


def test_settings_persist_atlas_strategy_and_recent(qtbot, isolated_settings):
    first = MainWindow()
    qtbot.addWidget(first)
    first.actions_.atlases["dosenbach160"].setChecked(True)
    first.actions_.strategies["scrubbing"].setChecked(True)
    first._remember("fmriprep", ["/data/study"])
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    settings = second.actions_.settings()
    assert settings.atlas == "dosenbach160"
    assert settings.denoise.strategy == "scrubbing"
    second._fill_recent()
    assert any("study" in a.text() for a in second.recent_menu.actions())
    assert isolated_settings.exists()


def test_about_mentions_licences_and_disclaimer():
    from core.logs import log_file_path
    from gui.menus import about_text

    text = about_text()
    assert "MIT" in text and "Schaefer" in text
    assert strings.DISCLAIMER in text
    assert str(log_file_path()) in text  # where to find the log (issue 9)


def test_screenshot_is_saved_and_not_blank(tmp_path, isolated_settings, qapp):
    from gui.app import main

    target = tmp_path / "s.png"
    assert main(["--demo", "--screenshot", str(target)]) == 0
    image = QImage(str(target))
    assert image.width() >= 1366 and image.height() >= 768
    ptr = image.convertToFormat(QImage.Format.Format_RGB32).constBits()
    ptr.setsize(image.sizeInBytes())
    pixels = np.frombuffer(ptr, dtype=np.uint8)
    assert pixels.std() > 20


def test_last_resort_hook_logs_and_shows_a_dialog(qtbot, caplog, monkeypatch):
    import sys

    from PyQt6.QtWidgets import QApplication, QMessageBox

    from gui.app import install_excepthook

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    install_excepthook()
    try:
        raise RuntimeError("boom in a slot")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    boxes = [w for w in QApplication.topLevelWidgets()
             if isinstance(w, QMessageBox) and w.isVisible()]
    assert boxes and "RuntimeError" in boxes[-1].text()
    assert "boom in a slot" in caplog.text
    for box in boxes:
        box.close()
