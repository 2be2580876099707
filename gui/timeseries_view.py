"""Time series of two ROIs, pre and post, for the clicked matrix cell."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from core.display_text import format_number, roi_display_name

__all__ = ["TimeSeriesView"]

COLOURS = ((31, 119, 180), (214, 39, 40))


class TimeSeriesView(pg.GraphicsLayoutWidget):
    """Two stacked plots (Pre, Post), each with the signals of ROI A and ROI B."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.plots = []
        for row, title in enumerate(("Pre", "Post")):
            plot = self.addPlot(row=row, col=0, title=title)
            plot.setLabel("left", "signal (a.u.)")
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.getAxis("bottom").enableAutoSIPrefix(False)
            self.plots.append(plot)
        self.plots[1].setXLink(self.plots[0])
        self.plots[1].setYLink(self.plots[0])
        self.plots[1].setLabel("bottom", "time (s), scrubbed volumes left out")
        self.names: tuple[str, str] = ("", "")
        self.setMinimumHeight(200)
        self.clear_series("Click a matrix cell to show both ROIs' time series.")

    def clear_series(self, message: str = "") -> None:
        for plot in self.plots:
            plot.clear()
        self.plots[0].setTitle(f"Pre — {message}" if message else "Pre")
        self.plots[1].setTitle("Post")

    def set_series(self, names: tuple[str, str], pre: tuple[np.ndarray, np.ndarray],
                   post: tuple[np.ndarray, np.ndarray],
                   times: tuple[np.ndarray, np.ndarray]) -> None:
        """Show ROI A and ROI B, pre and post.

        Parameters
        ----------
        names : (str, str)
            ROI names.
        pre, post : (ndarray, ndarray)
            Signals of ROI A and ROI B in each session.
        times : (ndarray, ndarray)
            Time in seconds of each kept volume, pre and post.
        """
        self.clear_series()
        self.names = names
        for plot, signals, t, label in zip(self.plots, (pre, post), times, ("Pre", "Post"),
                                           strict=True):
            for name, signal, colour in zip(names, signals, COLOURS, strict=True):
                plot.plot(t, signal, pen=pg.mkPen(colour, width=1.3), name=name)
            r = float(np.corrcoef(signals[0], signals[1])[0, 1])
            coloured = " and ".join(
                f"<span style='color:rgb{colour}'>{roi_display_name(name)}</span>"
                for name, colour in zip(names, COLOURS, strict=True))
            plot.setTitle(f"{label}: {coloured}   r = {format_number(r, '+.2f')}", size="9pt")

