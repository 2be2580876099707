"""Pre | Post | Δ connectivity matrices, ROIs ordered by network, with hover readout."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QColor, QFont
from PyQt6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QGraphicsRectItem,
    QGraphicsWidget,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from core.display_text import format_p, roi_display_name
from gui.axis_labels import SparseLabelAxis

__all__ = ["MatrixData", "MatrixView", "in_reference_sd", "network_order"]

PRE_POST_LEVELS = (-1.5, 1.5)
LABEL_WIDTH = 62  # pixels for the network labels left of each matrix
TITLES = ("Pre", "Post", "Δ post − pre")
DELTA_SD_TITLE = "Δ in reference SD: (Δz − normal mean) / normal SD"
HOVER_HINT = "Hover over a cell to read both ROIs, their z values and the test of the change."


def network_order(networks: list[str]) -> np.ndarray:
    """ROI indices grouped by network (networks in order of first appearance, "" last)."""
    first: dict[str, int] = {}
    for net in networks:
        if net:
            first.setdefault(net, len(first))
    rank = [first.get(net, len(first)) for net in networks]
    return np.argsort(np.asarray(rank, dtype=int), kind="stable")


@dataclass(eq=False)
class MatrixData:
    """Plain matrices for the view: one row/column per item (ROI or network).

    Attributes
    ----------
    names, networks : list of str
        Item names and their networks (for blocks, both are the network name).
    pre, post, delta : ndarray, shape (n, n)
        Fisher z pre, post and post − pre.
    in_sd : bool
        ``delta`` is in units of the reference's SD of Δz (see :func:`in_reference_sd`).
    """

    names: list[str]
    networks: list[str]
    pre: np.ndarray
    post: np.ndarray
    delta: np.ndarray
    in_sd: bool = False

    @classmethod
    def from_comparison(cls, comparison, blocks: bool = False) -> MatrixData:
        """ROI-level (or network-block) matrices of a Comparison."""
        if not blocks:
            return cls([roi_display_name(n) for n in comparison.rois.names],
                       list(comparison.rois.networks),
                       comparison.pre.z, comparison.post.z, comparison.delta_z)
        table = comparison.network_table()
        nets = list(dict.fromkeys(list(table["network_a"]) + list(table["network_b"])))
        pos = {n: i for i, n in enumerate(nets)}
        mats = {k: np.full((len(nets), len(nets)), np.nan) for k in ("z_pre", "z_post", "delta_z")}
        for row in table.itertuples(index=False):
            i, j = pos[row.network_a], pos[row.network_b]
            for key, mat in mats.items():
                mat[i, j] = mat[j, i] = getattr(row, key)
        names = [n or "(none)" for n in nets]
        return cls(names, names, mats["z_pre"], mats["z_post"], mats["delta_z"])


def in_reference_sd(data: MatrixData, statistics, blocks: bool) -> MatrixData:
    """Δ as (Δz − reference mean) / reference SD: how unusual each change is.

    Without reference columns in ``statistics`` the data are returned unchanged.
    """
    table = None
    if statistics is not None:
        table = statistics.networks if blocks else statistics.edges
    if table is None or "ref_sd" not in table.columns:
        return data
    units = (table["delta_z"] - table["ref_mean"]) / table["ref_sd"]
    delta = np.full(data.delta.shape, np.nan)
    if blocks:
        pos = {name: i for i, name in enumerate(data.names)}
        for a, b, value in zip(table["network_a"], table["network_b"], units, strict=True):
            i, j = pos.get(a or "(none)"), pos.get(b or "(none)")
            if i is not None and j is not None:
                delta[i, j] = delta[j, i] = value
    else:
        a, b = table["index_a"].to_numpy(), table["index_b"].to_numpy()
        delta[a, b] = delta[b, a] = units.to_numpy()
    return MatrixData(data.names, data.networks, data.pre, data.post, delta, in_sd=True)


class _CellImage(pg.ImageItem):
    """ImageItem that reports the hovered and clicked cell (row, column)."""

    hovered = pyqtSignal(int, int)
    clicked = pyqtSignal(int, int)

    def _cell(self, pos) -> tuple[int, int] | None:
        if self.image is None:
            return None
        col, row = int(np.floor(pos.x())), int(np.floor(pos.y()))
        n_rows, n_cols = self.image.shape[:2]
        return (row, col) if 0 <= row < n_rows and 0 <= col < n_cols else None

    def hoverEvent(self, ev) -> None:
        cell = None if ev.isExit() else self._cell(ev.pos())
        self.hovered.emit(*(cell or (-1, -1)))

    def mouseClickEvent(self, ev) -> None:
        cell = self._cell(ev.pos())
        if ev.button() == Qt.MouseButton.LeftButton and cell is not None:
            self.clicked.emit(*cell)
            ev.accept()


class MatrixView(QWidget):
    """Three matrices side by side with shared colour bars and a readout line.

    Signals
    -------
    cell_clicked(int, int)
        Original ROI indices of a clicked cell (ROI mode only).
    hovered(str)
        The readout text of the hovered cell ("" when leaving).
    blocks_toggled(bool)
        The user switched between ROIs (False) and network blocks (True).
    """

    cell_clicked = pyqtSignal(int, int)
    hovered = pyqtSignal(str)
    blocks_toggled = pyqtSignal(bool)

    def __init__(self, parent: QWidget | None = None, stacked: bool = True) -> None:
        super().__init__(parent)
        self.data: MatrixData | None = None
        self.order = np.zeros(0, dtype=int)
        self.blocks = False
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("w")
        self.plots: list[pg.PlotItem] = []
        self.images: list[_CellImage] = []
        self._lines: list = []
        self._frames: list[QGraphicsRectItem] = []
        self._cells: list[pg.GraphicsLayout] = []
        self._spacers: list[tuple[QGraphicsWidget, QGraphicsWidget]] = []
        self._size = 0  # rows (= columns) of the matrices shown
        for col, title in enumerate(TITLES):
            # stacked (the window's tall panel): Pre | Post on the first row and the
            # difference, which matters most, larger below; else one row (wide pages)
            place = ({0: (0, 0, 1), 1: (0, 1, 1), 2: (1, 0, 2)} if stacked else
                     {0: (0, 0, 1), 1: (0, 1, 1), 2: (0, 3, 1)})[col]
            # each plot in its own cell of a layout, which centres it (see _fit_plot); the
            # spanning Δ gets a layout of its own so its width does not bound the columns
            cell = self.graphics.addLayout(row=place[0], col=place[1], colspan=place[2])
            plot = cell.addPlot(row=0, col=1, title=title,
                                axisItems={"left": SparseLabelAxis("left")})
            # empty columns either side take what the plot leaves (see _fit_plot): centred
            spacers = (QGraphicsWidget(), QGraphicsWidget())
            for side, spacer in zip((0, 2), spacers, strict=True):
                cell.addItem(spacer, row=0, col=side)
                cell.layout.setColumnStretchFactor(side, 1)
                spacer.setMinimumWidth(0)
                spacer.setMaximumWidth(0)
            self._spacers.append(spacers)
            cell.layout.setContentsMargins(0, 0, 0, 0)
            cell.layout.setHorizontalSpacing(0)
            cell.setMaximumWidth(1e6)  # the cell may grow past the plot's own maximum
            self._cells.append(cell)
            plot.invertY(True)  # square cells, the matrix against its labels: _fit_plot
            plot.setMouseEnabled(False, False)
            plot.hideButtons()
            plot.setMenuEnabled(False)
            image = _CellImage(axisOrder="row-major")
            plot.addItem(image)
            image.hovered.connect(lambda r, c, k=col: self._on_hovered(r, c))
            image.clicked.connect(self._on_clicked)
            plot.hideAxis("bottom")
            axis = plot.getAxis("left")
            axis.setStyle(tickFont=QFont("Sans", 7), tickLength=0)
            axis.setPen(pg.mkPen(None))  # no axis line beside the matrix: labels only
            axis.setTextPen(pg.mkPen((70, 70, 70)))
            axis.setWidth(LABEL_WIDTH)
            lines = pg.PlotCurveItem(pen=pg.mkPen((30, 30, 30), width=1), connect="pairs")
            plot.addItem(lines)
            self._lines.append(lines)
            # a frame, and hatching behind blanked cells (grey would read as Δ ≈ 0), so a
            # filtered Δ keeps its outline and shows which cells are hidden
            backdrop = QGraphicsRectItem(0, 0, 1, 1)
            backdrop.setPen(pg.mkPen((90, 90, 90), width=1, cosmetic=True))
            backdrop.setBrush(QBrush(QColor(190, 190, 190), Qt.BrushStyle.BDiagPattern))
            backdrop.setZValue(-1)  # behind the image: shows only where a cell is blank
            plot.addItem(backdrop)
            self._frames.append(backdrop)
            plot.getViewBox().sigResized.connect(lambda _vb, p=plot: self._fit_plot(p))
            cell.geometryChanged.connect(lambda p=plot: self._fit_plot(p))
            self.plots.append(plot)
            self.images.append(image)
        self.bar = pg.ColorBarItem(values=PRE_POST_LEVELS, colorMap="CET-D1", interactive=False,
                                   label="Fisher z", width=12)
        self.bar.setImageItem(self.images[:2])
        self.delta_bar = pg.ColorBarItem(values=(-0.5, 0.5), colorMap="CET-D1",
                                         interactive=False, label="Δ z", width=12)
        self.delta_bar.setImageItem(self.images[2])
        self.graphics.addItem(self.bar, row=0, col=2)
        self.graphics.addItem(self.delta_bar, row=1 if stacked else 0, col=2 if stacked else 4)
        grid = self.graphics.ci.layout
        for col, stretch in enumerate((1, 1, 0) if stacked else (1, 1, 0, 1, 0)):
            grid.setColumnStretchFactor(col, stretch)
        if stacked:
            grid.setRowStretchFactor(0, 1)
            grid.setRowStretchFactor(1, 1)
        self.readout = QLabel(HOVER_HINT)
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.roi_button = QRadioButton("ROIs")
        self.block_button = QRadioButton("Network blocks")
        self.roi_button.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.roi_button)
        group.addButton(self.block_button)
        self.block_button.toggled.connect(self.blocks_toggled)
        top = QHBoxLayout()
        top.addWidget(QLabel("<b>Connectivity matrices</b> (Fisher z)"))
        top.addStretch(1)
        top.addWidget(self.roi_button)
        top.addWidget(self.block_button)
        # Δ display option: all values or only q < 0.05 (masks from set_significance)
        self._significance: dict[bool, np.ndarray | None] = {False: None, True: None}
        #: p and q of each cell (ROI level: False, network blocks: True), see set_tests
        self._tests: dict[bool, tuple[np.ndarray, np.ndarray] | None] = {False: None,
                                                                           True: None}
        self._test_names = ("p", "q")
        self.significant_button = QCheckBox("Δ: only q < 0.05")
        self.significant_button.setToolTip("Blank the Δ cells whose change is not "
                                           "significant (Benjamini–Hochberg q ≥ 0.05)")
        self.significant_button.setEnabled(False)
        self.significant_button.toggled.connect(
            lambda _on: self.set_data(self.data, self.blocks))
        top.addWidget(self.significant_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.readout)

    def set_data(self, data: MatrixData | None, blocks: bool = False) -> None:
        """Show matrices (None clears the view); the hover read-out starts afresh."""
        self.data, self.blocks = data, blocks
        self.readout.setText(HOVER_HINT)  # never the values of a cell no longer shown
        if data is None:
            for image, lines in zip(self.images, self._lines, strict=True):
                image.clear()
                lines.setData([], [])
            return
        self.order = network_order(data.networks)
        n = len(self.order)
        mats = [m[np.ix_(self.order, self.order)]
                for m in (data.pre, data.post, self.shown_delta())]
        finite = np.abs(data.delta[np.isfinite(data.delta)])  # same scale when masked
        dmax = max(float(np.percentile(finite, 99)) if finite.size else 0.5, 0.05)
        for image, mat in zip(self.images, mats, strict=True):
            image.setImage(mat.astype(np.float32), autoLevels=False)
            image.setRect(QRectF(0, 0, n, n))
        self.bar.setLevels(PRE_POST_LEVELS)
        if data.in_sd:
            dmax = 3.0  # fixed: ± 3 SD of normal session-to-session change
        self.delta_bar.setLevels((-dmax, dmax))
        self.plots[2].setTitle(DELTA_SD_TITLE if data.in_sd else TITLES[2])
        nets = [data.networks[k] for k in self.order]
        bounds = [i for i in range(1, n) if nets[i] != nets[i - 1]]
        starts = [0, *bounds]
        ends = [*bounds, n]
        ticks = [[((a + b) / 2, nets[a] or "(none)") for a, b in zip(starts, ends, strict=True)]]
        edges = [] if blocks else bounds
        xs = np.array([[b, b, 0, n] for b in edges], dtype=float).ravel()
        ys = np.array([[0, n, b, b] for b in edges], dtype=float).ravel()
        sizes = [b - a for a, b in zip(starts, ends, strict=True)]
        self._size = n
        for plot, lines, frame in zip(self.plots, self._lines, self._frames, strict=True):
            plot.getAxis("left").set_labels(ticks[0], sizes)
            frame.setRect(QRectF(0, 0, n, n))
            self._fit_plot(plot)
            lines.setData(xs, ys, connect="pairs")

    def _fit_plot(self, plot: pg.PlotItem) -> None:
        """Square cells, the matrix right beside its labels, both centred in the column.

        The plot is never wider than its labels and a square matrix of its
        height, so the layout centres it in its column: the labels stay with
        the matrix and the title above it.  (An aspect-locked view instead
        centred the matrix alone, up to ~200 px away from its labels.)
        """
        n, vb = self._size, plot.getViewBox()
        if not n or vb.width() < 2 or vb.height() < 2:
            return
        side = min(vb.width(), vb.height())
        vb.setRange(xRange=(0, n * vb.width() / side), yRange=(0, n * vb.height() / side),
                    padding=0)
        widest = plot.getAxis("left").width() + vb.height() + 2
        k = self.plots.index(plot)
        spare = max(self._cells[k].width() - widest, 0.0) / 2
        if abs(plot.maximumWidth() - widest) > 1 or abs(
                self._spacers[k][0].maximumWidth() - spare) > 1:
            plot.setMaximumWidth(widest)
            for spacer in self._spacers[k]:
                spacer.setMaximumWidth(spare)

    def describe(self, row: int, col: int) -> str:
        """Readout for a displayed cell (row, column in network order)."""
        if self.data is None or row < 0 or col < 0:
            return ""
        a, b = int(self.order[row]), int(self.order[col])
        d = self.data
        if self.blocks:
            where = f"{d.names[a]} ↔ {d.names[b]} (network blocks)"
        else:
            where = (f"{d.names[a]} ({d.networks[a] or 'no network'}) ↔ {d.names[b]} "
                     f"({d.networks[b] or 'no network'})")
        text = (f"{where}   z pre {d.pre[a, b]:+.2f}   post {d.post[a, b]:+.2f}   "
                f"Δ {d.delta[a, b]:+.2f}" + (" reference SD" if d.in_sd else ""))
        tests = self._tests.get(self.blocks)
        if tests is not None and a != b and tests[0].shape == d.delta.shape:
            p_name, q_name = self._test_names
            text += (f"   {p_name} {format_p(tests[0][a, b]) or '—'}   "
                     f"{q_name} {format_p(tests[1][a, b]) or '—'}")
        return text

    def set_tests(self, roi: tuple[np.ndarray, np.ndarray] | None,
                  blocks: tuple[np.ndarray, np.ndarray] | None = None,
                  names: tuple[str, str] = ("p", "q")) -> None:
        """Set the p and q of every cell for the hover read-out (None: not known).

        ``roi`` and ``blocks`` are ``(p, q)`` matrices in the data's original
        order at ROI and network-block level; ``names`` label them (e.g.
        ``("p ref", "q ref")`` for the reference verdict).
        """
        self._tests = {False: roi, True: blocks}
        self._test_names = names
        self.readout.setText(HOVER_HINT)

    def _on_hovered(self, row: int, col: int) -> None:
        text = self.describe(row, col)
        if text:
            self.readout.setText(text)
        self.hovered.emit(text)

    def _on_clicked(self, row: int, col: int) -> None:
        if self.data is not None and not self.blocks:
            self.cell_clicked.emit(int(self.order[row]), int(self.order[col]))

    def set_significance(self, roi_mask: np.ndarray | None,
                         block_mask: np.ndarray | None = None) -> None:
        """Set which Δ cells are significant (ROI and network-block order of the data).

        With the "only q < 0.05" option on, the other Δ cells are blanked.  None
        clears a mask (the option is then unavailable for that level).
        """
        self._significance = {False: roi_mask, True: block_mask}
        self.significant_button.setEnabled(roi_mask is not None or block_mask is not None)
        if self.data is not None:
            self.set_data(self.data, self.blocks)

    def shown_delta(self) -> np.ndarray:
        """Return the Δ matrix as displayed (original order), NaN where blanked."""
        if self.data is None:
            return np.zeros((0, 0))
        mask = self._significance.get(self.blocks)
        if (not self.significant_button.isChecked() or mask is None
                or mask.shape != self.data.delta.shape):
            return self.data.delta
        return np.where(mask, self.data.delta, np.nan)
