"""Quality-control tab: FD and DVARS over time, QC table, QC-FC and carpet plots, pre | post."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import (
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.display_text import format_number
from core.measure_names import QC_MEASURE_NAMES
from gui import strings
from gui.axis_labels import SparseLabelAxis

__all__ = ["QcPanel"]

# nilearn's "scrubbing" preset (load_confounds_strategy): FD > 0.5 mm or std DVARS > 1.5
FD_THRESHOLD_MM = 0.5
STD_DVARS_THRESHOLD = 1.5
SCRUBBING_STRATEGY = "scrubbing"  # the one strategy that leaves high-motion volumes out
SCRUB_BRUSH = (230, 60, 60, 45)
LINE_PEN = pg.mkPen((40, 70, 160), width=1.2)
THRESHOLD_PEN = pg.mkPen((200, 30, 30), width=1, style=Qt.PenStyle.DashLine)
#: Names and number formats of the QC measures, shared with the report.
MEASURES = QC_MEASURE_NAMES


def _fmt(measure: str, value: float) -> str:
    if value is None or not np.isfinite(value):
        return "—"
    pattern = MEASURES.get(measure, (measure, "{:.3g}"))[1]
    return format_number(value, pattern[2:-1])  # "{:.2f}" -> ".2f"; never "-0.00"


def _label_threshold(plot: pg.PlotItem, threshold: float) -> None:
    """Write the dashed line's threshold in the right margin, level with it, off the trace."""
    axis = plot.getAxis("right")
    plot.showAxis("right")
    axis.setTicks([[(threshold, f"{threshold:g}")]])
    axis.setGrid(False)  # showGrid gave it full-width ticks, which leave no room for text
    axis.setStyle(tickLength=3, showValues=True, tickFont=QFont("Sans", 8))
    axis.setPen(pg.mkPen(None))
    axis.setTextPen(pg.mkPen((200, 30, 30)))
    axis.setWidth(30)
    axis.setToolTip(f"dashed line: threshold {threshold:g} (nilearn's scrubbing preset)")
    # the view reaches a little above the line, so its number is never cut off (an
    # invisible point, in the view box only: not one of the plot's data items)
    headroom = pg.ScatterPlotItem([0.0], [threshold * 1.15], size=1, pen=None,
                                  brush=(0, 0, 0, 0))
    plot.getViewBox().addItem(headroom)
    plot.headroom = headroom  # removed by QcPanel.clear


class QcPanel(QWidget):
    """QC of pre and post side by side, filled by :meth:`set_stats` from ReviewStatistics."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Measure", "Pre", "Post", "Post − pre"])
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(19)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumWidth(330)
        self.qcfc_label = QLabel()
        self.qcfc_label.setWordWrap(True)
        self.qcfc = pg.PlotWidget(background="w")
        self.qcfc_plot = self.qcfc.getPlotItem()
        self.qcfc_plot.setTitle("QC-FC: edge Δz vs inter-ROI distance", size="9pt")
        self.qcfc_plot.setLabel("bottom", "distance between ROI centres (mm)")
        self.qcfc_plot.setLabel("left", "Δz post − pre")
        self.qcfc_plot.showGrid(x=True, y=True, alpha=0.2)
        for axis in ("left", "bottom"):
            self.qcfc_plot.getAxis(axis).enableAutoSIPrefix(False)
        self.qcfc_scatter = pg.ScatterPlotItem(size=3, pen=None, brush=(60, 60, 60, 70))
        self.qcfc_fit = pg.PlotCurveItem(pen=pg.mkPen((200, 30, 30), width=2))
        self.qcfc_plot.addItem(self.qcfc_scatter)
        self.qcfc_plot.addItem(self.qcfc_fit)
        top = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("<b>Quality control</b>, pre and post"))
        left_layout.addWidget(self.table, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.qcfc, 1)
        right_layout.addWidget(self.qcfc_label)
        top.addWidget(left)
        top.addWidget(right)
        top.setSizes([380, 420])
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("w")
        self.scrub_note = QLabel()
        self.scrub_note.setWordWrap(True)
        self.fd_plots = self._trace_row(0, "FD (mm)", "FD")
        self.dvars_plots = self._trace_row(1, "std. DVARS", "DVARS")
        self.carpet_plots, self.carpets, self._carpet_lines = self._carpet_row(2)
        grid = self.graphics.ci.layout
        grid.setRowStretchFactor(0, 2)
        grid.setRowStretchFactor(1, 2)
        grid.setRowStretchFactor(2, 4)
        self.empty_label = QLabel(strings.QC_EMPTY)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.setSpacing(2)
        bottom_layout.addWidget(self.scrub_note)
        bottom_layout.addWidget(self.graphics, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setSizes([300, 600])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.empty_label)
        layout.addWidget(splitter, 1)

    # ------------------------------------------------------------------ layout
    def _trace_row(self, row: int, unit: str, title: str) -> list[pg.PlotItem]:
        plots = []
        for col, session in enumerate(("Pre", "Post")):
            plot = self.graphics.addPlot(row=row, col=col, title=f"{title} — {session}")
            plot.titleLabel.setText(f"{title} — {session}", size="9pt")
            plot.setLabel("left", unit)
            plot.setLabel("bottom", "volume")
            plot.showGrid(x=False, y=True, alpha=0.2)
            plot.setMouseEnabled(x=True, y=False)
            plot.getAxis("bottom").enableAutoSIPrefix(False)
            plots.append(plot)
        plots[1].setYLink(plots[0])
        return plots

    def _carpet_row(self, row: int):
        plots, images, lines = [], [], []
        for col, session in enumerate(("Pre", "Post")):
            plot = self.graphics.addPlot(row=row, col=col,
                                         axisItems={"left": SparseLabelAxis("left")})
            plot.setTitle(f"Carpet — {session} (voxels, z-scored)", size="9pt")
            plot.invertY(True)
            plot.setMouseEnabled(False, False)
            plot.hideButtons()
            plot.setMenuEnabled(False)
            plot.setLabel("bottom", "volume")
            plot.getAxis("left").setStyle(tickFont=QFont("Sans", 7), tickLength=0)
            plot.getAxis("left").setWidth(70)
            image = pg.ImageItem(axisOrder="row-major")
            image.setColorMap(pg.colormap.get("CET-L1"))
            plot.addItem(image)
            line = pg.PlotCurveItem(pen=pg.mkPen((230, 120, 0), width=1), connect="pairs")
            plot.addItem(line)
            plots.append(plot)
            images.append(image)
            lines.append(line)
        return plots, images, lines

    # ------------------------------------------------------------------ data
    def clear(self, computing: bool = False) -> None:
        """Empty every plot and the table; ``computing``: say the new patient's QC is coming."""
        for plot in (*self.fd_plots, *self.dvars_plots):
            plot.clear()
            plot.hideAxis("right")
            if getattr(plot, "headroom", None) is not None:
                plot.getViewBox().removeItem(plot.headroom)
                plot.headroom = None
        for image, line in zip(self.carpets, self._carpet_lines, strict=True):
            image.clear()
            line.setData([], [])
        self.qcfc_scatter.setData([], [])
        self.qcfc_fit.setData([], [])
        self.qcfc_label.setText("")
        self.scrub_note.setText("")
        self.table.setRowCount(0)
        self.empty_label.setText(strings.STATS_COMPUTING if computing else strings.QC_EMPTY)
        self.empty_label.setVisible(True)

    def set_stats(self, stats, strategy: str | None = None) -> None:
        """Show the QC of a :class:`core.review_state.ReviewStatistics`.

        ``strategy``: the denoising strategy used, to say whether it scrubbed.
        """
        self.clear()
        if stats.qc_pre is None:
            self.empty_label.setText(strings.QC_MISSING)
            return
        self.empty_label.setVisible(False)
        self._fill_table(stats.qc_table)
        sessions = (stats.qc_pre, stats.qc_post)
        for plot, qc in zip(self.fd_plots, sessions, strict=True):
            self._trace(plot, qc.fd, qc.scrubbed, FD_THRESHOLD_MM, "no motion parameters",
                        unit=" mm")
        for plot, qc in zip(self.dvars_plots, sessions, strict=True):
            use_std = qc.std_dvars is not None
            self._trace(plot, qc.std_dvars if use_std else qc.dvars, qc.scrubbed,
                        STD_DVARS_THRESHOLD if use_std else None, "no voxel data")
        self.scrub_note.setText(strings.SCRUB_NOTE.format(
            fd=FD_THRESHOLD_MM, dvars=STD_DVARS_THRESHOLD, scrubbing=SCRUBBING_STRATEGY,
            used=strings.SCRUB_USED_YES.format(strategy=strategy)
            if strategy == SCRUBBING_STRATEGY else
            strings.SCRUB_USED_NO.format(strategy=strategy or "unknown")))
        for k, qc in enumerate(sessions):
            self._carpet(k, qc.carpet)
        self._fill_qcfc(stats)
        # the plots' titles and axes need this width: ask the window for it rather than
        # be cut off at the right (at 1366 × 768 the slices give way)
        self.graphics.ci.layout.invalidate()  # the new titles change what the plots need
        self.graphics.ci.layout.activate()
        self.graphics.setMinimumWidth(int(self.graphics.ci.minimumWidth()) + 4)

    def _fill_table(self, table: pd.DataFrame | None) -> None:
        if table is None:
            return
        self.table.setRowCount(len(table))
        for row, rec in enumerate(table.itertuples(index=False)):
            label = MEASURES.get(rec.measure, (rec.measure, ""))[0]
            cells = [label, _fmt(rec.measure, rec.pre), _fmt(rec.measure, rec.post),
                     _fmt(rec.measure, rec.difference)]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(rec.measure)
                if col:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()

    def _trace(self, plot: pg.PlotItem, values, scrubbed, threshold, missing: str,
               unit: str = "") -> None:
        title = plot.titleLabel.text.split("   ")[0]
        if values is None:
            plot.setTitle(f"{title}   ({missing})", size="9pt")
            return
        values = np.asarray(values, dtype=float)
        x = np.arange(values.size)
        top = float(np.nanmax(values)) if np.isfinite(values).any() else 1.0
        if threshold is not None:
            top = max(top, threshold * 1.1)
        scrub = np.flatnonzero(np.asarray(scrubbed, dtype=bool)[: values.size])
        if scrub.size:
            plot.addItem(pg.BarGraphItem(x=scrub, height=top, width=1.0, y0=0, pen=None,
                                         brush=SCRUB_BRUSH))
        plot.plot(x, np.nan_to_num(values, nan=0.0), pen=LINE_PEN, connect="finite")
        if threshold is not None:
            plot.addItem(pg.InfiniteLine(pos=threshold, angle=0, pen=THRESHOLD_PEN))
            _label_threshold(plot, threshold)
        plot.setXRange(0, values.size, padding=0.01)
        over = "" if threshold is None else (
            f"{int(np.count_nonzero(np.nan_to_num(values, nan=-np.inf) > threshold))} over "
            f"{threshold:g}{unit} · ")
        plot.setTitle(f"{title}   · {over}{scrub.size} scrubbed", size="9pt")

    def _carpet(self, k: int, carpet) -> None:
        plot, image, line = self.carpet_plots[k], self.carpets[k], self._carpet_lines[k]
        if carpet is None or carpet.data.size == 0:
            plot.getAxis("left").set_labels([], [])
            return
        n_rows, n_vols = carpet.data.shape
        image.setImage(carpet.data, levels=(-2.0, 2.0), autoLevels=False)
        image.setRect(QRectF(0, 0, n_vols, n_rows))
        starts = np.asarray(carpet.group_starts)
        bounds = starts[1:-1]
        xs = np.array([[0, n_vols] for _ in bounds], dtype=float).ravel()
        ys = np.repeat(bounds.astype(float), 2)
        line.setData(xs, ys, connect="pairs")
        groups = [(a, b, name) for a, b, name in
                  zip(starts[:-1], starts[1:], carpet.groups, strict=True) if b - a > 0]
        # small networks lie close together: their labels give way rather than overlap
        plot.getAxis("left").set_labels([((a + b) / 2, name) for a, b, name in groups],
                                        [b - a for a, b, _name in groups])
        plot.setRange(xRange=(0, n_vols), yRange=(0, n_rows), padding=0)

    def _fill_qcfc(self, stats) -> None:
        qcfc = stats.qcfc
        if stats.distance is not None and stats.distance.size:
            d, dz = stats.distance, stats.delta_z
            self.qcfc_scatter.setData(d, dz)
            slope, intercept = np.polyfit(d, dz, 1)
            xs = np.array([d.min(), d.max()])
            self.qcfc_fit.setData(xs, slope * xs + intercept)
        if qcfc is not None:
            self.qcfc_label.setText(
                f"r(Δz, distance) = {format_number(qcfc.distance_r, '+.2f')} · r(|Δz|, "
                f"distance) = {format_number(qcfc.abs_distance_r, '+.2f')} · mean FD post − pre"
                f" = {format_number(qcfc.fd_difference, '+.3f')} mm"
                f"<br><small>{strings.QCFC_HINT}</small>")
