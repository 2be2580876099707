"""Plain-key window shortcuts (Home) never steal the key from a focused slider or table."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import Qt

HOME_MM = (-6.0, -52.0, 26.0)
ELSEWHERE = (30.0, 20.0, -10.0)


def _ready(qtbot, window):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.cursor.set_position(ELSEWHERE)


def test_home_on_a_focused_slider_moves_the_slider_not_the_cursor(qtbot, window):
    _ready(qtbot, window)
    slider = window.opacity
    slider.setFocus()
    qtbot.waitUntil(slider.hasFocus, timeout=5000)
    assert slider.value() > slider.minimum()
    qtbot.keyClick(slider, Qt.Key.Key_Home)
    assert slider.value() == slider.minimum()  # the slider had the key...
    assert np.allclose(window.cursor.position, ELSEWHERE)  # ...the shortcut did not fire


def test_home_in_a_focused_table_goes_to_its_first_row(qtbot, window):
    _ready(qtbot, window)
    table = window.review.stats_panel.edge_view
    window.tabs.setCurrentWidget(window.review.stats_panel)
    table.setFocus()
    qtbot.waitUntil(table.hasFocus, timeout=5000)
    qtbot.keyClick(table, Qt.Key.Key_Home)
    assert np.allclose(window.cursor.position, ELSEWHERE)


def test_home_elsewhere_and_ctrl_shortcuts_still_work(qtbot, window):
    _ready(qtbot, window)
    window.slices.setFocus()
    qtbot.keyClick(window.slices, Qt.Key.Key_Home)
    assert np.allclose(window.cursor.position, HOME_MM)  # no key widget focused: Home works
    window.cursor.set_position(ELSEWHERE)
    window.opacity.setFocus()
    qtbot.waitUntil(window.opacity.hasFocus, timeout=5000)
    shown = window.actions_.show_matrices.isChecked()
    qtbot.keyClick(window.opacity, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert window.actions_.show_matrices.isChecked() != shown  # Ctrl+M still reaches its action
