"""QC tab and motion banner (offscreen): filled from the demo, banner follows core's warning."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from gui.qc_panel import MEASURES, QcPanel, _fmt


def _more_motion_post(comparison):
    """A copy of the comparison whose post session moved 0.3 mm more per volume."""
    pre, post = comparison.qc
    moved = dataclasses.replace(post, fd=post.fd + 0.3)
    return dataclasses.replace(comparison, qc=(pre, moved))


def test_qc_table_equals_core(review_stats, demo_comparison):
    from core.qc import qc_fc, qc_table

    pre, post = demo_comparison.qc
    expected = qc_table(pre, post, qc_fc(demo_comparison, pre, post))
    pd.testing.assert_frame_equal(review_stats.qc_table, expected)


def test_qc_panel_fills_from_demo(qtbot, review_stats):
    panel = QcPanel()
    qtbot.addWidget(panel)
    panel.set_stats(review_stats)
    table = review_stats.qc_table
    assert panel.table.rowCount() == len(table)
    for row, rec in enumerate(table.itertuples(index=False)):
        assert panel.table.item(row, 0).text() == MEASURES[rec.measure][0]
        for col, value in enumerate((rec.pre, rec.post, rec.difference), start=1):
            assert panel.table.item(row, col).text() == _fmt(rec.measure, value)
    qc_pre = review_stats.qc_pre
    for plots in (panel.fd_plots, panel.dvars_plots):
        for plot in plots:
            (curve,) = plot.listDataItems()
            x, y = curve.getData()
            assert x.size == qc_pre.n_volumes and np.nanmax(y) > 0
    fd_line = [i for i in panel.fd_plots[0].items if i.__class__.__name__ == "InfiniteLine"]
    assert fd_line and fd_line[0].value() == pytest.approx(0.5)
    for image, qc in zip(panel.carpets, (review_stats.qc_pre, review_stats.qc_post),
                         strict=True):
        assert image.image.shape == qc.carpet.data.shape
    ticks = panel.carpet_plots[0].getAxis("left")._tickLevels[0]
    assert [name for _, name in ticks] == list(qc_pre.carpet.groups)
    assert panel.qcfc_scatter.points().size == review_stats.distance.size > 100
    assert "distance" in panel.qcfc_label.text() and "FD" in panel.qcfc_label.text()
    assert not panel.empty_label.isVisible()


def test_scrubbed_volumes_are_shaded(qtbot, review_stats):
    pre = review_stats.qc_pre
    scrubbed = np.zeros(pre.n_volumes, dtype=bool)
    scrubbed[[10, 11, 50]] = True
    stats = dataclasses.replace(review_stats, qc_pre=dataclasses.replace(pre,
                                                                          scrubbed=scrubbed))
    panel = QcPanel()
    qtbot.addWidget(panel)
    panel.set_stats(stats)
    bars = [i for i in panel.fd_plots[0].items if i.__class__.__name__ == "BarGraphItem"]
    assert len(bars) == 1 and list(bars[0].opts["x"]) == [10, 11, 50]
    assert "3 scrubbed" in panel.fd_plots[0].titleLabel.text


def test_motion_banner_follows_core_warning(qtbot, window, demo_comparison, show_comparison):
    from core.qc import motion_warning

    review = window.review
    assert motion_warning(*demo_comparison.qc) is None
    with qtbot.waitSignal(review.stats_controller.stats_ready, timeout=30000):
        show_comparison(window, demo_comparison)
    assert not review.motion_banner.isVisible()
    assert review.qc_panel.table.rowCount() > 0

    moved = _more_motion_post(demo_comparison)
    warning = motion_warning(*moved.qc)
    assert warning is not None
    with qtbot.waitSignal(review.stats_controller.stats_ready, timeout=30000):
        show_comparison(window, moved)
    assert review.motion_banner.isVisible()
    assert warning in review.motion_banner.text()
    for tab in range(window.tabs.count()):  # above the views: visible on every tab
        window.tabs.setCurrentIndex(tab)
        assert review.motion_banner.isVisible()
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert {"Quality control", "Statistics"} <= set(titles)

    with qtbot.waitSignal(review.stats_controller.stats_ready, timeout=30000):
        show_comparison(window, demo_comparison)
    assert not review.motion_banner.isVisible()


def test_fd_titles_count_volumes_over_the_threshold_and_say_who_scrubs(qtbot, review_stats):
    panel = QcPanel()
    qtbot.addWidget(panel)
    panel.set_stats(review_stats, "simple")
    for plot, qc in zip(panel.fd_plots, (review_stats.qc_pre, review_stats.qc_post),
                        strict=True):
        over = int(np.sum(qc.fd[np.isfinite(qc.fd)] > 0.5))
        assert over > 0  # the demo has a few jerks
        assert f"{over} over 0.5 mm · 0 scrubbed" in plot.titleLabel.text
    note = panel.scrub_note.text()
    assert "Only the 'scrubbing' denoising strategy leaves them out" in note
    assert "used 'simple': every volume was kept" in note
    panel.set_stats(review_stats, "scrubbing")
    assert "used 'scrubbing'." in panel.scrub_note.text()
