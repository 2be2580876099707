"""The QC and Statistics tabs of the review window, and the warning banners above the views."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QObject, QTimer
from PyQt6.QtWidgets import QLabel

from core.review_state import ReviewState, ReviewStatistics, reading_warnings
from gui import strings
from gui.forest_plot import ForestPlot
from gui.qc_panel import QcPanel
from gui.stats_controller import (
    StatsController,
    block_significance,
    block_values,
    edge_values,
)
from gui.stats_panel import StatsPanel

__all__ = ["ReviewPanels"]

BANNER_STYLE = ("background:#ffb300; color:#3d2600; font-weight:bold; padding:5px;"
                " border:1px solid #b37400;")
READING_BANNER_STYLE = ("background:#fff1c2; color:#5c3d00; padding:5px;"
                        " border:1px solid #d9a400;")
#: Warnings spelled out in the banner; the rest are counted and listed in its tooltip.
BANNER_WARNINGS_SHOWN = 2


class ReviewPanels(QObject):
    """Add the QC and statistics tabs to a MainWindow and keep them in step.

    Every new comparison of ``window.controller`` clears the tabs, shows or hides
    the amber motion banner above the views, and starts the statistics worker;
    its result fills both tabs and the significance masks of the Δ matrix.
    """

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self._comparison = None
        self.stats_controller = StatsController(window.controller, parent=self)
        self.qc_panel = QcPanel()
        self.stats_panel = StatsPanel()
        self.forest = ForestPlot()
        window.tabs.addTab(self.qc_panel, "Quality control")
        window.tabs.addTab(self.stats_panel, "Statistics")
        window.tabs.addTab(self.forest, strings.FOREST_TAB)
        self.motion_banner = QLabel()
        self.motion_banner.setWordWrap(True)
        self.motion_banner.setStyleSheet(BANNER_STYLE)
        self.motion_banner.hide()
        self.reading_banner = QLabel()  # warnings that change how the results read
        self.reading_banner.setWordWrap(True)
        self.reading_banner.setStyleSheet(READING_BANNER_STYLE)
        self.reading_banner.hide()
        page = window.splitter.parentWidget().layout()
        page.insertWidget(page.indexOf(window.splitter), self.motion_banner)
        page.insertWidget(page.indexOf(window.splitter), self.reading_banner)
        s, panel = self.stats_controller, self.stats_panel
        window.controller.state_changed.connect(self._on_state_changed)
        s.motion_warning_changed.connect(self._on_motion_warning_changed)
        s.stats_ready.connect(self._on_stats_ready)
        s.error_occurred.connect(window.show_error)
        s.bootstrap_ready.connect(panel.set_bootstrap)
        s.bootstrap_progress.connect(panel.set_bootstrap_progress)
        s.bootstrap_busy_changed.connect(panel.set_bootstrap_busy)
        s.bootstrap_cancelled.connect(panel.set_bootstrap_cancelled)
        panel.bootstrap_requested.connect(s.run_bootstrap)
        panel.verdict_chosen.connect(lambda v: window.controller.set_display(verdict=v))
        window.controller.display_changed.connect(self._on_display_changed)
        window.controller.demo_reference_ready.connect(self._on_demo_reference_ready)
        panel.bootstrap_cancel_requested.connect(s.cancel_bootstrap)

    def shutdown(self) -> None:
        """Ask a running bootstrap to stop (the window waits for the thread pool)."""
        self.stats_controller.cancel_bootstrap()

    def _on_state_changed(self, state: ReviewState) -> None:
        if state.comparison is self._comparison:
            return  # statistics or display options of the review already shown
        self._comparison = state.comparison
        self._show_reading_warnings(reading_warnings(state))
        self.window.matrices.set_significance(None, None)
        self.window.matrices.set_tests(None, None)
        self.qc_panel.clear(computing=True)
        self.stats_panel.clear(computing=True)
        self.forest.clear()
        # start the statistics once the first view is painted, not competing with it
        QTimer.singleShot(0, lambda: self._analyse(state))

    def _analyse(self, state: ReviewState) -> None:
        current = self.window.controller.state
        if current is not None and current.comparison is state.comparison \
                and not self.window.closing:
            self.stats_controller.analyse(current)

    def _show_reading_warnings(self, warnings: list[str]) -> None:
        shown = warnings[:BANNER_WARNINGS_SHOWN]
        text = strings.READING_BANNER.format(warnings=" · ".join(shown))
        if len(warnings) > len(shown):
            text += strings.READING_BANNER_MORE.format(n=len(warnings) - len(shown))
        self.reading_banner.setText(text)
        self.reading_banner.setToolTip("\n".join(warnings))
        self.reading_banner.setVisible(bool(warnings))

    def _on_motion_warning_changed(self, warning: str) -> None:
        self.motion_banner.setText(strings.MOTION_BANNER.format(warning=warning))
        self.motion_banner.setToolTip(warning)
        self.motion_banner.setVisible(bool(warning))

    def set_reference(self, path: str | None) -> None:
        """Judge changes against a reference of repeat scans (None: within-scan only)."""
        controller = self.window.controller
        controller.reference_path = path
        state = controller.state
        if state is not None:
            self.stats_controller.set_reference(controller.reference_for(state.inputs))

    def _on_demo_reference_ready(self, path: str) -> None:
        state = self.window.controller.state
        if state is not None and state.inputs.kind == "demo":
            self.stats_controller.set_reference(path)
            self.window.statusBar().showMessage(strings.DEMO_REFERENCE_READY, 10000)

    def _on_stats_ready(self, stats: ReviewStatistics) -> None:
        state = self.window.controller.state
        if state is not None and state.statistics is stats:  # adds the reference's warnings
            self._show_reading_warnings(reading_warnings(state))
        comparison = self.stats_controller.comparison
        self.qc_panel.set_stats(stats, comparison.strategy if comparison is not None else None)
        self.stats_panel.set_stats(stats)
        display = self.window.controller.display
        if stats.reference is None and display.verdict == "reference":
            self.window.controller.set_display(verdict="within")  # renders via the signal
        else:
            self._show_verdict(stats, display.verdict)

    def _on_display_changed(self, display) -> None:
        stats = self.stats_controller.stats
        self.stats_panel.set_verdict(display.verdict)
        if stats is not None:
            self._show_verdict(stats, display.verdict)

    def _show_verdict(self, stats: ReviewStatistics, verdict: str) -> None:
        """Significance masks of the Δ matrix and the forest plot under the chosen verdict."""
        self.stats_panel.set_verdict(verdict)
        self.forest.set_networks(stats.networks, verdict)
        q_key = "q_ref" if verdict == "reference" and "q_ref" in stats.edges else "q"
        self.window.matrices.significant_button.setText(
            "Δ: only q ref < 0.05" if q_key == "q_ref" else "Δ: only q < 0.05")
        n = len(self.stats_controller.comparison.rois)
        roi_mask = np.zeros((n, n), dtype=bool)
        significant = stats.edges[q_key].to_numpy() < 0.05
        a = stats.edges["index_a"].to_numpy()[significant]
        b = stats.edges["index_b"].to_numpy()[significant]
        roi_mask[a, b] = roi_mask[b, a] = True
        self.window.matrices.set_significance(roi_mask,
                                              block_significance(stats.networks, q_key=q_key))
        p_key = "p_ref" if q_key == "q_ref" else "p"  # the hover read-out gives p and q too
        self.window.matrices.set_tests(
            (edge_values(stats.edges, p_key, n), edge_values(stats.edges, q_key, n)),
            (block_values(stats.networks, p_key), block_values(stats.networks, q_key)),
            ("p ref", "q ref") if q_key == "q_ref" else ("p", "q"))
