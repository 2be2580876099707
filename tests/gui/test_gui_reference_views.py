"""Reference-of-repeat-scans views: forest plot rows, Δ in reference SD, verdict switch."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from gui.forest_plot import ForestPlot, forest_rows
from gui.matrix_view import MatrixData, in_reference_sd
from gui.stats_panel import StatsPanel


def _with_reference(stats):
    """The demo statistics with made-up reference columns (mean 0.05, SD 0.1 everywhere)."""
    def add(frame, n):
        frame = frame.copy()
        frame["ref_n"], frame["ref_mean"], frame["ref_sd"] = n, 0.05, 0.1
        frame["t_ref"] = (frame["delta_z"] - 0.05) / 0.1
        frame["p_ref"] = np.where(frame["t_ref"].abs() > 3, 0.001, 0.5)
        frame["q_ref"] = np.where(frame["t_ref"].abs() > 3, 0.01, 0.9)
        return frame
    return dataclasses.replace(stats, edges=add(stats.edges, 12), networks=add(stats.networks, 12),
                               reference={"n_pairs": 12, "file": "reference.zip"})


def test_forest_rows_order_intervals_and_normal_range(review_stats):
    nets = review_stats.networks
    rows = forest_rows(nets)
    assert len(rows) == len(nets)
    assert np.all(np.diff(np.abs(rows["delta_z"])) >= 0)  # largest |Δz| drawn on top
    half = rows["high"] - rows["delta_z"]
    assert np.allclose(half, rows["delta_z"] - rows["low"])
    assert np.allclose(np.sort(half), np.sort(1.959964 * nets["se"].to_numpy()))
    assert rows["ref_low"].isna().all()  # no reference: no normal range
    assert rows["significant"].sum() == (nets["q"] < 0.05).sum()
    ref = forest_rows(_with_reference(review_stats).networks, verdict="reference")
    assert np.allclose(ref["ref_high"] - ref["ref_low"], 2 * 1.959964 * 0.1)
    assert ref["significant"].sum() == (_with_reference(review_stats).networks["q_ref"]
                                        < 0.05).sum()


def test_forest_plot_draws_and_clears(qtbot, review_stats):
    plot = ForestPlot()
    qtbot.addWidget(plot)
    plot.set_networks(_with_reference(review_stats).networks, "reference")
    assert len(plot.rows) == len(review_stats.networks)
    labels = [text for _, text in plot.plot.getAxis("left")._tickLevels[0]]
    assert "Limbic – Default" in labels or "Default – Limbic" in labels
    plot.clear()
    assert plot.rows.empty and plot.empty.isVisibleTo(plot)


def test_delta_in_reference_sd_units(demo_comparison, review_stats):
    stats = _with_reference(review_stats)
    roi = in_reference_sd(MatrixData.from_comparison(demo_comparison), stats, blocks=False)
    assert roi.in_sd
    i, j = 3, 17
    assert roi.delta[i, j] == pytest.approx((demo_comparison.delta_z[i, j] - 0.05) / 0.1)
    assert roi.delta[i, j] == roi.delta[j, i]
    blocks = in_reference_sd(MatrixData.from_comparison(demo_comparison, True), stats, True)
    row = stats.networks.iloc[0]
    a, b = blocks.names.index(row.network_a), blocks.names.index(row.network_b)
    assert blocks.delta[a, b] == pytest.approx((row.delta_z - 0.05) / 0.1)
    # without a reference the data stay in Fisher z
    plain = MatrixData.from_comparison(demo_comparison)
    assert in_reference_sd(plain, review_stats, blocks=False) is plain


def test_stats_panel_shows_reference_columns_and_filters_by_verdict(qtbot, review_stats):
    panel = StatsPanel()
    qtbot.addWidget(panel)
    panel.set_stats(review_stats)
    assert "within-scan noise only" in panel.verdict_note.text()
    assert not panel.verdict.isEnabled()
    stats = _with_reference(review_stats)
    panel.set_stats(stats)
    headers = [title for _, title in panel.edge_model.columns]
    assert {"q ref", "p ref", "t ref", "ref SD"} <= set(headers)
    assert "12 untreated pairs" in panel.verdict_note.text()
    panel.significant_only.setChecked(True)
    within = panel.edge_proxy.rowCount()
    assert within == int((stats.edges["q"] < 0.05).sum())
    panel.set_verdict("reference")
    assert panel.edge_proxy.rowCount() == int((stats.edges["q_ref"] < 0.05).sum()) != within
    assert panel.significant_only.text().startswith("q ref")
    frame = pd.DataFrame(stats.edges)
    assert len(frame) == panel.edge_model.rowCount()
