"""Slice views built from plain data: linked crosshairs, clicks and arrow keys."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QPointF, Qt

from gui.cursor import CursorModel
from gui.display_data import SliceData
from gui.slice_view import PLANES, SliceGrid


def _synthetic_data():
    shape = (20, 24, 18)  # unequal on purpose: a swapped axis cannot pass
    affine = np.diag([4.0, 4.0, 4.0, 1.0])
    affine[:3, 3] = (-38.0, -50.0, -30.0)
    rng = np.random.default_rng(0)
    template = rng.random(shape).astype(np.float32)
    pre = np.full(shape, np.nan, np.float32)
    pre[5:15, 6:18, 4:14] = 0.5
    post = pre + 0.2
    return SliceData(template, affine, pre, post, post - pre, title="test map")


@pytest.fixture
def grid(qtbot):
    cursor = CursorModel((0.0, 0.0, 0.0))
    view = SliceGrid(cursor)
    qtbot.addWidget(view)
    view.resize(900, 800)
    view.show()
    qtbot.waitExposed(view)
    view.set_data(_synthetic_data())
    return view


def _click(qtbot, view, pane, h, v):
    scene = pane.view_box.mapViewToScene(QPointF(h, v))
    pos = view.mapFromScene(scene)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pos.x(), pos.y()))


def test_click_in_one_pane_moves_all_nine_crosshairs(qtbot, grid):
    pane = grid.pane("Post", "coronal")
    with qtbot.waitSignal(grid.cursor.moved, timeout=5000):
        _click(qtbot, grid, pane, 12.0, 20.0)
    x, y, z = grid.cursor.position
    assert x == pytest.approx(12.0, abs=1.5)
    assert z == pytest.approx(20.0, abs=1.5)
    assert y == 0.0  # the coronal plane does not change y
    assert len(grid.panes) == 9
    for p in grid.panes.values():
        h, v = p.crosshair()
        assert h == pytest.approx(grid.cursor.position[p.h_axis])
        assert v == pytest.approx(grid.cursor.position[p.v_axis])


def test_titles_name_plane_and_slice(grid):
    grid.cursor.set_position((4.0, -8.0, 12.0))
    assert grid.pane("Pre", "axial").titleLabel.text == "axial z=+12 mm"
    assert "sagittal x=+4 mm" in grid.pane("Δ", "sagittal").titleLabel.text


def test_arrow_keys_move_cursor(qtbot, grid):
    grid.cursor.set_position((0.0, 0.0, 0.0))
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_Right)
    qtbot.keyClick(grid, Qt.Key.Key_Up)
    qtbot.keyClick(grid, Qt.Key.Key_PageUp)
    assert grid.cursor.position.tolist() == [4.0, 4.0, 4.0]  # axial: x, y; page: z


def test_overlay_follows_threshold_and_orientation(grid):
    pane = grid.pane("Pre", "axial")
    rect = pane.underlay.mapRectToParent(pane.underlay.boundingRect())
    assert rect.left() == pytest.approx(-40.0) and rect.width() == pytest.approx(80.0)
    assert rect.height() == pytest.approx(96.0)  # y extent: 24 voxels of 4 mm
    rgba = pane.overlay.image
    assert rgba.shape == (20, 24, 4)
    assert rgba[10, 10, 3] > 0 and rgba[0, 0, 3] == 0
    assert set(PLANES) == {"axial", "coronal", "sagittal"}


def test_empty_grid_clears(grid):
    grid.set_data(None)
    assert grid.pane("Pre", "axial").overlay.image is None
