"""Mouse and keys of the slice panes: cursor, zoom, pan, and the help that lists them.

The mouse, as in FSLeyes or MRIcroGL: left click or drag moves the cursor
(Ctrl: and seeds there); the wheel zooms about the pointer; the middle
button, or Shift with the left button, drags the view; a double click fits
the slice again.  The right button keeps the views' "Export view" menu.
Panes of one orientation share their zoom and pan (pyqtgraph
``setXLink``/``setYLink``).

The keys act only while the slice views have the keyboard focus (click a
pane first), so they never take a key from another widget.  They are one
table, :data:`SLICE_KEYS`, which both the key handler and the help read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyqtgraph as pg
from PyQt6.QtCore import Qt, pyqtSignal

__all__ = ["MOUSE_HELP", "SLICE_KEYS", "KeyBinding", "SliceViewBox", "link_panes"]

ZOOM_STEP = 1.25  # one key press zooms in or out by this factor
MIN_RANGE_MM = 12.0  # the closest zoom shows 12 mm across


@dataclass(frozen=True)
class KeyBinding:
    """Keys of the slice views, the action they trigger and how the help names them.

    Attributes
    ----------
    keys : tuple of Qt.Key
    label : str
        How the keys are written in the help (e.g. ``"← → ↑ ↓"``).
    action : str
        Name of the :class:`gui.slice_view.SliceGrid` method called with the key.
    help : str
    """

    keys: tuple[Qt.Key, ...]
    label: str
    action: str
    help: str


K = Qt.Key
#: The slice views' keys (active while they have the focus).
SLICE_KEYS = (
    KeyBinding((K.Key_Left, K.Key_Right, K.Key_Up, K.Key_Down), "← → ↑ ↓", "key_move",
               "move the cursor one voxel in the last clicked pane"),
    KeyBinding((K.Key_PageUp, K.Key_PageDown), "Page Up / Page Down", "key_move",
               "next / previous slice of the last clicked pane"),
    KeyBinding((K.Key_Plus, K.Key_Equal, K.Key_Minus), "+ / −", "key_zoom",
               "zoom in / out about the cursor (all panes of that orientation)"),
    KeyBinding((K.Key_0, K.Key_R), "0 or R", "key_reset", "fit every slice again (reset zoom)"),
    KeyBinding((K.Key_C,), "C", "key_crosshair", "show or hide the crosshair"),
)

#: The slice views' mouse gestures, for the help.
MOUSE_HELP = (
    ("Click or drag", "move the cursor there"),
    ("Ctrl + click", "seed a seed map there"),
    ("Wheel", "zoom in or out about the pointer"),
    ("Middle drag, or Shift + drag", "pan"),
    ("Right click", "export the view as PNG or SVG"),
    ("Double click", "fit the slices of that orientation again (reset zoom)"),
)


class SliceViewBox(pg.ViewBox):
    """ViewBox of one pane: the left button moves the cursor, the middle one pans.

    With Ctrl held, ``seed_clicked`` follows ``clicked``.  The wheel zooms
    (pyqtgraph's own wheel zoom, about the pointer).

    Signals
    -------
    clicked(float, float)
        Left click or drag at this point (view mm).
    seed_clicked(float, float)
        The same with Ctrl held.
    reset_requested()
        Double click: fit the slice again.
    """

    clicked = pyqtSignal(float, float)
    seed_clicked = pyqtSignal(float, float)
    reset_requested = pyqtSignal()

    def _emit(self, ev) -> None:
        p = self.mapSceneToView(ev.scenePos())
        self.clicked.emit(p.x(), p.y())
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.seed_clicked.emit(p.x(), p.y())

    @staticmethod
    def _pans(ev) -> bool:
        """Return True for the drags that pan: middle button, or Shift + left button."""
        button = ev.button()
        shift = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        return button == Qt.MouseButton.MiddleButton or (
            button == Qt.MouseButton.LeftButton and shift)

    def mouseClickEvent(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            super().mouseClickEvent(ev)
            return
        if ev.double():
            self.reset_requested.emit()
        else:
            self._emit(ev)
        ev.accept()

    def mouseDragEvent(self, ev, axis=None) -> None:
        if self._pans(ev):
            ev.accept()
            delta = self.mapToView(ev.pos()) - self.mapToView(ev.lastPos())
            self.translateBy(x=-delta.x(), y=-delta.y())
            self.sigRangeChangedManually.emit(self.state["mouseEnabled"])
        elif ev.button() == Qt.MouseButton.LeftButton:
            self._emit(ev)
            ev.accept()
        else:
            ev.ignore()


def link_panes(panes: Iterable) -> None:
    """Share zoom and pan between panes (of one orientation): the first leads."""
    first, *others = list(panes)
    for pane in others:
        pane.view_box.setXLink(first.view_box)
        pane.view_box.setYLink(first.view_box)
