"""Window shortcuts on plain keys never steal a key from the widget that has focus.

Qt triggers a window's shortcut (Home: centre the cursor on the PCC) before the
focused widget sees the key, unless that widget claims it through a
``ShortcutOverride`` event, which sliders, spin boxes and tables do not do for
keys such as Home, End or the arrows.  The override event travels from the
focused widget up to the window; :class:`FocusedWidgetKeys`, an event filter on
the window, claims every key without Ctrl, Alt or Meta there when the focused
widget is one that uses keys itself.  Shortcuts with Ctrl keep working
everywhere, and plain-key shortcuts still work when the slices, the matrices or
nothing in particular has focus.
"""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject, Qt
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
)

__all__ = ["KEY_WIDGETS", "FocusedWidgetKeys"]

#: Widgets that use plain keys themselves (Home, End, arrows, letters).
KEY_WIDGETS = (QAbstractSlider, QAbstractSpinBox, QAbstractItemView, QComboBox, QLineEdit,
               QTextEdit, QPlainTextEdit)
_COMMAND_MODIFIERS = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
                      | Qt.KeyboardModifier.MetaModifier)


class FocusedWidgetKeys(QObject):
    """Event filter for a window: plain keys go to a focused slider, spin box, table..."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.ShortcutOverride:
            return False
        if event.modifiers() & _COMMAND_MODIFIERS:
            return False
        if isinstance(QApplication.focusWidget(), KEY_WIDGETS):
            event.accept()  # the focused widget gets the key press, the shortcut does not fire
            return True
        return False
