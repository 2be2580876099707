"""The demo patient in the window is judged against its own synthetic reference."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_demo_opens_with_its_reference_verdict(qtbot, window, monkeypatch):
    from core.demo_reference import ensure_demo_reference

    ensure_demo_reference()  # cached by tests/core/test_demo_reference.py in a full run
    monkeypatch.delenv("PREPOST_NO_DEMO_REFERENCE", raising=False)
    c = window.controller
    with qtbot.waitSignal(c.demo_reference_ready, timeout=180000):
        window.open_demo()
    qtbot.waitUntil(lambda: c.state is not None and c.state.statistics is not None
                    and c.state.statistics.reference is not None, timeout=120000)
    networks = c.state.statistics.networks
    beyond = networks[networks["q_ref"] < 0.05]
    assert {frozenset(p) for p in zip(beyond.network_a, beyond.network_b, strict=True)} == {
        frozenset(("Default", "Limbic")), frozenset(("Default", "Cont"))}
    assert "10 untreated pairs" in window.review.stats_panel.verdict_note.text()
    # a real patient opened later is not judged against the demo's reference
    assert c.reference_for(c.state.inputs) == c.demo_reference
    assert c.reference_path is None
