"""Seeds & GBC tab: seed mode, clinical presets, overlay chooser, named edges, export."""

from __future__ import annotations

import logging
import time

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QObject, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.display_text import format_p
from core.errors import InputError
from core.settings import SEED_RADIUS_RANGE_MM
from gui import strings
from gui.cursor import CursorModel
from gui.file_dialogs import ask_existing_folder
from gui.seed_controller import SeedController
from gui.slice_view import SliceGrid

__all__ = ["SeedMarker", "SeedPanel"]

log = logging.getLogger(__name__)

OVERLAYS = (strings.OVERLAY_STRENGTH, strings.OVERLAY_SEED, strings.OVERLAY_GBC,
            strings.OVERLAY_GBC_GSR)
EDGE_HEADERS = ("Edge", "r pre", "r post", "z pre", "z post", "Δz", "p", "q", "Source")


class SeedMarker(QObject):
    """Outline of the seed sphere in every slice pane that cuts it."""

    def __init__(self, slices: SliceGrid, cursor: CursorModel) -> None:
        super().__init__(slices)
        self.slices, self.cursor = slices, cursor
        self.xyz: np.ndarray | None = None
        self.radius = 6.0
        self.items = {}
        pen = pg.mkPen((0, 230, 255), width=2)
        pen.setCosmetic(True)
        for key, pane in slices.panes.items():
            item = pg.QtWidgets.QGraphicsEllipseItem()
            item.setPen(pen)
            item.setZValue(20)
            item.setVisible(False)
            pane.addItem(item)
            self.items[key] = item
        cursor.moved.connect(self.update)

    def show(self, xyz, radius_mm: float) -> None:
        self.xyz = None if xyz is None else np.asarray(xyz, dtype=float)
        self.radius = float(radius_mm)
        self.update()

    def update(self, *_args) -> None:
        position = self.cursor.position
        for key, item in self.items.items():
            pane = self.slices.panes[key]
            if self.xyz is None:
                item.setVisible(False)
                continue
            distance = abs(position[pane.fixed_axis] - self.xyz[pane.fixed_axis])
            r = np.sqrt(max(self.radius ** 2 - distance ** 2, 0.0))
            item.setVisible(bool(distance <= self.radius))
            h, v = self.xyz[pane.h_axis], self.xyz[pane.v_axis]
            item.setRect(h - r, v - r, 2 * r, 2 * r)


class SeedPanel(QWidget):
    """The Seeds & GBC tab. It drives the slice grid's overlay through the SeedController.

    Signals
    -------
    map_shown(object)
        The SliceData just painted in the nine panes (after ``SliceGrid.set_data``).
    export_done(list)
        Paths of the NIfTI files written.
    """

    map_shown = pyqtSignal(object)
    export_done = pyqtSignal(list)

    def __init__(self, seeds: SeedController, slices: SliceGrid, cursor: CursorModel,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.seeds, self.slices, self.cursor = seeds, slices, cursor
        self.strength_maps = None
        self.last_paint_ms = float("nan")
        self.last_latency_ms = float("nan")
        self.marker = SeedMarker(slices, cursor)
        self._build()
        self._wire()
        self._on_state_changed(seeds.state)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setStyleSheet("padding:4px; background:#eef3fb; color:#1d2b44;")
        layout.addWidget(self.status)
        form = QFormLayout()
        self.seed_mode = QPushButton("Seed mode: click to seed")
        self.seed_mode.setCheckable(True)
        self.seed_mode.setToolTip("When on, clicking or dragging in any slice moves the seed "
                                  "(Ctrl+click seeds at any time)")
        self.radius = QDoubleSpinBox()
        self.radius.setRange(*SEED_RADIUS_RANGE_MM)
        self.radius.setSingleStep(1.0)
        self.radius.setDecimals(0)
        self.radius.setValue(6.0)
        self.radius.setSuffix(" mm")
        self.radius.setMaximumWidth(90)
        self.overlay = QComboBox()
        self.overlay.addItems(OVERLAYS)
        self.full_gbc = QCheckBox("GBC at full resolution (slower)")
        self.gbc_note = QLabel()
        self.gbc_note.setWordWrap(True)
        self.gbc_note.setStyleSheet("color:#555;")
        self.export_button = QPushButton(strings.EXPORT_MAP)
        mode_row = QHBoxLayout()
        mode_row.addWidget(self.seed_mode)
        mode_row.addWidget(QLabel("Seed radius"))
        mode_row.addWidget(self.radius)
        mode_row.addStretch(1)
        form.addRow(mode_row)
        form.addRow("Overlay", self.overlay)
        form.addRow(self.full_gbc)
        form.addRow(self.gbc_note)
        layout.addLayout(form)
        layout.addWidget(QLabel("<b>Clinical seeds</b> (click to jump and seed there)"))
        self.seed_list = QListWidget()
        self._fill_presets()
        rows = self.seed_list.count()
        self.seed_list.setFixedHeight(rows * self.seed_list.sizeHintForRow(0) + 8)
        layout.addWidget(self.seed_list)
        layout.addWidget(QLabel("<b>Named edges</b> (sphere-mean signals, Fisher z)"))
        self.edges = QTableWidget(0, len(EDGE_HEADERS))
        self.edges.setHorizontalHeaderLabels(EDGE_HEADERS)
        self.edges.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.edges.verticalHeader().setVisible(False)
        header = self.edges.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.edges.setMinimumHeight(230)
        layout.addWidget(self.edges)
        self.edges_note = QLabel()
        self.edges_note.setWordWrap(True)
        self.edges_note.setStyleSheet("color:#555;")
        layout.addWidget(self.edges_note)
        layout.addWidget(self.export_button)
        layout.addStretch(1)

    def _fill_presets(self) -> None:
        from core.maps.seeds import load_clinical_seeds

        self.presets = load_clinical_seeds()
        for seed in self.presets:
            x, y, z = seed.xyz_mm
            item = QListWidgetItem(f"{seed.label}   ({x:.0f}, {y:.0f}, {z:.0f})")
            item.setToolTip(f"{seed.name}: {seed.source}")
            item.setData(Qt.ItemDataRole.UserRole, seed.xyz_mm)
            self.seed_list.addItem(item)

    def _wire(self) -> None:
        s = self.seeds
        s.state_changed.connect(self._on_state_changed)
        s.maps_ready.connect(self._on_maps_ready)
        self.seed_mode.toggled.connect(self._on_seed_mode_toggled)
        self.radius.valueChanged.connect(self._on_radius_changed)
        self.overlay.currentIndexChanged.connect(self._on_overlay_changed)
        self.full_gbc.toggled.connect(self._on_full_gbc_toggled)
        self.seed_list.itemClicked.connect(self._on_preset_clicked)
        self.seed_list.itemActivated.connect(self._on_preset_clicked)
        self.export_button.clicked.connect(self._ask_export)
        self.slices.seed_requested.connect(self.seed_at)
        self.cursor.moved.connect(self._on_cursor_moved)

    # ------------------------------------------------------------------ session controller
    def set_strength_maps(self, maps) -> None:
        """Remember the ROI strength maps of a new comparison and show them."""
        self.strength_maps = maps
        self.marker.show(None, 0.0)
        self._select_overlay(strings.OVERLAY_STRENGTH)

    def set_comparison(self, comparison) -> None:
        """Fill the named-edges table from ``comparison.named_edges``."""
        frame = getattr(comparison, "named_edges", None)
        self.edges.setRowCount(0 if frame is None else len(frame))
        note = "" if frame is None else str(frame.attrs.get("note", ""))
        if frame is None or not len(frame):
            self.edges_note.setText(note or "No named edges for these inputs.")
            return
        for row, record in enumerate(frame.itertuples(index=False)):
            cells = [record.edge] + [f"{getattr(record, c):+.3f}" for c in
                                     ("r_pre", "r_post", "z_pre", "z_post", "delta_z")]
            cells += [format_p(getattr(record, c, float("nan"))) for c in ("p", "q")]
            cells.append(record.source)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if 0 < col < 8:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if col == 0:
                    item.setToolTip(f"{record.seed_a} – {record.seed_b}")
                self.edges.setItem(row, col, item)
        self.edges_note.setText(note)

    # ------------------------------------------------------------------ actions
    def seed_at(self, xyz) -> None:
        """Compute the seed map at an MNI point (the cursor moves there)."""
        self.cursor.set_position(xyz)
        if not self.seeds.ready:
            self.status.setText(self._state_text(self.seeds.state))
            return
        self._select_overlay(strings.OVERLAY_SEED)
        self.seeds.request_seed(xyz)

    def jump_to_preset(self, name: str) -> None:
        """Move the cursor to a clinical preset seed and compute its map."""
        seed = next(s for s in self.presets if s.name.lower() == name.lower())
        self.seed_at(seed.xyz_mm)

    def _on_preset_clicked(self, item: QListWidgetItem) -> None:
        self.seed_at(item.data(Qt.ItemDataRole.UserRole))

    def _on_seed_mode_toggled(self, on: bool) -> None:
        if on:
            self.seed_at(self.cursor.position)

    def _on_cursor_moved(self, xyz) -> None:
        if self.seed_mode.isChecked() and self.seeds.ready:
            self._select_overlay(strings.OVERLAY_SEED)
            self.seeds.request_seed(xyz)

    def _on_radius_changed(self, value: float) -> None:
        self.seeds.set_radius(value)

    def _on_full_gbc_toggled(self, _on: bool) -> None:
        self._update_gbc_note()
        if self.overlay.currentText() in (strings.OVERLAY_GBC, strings.OVERLAY_GBC_GSR):
            self._on_overlay_changed()

    def _select_overlay(self, text: str) -> None:
        self.overlay.blockSignals(True)
        self.overlay.setCurrentText(text)
        self.overlay.blockSignals(False)
        if text != strings.OVERLAY_SEED and self.seed_mode.isChecked():
            self.seed_mode.blockSignals(True)
            self.seed_mode.setChecked(False)
            self.seed_mode.blockSignals(False)

    def _on_overlay_changed(self, *_args) -> None:
        choice = self.overlay.currentText()
        if choice == strings.OVERLAY_STRENGTH:
            self._select_overlay(choice)
            self.marker.show(None, 0.0)
            self._paint(self.strength_maps)
        elif not self.seeds.ready:
            self.status.setText(self._state_text(self.seeds.state))
        elif choice == strings.OVERLAY_SEED:
            current = self.seeds.current
            self.seeds.request_seed(current.xyz_mm if current is not None and
                                    current.kind == "seed" else self.cursor.position)
        else:
            self.seeds.compute_gbc(gsr=choice == strings.OVERLAY_GBC_GSR,
                                   full_resolution=self.full_gbc.isChecked())

    def _ask_export(self) -> None:
        folder = ask_existing_folder(self, strings.EXPORT_MAP)
        if folder:
            self.export_to(folder)

    def export_to(self, folder) -> list:
        """Export the current map to ``folder``; errors go to the controller's error signal."""
        try:
            paths = self.seeds.export(folder)
        except InputError as exc:
            self.seeds.error_occurred.emit(str(exc))
            return []
        self.status.setText("Saved " + ", ".join(p.name for p in paths) + f" in {paths[0].parent}")
        self.export_done.emit(paths)
        return paths

    # ------------------------------------------------------------------ results
    def _on_maps_ready(self, data) -> None:
        current = self.seeds.current
        kind = current.kind if current is not None else ""
        wanted = {"seed": strings.OVERLAY_SEED, "gbc": strings.OVERLAY_GBC,
                  "gbc_gsr": strings.OVERLAY_GBC_GSR}.get(kind)
        if wanted is not None and wanted != self.overlay.currentText():
            return  # the user chose another overlay while this was computed
        if kind == "seed":
            self.marker.show(current.xyz_mm, current.radius_mm)
        else:
            self.marker.show(None, 0.0)
        self._paint(data)
        self.last_latency_ms = 1e3 * (time.perf_counter() - self.seeds.request_time)

    def _paint(self, data) -> None:
        start = time.perf_counter()
        self.slices.set_data(data)
        self.last_paint_ms = 1e3 * (time.perf_counter() - start)
        self.map_shown.emit(data)

    def _on_state_changed(self, state: str) -> None:
        self.status.setText(self._state_text(state))
        ready = state == "ready"
        for widget in (self.seed_mode, self.seed_list, self.full_gbc, self.export_button):
            widget.setEnabled(ready)
        if ready:
            self._update_gbc_note()
        else:
            self.gbc_note.setText("")
            if state != "preparing":
                self._select_overlay(strings.OVERLAY_STRENGTH)

    def _state_text(self, state: str) -> str:
        return {"no_voxels": strings.SEED_NO_VOXELS, "preparing": strings.SEED_PREPARING,
                "ready": strings.SEED_READY, "failed": strings.SEED_FAILED}.get(
                    state, strings.SEED_IDLE)

    def _update_gbc_note(self) -> None:
        stride = self.seeds.gbc_stride(self.full_gbc.isChecked())
        if stride == 1:
            self.gbc_note.setText(strings.GBC_FULL_NOTE)
        else:
            self.gbc_note.setText(strings.GBC_STRIDE_NOTE.format(
                mm=round(self.seeds.voxel_mm, 1), stride=stride, factor=stride ** 3))


def install_seed_tab(window) -> tuple[SeedController, SeedPanel]:
    """Add the Seeds & GBC tab to a MainWindow and wire it to its controller and status bar.

    The seed controller's long jobs share the window's progress bar and Cancel button.
    """
    seeds = SeedController(parent=window)
    panel = SeedPanel(seeds, window.slices, window.cursor)
    window.tabs.addTab(panel, strings.SEED_TAB)
    c = window.controller

    def on_comparison_ready(_comparison) -> None:
        if c.inputs is None:  # a comparison shown without opened inputs (e.g. restored views)
            seeds.reset()

    def prepare(comparison) -> None:
        # after the first view, QC and statistics (the motion banner) come first: the
        # voxel preparation waits for them instead of competing for the CPU
        if c.comparison is not comparison or c.inputs is None or window.closing:
            return
        maps = panel.strength_maps
        seeds.prepare(c.inputs, c.settings, None if maps is None else maps.template,
                      None if maps is None else maps.affine, voxels=c.voxels,
                      comparison=comparison)

    c.maps_ready.connect(panel.set_strength_maps)
    c.comparison_ready.connect(panel.set_comparison)
    c.comparison_ready.connect(on_comparison_ready)
    window.review.stats_controller.analysis_finished.connect(prepare)
    c.busy_changed.connect(lambda busy: seeds.reset() if busy else None)
    for signal in (c.busy_changed, seeds.busy_changed):
        signal.connect(lambda _busy: window.show_busy(c.busy or seeds.busy))
    seeds.progress_changed.connect(window.show_progress)
    window.cancel_button.clicked.connect(seeds.cancel)
    seeds.error_occurred.connect(window.show_error)
    seeds.cancelled.connect(lambda: window.statusBar().showMessage("Cancelled", 4000))
    panel.map_shown.connect(lambda _data: window._on_cursor_moved(window.cursor.position))
    return seeds, panel
