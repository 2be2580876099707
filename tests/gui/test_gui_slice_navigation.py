"""Zoom, pan, fit and crosshair of the slice views, linked across the panes of one orientation."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import QEvent, QPoint, QPointF, Qt
from PyQt6.QtGui import QMouseEvent, QWheelEvent
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget
from test_gui_slices import _synthetic_data  # tests/gui is on sys.path (rootdir)

from gui.cursor import CursorModel
from gui.display_data import SliceData
from gui.slice_navigation import SLICE_KEYS
from gui.slice_view import PLANES, SliceGrid

COLUMNS = ("Pre", "Post", "Δ")


@pytest.fixture
def grid(qtbot):
    view = SliceGrid(CursorModel((0.0, 0.0, 0.0)))
    qtbot.addWidget(view)
    view.resize(900, 800)
    view.show()
    qtbot.waitExposed(view)
    view.set_data(_synthetic_data())
    return view


def _scale_and_centre(pane) -> tuple[float, float, float, float]:
    """(mm per pixel across, mm per pixel up, centre h, centre v) of a pane's view."""
    vb = pane.view_box
    rect = vb.viewRect()
    return (rect.width() / vb.width(), rect.height() / vb.height(),
            rect.center().x(), rect.center().y())


def _screen(grid, pane, h: float, v: float) -> QPoint:
    scene = pane.view_box.mapViewToScene(QPointF(h, v))
    return grid.mapFromScene(scene)


def _wheel(grid, pos: QPoint, steps: int) -> None:
    event = QWheelEvent(QPointF(pos), QPointF(grid.viewport().mapToGlobal(pos)), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(grid.viewport(), event)


def _drag(grid, start: QPoint, end: QPoint, button: Qt.MouseButton,
          modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """Press, move in steps with the button held, release (what a hand does)."""
    viewport = grid.viewport()

    def send(kind, point, buttons):
        QApplication.sendEvent(viewport, QMouseEvent(
            kind, QPointF(point), QPointF(viewport.mapToGlobal(point)), button, buttons,
            modifiers))

    send(QEvent.Type.MouseButtonPress, start, button)
    for k in range(1, 6):
        QTest.qWait(15)  # pyqtgraph drops mouse moves closer than 10 ms (mouseRateLimit)
        send(QEvent.Type.MouseMove, start + (end - start) * (k / 5), button)
    send(QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)


def _double_click(grid, point: QPoint) -> None:
    """Press, release, double click, release: the events a double click brings."""
    viewport, left = grid.viewport(), Qt.MouseButton.LeftButton
    for kind, buttons in ((QEvent.Type.MouseButtonPress, left),
                          (QEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton),
                          (QEvent.Type.MouseButtonDblClick, left),
                          (QEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton)):
        QApplication.sendEvent(viewport, QMouseEvent(
            kind, QPointF(point), QPointF(viewport.mapToGlobal(point)), left, buttons,
            Qt.KeyboardModifier.NoModifier))


def _assert_linked(grid, plane: str) -> tuple[float, float, float, float]:
    """The three panes of a plane show the same mm per pixel about the same centre."""
    first = _scale_and_centre(grid.pane("Pre", plane))
    for column in COLUMNS[1:]:
        other = _scale_and_centre(grid.pane(column, plane))
        assert other == pytest.approx(first, rel=0.02, abs=0.3), (column, plane)
    assert first[0] == pytest.approx(first[1], rel=0.02)  # square voxels stay square
    return first


def _assert_fitted(grid) -> None:
    """Every pane shows its whole slice, and in each plane one pane fits it tightly."""
    for plane in PLANES:
        tight = []
        for column in COLUMNS:
            pane = grid.pane(column, plane)
            view, slice_rect = pane.view_box.viewRect(), pane._rect
            assert view.contains(slice_rect), (column, plane)
            tight.append(min(view.width() / slice_rect.width(),
                             view.height() / slice_rect.height()))
        assert min(tight) == pytest.approx(1.04, abs=0.01), plane
        _assert_linked(grid, plane)


def test_fitted_panes_show_the_whole_slice_and_refit_when_resized(qtbot, grid):
    _assert_fitted(grid)
    small = _scale_and_centre(grid.pane("Pre", "axial"))[0]
    grid.resize(1300, 1000)
    qtbot.waitUntil(lambda: _scale_and_centre(grid.pane("Pre", "axial"))[0] < 0.9 * small)
    _assert_fitted(grid)


def test_wheel_zooms_about_the_pointer_in_all_panes_of_that_orientation(grid):
    before = {plane: _assert_linked(grid, plane) for plane in PLANES}
    pane = grid.pane("Post", "axial")
    point = _screen(grid, pane, 20.0, 30.0)
    _wheel(grid, point, 3)
    after = _assert_linked(grid, "axial")
    assert after[0] < 0.9 * before["axial"][0]  # zoomed in
    # the point under the pointer stays under it
    moved = pane.view_box.mapSceneToView(grid.mapToScene(point))
    assert (moved.x(), moved.y()) == pytest.approx((20.0, 30.0), abs=1.0)
    # the other orientations do not move
    for plane in ("coronal", "sagittal"):
        assert _assert_linked(grid, plane) == pytest.approx(before[plane])
    assert grid.zoomed == {"axial"}


def test_middle_drag_and_shift_drag_pan_without_moving_the_cursor(grid):
    pane = grid.pane("Δ", "coronal")
    before = _assert_linked(grid, "coronal")
    start = _screen(grid, pane, 0.0, 0.0)
    _drag(grid, start, start + QPoint(40, 0), Qt.MouseButton.MiddleButton)
    after = _assert_linked(grid, "coronal")
    assert after[2] == pytest.approx(before[2] - 40 * before[0], rel=0.05)  # view moved left
    _drag(grid, start, start + QPoint(0, 30), Qt.MouseButton.LeftButton,
          Qt.KeyboardModifier.ShiftModifier)
    shifted = _assert_linked(grid, "coronal")
    assert shifted[3] == pytest.approx(after[3] + 30 * after[1], rel=0.05)  # dragged down
    assert grid.cursor.position.tolist() == [0.0, 0.0, 0.0]


def test_plain_drag_still_moves_the_cursor(grid):
    pane = grid.pane("Pre", "axial")
    before = _scale_and_centre(pane)
    _drag(grid, _screen(grid, pane, 0.0, 0.0), _screen(grid, pane, 12.0, 16.0),
          Qt.MouseButton.LeftButton)
    assert grid.cursor.position[:2] == pytest.approx([12.0, 16.0], abs=2.5)
    assert _scale_and_centre(pane) == pytest.approx(before)


def test_zoom_survives_new_maps_and_fit_resets_it(qtbot, grid):
    grid.setFocus()
    grid.cursor.set_position((8.0, 12.0, 0.0))
    grid.active_plane = "sagittal"
    fitted = _assert_linked(grid, "sagittal")
    pane = grid.pane("Pre", "sagittal")
    crosshair = pane.view_box.mapViewToScene(QPointF(12.0, 0.0))  # sagittal: y, z
    qtbot.keyClick(grid, Qt.Key.Key_Plus)
    zoomed = _assert_linked(grid, "sagittal")
    assert zoomed[0] == pytest.approx(fitted[0] / 1.25, rel=0.01)
    # about the cursor: the crosshair stays where it was on the screen
    after = pane.view_box.mapViewToScene(QPointF(12.0, 0.0))
    assert (after.x(), after.y()) == pytest.approx((crosshair.x(), crosshair.y()), abs=1.0)
    data = grid.data  # a new map on the same grid (a seed map moving) keeps the zoom
    grid.set_data(SliceData(data.template, data.affine, data.pre * 2, data.post, data.delta))
    assert _assert_linked(grid, "sagittal") == pytest.approx(zoomed)
    # double click fits that orientation again
    _double_click(grid, _screen(grid, grid.pane("Post", "sagittal"), 0.0, 0.0))
    assert _assert_linked(grid, "sagittal") == pytest.approx(fitted, rel=0.01)
    qtbot.keyClick(grid, Qt.Key.Key_Minus)
    assert grid.zoomed == {"sagittal"}
    qtbot.keyClick(grid, Qt.Key.Key_0)
    assert grid.zoomed == set()
    assert _assert_linked(grid, "sagittal") == pytest.approx(fitted, rel=0.01)


def test_crosshair_key_and_method_hide_all_nine(qtbot, grid):
    seen = []
    grid.crosshair_toggled.connect(seen.append)
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_C)
    assert not any(p.v_line.isVisible() or p.h_line.isVisible() for p in grid.panes.values())
    grid.set_crosshair_visible(True)
    assert all(p.v_line.isVisible() and p.h_line.isVisible() for p in grid.panes.values())
    assert seen == [False, True]


def test_keys_go_to_the_focused_widget_not_the_slices(qtbot):
    """A key of the slice table typed into a text box is text, not a command."""
    host = QWidget()
    qtbot.addWidget(host)
    grid = SliceGrid(CursorModel((0.0, 0.0, 0.0)))
    box = QLineEdit()
    layout = QVBoxLayout(host)
    layout.addWidget(box)
    layout.addWidget(grid)
    host.resize(700, 700)
    host.show()
    qtbot.waitExposed(host)
    grid.set_data(_synthetic_data())
    box.setFocus()
    qtbot.keyClicks(box, "c0r+")
    qtbot.keyClick(box, Qt.Key.Key_Right)
    assert box.text() == "c0r+"
    assert grid.crosshair_visible and grid.cursor.position.tolist() == [0.0, 0.0, 0.0]


def test_every_key_in_the_table_does_something(qtbot, grid):
    """The help lists SLICE_KEYS; each of its keys is handled by the grid."""
    grid.setFocus()
    for binding in SLICE_KEYS:
        for key in binding.keys:
            before = (grid.cursor.position.tolist(), grid.crosshair_visible,
                      _scale_and_centre(grid.pane("Pre", "axial")))
            if key in (Qt.Key.Key_0, Qt.Key.Key_R):
                qtbot.keyClick(grid, Qt.Key.Key_Plus)  # something to reset
                before = (before[0], before[1], _scale_and_centre(grid.pane("Pre", "axial")))
            qtbot.keyClick(grid, key)
            after = (grid.cursor.position.tolist(), grid.crosshair_visible,
                     _scale_and_centre(grid.pane("Pre", "axial")))
            assert after != before, binding.label
    assert np.isfinite(grid.cursor.position).all()


def test_a_zoomed_view_follows_the_cursor_out_of_it(grid):
    grid.active_plane = "axial"
    for _ in range(4):
        grid.key_zoom(Qt.Key.Key_Plus)
    pane = grid.pane("Pre", "axial")
    assert not pane.view_box.viewRect().contains(30.0, 40.0)
    coronal = _scale_and_centre(grid.pane("Pre", "coronal"))
    grid.cursor.set_position((30.0, 40.0, 0.0))
    for column in COLUMNS:  # all three linked axial panes now show the cursor
        assert grid.pane(column, "axial").view_box.viewRect().contains(30.0, 40.0)
    assert _scale_and_centre(grid.pane("Pre", "coronal")) == pytest.approx(coronal)
    inside = _scale_and_centre(pane)
    grid.cursor.set_position((32.0, 40.0, 0.0))  # a step inside the view: no jump
    assert _scale_and_centre(pane) == pytest.approx(inside)
