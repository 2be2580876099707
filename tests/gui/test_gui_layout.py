"""Layout at 1366 × 768: labels that do not overlap, stand beside what they name, and are not
drawn over the data."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PyQt6.QtCore import QPointF, Qt
from PyQt6.QtGui import QImage, QPainter

from gui.axis_labels import kept_labels
from gui.matrix_view import MatrixData, MatrixView
from gui.qc_panel import QcPanel


def _drawn_labels(axis) -> list:
    """(rect in scene coordinates, text) of the tick labels an axis draws."""
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _axis, _ticks, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [(axis.mapRectToScene(rect), text) for rect, _flags, text in texts]


def test_kept_labels_drop_the_smaller_of_two_overlapping():
    spans = [(0, 10), (8, 18), (30, 40), (39, 49)]
    assert kept_labels(spans, [5, 1, 1, 5]) == [0, 3]
    assert kept_labels(spans, [1, 5, 5, 1]) == [1, 2]
    assert kept_labels([(0, 10), (11, 21)], [1, 1]) == [0, 1]  # 1 px apart: both fit


def test_carpet_network_labels_do_not_overlap_at_1366(qtbot, review_stats):
    panel = QcPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 640)  # the QC tab at 1366 × 768
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_stats(review_stats)
    qtbot.wait(50)
    for plot in panel.carpet_plots:
        labels = _drawn_labels(plot.getAxis("left"))
        assert len(labels) >= 3  # the large networks keep their names
        rects = sorted((r for r, _t in labels), key=lambda r: r.top())
        for upper, lower in itertools.pairwise(rects):
            assert upper.bottom() <= lower.top() + 0.5
        names = [t for _r, t in labels]
        assert set(names) <= set(review_stats.qc_pre.carpet.groups)
        # the names left out are in the tooltip
        assert all(g in plot.getAxis("left").toolTip() for g in
                   review_stats.qc_pre.carpet.groups)


def test_threshold_numbers_sit_beside_the_traces_not_on_them(qtbot, review_stats):
    panel = QcPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 640)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_stats(review_stats)
    qtbot.wait(50)
    for plots, value in ((panel.fd_plots, "0.5"), (panel.dvars_plots, "1.5")):
        for plot in plots:
            labels = _drawn_labels(plot.getAxis("right"))
            assert [t for _r, t in labels] == [value]
            vb = plot.getViewBox()
            rect = labels[0][0]
            assert rect.left() >= vb.sceneBoundingRect().right() - 0.5  # off the data area
            line_y = vb.mapViewToScene(QPointF(0.0, float(value))).y()
            assert rect.center().y() == pytest.approx(line_y, abs=2)  # level with its line
    # nothing of the QC plots is cut off: the panel asks for the width they need
    assert panel.graphics.minimumWidth() >= panel.graphics.ci.minimumWidth()


def _matrix_data(n: int = 60) -> MatrixData:
    rng = np.random.default_rng(1)
    nets = sorted(["Vis", "SomMot", "DorsAttn", "Limbic", "Default"] * (n // 5))
    m = rng.normal(0, 0.4, (n, n))
    m = (m + m.T) / 2
    return MatrixData([f"roi{i}" for i in range(n)], nets, m, m + 0.1, m * 0.3)


@pytest.mark.parametrize("size", [(700, 380), (970, 560), (1300, 800)])
def test_matrix_labels_stand_beside_each_matrix(qtbot, size):
    view = MatrixView()
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    data = _matrix_data()
    view.set_data(data)
    qtbot.wait(50)
    for plot, image in zip(view.plots, view.images, strict=True):
        matrix = image.sceneBoundingRect()
        labels = _drawn_labels(plot.getAxis("left"))
        assert labels
        for rect, _text in labels:
            assert 0 <= matrix.left() - rect.right() < 8, (plot.titleLabel.text, size)
        assert matrix.width() == pytest.approx(matrix.height(), rel=0.02)  # square cells
        # the title is centred over its matrix
        title = plot.titleLabel.sceneBoundingRect()
        assert title.center().x() == pytest.approx(matrix.center().x(), abs=4)


def test_filtered_delta_keeps_its_frame_and_marks_hidden_cells(qtbot):
    view = MatrixView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    data = _matrix_data()
    view.set_data(data)
    mask = np.zeros(data.delta.shape, dtype=bool)
    mask[:5, :5] = True
    view.set_significance(mask)
    view.significant_button.setChecked(True)
    n = len(data.names)
    frame = view._frames[2]
    assert frame.isVisible() and frame.rect().width() == n and frame.rect().height() == n
    assert frame.pen().color().alpha() > 0
    assert frame.brush().style() == Qt.BrushStyle.BDiagPattern  # hidden cells: hatched
    assert frame.zValue() < view.images[2].zValue()
    assert np.isnan(view.images[2].image).sum() > 0
