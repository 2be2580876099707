"""First run: the "No patient open" page shows the demo being generated, with real progress."""

from __future__ import annotations


def test_first_run_shows_demo_generation_progress_on_the_empty_page(qtbot, window, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setenv("PREPOST_CACHE_DIR", str(tmp_path / "fresh-cache"))  # no demo yet
    page = window.empty_page
    seen: list[tuple[int, str, bool]] = []

    def record(percent: int, message: str) -> None:
        seen.append((page.progress.value(), page.activity.text(),
                     window.stack.currentWidget() is page and page.progress.isVisible()))

    window.controller.progress_changed.connect(record)
    with qtbot.waitSignal(window.controller.comparison_ready, timeout=180000):
        window.open_demo()
    generating = [(value, text) for value, text, shown in seen
                  if shown and text.startswith("First run: generating the demo patient")]
    assert generating, seen
    values = [value for value, _ in generating]
    assert values == sorted(values) and values[-1] >= 90  # it moves, and reaches the end
    assert {"simulating ses-pre", "writing ses-post"} <= {
        text.split("(")[-1].rstrip(")") for _, text in generating}
    # the page then follows the analysis itself, and hides its progress when done
    assert any(shown and not text.startswith("First run") for _, text, shown in seen)
    assert window.stack.currentIndex() == 1
    qtbot.waitUntil(lambda: not page.progress.isVisible())
