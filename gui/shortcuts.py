"""Help → Keyboard shortcuts: the list is read from the shortcuts themselves, so it cannot drift.

Three sources, each the definition the window really uses: every ``QAction``
and ``QShortcut`` of the window with a key sequence (its menu names the
section), the slice views' key table :data:`gui.slice_navigation.SLICE_KEYS`
(the one their key handler dispatches on) and their mouse gestures.
"""

from __future__ import annotations

import html

from PyQt6.QtGui import QAction, QKeySequence, QShortcut
from PyQt6.QtWidgets import QDialog, QDialogButtonBox, QMenu, QTextBrowser, QVBoxLayout, QWidget

from gui.slice_navigation import MOUSE_HELP, SLICE_KEYS

__all__ = ["ShortcutRow", "shortcut_rows", "shortcuts_html", "show_shortcuts"]

ShortcutRow = tuple[str, str, str]  # (section, keys, what they do)
SLICE_SECTION = "Slice views (click a pane first; keys act only there)"
MOUSE_SECTION = "Mouse in the slice views"


def _keys(sequences: list[QKeySequence]) -> str:
    return " or ".join(s.toString(QKeySequence.SequenceFormat.NativeText)
                       for s in sequences if not s.isEmpty())


def _section(action: QAction) -> str:
    menus = [o for o in action.associatedObjects() if isinstance(o, QMenu)]
    titles = [m.title().replace("&", "") for m in menus if m.title()]
    return f"{titles[0]} menu" if titles else "Window"


def _menu_bar_actions(window: QWidget) -> list[QAction]:
    bar = getattr(window, "menuBar", None)
    return list(bar().actions()) if callable(bar) else []


def shortcut_rows(window: QWidget) -> list[ShortcutRow]:
    """Return every shortcut of the window as (section, keys, what it does), in menu order."""
    rows: list[ShortcutRow] = []
    for action in window.findChildren(QAction):
        keys = _keys(action.shortcuts())
        if keys:  # disabled ones too (exports before a patient is open)
            text = action.text().replace("&", "").rstrip("…").strip()
            rows.append((_section(action), keys, text or action.toolTip()))
    for shortcut in window.findChildren(QShortcut):
        keys = _keys([shortcut.key()])
        if keys and shortcut.isEnabled():
            rows.append(("Window", keys, shortcut.whatsThis() or "(no description)"))
    # by menu, in the menu bar's order (then the window's own); stable within a menu
    order = [f"{a.text().replace('&', '')} menu" for a in _menu_bar_actions(window)]
    rows.sort(key=lambda r: order.index(r[0]) if r[0] in order else len(order))
    rows += [(SLICE_SECTION, b.label, b.help) for b in SLICE_KEYS]
    rows += [(MOUSE_SECTION, gesture, what) for gesture, what in MOUSE_HELP]
    return rows


def shortcuts_html(rows: list[ShortcutRow]) -> str:
    """Return the rows as HTML tables, one per section."""
    parts: list[str] = []
    section = None
    for name, keys, what in rows:
        if name != section:
            if section is not None:
                parts.append("</table>")
            parts.append(f"<h4>{html.escape(name)}</h4><table cellspacing='0' cellpadding='3'>")
            section = name
        parts.append(f"<tr><td width='190'><b>{html.escape(keys)}</b></td>"
                     f"<td>{html.escape(what)}</td></tr>")
    if section is not None:
        parts.append("</table>")
    return "".join(parts)


def show_shortcuts(window: QWidget) -> QDialog:
    """Open a (non-modal) dialog listing the window's shortcuts; return it."""
    dialog = QDialog(window)
    dialog.setWindowTitle("Keyboard shortcuts and mouse")
    browser = QTextBrowser()
    browser.setHtml(shortcuts_html(shortcut_rows(window)))
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.close)
    layout = QVBoxLayout(dialog)
    layout.addWidget(browser)
    layout.addWidget(buttons)
    dialog.resize(600, 560)
    dialog.open()
    return dialog
