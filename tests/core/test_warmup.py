"""The background imports wait with what the first view does not need while a patient opens."""

from __future__ import annotations

import time

from core import warmup


def test_later_imports_wait_while_a_patient_opens(monkeypatch):
    imported: list[tuple[str, ...]] = []
    monkeypatch.setattr(warmup, "_import", imported.append)
    monkeypatch.setattr("core.atlas.templates.preload_templates", lambda: None)
    warmup.hold_later_imports()
    try:
        thread = warmup.warm_up_in_background()
        time.sleep(0.3)
        assert imported == [warmup.FIRST_VIEW_MODULES], "only the first view's modules"
    finally:
        warmup.release_later_imports()
    thread.join(timeout=10)
    assert imported == [warmup.FIRST_VIEW_MODULES, warmup.LATER_MODULES]
    assert set(warmup.HEAVY_MODULES) >= {"nilearn.signal", "core.pipeline", "core.review"}
