"""Table columns fit every value (not Qt's first 200 rows); one number format per kind."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gui.stats_panel import EDGE_COLUMNS, StatsPanel, cell_text
from gui.table_widths import column_texts


def test_cell_text_formats_p_q_counts_and_changes_one_way():
    assert cell_text("q", 8.7e-4) == "8.70e-04"
    assert cell_text("q", 0.00115) == "0.00115"
    assert cell_text("p_ref", 0.5) == "0.500"
    assert cell_text("delta_z", -0.0001) == "+0.000"  # never "-0.000"
    assert cell_text("delta_z", -0.25) == "-0.250"
    assert cell_text("n_edges", 120.0) == "120"
    assert cell_text("roi_a", "7Networks_LH_Default_PFC_1") == "LH_Default_PFC_1"
    assert cell_text("q", np.nan) == ""


def test_column_texts_cover_every_distinct_name_and_the_numeric_extremes():
    names = pd.Series(["Cont"] * 500 + ["Default"])
    assert column_texts(names, "network_a", cell_text) == {"Cont", "Default"}
    numbers = pd.Series([0.5, -1.25, 3e-5, -0.2, np.nan])
    assert column_texts(numbers, "delta_z", cell_text) == {"+0.500", "-1.250", "+0.000",
                                                           "-0.200"}
    q = pd.Series([0.5, 0.01, 3e-5, np.nan])
    assert column_texts(q, "q", cell_text) == {"0.500", "3.00e-05"}


def test_edge_table_columns_are_not_cut_by_late_long_names(qtbot, review_stats):
    import dataclasses

    edges = review_stats.edges.copy()
    # the largest changes (first 200 rows by |Z|) all in short-named networks; one late
    # row names a long one: Qt's sampling would cut it ("Defau…")
    edges["network_b"] = "Cont"
    late = edges["stat"].abs().idxmin()
    edges.loc[late, "network_b"] = "DefaultVeryLongNetworkName"
    panel = StatsPanel()
    qtbot.addWidget(panel)
    panel.resize(760, 700)
    panel.show()
    panel.set_stats(dataclasses.replace(review_stats, edges=edges))
    view = panel.edge_view
    metrics = view.fontMetrics()
    keys = [k for k, _ in panel.edge_model.columns]
    for key in ("network_b", "roi_a", "roi_b", "q", "p", "delta_z"):
        col = keys.index(key)
        widest = max(metrics.horizontalAdvance(cell_text(key, v)) for v in edges[key])
        assert view.columnWidth(col) >= widest + 8, key
    assert [k for k, _ in EDGE_COLUMNS][:5] == ["roi_a", "roi_b", "delta_z", "stat", "q"]
