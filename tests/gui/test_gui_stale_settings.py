"""Choosing another atlas or denoising option says plainly that the view is out of date."""

from __future__ import annotations

from core.settings import AnalysisSettings, DenoiseSettings
from gui.settings_banner import SHOWN_PREFIX, settings_changes


def test_settings_changes_names_each_difference_with_what_is_shown():
    shown = AnalysisSettings()
    assert settings_changes(shown, AnalysisSettings(), "simple") == []
    # asking by name for what "automatic" resolved to changes nothing
    assert settings_changes(shown, AnalysisSettings(denoise=DenoiseSettings("simple")),
                            "simple") == []
    changes = settings_changes(shown, AnalysisSettings(
        atlas="schaefer400", denoise=DenoiseSettings("compcor", band_pass=None)), "simple")
    assert len(changes) == 3, changes
    assert changes[0].startswith("atlas Schaefer 2018, 400") and "(shown: Schaefer 2018, 100" \
        in changes[0]
    assert "denoising compcor (shown: simple)" in changes
    assert "band-pass off (shown: 0.01–0.1 Hz)" in changes


def test_banner_appears_with_the_menu_change_and_keep_puts_the_menu_back(
        qtbot, window, demo_comparison, show_comparison, monkeypatch):
    show_comparison(window, demo_comparison)
    banner = window.stale_banner
    assert not banner.widget.isVisibleTo(window)
    assert not window.header.text().startswith(SHOWN_PREFIX)
    window.actions_.atlases["schaefer400"].trigger()
    assert banner.widget.isVisibleTo(window)
    assert "out of date" in banner.label.text() and "400 parcels" in banner.label.text()
    assert window.header.text().startswith(SHOWN_PREFIX)  # the header names the old atlas
    assert "100 parcels" in window.header.text()          # as what was shown, not current
    qtbot.mouseClick(banner.revert, qtbot_button())
    assert window.actions_.atlases["schaefer100"].isChecked()
    assert not banner.widget.isVisibleTo(window)
    assert not window.header.text().startswith(SHOWN_PREFIX)

    asked = []
    monkeypatch.setattr(window.controller, "recompute", lambda settings: asked.append(settings))
    window.actions_.strategies["compcor"].trigger()
    qtbot.mouseClick(banner.recompute, qtbot_button())
    assert [s.denoise.strategy for s in asked] == ["compcor"]


def test_recompute_from_the_banner_brings_the_view_up_to_date(qtbot, window):
    with qtbot.waitSignal(window.controller.comparison_ready, timeout=120000):
        window.open_demo()
    banner = window.stale_banner
    window.actions_.strategies["none"].trigger()
    window.actions_.band_pass.setChecked(False)
    assert banner.widget.isVisibleTo(window)
    assert "denoising none (shown: simple)" in banner.label.text()
    qtbot.waitUntil(banner.recompute.isEnabled, timeout=30000)  # the opening job has ended
    with qtbot.waitSignal(window.controller.comparison_ready, timeout=120000):
        banner.recompute.click()
        assert "Recomputing" in banner.label.text() and not banner.recompute.isEnabled()
    assert not banner.widget.isVisibleTo(window)
    assert "denoising <i>none</i>" in window.header.text()
    assert not window.header.text().startswith(SHOWN_PREFIX)
    assert window.comparison.settings.denoise.band_pass is None


def qtbot_button():
    from PyQt6.QtCore import Qt

    return Qt.MouseButton.LeftButton
