"""Forest plot of the network-pair changes: Δz, its within-scan interval, the normal range.

One row per network pair (within- and between-network blocks), largest |Δz|
on top.  Each row shows the patient's Δz with its within-scan 95 % interval
(± 1.96 SE) and, with a reference of untreated repeat scans, the reference's
normal range of Δz behind it (its mean ± 1.96 SD), so a clinician sees at a
glance which changes lie outside what happens anyway between two scans.
Significant rows (q < 0.05 under the chosen verdict) are drawn in red.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui import strings

__all__ = ["ForestPlot", "forest_rows"]

ALPHA = 0.05
Z95 = 1.959964
SIGNIFICANT = (190, 20, 20)
NOT_SIGNIFICANT = (40, 40, 40)
NORMAL_RANGE = (150, 150, 150, 90)


def _short(network: str) -> str:
    return str(network).split("Networks_")[-1] or "Unassigned"


def forest_rows(networks: pd.DataFrame, verdict: str = "within") -> pd.DataFrame:
    """Return the rows the plot draws, in drawing order (largest |Δz| on top).

    Parameters
    ----------
    networks : DataFrame
        :func:`core.stats.network_stats_table`, optionally with the reference
        columns (``ref_mean``, ``ref_sd``, ``q_ref``).
    verdict : {"within", "reference"}
        Which q marks a row significant.

    Returns
    -------
    DataFrame
        ``label, delta_z, low, high, ref_low, ref_high, significant`` (NaN
        reference range without a reference).
    """
    q_key = "q_ref" if verdict == "reference" and "q_ref" in networks.columns else "q"
    half = Z95 * networks["se"].to_numpy(dtype=float)
    delta = networks["delta_z"].to_numpy(dtype=float)
    if "ref_mean" in networks.columns:
        mean = networks["ref_mean"].to_numpy(dtype=float)
        spread = Z95 * networks["ref_sd"].to_numpy(dtype=float)
        ref_low, ref_high = mean - spread, mean + spread
    else:
        ref_low = ref_high = np.full(delta.shape, np.nan)
    rows = pd.DataFrame({
        "label": [f"{_short(a)} – {_short(b)}" for a, b in
                  zip(networks["network_a"], networks["network_b"], strict=True)],
        "delta_z": delta, "low": delta - half, "high": delta + half,
        "ref_low": ref_low, "ref_high": ref_high,
        "significant": networks[q_key].to_numpy(dtype=float) < ALPHA,
    })
    order = np.argsort(np.abs(np.nan_to_num(delta)), kind="stable")  # smallest at y = 0
    return rows.iloc[order].reset_index(drop=True)


class ForestPlot(QWidget):
    """The network-pair forest plot (a view: it renders a table it is given)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(strings.FOREST_TITLE)
        self.title.setWordWrap(True)
        self.empty = QLabel(strings.FOREST_EMPTY)
        self.graphics = pg.PlotWidget(background="w")
        self.plot = self.graphics.getPlotItem()
        self.plot.setLabel("bottom", "Δz (post − pre, Fisher z)")
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.plot.showGrid(x=True, y=False, alpha=0.2)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.rows = pd.DataFrame()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.empty)
        layout.addWidget(self.graphics, 1)
        self.clear()

    def clear(self) -> None:
        """Show nothing (a new patient is being computed)."""
        self.plot.clear()
        self.rows = pd.DataFrame()
        self.empty.setVisible(True)
        self.graphics.setVisible(False)

    def set_networks(self, networks: pd.DataFrame, verdict: str = "within") -> None:
        """Draw the network table's rows (see :func:`forest_rows`)."""
        self.plot.clear()
        self.rows = rows = forest_rows(networks, verdict)
        self.empty.setVisible(False)
        self.graphics.setVisible(True)
        y = np.arange(len(rows), dtype=float)
        has_range = np.isfinite(rows["ref_low"].to_numpy())
        if has_range.any():
            low = rows["ref_low"].to_numpy()[has_range]
            high = rows["ref_high"].to_numpy()[has_range]
            self.plot.addItem(pg.BarGraphItem(
                x0=low, x1=high, y=y[has_range], height=0.7, brush=NORMAL_RANGE, pen=None))
        zero = pg.mkPen((120, 120, 120), style=Qt.PenStyle.DashLine)
        self.plot.addItem(pg.InfiniteLine(0.0, angle=90, pen=zero))
        for significant, colour in ((False, NOT_SIGNIFICANT), (True, SIGNIFICANT)):
            pick = rows["significant"].to_numpy() == significant
            if not pick.any():
                continue
            delta = rows["delta_z"].to_numpy()[pick]
            self.plot.addItem(pg.ErrorBarItem(
                x=delta, y=y[pick], left=delta - rows["low"].to_numpy()[pick],
                right=rows["high"].to_numpy()[pick] - delta, beam=0.25,
                pen=pg.mkPen(colour, width=2)))
            self.plot.addItem(pg.ScatterPlotItem(
                x=delta, y=y[pick], size=9, brush=pg.mkBrush(colour), pen=None))
        self.plot.getAxis("left").setTicks([[(float(i), text)
                                             for i, text in enumerate(rows["label"])]])
        self.plot.setYRange(-0.8, len(rows) - 0.2, padding=0)
