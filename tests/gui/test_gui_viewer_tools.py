"""The window's viewer tools with the demo open: Go to, crosshair, slider values, colour maps,
last folder, shortcut list, About version, ROI names in the status bar."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import Qt, QThreadPool
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QApplication, QFileDialog, QTextBrowser

from gui import file_dialogs
from gui.main_window import MainWindow
from gui.shortcuts import SLICE_SECTION, shortcut_rows, show_shortcuts
from gui.slice_navigation import SLICE_KEYS
from gui.slice_view import overlay_rgba


@pytest.fixture(scope="module")
def window(qapp, request, tmp_path_factory):
    """One window with the demo patient open (shared: opening takes ~10 s)."""
    import os

    os.environ["PREPOST_SETTINGS_FILE"] = str(tmp_path_factory.mktemp("s") / "settings.ini")
    from pytestqt.qtbot import QtBot

    win = MainWindow()
    qtbot = QtBot(request)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    with qtbot.waitSignal(win.controller.comparison_ready, timeout=120000):
        win.open_demo()
    yield win
    win.close()
    assert QThreadPool.globalInstance().waitForDone(60000)
    os.environ.pop("PREPOST_SETTINGS_FILE", None)


def _type_and_enter(qtbot, window, text: str) -> None:
    box = window.page.go_to
    box.clear()
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def test_go_to_a_coordinate_or_an_roi(qtbot, window):
    comparison = window.comparison
    _type_and_enter(qtbot, window, "0, -52, 26")
    assert window.cursor.position.tolist() == [0.0, -52.0, 26.0]
    _type_and_enter(qtbot, window, "pcunpcc_1")
    index = next(i for i, n in enumerate(comparison.rois.names) if n.endswith("pCunPCC_1"))
    assert np.allclose(window.cursor.position, comparison.rois.coords_mm[index])
    assert "LH_Default_pCunPCC_1" in window.statusBar().currentMessage()
    # the status read-out names the ROI as the tables do: no "7Networks_" prefix
    assert "Networks_" not in window.readout.text()
    before = window.cursor.position
    _type_and_enter(qtbot, window, "amygdala of nobody")
    assert window.cursor.position.tolist() == before.tolist()
    assert "no ROI name contains" in window.statusBar().currentMessage()
    assert "c00" in window.page.go_to.styleSheet()  # the box is marked
    qtbot.keyClicks(window.page.go_to, "x")
    assert window.page.go_to.styleSheet() == ""  # and unmarked when edited


def test_ctrl_g_puts_the_keyboard_in_the_go_to_box(qtbot, window):
    window.slices.setFocus()
    window.slice_tools.go_to_action.trigger()
    assert window.page.go_to.hasFocus() or QApplication.focusWidget() is window.page.go_to
    assert window.slice_tools.go_to_action.shortcut() == QKeySequence("Ctrl+G")


def test_crosshair_box_menu_and_key_agree(qtbot, window):
    tools, grid = window.slice_tools, window.slices
    window.page.crosshair.setChecked(False)
    assert not grid.crosshair_visible and not tools.crosshair_action.isChecked()
    assert not grid.pane("Δ", "sagittal").v_line.isVisible()
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_C)
    assert grid.crosshair_visible and window.page.crosshair.isChecked()
    tools.crosshair_action.setChecked(False)
    assert not grid.crosshair_visible
    tools.crosshair_action.setChecked(True)


def test_threshold_value_is_in_the_maps_units_and_matches_what_is_drawn(window):
    grid = window.slices
    window.threshold.setValue(40)
    lo, hi = grid.levels
    cut = max(lo, 0.0) + 0.4 * (hi - lo)  # the ROI strength map is not signed
    delta_cut = 0.4 * grid.delta_max
    assert window.page.threshold_value.text() == f"z ≥ {cut:.3f} · |Δz| ≥ {delta_cut:.3f}"
    assert window.page.opacity_value.text() == f"{window.opacity.value()} %"
    # the overlay draws a value just above the label's number and hides one just below
    cmap, style = grid.cmap, grid.style_
    alpha = overlay_rgba(np.array([[cut - 1e-4, cut + 1e-4]]), grid.levels, cmap,
                         style.threshold, style.opacity, symmetric=False)[..., 3]
    assert alpha.tolist() == [[0, round(255 * style.opacity)]]
    alpha = overlay_rgba(np.array([[-delta_cut + 1e-4, -delta_cut - 1e-4]]),
                         (-grid.delta_max, grid.delta_max), grid.delta_cmap, style.threshold,
                         style.opacity, symmetric=True)[..., 3]
    assert alpha[0, 0] == 0 and alpha[0, 1] > 0
    window.opacity.setValue(60)
    assert window.page.opacity_value.text() == "60 %"
    window.threshold.setValue(10)


def test_signed_maps_use_the_chosen_diverging_colour_map(window):
    import dataclasses

    grid = window.slices
    strength = grid.data
    signed = dataclasses.replace(strength, pre=strength.pre - 0.1, signed=True,
                                 levels=(-0.3, 0.3))
    grid.set_data(signed)
    assert window.page.threshold_value.text().startswith("|z| ≥ ")
    # the sequential map does not apply to a signed map, and the window says so
    assert not window.page.colormap.isEnabled()
    assert "signed & Δ" in window.page.colormap.toolTip()
    index = window.page.diverging.findData("CET-D4")
    window.page.diverging.setCurrentIndex(index)
    assert window.controller.display.diverging == "CET-D4"
    for bar in (grid.bar, grid.delta_bar):  # signed Pre/Post and Δ both use it
        assert bar.colorMap().name == "CET-D4"
    pane = grid.pane("Pre", "axial")
    assert pane._overlay_shown[1].name == "CET-D4"
    grid.set_data(strength)  # positive maps keep the sequential map of "Colour map"
    assert grid.bar.colorMap().name == window.controller.display.colormap
    assert window.page.colormap.isEnabled()
    window.page.diverging.setCurrentIndex(0)
    assert grid.delta_bar.colorMap().name == "CET-D1"


def test_dialogs_start_in_the_last_folder_used(window, tmp_path, monkeypatch):
    asked: list[str] = []
    first, second = tmp_path / "references", tmp_path / "exports"
    first.mkdir()
    second.mkdir()

    def open_file(_parent, _title, directory, _pattern):
        asked.append(directory)
        return str(first / "reference.zip"), ""

    def folder(_parent, _title, directory):
        asked.append(directory)
        return str(second)

    monkeypatch.setattr(QFileDialog, "getOpenFileName", open_file)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", folder)
    monkeypatch.setattr(window, "set_reference", lambda path: None)
    window._ask_reference()  # Analysis → Reference of repeat scans…
    assert window.exports._ask_folder("Export maps") == str(second)
    assert asked[1] == str(first)  # the export dialog opened where the reference was chosen
    assert file_dialogs.last_folder() == str(second)
    saved: list[str] = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda _p, _t, start, _f: (saved.append(start) or "", ""))
    window.exports._ask_save("Save review", "x.review.json", "Review (*.json)")
    assert saved == [str(second / "x.review.json")]


def test_last_folder_persists_across_sessions_and_skips_missing_folders(
        qtbot, isolated_settings, tmp_path):
    file_dialogs.remember_folder(tmp_path)
    again = MainWindow()  # a new session reads the same settings file
    qtbot.addWidget(again)
    assert again.last_folder() == str(tmp_path) == file_dialogs.last_folder()
    file_dialogs.remember_folder(tmp_path / "gone")
    assert file_dialogs.last_folder() == str(Path.home())
    again.close()


def test_shortcut_list_is_read_from_the_shortcuts_themselves(window):
    rows = shortcut_rows(window)
    keys = {(keys, what) for _section, keys, what in rows}
    native = QKeySequence.SequenceFormat.NativeText
    assert ("Ctrl+G", "Go to coordinate or ROI") in keys
    assert (QKeySequence("Ctrl+S").toString(native), "Save review") in keys
    # every action with a key sequence is listed, with its menu as the section
    for action in window.findChildren(QAction):
        if not action.shortcut().isEmpty():
            assert any(action.shortcut().toString(native) in k for _s, k, _w in rows), \
                action.text()
    assert ("View menu", "Ctrl+G", "Go to coordinate or ROI") in rows
    slice_rows = [r for r in rows if r[0] == SLICE_SECTION]
    assert [r[1] for r in slice_rows] == [b.label for b in SLICE_KEYS]
    # a shortcut added later appears without anyone editing the help
    extra = QAction("Brand-new action", window)
    extra.setShortcut(QKeySequence("Ctrl+Alt+J"))
    window.menuBar().actions()[1].menu().addAction(extra)
    assert ("View menu", "Ctrl+Alt+J", "Brand-new action") in shortcut_rows(window)
    extra.deleteLater()
    dialog = show_shortcuts(window)
    text = dialog.findChild(QTextBrowser).toPlainText()
    assert "Go to coordinate or ROI" in text and "zoom in or out about the pointer" in text
    dialog.close()


def test_about_names_the_app_version():
    from importlib import metadata

    from core import __version__
    from gui.menus import about_text

    assert f"Version {__version__}" in about_text()
    with contextlib.suppress(metadata.PackageNotFoundError):  # source tree, no metadata
        assert __version__ == metadata.version("prepost-review")


def test_shortcut_sections_follow_the_menu_bar(window):
    sections = list(dict.fromkeys(section for section, _k, _w in shortcut_rows(window)))
    menus = [s for s in sections if s.endswith(" menu")]
    assert menus == [m for m in ("File menu", "View menu", "Analysis menu", "Help menu")
                     if m in menus]
    assert sections[-2:] == [SLICE_SECTION, "Mouse in the slice views"]
