"""The one shared cursor: an MNI position in millimetres that every slice view follows."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal

__all__ = ["CursorModel"]


class CursorModel(QObject):
    """Shared MNI cursor (like FSLeyes' ``DisplayContext.location``).

    Views set the position and listen to ``moved``; they never talk to each other.

    Signals
    -------
    moved(object)
        The new position, a length-3 float ndarray in MNI mm.
    """

    moved = pyqtSignal(object)

    def __init__(self, position=(0.0, -18.0, 18.0), parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._position = np.asarray(position, dtype=float)

    @property
    def position(self) -> np.ndarray:
        """Current MNI position in mm (a copy)."""
        return self._position.copy()

    def set_position(self, xyz) -> None:
        """Move the cursor to ``xyz`` (mm) and emit ``moved`` if it changed."""
        xyz = np.asarray(xyz, dtype=float).ravel()[:3]
        if np.allclose(xyz, self._position):
            return
        self._position = xyz
        self.moved.emit(self.position)

    def set_axis(self, axis: int, value: float) -> None:
        """Set one coordinate (0 = x, 1 = y, 2 = z)."""
        xyz = self.position
        xyz[axis] = value
        self.set_position(xyz)

    def step(self, axis: int, mm: float) -> None:
        """Move along one axis by ``mm``."""
        xyz = self.position
        xyz[axis] += mm
        self.set_position(xyz)
