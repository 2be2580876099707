"""The "out of date" banner: the Analysis menu asks for other settings than the view shows.

Choosing an atlas or a denoising option does not recompute by itself (a
recompute takes seconds to minutes, and one often changes two options in a
row).  Instead, as soon as the menu differs from what the shown results were
computed with, a banner above the views says so, names each difference, and
offers *Recompute* and *Keep shown settings* (puts the menu back); the
header then reads "Results shown were computed with: …".
"""

from __future__ import annotations

from PyQt6.QtCore import QObject
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QMenu, QPushButton, QWidget

from core.settings import AnalysisSettings

__all__ = ["StaleSettingsBanner", "describe", "settings_changes"]

STYLE = "background:#dbe9ff; color:#0b2d5c; border:1px solid #7ea6e0;"
SHOWN_PREFIX = "<span style='color:#555'>Results shown were computed with:</span> "


def describe(settings: AnalysisSettings, strategy: str | None = None) -> dict[str, str]:
    """Return what the Analysis menu sets, in words, by item (atlas, denoising, GSR, ...).

    ``strategy``: what an automatic denoising strategy resolved to, if known.
    """
    from core.atlas.atlases import list_atlases

    titles = {info.name: info.title for info in list_atlases()}
    d = settings.denoise
    band = "off" if d.band_pass is None else f"{d.band_pass[0]:g}–{d.band_pass[1]:g} Hz"
    return {"atlas": titles.get(settings.atlas, str(settings.atlas)),
            "denoising": d.strategy or strategy or "automatic",
            "global signal regression": "on" if d.gsr else "off",
            "band-pass": band,
            "linear detrending": "on" if d.detrend else "off"}


def settings_changes(shown: AnalysisSettings, wanted: AnalysisSettings,
                     shown_strategy: str | None = None) -> list[str]:
    """Each menu item that differs, as "item new (shown: old)"; empty when none.

    ``shown_strategy`` is what the shown results' automatic strategy resolved
    to: asking for it by name, or for "automatic" again, changes nothing.
    """
    old = describe(shown, shown_strategy)
    new = describe(wanted, old["denoising"] if wanted.denoise.strategy is None else None)
    return [f"{key} {new[key]} (shown: {old[key]})" for key in new if new[key] != old[key]]


class StaleSettingsBanner(QObject):
    """Watch the Analysis menu of a MainWindow; show a banner while the view is out of date."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.widget = QWidget()
        self.widget.setObjectName("staleBanner")
        self.widget.setStyleSheet(f"#staleBanner {{{STYLE}}}")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.recompute = QPushButton("Recompute")
        self.recompute.setToolTip("Run the analysis again with the Analysis menu's settings "
                                  "(Ctrl+R); it can be cancelled")
        self.revert = QPushButton("Keep shown settings")
        self.revert.setToolTip("Put the Analysis menu back to what the shown results used")
        row = QHBoxLayout(self.widget)
        row.setContentsMargins(6, 3, 6, 3)
        row.addWidget(self.label, 1)
        row.addWidget(self.recompute)
        row.addWidget(self.revert)
        self.widget.hide()
        page = window.splitter.parentWidget().layout()
        page.insertWidget(page.indexOf(window.splitter), self.widget)
        actions = window.actions_
        # the controller directly: the menu action also waits for background seed preparation,
        # which a recompute replaces anyway
        self.recompute.clicked.connect(
            lambda: window.controller.recompute(window.actions_.settings()))
        self.revert.clicked.connect(self.revert_menu)
        for action in _menu_actions(window, actions.recompute):
            if action.isCheckable():
                action.toggled.connect(lambda _on: self.update())
        c = window.controller
        c.comparison_ready.connect(lambda _c: self.update())
        c.busy_changed.connect(lambda _busy: self.update())

    def shown_settings(self) -> AnalysisSettings | None:
        """Return what the results on screen were computed with (as asked for), or None."""
        c = self.window.controller
        if c.comparison is None:
            return None
        return c.requested_settings or c.comparison.settings

    def changes(self) -> list[str]:
        """Return the menu's differences from the shown results (empty when up to date)."""
        shown = self.shown_settings()
        if shown is None:
            return []
        return settings_changes(shown, self.window.actions_.settings(),
                                self.window.controller.comparison.strategy)

    def update(self) -> None:
        """Show, reword or hide the banner, and mark the header, after any change."""
        changes = self.changes()
        busy = self.window.controller.busy
        if changes:
            what = "; ".join(changes)
            self.label.setText(
                f"<b>Recomputing</b> with {what}… (Cancel in the status bar)" if busy else
                f"<b>The view is out of date:</b> the Analysis menu now asks for {what}. "
                "Matrices, maps and statistics show the previous results until you recompute.")
        self.recompute.setEnabled(not busy)
        self.revert.setEnabled(not busy)
        self.widget.setVisible(bool(changes))
        header = self.window.header
        text = header.text()
        if changes and not text.startswith(SHOWN_PREFIX):
            header.setText(SHOWN_PREFIX + text)
        elif not changes and text.startswith(SHOWN_PREFIX):
            header.setText(text[len(SHOWN_PREFIX):])

    def revert_menu(self) -> None:
        """Check the menu items the shown results were computed with."""
        shown = self.shown_settings()
        if shown is None:
            return
        actions = self.window.actions_
        actions.select(shown.atlas, shown.denoise.strategy or "auto")
        actions.gsr.setChecked(shown.denoise.gsr)
        actions.band_pass.setChecked(shown.denoise.band_pass is not None)
        detrend = getattr(actions, "detrend", None)
        if detrend is not None:
            detrend.setChecked(shown.denoise.detrend)
        self.update()


def _menu_actions(window, member) -> list:
    """Every action of the menu-bar menu that holds ``member``, submenus included."""
    for top in window.menuBar().actions():
        menu = top.menu()
        if menu is not None and member in _all_actions(menu):
            return _all_actions(menu)
    return []


def _all_actions(menu: QMenu) -> list:
    found = []
    for action in menu.actions():
        sub = action.menu()
        found.extend(_all_actions(sub) if sub is not None else [action])
    return found
