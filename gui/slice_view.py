"""Pre | Post | Δ orthogonal slice views in MNI mm, linked by one CursorModel.

Orientation is neurological: the patient's left is on the left of the screen
(x increases to the right), anterior is up in axial panes, superior is up in
coronal and sagittal panes, and anterior is on the right in sagittal panes.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6 import sip
from PyQt6.QtCore import QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QFont, QFontMetrics

from core.display_text import format_number
from gui.cursor import CursorModel
from gui.display_data import SliceData
from gui.overlay import OverlayStyle, overlay_rgba
from gui.slice_navigation import MIN_RANGE_MM, SLICE_KEYS, ZOOM_STEP, SliceViewBox, link_panes

__all__ = ["PLANES", "OverlayStyle", "SliceGrid", "SlicePane", "overlay_rgba"]

#: plane -> (horizontal axis, vertical axis, fixed axis, edge labels)
PLANES = {
    "axial": (0, 1, 2, ("L", "R")),
    "coronal": (0, 2, 1, ("L", "R")),
    "sagittal": (1, 2, 0, ("P", "A")),
}
_AXIS = "xyz"
COLUMNS = ("Pre", "Post", "Δ post − pre")


class SlicePane(pg.PlotItem):
    """One orthogonal slice (underlay, overlay, crosshair) of one column."""

    def __init__(self, column: str, plane: str, cursor: CursorModel) -> None:
        self.view_box = SliceViewBox(lockAspect=True, enableMenu=False)
        super().__init__(viewBox=self.view_box)
        self.column, self.plane, self.cursor = column, plane, cursor
        self.h_axis, self.v_axis, self.fixed_axis, edges = PLANES[plane]
        for name in ("left", "bottom"):
            self.hideAxis(name)
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
        # the column (Pre, Post, Δ) heads the grid: short titles let narrow panes fit
        where = f"{_AXIS[self.fixed_axis]}={format_number(value, '+.0f')} mm"
        self.setTitle(f"{self.plane} {where}",
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
        span = 4.0 * max(rect.width(), rect.height())
        self.view_box.setLimits(minXRange=MIN_RANGE_MM, minYRange=MIN_RANGE_MM,
                                maxXRange=span, maxYRange=span)
        mid = rect.center().y()
        self._edges[0].setPos(rect.left(), mid)
        self._edges[1].setPos(rect.right(), mid)
        nonzero = data.template[data.template > 0]
        top = float(np.percentile(nonzero, 99.5)) if nonzero.size else 1.0
        self._underlay_levels = (0.0, top)

    def fit_scale(self) -> float:
        """Return the mm per pixel at which the whole slice fits this pane (2 % margins)."""
        rect, vb = getattr(self, "_rect", None), self.view_box
        if rect is None or vb.width() < 2 or vb.height() < 2:
            return float("nan")
        return 1.04 * max(rect.width() / vb.width(), rect.height() / vb.height())

    def fit(self, scale: float | None = None) -> None:
        """Show the whole slice, centred, at ``scale`` mm per pixel (default: its own fit)."""
        rect, vb = getattr(self, "_rect", None), self.view_box
        if rect is None:
            return
        scale = self.fit_scale() if scale is None else scale
        if not np.isfinite(scale):  # not laid out yet
            vb.setRange(rect, padding=0.02)
            return
        centre, w, h = rect.center(), scale * vb.width(), scale * vb.height()
        vb.setRange(QRectF(centre.x() - w / 2, centre.y() - h / 2, w, h), padding=0)

    def keep_in_view(self, h: float, v: float) -> None:
        """Pan (keeping the zoom) so that the point (h, v) mm is in view, centred if it was not."""
        rect = self.view_box.viewRect()
        if not rect.contains(h, v):
            self.view_box.translateBy(x=h - rect.center().x(), y=v - rect.center().y())

    def zoom(self, factor: float) -> None:
        """Zoom in (``factor`` > 1) or out about the crosshair."""
        self.view_box.scaleBy((1 / factor, 1 / factor), center=self.crosshair())

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

    Panes of one orientation share zoom and pan.  The mouse and keys are
    :mod:`gui.slice_navigation`'s (keys only while the grid has the focus).

    Signals
    -------
    seed_requested(object)
        Ctrl+click or Ctrl+drag in a pane: the MNI point (after the cursor moved there).
    crosshair_toggled(bool)
        The crosshair was shown or hidden.
    style_applied()
        Colour scales, threshold or opacity changed (:meth:`threshold_cuts` may differ).
    """

    seed_requested = pyqtSignal(object)
    crosshair_toggled = pyqtSignal(bool)
    style_applied = pyqtSignal()

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
        self.zoomed: set[str] = set()  # planes the user zoomed or panned
        self.title = self.addLabel("", row=0, col=0, colspan=5, size="10pt")
        layout_cols = {"Pre": 0, "Post": 1, COLUMNS[2]: 3}
        for column, col in layout_cols.items():
            self.addLabel(column, row=1, col=col, size="11pt", bold=True)
            for row, plane in enumerate(PLANES, start=2):
                pane = SlicePane(column.split(" ")[0], plane, cursor)
                pane.view_box.clicked.connect(lambda *_, p=plane: self._set_active(p))
                pane.view_box.seed_clicked.connect(
                    lambda *_: self.seed_requested.emit(self.cursor.position))
                pane.view_box.reset_requested.connect(lambda p=plane: self.reset_zoom(p))
                pane.view_box.sigRangeChangedManually.connect(
                    lambda *_, p=plane: self.zoomed.add(p))
                # until the user zooms, a resized pane shows its whole slice again
                pane.view_box.sigResized.connect(
                    lambda *_, p=plane: None if p in self.zoomed else self.reset_zoom(p))
                self.addItem(pane, row=row, col=col)
                self.panes[(column.split(" ")[0], plane)] = pane
        for plane in PLANES:
            link_panes(self.panes[(column, plane)] for column in ("Pre", "Post", "Δ"))
        self.crosshair_visible = True
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
        self.setMinimumSize(530, 360)  # the panes' titles and both colour bars fit

    # ------------------------------------------------------------------ data
    def set_data(self, data: SliceData | None) -> None:
        """Show new volumes (None clears the overlay)."""
        previous, self.data = self.data, data
        if data is None:
            for pane in self.panes.values():
                pane.data = None
                pane.underlay.clear()
                pane.overlay.clear()
            self._fit_title()
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
        self._fit_title()
        same_grid = (previous is not None and previous.template is data.template
                     and np.array_equal(previous.affine, data.affine))
        if not same_grid:
            self.zoomed.clear()
        for pane in self.panes.values():
            if same_grid:
                pane.data = data  # live updates: the underlay and its levels are unchanged
            else:
                pane.set_underlay(data)
        if not same_grid:
            self.reset_zoom()  # another grid: every slice fits again
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
        self.style_applied.emit()

    def threshold_cuts(self) -> tuple[float, float]:
        """Return the smallest values shown: Pre and Post (their magnitude if signed), |Δ|.

        In the map's unit (``data.unit``): the threshold is a fraction of each scale.
        """
        t = self.style_.threshold
        lo, hi = self.levels
        signed = self.data is not None and self.data.signed
        cut = t * max(abs(lo), abs(hi)) if signed else max(lo, 0.0) + t * (hi - lo)
        return float(cut), float(t * self.delta_max)

    def _fit_title(self) -> None:
        """Name the map above the panes, shortened to the width the grid has."""
        text = "" if self.data is None else self.data.title
        metrics = QFontMetrics(QFont("Sans", 10))
        room = max(self.width() - 24, 100)
        fitted = metrics.elidedText(text, Qt.TextElideMode.ElideRight, room)
        for suffix in ("  ·  neurological view (left on left)", "  ·  left on left", ""):
            if text and metrics.horizontalAdvance(text + suffix) <= room:
                fitted = text + suffix
                break
        self.title.setText(fitted)
        self._auto_title = fitted

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        title = getattr(self, "title", None)  # resized once before __init__ made it
        if title is None or sip.isdeleted(title.item):  # or while the scene is torn down
            return
        if title.text == getattr(self, "_auto_title", ""):
            self._fit_title()  # never over a caller's own title (the report's)

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
    def _on_cursor_moved(self, xyz) -> None:
        for plane in self.zoomed:  # a zoomed view follows a cursor that leaves it
            h, v, _fixed, _ = PLANES[plane]
            self.pane("Pre", plane).keep_in_view(float(xyz[h]), float(xyz[v]))
        self.redraw()

    def _set_active(self, plane: str) -> None:
        self.active_plane = plane
        self.setFocus()

    def keyPressEvent(self, ev) -> None:
        key = Qt.Key(ev.key())
        binding = next((b for b in SLICE_KEYS if key in b.keys), None)
        if binding is None or ev.modifiers() & (Qt.KeyboardModifier.ControlModifier
                                                | Qt.KeyboardModifier.AltModifier):
            super().keyPressEvent(ev)
            return
        getattr(self, binding.action)(key)
        ev.accept()

    def key_move(self, key: Qt.Key) -> None:
        """Arrow keys and Page Up/Down: one voxel in the last clicked pane's plane."""
        h, v, fixed, _ = PLANES[self.active_plane]
        step = 2.0 if self.data is None else float(abs(self.data.affine[0, 0]))
        k = Qt.Key
        axis, mm = {k.Key_Left: (h, -step), k.Key_Right: (h, step), k.Key_Up: (v, step),
                    k.Key_Down: (v, -step), k.Key_PageUp: (fixed, step),
                    k.Key_PageDown: (fixed, -step)}[key]
        self.cursor.step(axis, mm)

    def key_zoom(self, key: Qt.Key) -> None:
        """+ and − zoom the last clicked pane's orientation about the cursor."""
        factor = 1 / ZOOM_STEP if key == Qt.Key.Key_Minus else ZOOM_STEP
        self.pane("Pre", self.active_plane).zoom(factor)
        self.zoomed.add(self.active_plane)

    def key_reset(self, _key: Qt.Key) -> None:
        self.reset_zoom()

    def key_crosshair(self, _key: Qt.Key) -> None:
        self.set_crosshair_visible(not self.crosshair_visible)

    # ------------------------------------------------------------------ zoom, crosshair
    def reset_zoom(self, plane: str | None = None) -> None:
        """Fit the slices again: of one orientation, or all (None)."""
        for each in PLANES if plane is None else (plane,):
            self.zoomed.discard(each)
            panes = [p for c in ("Pre", "Post", "Δ") if (p := self.panes.get((c, each)))]
            scales = [s for s in (p.fit_scale() for p in panes) if np.isfinite(s)]
            # one scale for the three (linked) panes: the one at which all of them fit
            for pane in panes:
                pane.fit(max(scales) if scales else None)

    def set_crosshair_visible(self, on: bool) -> None:
        """Show or hide the crosshair in every pane."""
        on = bool(on)
        for pane in self.panes.values():
            pane.v_line.setVisible(on)
            pane.h_line.setVisible(on)
        if on != self.crosshair_visible:
            self.crosshair_visible = on
            self.crosshair_toggled.emit(on)

    def pane(self, column: str, plane: str) -> SlicePane:
        """Return the pane of a column (``"Pre"``, ``"Post"``, ``"Δ"``) and plane."""
        return self.panes[(column, plane)]
