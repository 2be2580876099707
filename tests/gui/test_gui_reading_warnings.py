"""Warnings that change how results read are shown above the views and in the report."""

from __future__ import annotations

import dataclasses

from core.report.html import report_html

WARNINGS = (
    "pre and post differ in TR (1 s and 2 s): compare with care",
    "post was resampled to the pre grid (linear interpolation)",
    "12 ROIs of Schaefer 100 have no voxel inside the brain mask",
)


def test_banner_lists_the_warnings_and_hides_without_them(window, demo_comparison,
                                                          show_comparison, qtbot):
    banner = window.review.reading_banner
    show_comparison(window, dataclasses.replace(demo_comparison, warnings=WARNINGS))
    qtbot.waitUntil(banner.isVisible, timeout=5000)
    text = banner.text()
    assert "Read with care" in text and WARNINGS[0] in text and WARNINGS[1] in text
    assert "and 1 more" in text and banner.toolTip().splitlines() == list(WARNINGS)
    show_comparison(window, dataclasses.replace(demo_comparison, warnings=()))
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=5000)


def test_report_puts_every_warning_first(demo_review):
    from core.report.content import report_content

    state = dataclasses.replace(
        demo_review, comparison=dataclasses.replace(demo_review.comparison, warnings=WARNINGS))
    html = report_html(report_content(state))
    assert "Read these results with care" in html
    first = html.index("Read these results with care")
    assert first < html.index("Sessions and parameters")
    for warning in WARNINGS:
        assert html.index(warning.split(":")[0]) > first
