"""The slice tools of the review window: Go to, crosshair, fit, colour maps, slider values.

``install_slice_tools(window, page)`` wires the controls that
:class:`gui.window_pages.ReviewPage` lays out above the slices, adds their
View-menu actions (Ctrl+G: Go to) and Help → Keyboard shortcuts.  Like the
other display widgets, the colour-map choices write to the controller's
display options; the slice grid renders them.
"""

from __future__ import annotations

from PyQt6.QtCore import QObject, QStringListModel, Qt
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QCompleter, QMenu

from core.display_text import format_number, roi_display_name
from gui.go_to import GoToResult, go_to
from gui.shortcuts import show_shortcuts

__all__ = ["SliceTools", "install_slice_tools", "threshold_text"]

_BAD_INPUT = "QLineEdit { border: 1px solid #c00; }"
POSITIVE_NOTE = "Colour map of Pre and Post for maps of positive values (ROI strength)"
SIGNED_NOTE = ("This map is signed (negative and positive z): Pre, Post and Δ use the "
               "'signed & Δ' colour map; 'Colour map' applies to positive maps (ROI strength)")


def threshold_text(cuts: tuple[float, float], signed: bool, unit: str = "z") -> str:
    """Say which values the threshold keeps, in the map's unit.

    Parameters
    ----------
    cuts : (float, float)
        Smallest Pre/Post value (magnitude when ``signed``) and smallest |Δ| shown.
    signed : bool
    unit : str

    Returns
    -------
    str
        E.g. ``"z ≥ 0.036 · |Δz| ≥ 0.016"``.
    """
    shown = f"|{unit}|" if signed else unit
    return (f"{shown} ≥ {format_number(cuts[0], '.3f')} · "
            f"|Δ{unit}| ≥ {format_number(cuts[1], '.3f')}")


class SliceTools(QObject):
    """The wiring of the slice tools; ``go(text)`` is the Go-to box's action."""

    def __init__(self, window, page) -> None:
        super().__init__(window)
        self.window, self.page = window, page
        slices, c = window.slices, window.controller
        self.names: list[str] = []
        self.coords = None
        self.completions = QStringListModel(self)
        completer = QCompleter(self.completions, page.go_to)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.activated.connect(self.go)
        page.go_to.setCompleter(completer)
        page.go_to.returnPressed.connect(lambda: self.go(page.go_to.text()))
        page.go_to.textEdited.connect(lambda _text: page.go_to.setStyleSheet(""))
        page.crosshair.toggled.connect(slices.set_crosshair_visible)
        slices.crosshair_toggled.connect(self._on_crosshair_toggled)
        page.fit_button.clicked.connect(lambda: slices.reset_zoom())
        page.diverging.currentIndexChanged.connect(
            lambda _i: c.set_display(diverging=page.diverging.currentData()))
        c.display_changed.connect(self._on_display_changed)
        c.comparison_ready.connect(self._on_comparison_ready)
        slices.style_applied.connect(self.update_values)
        self._add_actions()
        self.update_values()

    def _add_actions(self) -> None:
        w = self.window
        menus = {a.text().replace("&", ""): a.menu() for a in w.menuBar().actions()}
        self.go_to_action = QAction("Go to coordinate or ROI…", w)
        self.go_to_action.setShortcut(QKeySequence("Ctrl+G"))
        self.go_to_action.triggered.connect(self.focus_go_to)
        self.crosshair_action = QAction("Crosshair", w, checkable=True, checked=True)
        self.crosshair_action.toggled.connect(self.page.crosshair.setChecked)
        self.fit_action = QAction("Fit slices (reset zoom)", w)
        self.fit_action.triggered.connect(lambda: w.slices.reset_zoom())
        self.shortcuts_action = QAction("Keyboard shortcuts and mouse…", w)
        self.shortcuts_action.setShortcut(QKeySequence("Ctrl+/"))
        self.shortcuts_action.triggered.connect(lambda: show_shortcuts(w))
        view, help_menu = menus.get("View"), menus.get("Help")
        if isinstance(view, QMenu):
            view.addSeparator()
            for action in (self.go_to_action, self.crosshair_action, self.fit_action):
                view.addAction(action)
        if isinstance(help_menu, QMenu):
            help_menu.insertAction(help_menu.actions()[0] if help_menu.actions() else None,
                                   self.shortcuts_action)

    # ------------------------------------------------------------------ go to
    def focus_go_to(self) -> None:
        """Put the keyboard in the Go-to box (Ctrl+G)."""
        self.page.go_to.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.page.go_to.selectAll()

    def go(self, text: str) -> GoToResult:
        """Move the cursor to an MNI coordinate or an ROI's centre; say what was found."""
        result = go_to(text, self.names, self.coords)
        bar = self.window.statusBar()
        if result.xyz_mm is None:
            self.page.go_to.setStyleSheet(_BAD_INPUT)
            bar.showMessage(f"Go to: {result.message}", 8000)
            return result
        self.page.go_to.setStyleSheet("")
        self.window.cursor.set_position(result.xyz_mm)
        bar.showMessage(f"Cursor at {result.message}", 8000)
        return result

    def _on_comparison_ready(self, comparison) -> None:
        rois = comparison.rois
        self.names = list(rois.names)
        self.coords = rois.coords_mm
        self.completions.setStringList([roi_display_name(n) for n in self.names])

    # ------------------------------------------------------------------ display
    def _on_crosshair_toggled(self, on: bool) -> None:
        for widget in (self.page.crosshair, self.crosshair_action):
            if widget.isChecked() != on:
                widget.setChecked(on)

    def _on_display_changed(self, display) -> None:
        combo = self.page.diverging
        index = combo.findData(display.diverging)
        if index >= 0 and index != combo.currentIndex():
            combo.blockSignals(True)
            combo.setCurrentIndex(index)
            combo.blockSignals(False)

    def update_values(self) -> None:
        """Show the threshold and opacity next to their sliders, in the map's units."""
        slices, page = self.window.slices, self.page
        style = slices.style_
        page.opacity_value.setText(f"{round(style.opacity * 100)} %")
        data = slices.data
        signed = data is not None and data.signed
        # "Colour map" colours positive maps only: say so where it does not apply
        page.colormap.setEnabled(not signed)
        page.colormap.setToolTip(SIGNED_NOTE if signed else POSITIVE_NOTE)
        if data is None:
            page.threshold_value.setText(f"{round(style.threshold * 100)} % of scale")
            return
        page.threshold_value.setText(threshold_text(slices.threshold_cuts(), data.signed,
                                                    data.unit or "z"))
        page.threshold_value.setToolTip(
            f"{round(style.threshold * 100)} % of each colour scale: Pre and Post values "
            f"{'whose magnitude is ' if data.signed else ''}below the first number, and Δ "
            "values whose magnitude is below the second, are not drawn")


def install_slice_tools(window, page) -> SliceTools:
    """Wire the slice tools of a MainWindow's review page; return them."""
    return SliceTools(window, page)
