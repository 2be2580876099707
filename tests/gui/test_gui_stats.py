"""Statistics tab (offscreen): |Z| sorting, q filter, row selection, Δ mask, bootstrap."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import Qt, QThreadPool

from gui.matrix_view import MatrixData, MatrixView
from gui.stats_controller import StatsController, block_significance
from gui.stats_panel import EDGE_COLUMNS, StatsPanel


@pytest.fixture
def panel(qtbot, review_stats):
    widget = StatsPanel()
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    widget.set_stats(review_stats)
    return widget


def _column(panel, key):
    col = [c for c, _ in EDGE_COLUMNS].index(key)
    proxy = panel.edge_proxy
    return [panel.edge_model.value(proxy.mapToSource(proxy.index(r, col)).row(), key)
            for r in range(proxy.rowCount())]


def test_edge_table_matches_core_and_sorts_by_abs_z(panel, review_stats, demo_comparison):
    from core.stats import edge_table

    expected = edge_table(demo_comparison)
    assert panel.edge_proxy.rowCount() == len(expected)
    np.testing.assert_allclose(np.sort(panel.edge_model.frame["stat"]),
                               np.sort(expected["stat"]))
    z = np.abs(_column(panel, "stat"))
    assert np.all(np.diff(z) <= 0)
    assert z[0] == pytest.approx(np.abs(expected["stat"]).max())
    header = [panel.edge_model.headerData(c, Qt.Orientation.Horizontal)
              for c in range(panel.edge_model.columnCount())]
    # the change, its Z and q first: visible next to the edge name without scrolling
    assert header == ["ROI A", "ROI B", "Δz", "Z", "q", "p", "z pre", "z post", "Network A",
                      "Network B"]


def test_q_filter_keeps_only_significant_edges(panel, review_stats):
    n_sig = int((review_stats.edges["q"] < 0.05).sum())
    assert 0 < n_sig < len(review_stats.edges)
    panel.significant_only.setChecked(True)
    assert panel.edge_proxy.rowCount() == n_sig
    assert max(_column(panel, "q")) < 0.05
    assert f"{n_sig} of {len(review_stats.edges)}" in panel.edge_count.text()
    panel.significant_only.setChecked(False)
    assert panel.edge_proxy.rowCount() == len(review_stats.edges)


def test_clicking_a_row_emits_its_roi_indices(qtbot, panel, review_stats, demo_comparison):
    view = panel.edge_view
    rect = view.visualRect(panel.edge_proxy.index(0, 0))
    with qtbot.waitSignal(panel.edge_selected, timeout=2000) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    a, b = blocker.args
    names = demo_comparison.rois.names
    top = review_stats.edges.loc[review_stats.edges["stat"].abs().idxmax()]
    assert (names[a], names[b]) == (top.roi_a, top.roi_b)


def test_row_click_moves_the_window_selection(qtbot, isolated_settings, demo_comparison,
                                               show_comparison):
    from gui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.review.stats_controller.stats_ready, timeout=30000):
        show_comparison(win, demo_comparison)
    edges = win.review.stats_controller.stats.edges
    row = edges.iloc[7]
    win.review.stats_panel.edge_selected.emit(int(row.index_a), int(row.index_b))
    assert np.allclose(win.cursor.position, demo_comparison.rois.coords_mm[row.index_a])
    short = row.roi_b.split("Networks_")[-1]
    assert short in win.timeseries.plots[1].titleLabel.text
    assert win.matrices.significant_button.isEnabled()
    win.close()


def test_significant_only_toggle_blanks_non_significant_cells(qtbot, demo_comparison,
                                                              review_stats):
    view = MatrixView()
    qtbot.addWidget(view)
    view.set_data(MatrixData.from_comparison(demo_comparison))
    n = len(demo_comparison.rois)
    mask = np.zeros((n, n), dtype=bool)
    sig = review_stats.edges[review_stats.edges.q < 0.05]
    mask[sig.index_a, sig.index_b] = mask[sig.index_b, sig.index_a] = True
    assert not view.significant_button.isEnabled()
    view.set_significance(mask, block_significance(review_stats.networks))
    assert np.isfinite(view.images[2].image).sum() > mask.sum()
    view.significant_button.setChecked(True)
    shown = view.images[2].image
    order = view.order
    assert np.array_equal(np.isfinite(shown), mask[np.ix_(order, order)])
    assert np.all(np.isfinite(view.images[0].image[~np.isnan(shown)]))  # pre untouched
    view.set_data(MatrixData.from_comparison(demo_comparison, blocks=True), blocks=True)
    blocks = block_significance(review_stats.networks)
    assert np.isfinite(view.images[2].image).sum() == blocks.sum() > 0
    view.significant_button.setChecked(False)
    assert np.isfinite(view.images[2].image).all()


def test_bootstrap_fills_ci_columns(qtbot, panel, demo_comparison):
    controller = StatsController(n_boot=100)
    controller.comparison = demo_comparison
    controller.bootstrap_ready.connect(panel.set_bootstrap)
    controller.bootstrap_busy_changed.connect(panel.set_bootstrap_busy)
    with qtbot.waitSignal(controller.bootstrap_ready, timeout=60000):
        controller.run_bootstrap()
        assert panel.boot_cancel.isVisible()
    qtbot.waitUntil(lambda: not controller.bootstrap_running, timeout=5000)
    frame = panel.network_model.frame
    assert frame["ci_low"].notna().any()
    assert (frame["ci_low"] <= frame["ci_high"]).all()
    assert "block length" in panel.boot_status.text()
    assert not panel.boot_cancel.isVisible() and panel.bootstrap_button.isEnabled()
    assert QThreadPool.globalInstance().waitForDone(5000)


def test_bootstrap_cancel_leaves_no_thread(qtbot, demo_comparison):
    controller = StatsController(n_boot=200000)
    controller.comparison = demo_comparison
    ready = []
    controller.bootstrap_ready.connect(ready.append)
    with qtbot.waitSignal(controller.bootstrap_progress, timeout=30000,
                          check_params_cb=lambda p, m: p > 0):
        controller.run_bootstrap()
    with qtbot.waitSignals([controller.bootstrap_cancelled, controller.bootstrap_busy_changed],
                           timeout=30000):
        controller.cancel_bootstrap()
    assert not controller.bootstrap_running
    assert QThreadPool.globalInstance().waitForDone(5000)
    assert QThreadPool.globalInstance().activeThreadCount() == 0
    assert ready == []


def test_tabs_say_the_statistics_are_being_computed(qtbot, window, demo_comparison,
                                                    show_comparison):
    review = window.review
    with qtbot.waitSignal(review.stats_controller.stats_ready, timeout=60000):
        show_comparison(window, demo_comparison)
        assert "Computing" in review.stats_panel.empty_label.text()
        assert "Computing" in review.qc_panel.empty_label.text()
    assert not review.stats_panel.empty_label.isVisibleTo(review.stats_panel)


def _network_rows(panel, key):
    proxy, model = panel.network_proxy, panel.network_model
    return [model.value(proxy.mapToSource(proxy.index(r, 0)).row(), key)
            for r in range(proxy.rowCount())]


def _fake_bootstrap(networks):
    import pandas as pd

    return pd.DataFrame({"network_a": networks.network_a, "network_b": networks.network_b,
                         "ci_low": networks.delta_z - 0.1, "ci_high": networks.delta_z + 0.1,
                         "block_length_pre": 7.0, "block_length_post": 8.0})


def test_network_table_keeps_the_users_sort_when_the_bootstrap_arrives(panel, review_stats):
    networks = review_stats.networks
    # by default the significant blocks come first
    significant = int((networks.q < 0.05).sum())
    assert significant > 0
    assert all(q < 0.05 for q in _network_rows(panel, "q")[:significant])
    header = panel.network_view.horizontalHeader()
    panel.network_view.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # Network B, Z→A
    before = list(zip(_network_rows(panel, "network_b"), _network_rows(panel, "network_a"),
                      strict=True))
    panel.set_bootstrap(_fake_bootstrap(networks))
    after = list(zip(_network_rows(panel, "network_b"), _network_rows(panel, "network_a"),
                     strict=True))
    assert after == before and after[0][0] >= after[-1][0]
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == \
        (1, Qt.SortOrder.DescendingOrder)
    ci = dict(zip(_network_rows(panel, "network_a"), _network_rows(panel, "ci_low"),
                  strict=True))
    assert all(np.isfinite(v) for v in ci.values())
    # without a user sort, the default (|Z|, significant first) survives the bootstrap too
    panel.set_stats(review_stats)
    panel.set_bootstrap(_fake_bootstrap(networks))
    assert all(q < 0.05 for q in _network_rows(panel, "q")[:significant])


def test_bootstrap_progress_text_fits_on_one_line(panel):
    panel.set_bootstrap_busy(True)
    bar = panel.boot_progress
    formats = []
    for message in ("Bootstrap pre: 250 of 1000",
                    "Bootstrap post: 1000 of 1000 resamples of every network block pair"):
        panel.set_bootstrap_progress(40, message)
        shown = bar.format().replace("%p", "40")
        assert bar.fontMetrics().horizontalAdvance(shown) <= bar.width() - 10, shown
        formats.append(bar.format())
    assert formats[0] == "Bootstrap pre: 250 of 1000 %p%"  # the real messages fit whole
    assert formats[1].startswith("Bootstrap post: ") and "…" in formats[1]


def test_window_hover_gives_the_tests_of_the_verdict(qtbot, window, demo_comparison,
                                                    show_comparison, review_stats):
    from core.display_text import format_p, roi_display_name
    from gui.matrix_view import HOVER_HINT

    with qtbot.waitSignal(window.review.stats_controller.stats_ready, timeout=60000):
        show_comparison(window, demo_comparison)
    view = window.matrices
    top = review_stats.edges.iloc[int(np.argmax(np.abs(review_stats.edges.stat)))]
    row = int(np.flatnonzero(view.order == top.index_a)[0])
    col = int(np.flatnonzero(view.order == top.index_b)[0])
    text = view.describe(row, col)
    assert roi_display_name(top.roi_a) in text and roi_display_name(top.roi_b) in text
    assert text.endswith(f"p {format_p(top.p)}   q {format_p(top.q)}")
    view.readout.setText(text)
    window.controller.set_display(network_blocks=True)
    assert view.readout.text() == HOVER_HINT  # not the ROI text in block mode
    nets = review_stats.networks
    best = nets.iloc[int(np.argmin(nets.q))]
    names = list(view.data.names)
    i, j = names.index(best.network_a), names.index(best.network_b)
    text = view.describe(int(np.flatnonzero(view.order == i)[0]),
                         int(np.flatnonzero(view.order == j)[0]))
    assert "(network blocks)" in text
    assert text.endswith(f"p {format_p(best.p)}   q {format_p(best.q)}")
