"""Matrix and time-series views built from plain data, without the controller."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QPointF, Qt

from gui.matrix_view import MatrixData, MatrixView, network_order
from gui.timeseries_view import TimeSeriesView

NAMES = ["A_vis", "B_dmn", "C_vis", "D_sal", "E_dmn"]
NETS = ["Vis", "Default", "Vis", "Sal", "Default"]


def _data():
    rng = np.random.default_rng(1)
    pre = rng.normal(size=(5, 5))
    pre = (pre + pre.T) / 2
    np.fill_diagonal(pre, 0)
    post = pre + 0.1 * np.arange(25).reshape(5, 5)
    post = (post + post.T) / 2
    return MatrixData(NAMES, NETS, pre, post, post - pre)


@pytest.fixture
def view(qtbot):
    widget = MatrixView()
    qtbot.addWidget(widget)
    widget.resize(900, 400)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_data(_data())
    return widget


def test_network_order_groups_networks():
    assert network_order(NETS).tolist() == [0, 2, 1, 4, 3]
    assert network_order(["x", "", "y", "x"]).tolist() == [0, 3, 2, 1]


def _cell_pos(view, plot_index, row, col):
    image = view.images[plot_index]
    scene = image.mapToScene(QPointF(col + 0.5, row + 0.5))
    pos = view.graphics.mapFromScene(scene)
    return QPoint(pos.x(), pos.y())


def test_hover_names_both_rois_and_values(qtbot, view):
    # displayed order: A_vis, C_vis, B_dmn, E_dmn, D_sal -> row 1 is C_vis, col 3 is E_dmn
    with qtbot.waitSignal(view.hovered, timeout=5000,
                          check_params_cb=lambda text: "C_vis" in text) as blocker:
        qtbot.mouseMove(view.graphics.viewport(), _cell_pos(view, 2, 1, 3))
    text = blocker.args[0]
    d = _data()
    assert "C_vis (Vis)" in text and "E_dmn (Default)" in text
    assert f"pre {d.pre[2, 4]:+.2f}" in text
    assert f"post {d.post[2, 4]:+.2f}" in text
    assert f"Δ {d.delta[2, 4]:+.2f}" in text
    assert view.readout.text() == text


def test_click_reports_original_roi_indices(qtbot, view):
    with qtbot.waitSignal(view.cell_clicked, timeout=5000) as blocker:
        qtbot.mouseClick(view.graphics.viewport(), Qt.MouseButton.LeftButton,
                         pos=_cell_pos(view, 0, 2, 4))
    assert blocker.args == [1, 3]  # B_dmn (row 2 displayed) and D_sal (col 4 displayed)


def test_images_are_in_network_order_with_fixed_levels(view):
    shown = view.images[0].image
    d = _data()
    assert shown[1, 3] == pytest.approx(d.pre[2, 4])
    assert view.bar.levels() == (-1.5, 1.5)
    lo, hi = view.delta_bar.levels()
    assert hi == -lo > 0


def test_block_toggle_emits_and_blocks_render(qtbot, view):
    blocks = MatrixData(["Vis", "Default"], ["Vis", "Default"],
                        np.eye(2), np.eye(2) * 2, np.eye(2))
    with qtbot.waitSignal(view.blocks_toggled, timeout=2000):
        view.block_button.setChecked(True)
    view.set_data(blocks, blocks=True)
    assert view.images[1].image.shape == (2, 2)
    assert "network blocks" in view.describe(0, 0)


def test_timeseries_view_shows_both_rois(qtbot):
    widget = TimeSeriesView()
    qtbot.addWidget(widget)
    t = np.arange(50) * 2.0
    a, b = np.sin(t), np.cos(t)
    widget.set_series(("roiA", "roiB"), (a, b), (b, a), (t, t))
    assert len(widget.plots[0].listDataItems()) == 2
    title = widget.plots[1].titleLabel.text
    assert "roiA" in title and "roiB" in title and "r = " in title


def _hover(qtbot, view) -> str:
    """Hover over displayed row 1, column 3 of Δ (C_vis ↔ E_dmn); return the read-out."""
    qtbot.mouseMove(view.graphics.viewport(), QPoint(2, 2))  # from outside the cell
    qtbot.wait(100)  # pyqtgraph drops mouse moves closer than 1/60 s
    with qtbot.waitSignal(view.hovered, timeout=5000,
                          check_params_cb=lambda text: "C_vis" in text) as blocker:
        qtbot.mouseMove(view.graphics.viewport(), _cell_pos(view, 2, 1, 3))
    return blocker.args[0]


def test_hover_readout_never_outlives_the_data_it_describes(qtbot, view):
    from gui.matrix_view import HOVER_HINT

    _hover(qtbot, view)
    assert "C_vis" in view.readout.text()
    blocks = MatrixData(["Vis", "Default"], ["Vis", "Default"],
                        np.eye(2), np.eye(2) * 2, np.eye(2))
    view.set_data(blocks, blocks=True)  # mode switch: the ROI text must not stay
    assert view.readout.text() == HOVER_HINT
    view.set_data(_data())              # recompute: new numbers, no old text
    assert view.readout.text() == HOVER_HINT


def test_hover_gives_p_and_q_of_the_cell(qtbot, view):
    p = np.full((5, 5), 0.2)
    q = np.full((5, 5), 0.4)
    p[2, 4] = p[4, 2] = 0.00012
    q[2, 4] = q[4, 2] = 0.0213
    view.set_tests((p, q), None)
    assert _hover(qtbot, view).endswith("p 1.20e-04   q 0.0213")
    view.set_tests((p, q), None, names=("p ref", "q ref"))
    assert "p ref 1.20e-04   q ref 0.021" in view.describe(1, 3)
    assert " p " not in view.describe(1, 1)  # the diagonal has no test
    blocks = MatrixData(["Vis", "Default"], ["Vis", "Default"],
                        np.eye(2), np.eye(2) * 2, np.eye(2))
    view.set_data(blocks, blocks=True)
    assert " q " not in view.describe(0, 1)  # no block tests given: none invented
