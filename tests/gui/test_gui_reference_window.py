"""The window judged against a real reference file: menu action, verdict, matrix units."""

from __future__ import annotations

import dataclasses


def test_reference_verdict_in_the_window(qtbot, window, demo_comparison, show_comparison,
                                         demo_reference):
    review = window.review
    with qtbot.waitSignal(review.stats_controller.stats_ready, timeout=60000):
        show_comparison(window, demo_comparison)
    assert review.stats_controller.stats.reference is None
    assert not window.actions_.delta_reference_sd.isEnabled()
    with qtbot.waitSignal(review.stats_controller.stats_ready, timeout=60000):
        window.set_reference(str(demo_reference))
    stats = window.controller.state.statistics
    assert stats.reference is not None and stats.reference["n_pairs"] == 8
    assert {"t_ref", "p_ref", "q_ref", "ref_sd"} <= set(stats.networks.columns)
    # the injected network changes stand out against the reference, nothing else does
    beyond = stats.networks[stats.networks["q_ref"] < 0.05]
    pairs = {frozenset((a, b)) for a, b in zip(beyond.network_a, beyond.network_b,
                                                strict=True)}
    assert pairs == {frozenset(("Default", "Limbic")), frozenset(("Default", "Cont"))}
    assert "8 untreated pairs" in review.stats_panel.verdict_note.text()
    assert window.actions_.delta_reference_sd.isEnabled()
    window.controller.set_display(verdict="reference")
    assert review.stats_panel.verdict.currentData() == "reference"
    assert review.forest.rows["significant"].sum() == 2
    window.actions_.delta_reference_sd.setChecked(True)
    assert window.matrices.data.in_sd
    with qtbot.waitSignal(review.stats_controller.stats_ready, timeout=60000):
        window.set_reference(None)
    assert window.controller.state.statistics.reference is None
    assert not window.matrices.data.in_sd  # back to Fisher z without a reference


def test_mismatched_reference_is_refused_with_one_line(qtbot, window, demo_comparison,
                                                      show_comparison, demo_review, tmp_path):
    from core.io.reference_file import build_reference
    from core.reference_verdict import pair_from_review
    from core.report.analysis_files import software_versions

    base = pair_from_review(demo_review)
    other = {**base.analysis, "atlas": "schaefer400"}
    pairs = [dataclasses.replace(base, subject=f"r{k}", analysis=other) for k in range(4)]
    path = build_reference(pairs, tmp_path / "reference.zip", software_versions())
    with qtbot.waitSignal(window.review.stats_controller.stats_ready, timeout=60000):
        show_comparison(window, demo_comparison)
    with qtbot.waitSignal(window.error_shown, timeout=60000):
        window.set_reference(str(path))
    assert "reference" in window.last_error and "schaefer400" in window.last_error
    assert "\n" not in window.last_error
    assert window.controller.state.statistics.reference is None
