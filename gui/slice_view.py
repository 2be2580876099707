"""Pre | Post | Δ orthogonal slice views in MNI mm, linked by one CursorModel.

Orientation is neurological: the patient's left is on the left of the screen
(x increases to the right), anterior is up in axial panes, superior is up in
coronal and sagittal panes, and anterior is on the right in sagittal panes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QFont

from gui.cursor import CursorModel
from gui.display_data import SliceData

__all__ = ["PLANES", "OverlayStyle", "SliceGrid", "SlicePane"]

#: plane -> (horizontal axis, vertical axis, fixed axis, edge labels)
PLANES = {
    "axial": (0, 1, 2, ("L", "R")),
    "coronal": (0, 2, 1, ("L", "R")),
    "sagittal": (1, 2, 0, ("P", "A")),
}
_AXIS = "xyz"
COLUMNS = ("Pre", "Post", "Δ post − pre")


@dataclass
class OverlayStyle:
    """How overlays are shown, kept apart from the data (FSLeyes style).

    Attributes
    ----------
    colormap : str
        pyqtgraph colour map for Pre and Post.
    diverging : str
        Colour map for Δ.
    threshold : float
        Hide values whose magnitude is below this fraction (0..1) of the scale.
    opacity : float
        Overlay opacity, 0..1.
    """

    colormap: str = "inferno"
    diverging: str = "CET-D1"
    threshold: float = 0.1
    opacity: float = 0.85


_LUTS: dict[int, tuple[pg.ColorMap, np.ndarray]] = {}


def _lookup_table(cmap: pg.ColorMap) -> np.ndarray:
    """256-entry RGBA table of a colour map, computed once per map."""
    cached = _LUTS.get(id(cmap))
    if cached is None or cached[0] is not cmap:
        cached = (cmap, cmap.getLookupTable(0.0, 1.0, nPts=256, alpha=True, mode="byte"))
        _LUTS[id(cmap)] = cached
    return cached[1]


def overlay_rgba(values: np.ndarray, levels: tuple[float, float], cmap: pg.ColorMap,
                 threshold: float, opacity: float, symmetric: bool) -> np.ndarray:
    """Map a 2D slice to RGBA uint8; NaN and sub-threshold values are transparent."""
    lo, hi = levels
    span = max(hi - lo, 1e-12)
    norm = np.clip((np.nan_to_num(values, nan=lo) - lo) / span, 0.0, 1.0)
    lut = _lookup_table(cmap)
    rgba = lut[np.rint(norm * 255).astype(np.intp)].reshape(*values.shape, 4)
    magnitude = np.abs(values) if symmetric else values - max(lo, 0.0)
    cut = threshold * (max(abs(lo), abs(hi)) if symmetric else span)
    hidden = ~np.isfinite(values) | (np.nan_to_num(magnitude, nan=0.0) < cut)
    rgba[..., 3] = np.where(hidden, 0, round(255 * opacity))
    return rgba


class _CursorViewBox(pg.ViewBox):
    """ViewBox whose left click and drag move the cursor instead of panning.

    With Ctrl held, ``seed_clicked`` follows ``clicked`` (seed maps, issue 4).
    """

    clicked = pyqtSignal(float, float)
    seed_clicked = pyqtSignal(float, float)

    def _emit(self, ev) -> None:
        p = self.mapSceneToView(ev.scenePos())
        self.clicked.emit(p.x(), p.y())
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.seed_clicked.emit(p.x(), p.y())

    def mouseClickEvent(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            self._emit(ev)
            ev.accept()
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            self._emit(ev)
            ev.accept()
        else:
            ev.ignore()


class SlicePane(pg.PlotItem):
    """One orthogonal slice (underlay, overlay, crosshair) of one column."""

    def __init__(self, column: str, plane: str, cursor: CursorModel) -> None:
        self.view_box = _CursorViewBox(lockAspect=True, enableMenu=False)
        super().__init__(viewBox=self.view_box)
        self.column, self.plane, self.cursor = column, plane, cursor
        self.h_axis, self.v_axis, self.fixed_axis, edges = PLANES[plane]
        for name in ("left", "bottom"):
            self.hideAxis(name)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.underlay = pg.ImageItem(axisOrder="col-major")
        self.overlay = pg.ImageItem(axisOrder="col-major")
        self.addItem(self.underlay)
        self.addItem(self.overlay)
        pen = pg.mkPen((0, 255, 120), width=1)
        self.v_line = pg.InfiniteLine(angle=90, movable=False, pen=pen)
        self.h_line = pg.InfiniteLine(angle=0, movable=False, pen=pen)
        self.addItem(self.v_line)
        self.addItem(self.h_line)
        self._edges = [pg.TextItem(text, color=(230, 230, 230), anchor=anchor)
                       for text, anchor in zip(edges, ((0, 0.5), (1, 0.5)), strict=True)]
        for item in self._edges:
            self.addItem(item)
        self.view_box.clicked.connect(self._on_clicked)
        self.data: SliceData | None = None
        self._set_title()

    def _set_title(self) -> None:
        value = self.cursor.position[self.fixed_axis]
        self.setTitle(f"{self.column} — {self.plane} {_AXIS[self.fixed_axis]}={value:+.0f} mm",
                      size="8pt")

    def _on_clicked(self, h: float, v: float) -> None:
        xyz = self.cursor.position
        xyz[self.h_axis], xyz[self.v_axis] = h, v
        self.cursor.set_position(xyz)

    def set_underlay(self, data: SliceData) -> None:
        self.data = data
        step = np.abs(np.diag(data.affine)[:3])
        origin = data.affine[:3, 3]
        shape = data.template.shape
        h, v = self.h_axis, self.v_axis
        rect = QRectF(origin[h] - step[h] / 2, origin[v] - step[v] / 2,
                      shape[h] * step[h], shape[v] * step[v])
        self._rect = rect
        self.view_box.setRange(rect, padding=0.02)
        mid = rect.center().y()
        self._edges[0].setPos(rect.left(), mid)
        self._edges[1].setPos(rect.right(), mid)
        nonzero = data.template[data.template > 0]
        top = float(np.percentile(nonzero, 99.5)) if nonzero.size else 1.0
        self._underlay_levels = (0.0, top)

    def slice_index(self) -> int:
        """Index of the shown slice along the fixed axis (clipped to the grid)."""
        assert self.data is not None
        ijk = self.data.voxel(self.cursor.position)
        if ijk is None:
            return int(np.clip(np.rint(np.linalg.solve(self.data.affine, np.r_[
                self.cursor.position, 1.0])[self.fixed_axis]), 0,
                self.data.template.shape[self.fixed_axis] - 1))
        return ijk[self.fixed_axis]

    def slice_of(self, volume: np.ndarray) -> np.ndarray | None:
        if self.data is None:
            return None
        index: list = [slice(None)] * volume.ndim
        index[self.fixed_axis] = self.slice_index()
        return volume[tuple(index)]  # a view: np.take would copy the slice element by element

    def redraw(self, volume: np.ndarray | None, levels, cmap, style: OverlayStyle,
               symmetric: bool) -> None:
        """Redraw underlay and overlay at the cursor, and move the crosshair."""
        xyz = self.cursor.position
        self.v_line.setPos(xyz[self.h_axis])
        self.h_line.setPos(xyz[self.v_axis])
        self._set_title()
        if self.data is None:
            return
        shown = (id(self.data.template), self.slice_index(), self._rect)
        if shown != getattr(self, "_underlay_shown", None):  # unchanged on live map updates
            self.underlay.setImage(self.slice_of(self.data.template),
                                   levels=self._underlay_levels, autoLevels=False)
            self.underlay.setRect(self._rect)
            self._underlay_shown = shown
        if volume is None:
            self.overlay.clear()
            self._overlay_shown = None
            return
        # The volume itself (not its id, which a new array may reuse) identifies the data.
        key = (self.slice_index(), self._rect, tuple(levels), style.threshold,
               style.opacity, symmetric)
        shown = getattr(self, "_overlay_shown", None)
        if shown is not None and shown[0] is volume and shown[1] is cmap and shown[2] == key:
            return  # the cursor moved within this slice: only the crosshair changes
        rgba = overlay_rgba(self.slice_of(volume), levels, cmap, style.threshold,
                            style.opacity, symmetric)
        self.overlay.setImage(rgba, autoLevels=False, levels=(0, 255))
        self.overlay.setRect(self._rect)
        self._overlay_shown = (volume, cmap, key)

    def crosshair(self) -> tuple[float, float]:
        """Crosshair position (horizontal, vertical) in mm."""
        return float(self.v_line.value()), float(self.h_line.value())


class SliceGrid(pg.GraphicsLayoutWidget):
    """Three columns (Pre, Post, Δ) of axial, coronal and sagittal panes, with colour bars.

    Arrow keys move the cursor in the plane of the last clicked pane;
    Page Up / Page Down move through its slices.

    Signals
    -------
    seed_requested(object)
        Ctrl+click or Ctrl+drag in a pane: the MNI point (after the cursor moved there).
    """

    seed_requested = pyqtSignal(object)

    def __init__(self, cursor: CursorModel, parent=None) -> None:
        super().__init__(parent)
        self.setBackground((20, 20, 24))
        self.cursor = cursor
        self.style_ = OverlayStyle()
        self.data: SliceData | None = None
        self.levels = (0.0, 1.0)
        self.delta_max = 1.0
        self.panes: dict[tuple[str, str], SlicePane] = {}
        self.active_plane = "axial"
        self.title = self.addLabel("", row=0, col=0, colspan=5, size="10pt")
        layout_cols = {"Pre": 0, "Post": 1, COLUMNS[2]: 3}
        for column, col in layout_cols.items():
            self.addLabel(column, row=1, col=col, size="11pt", bold=True)
            for row, plane in enumerate(PLANES, start=2):
                pane = SlicePane(column.split(" ")[0], plane, cursor)
                pane.view_box.clicked.connect(lambda *_, p=plane: self._set_active(p))
                pane.view_box.seed_clicked.connect(
                    lambda *_: self.seed_requested.emit(self.cursor.position))
                self.addItem(pane, row=row, col=col)
                self.panes[(column.split(" ")[0], plane)] = pane
        self.bar = pg.ColorBarItem(values=self.levels, colorMap=self.style_.colormap,
                                   interactive=False, label="z", width=10)
        self.delta_bar = pg.ColorBarItem(values=(-1, 1), colorMap=self.style_.diverging,
                                         interactive=False, label="Δz", width=10)
        self.addItem(self.bar, row=2, col=2, rowspan=3)
        self.addItem(self.delta_bar, row=2, col=4, rowspan=3)
        for bar in (self.bar, self.delta_bar):
            bar.getAxis("right").setStyle(tickFont=QFont("Sans", 8))
        self.cursor.moved.connect(self._on_cursor_moved)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(420, 360)

    # ------------------------------------------------------------------ data
    def set_data(self, data: SliceData | None) -> None:
        """Show new volumes (None clears the overlay)."""
        previous, self.data = self.data, data
        if data is None:
            for pane in self.panes.values():
                pane.data = None
                pane.underlay.clear()
                pane.overlay.clear()
            self.title.setText("")
            return
        if data.levels is not None:
            self.levels = data.levels
        else:
            both = np.concatenate([data.pre[np.isfinite(data.pre)],
                                   data.post[np.isfinite(data.post)]])
            top = float(np.percentile(np.abs(both), 99)) if both.size else 1.0
            low = min(0.0, float(np.percentile(both, 1))) if both.size else 0.0
            self.levels = (low, top if top > low else low + 1.0)
        if data.delta_max is not None:
            self.delta_max = data.delta_max
        else:
            finite = data.delta[np.isfinite(data.delta)]
            self.delta_max = float(np.percentile(np.abs(finite), 99)) if finite.size else 1.0
        self.delta_max = max(self.delta_max, 1e-6)
        self.title.setText(f"{data.title}  ·  neurological view (left on left)")
        same_grid = (previous is not None and previous.template is data.template
                     and np.array_equal(previous.affine, data.affine))
        for pane in self.panes.values():
            if same_grid:
                pane.data = data  # live updates: the underlay and its levels are unchanged
            else:
                pane.set_underlay(data)
        self.apply_style(self.style_)

    def apply_style(self, style: OverlayStyle) -> None:
        """Apply colour maps, threshold and opacity, and redraw."""
        self.style_ = style
        self.cmap = pg.colormap.get(style.colormap)
        self.delta_cmap = pg.colormap.get(style.diverging)
        signed = self.data is not None and self.data.signed
        self.bar.setColorMap(self.delta_cmap if signed else self.cmap)
        self.bar.setLevels(self.levels)
        self.delta_bar.setColorMap(self.delta_cmap)
        self.delta_bar.setLevels((-self.delta_max, self.delta_max))
        self.redraw()

    def redraw(self) -> None:
        d = self.data
        for (column, _plane), pane in self.panes.items():
            if column == "Δ":
                pane.redraw(None if d is None else d.delta, (-self.delta_max, self.delta_max),
                            self.delta_cmap if d else None, self.style_, symmetric=True)
            else:
                volume = None if d is None else (d.pre if column == "Pre" else d.post)
                signed = d is not None and d.signed
                pane.redraw(volume, self.levels, (self.delta_cmap if signed else self.cmap)
                            if d else None, self.style_, symmetric=signed)

    # ------------------------------------------------------------------ cursor
    def _on_cursor_moved(self, _xyz) -> None:
        self.redraw()

    def _set_active(self, plane: str) -> None:
        self.active_plane = plane
        self.setFocus()

    def keyPressEvent(self, ev) -> None:
        h, v, fixed, _ = PLANES[self.active_plane]
        step = 2.0 if self.data is None else float(abs(self.data.affine[0, 0]))
        moves = {
            Qt.Key.Key_Left: (h, -step), Qt.Key.Key_Right: (h, step),
            Qt.Key.Key_Up: (v, step), Qt.Key.Key_Down: (v, -step),
            Qt.Key.Key_PageUp: (fixed, step), Qt.Key.Key_PageDown: (fixed, -step),
        }
        move = moves.get(Qt.Key(ev.key()))
        if move is None:
            super().keyPressEvent(ev)
            return
        self.cursor.step(*move)
        ev.accept()

    def pane(self, column: str, plane: str) -> SlicePane:
        """Return the pane of a column (``"Pre"``, ``"Post"``, ``"Δ"``) and plane."""
        return self.panes[(column, plane)]
