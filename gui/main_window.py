"""The review window: empty state, linked slice views, matrices, time series, status."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PyQt6.QtCore import Qt, QThreadPool, pyqtSignal
from PyQt6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core.display_text import format_number, roi_display_name
from gui import strings
from gui.controller import SessionController
from gui.cursor import CursorModel
from gui.export_actions import ExportActions
from gui.file_dialogs import (
    ask_existing_folder,
    ask_open_file,
    ask_open_files,
    last_folder,
    remember_folder,
)
from gui.key_focus import FocusedWidgetKeys
from gui.matrix_view import MatrixData, in_reference_sd
from gui.menus import Actions, about_text, build_menus
from gui.registration_check_view import show_registration_check
from gui.review_panels import ReviewPanels
from gui.seed_panel import install_seed_tab
from gui.settings_banner import StaleSettingsBanner
from gui.settings_store import add_recent, app_settings, recent_patients
from gui.slice_tools import install_slice_tools
from gui.slice_view import OverlayStyle
from gui.window_pages import EmptyPage, ReviewPage

__all__ = ["MainWindow"]

WORKER_THREADS = 6

log = logging.getLogger(__name__)
HOME_MM = (-6.0, -52.0, 26.0)  # left posterior cingulate / precuneus (DMN hub)


class MainWindow(QMainWindow):
    """Main window. Views forward user actions to the controller; results come back by signal.

    Signals
    -------
    error_shown(str)
        Emitted with every error message shown to the user (tests listen here).
    """

    error_shown = pyqtSignal(str)

    def __init__(self, controller: SessionController | None = None) -> None:
        super().__init__()
        self.setWindowTitle(strings.APP_NAME)
        self.setAcceptDrops(True)
        # Analysis, seed preparation, GBC and statistics may run at once; the default pool
        # (one thread per core) would queue a short job behind a long one.
        pool = QThreadPool.globalInstance()
        pool.setMaxThreadCount(max(pool.maxThreadCount(), WORKER_THREADS))
        self.controller = controller or SessionController(parent=self)
        self.cursor = CursorModel(HOME_MM, parent=self)
        self.last_error = ""
        self.actions_ = Actions(self)
        self.file_menu, self.recent_menu = build_menus(self, self.actions_)
        self._build_central()
        self._build_status()
        self._wire()
        self.closing = False
        self.review = ReviewPanels(self)  # QC and Statistics tabs, motion banner
        self.review.stats_panel.edge_selected.connect(self._on_cell_clicked)
        self.seeds, self.seed_panel = install_seed_tab(self)  # Seeds & GBC tab (issue 4)
        self.exports = ExportActions(self, self.file_menu)  # File: exports and saved reviews
        self.stale_banner = StaleSettingsBanner(self)  # Analysis menu ≠ what is shown
        self._keys = FocusedWidgetKeys(self)  # plain-key shortcuts yield to a focused slider...
        self.installEventFilter(self._keys)
        self.slice_tools = install_slice_tools(self, self.page)  # Go to, crosshair, zoom, keys
        self._restore_settings()
        self._on_display_changed(self.controller.display)
        self._on_cursor_moved(self.cursor.position)

    # ------------------------------------------------------------------ layout
    def _build_central(self) -> None:
        self.stack = QStackedWidget()
        self.empty_page = EmptyPage(self.actions_)
        self.empty_buttons = self.empty_page.buttons
        page = self.page = ReviewPage(self.cursor)
        # the review page's parts, by the names views and tests use
        self.header, self.colormap = page.header, page.colormap
        self.threshold, self.opacity = page.threshold, page.opacity
        self.slices, self.matrices, self.timeseries = page.slices, page.matrices, page.timeseries
        self.right, self.tabs, self.splitter = page.right, page.tabs, page.splitter
        self.stack.addWidget(self.empty_page)
        self.stack.addWidget(page)
        self.disclaimer = QLabel(strings.DISCLAIMER)
        self.disclaimer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.disclaimer.setStyleSheet("background:#fff4ce; color:#5c4400; padding:3px;")
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.disclaimer)
        self.setCentralWidget(central)

    def _build_status(self) -> None:
        bar = self.statusBar()
        self.readout = QLabel()
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setMinimumWidth(340)
        self.progress.setMaximumWidth(420)
        self.progress.setFormat("%p% %v")
        self.cancel_button = QPushButton("Cancel")
        bar.addWidget(self.readout, 1)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        self.show_busy(False)

    @property
    def comparison(self):
        """The comparison shown (the current review state's), or None."""
        return self.controller.comparison

    # ------------------------------------------------------------------ wiring
    def _wire(self) -> None:
        a, c = self.actions_, self.controller
        a.open_demo.triggered.connect(self.open_demo)
        a.open_fmriprep.triggered.connect(self._ask_fmriprep)
        a.open_nifti.triggered.connect(lambda: self._ask_pair("nifti"))
        a.open_timeseries.triggered.connect(lambda: self._ask_pair("timeseries"))
        a.import_dicom.triggered.connect(self.show_dicom_import)
        a.quit.triggered.connect(self.close)
        a.recompute.triggered.connect(lambda: c.recompute(a.settings()))
        a.about.triggered.connect(self._show_about)
        a.show_matrices.toggled.connect(self.matrices.setVisible)
        a.show_timeseries.toggled.connect(self.timeseries.setVisible)
        a.network_blocks.toggled.connect(lambda on: c.set_display(network_blocks=on))
        a.reset_cursor.triggered.connect(lambda: self.cursor.set_position(HOME_MM))
        a.choose_reference.triggered.connect(self._ask_reference)
        a.clear_reference.triggered.connect(lambda: self.set_reference(None))
        a.delta_reference_sd.toggled.connect(
            lambda on: c.set_display(delta_units="reference_sd" if on else "z"))
        c.state_changed.connect(self._on_state_changed)
        self.matrices.blocks_toggled.connect(self._on_blocks_toggled)
        self.matrices.cell_clicked.connect(self._on_cell_clicked)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        # the display widgets write to the display options model; views render the model
        self.colormap.currentTextChanged.connect(lambda text: c.set_display(colormap=text))
        self.threshold.valueChanged.connect(lambda v: c.set_display(threshold=v / 100))
        self.opacity.valueChanged.connect(lambda v: c.set_display(opacity=v / 100))
        self.matrices.significant_button.toggled.connect(
            lambda on: c.set_display(significant_only=on))
        c.display_changed.connect(self._on_display_changed)
        self.cancel_button.clicked.connect(c.cancel)
        self.cursor.moved.connect(self._on_cursor_moved)
        c.maps_ready.connect(self._on_maps_ready)
        c.comparison_ready.connect(self._on_comparison_ready)
        c.progress_changed.connect(self.show_progress)
        c.busy_changed.connect(self.show_busy)
        c.progress_changed.connect(self.empty_page.show_progress)
        c.busy_changed.connect(self.empty_page.set_busy)
        self.empty_page.cancel_requested.connect(c.cancel)
        c.error_occurred.connect(self.show_error)
        c.registration_check_needed.connect(
            lambda pending, reopen: show_registration_check(self, pending, reopen))
        c.cancelled.connect(lambda: self.statusBar().showMessage("Cancelled", 4000))

    # ------------------------------------------------------------------ opening
    def open_demo(self) -> None:
        self._remember("demo", [])
        self.controller.settings = self.actions_.settings()
        self.controller.open_demo()

    def open_path(self, path: str | Path, second: str | Path | None = None) -> None:
        """Open a folder (fMRIPrep) or a pair of files (NIfTI or time-series tables)."""
        path = Path(path)
        self.controller.settings = self.actions_.settings()
        if second is None:
            if path.is_dir():
                self._remember("fmriprep", [str(path)])
                self.controller.open_fmriprep(path)
            else:
                self.show_error(f"{path}: expected an fMRIPrep folder or two files (pre and "
                                "post); drop or choose both files together")
            return
        kind = "timeseries" if path.suffix.lower() in (".tsv", ".csv", ".txt") else "nifti"
        self._remember(kind, [str(path), str(second)])
        opener = self.controller.open_timeseries if kind == "timeseries" else \
            self.controller.open_nifti_pair
        opener(path, second)

    def _remember(self, kind: str, paths: list[str]) -> None:
        add_recent(kind, paths)
        if paths:
            remember_folder(Path(paths[0]).parent)

    def _ask_fmriprep(self) -> None:
        folder = ask_existing_folder(self, strings.OPEN_FMRIPREP, remember_parent=True)
        if folder:
            self.open_path(folder)

    def _ask_pair(self, kind: str) -> None:
        pattern = ("NIfTI (*.nii *.nii.gz)" if kind == "nifti"
                   else "Time series (*.tsv *.csv *.txt)")
        files = ask_open_files(self, "Choose the PRE file, then the POST file (select both)",
                               pattern)
        if len(files) != 2:
            if files:
                self.show_error(f"expected two files (pre and post), got {len(files)}")
            return
        pre, post = sorted(files)
        self.open_path(pre, post)

    def show_dicom_import(self):
        """File → Import DICOM…: a non-modal dialog; its result opens here."""
        from gui.dicom_import_dialog import DicomImportDialog

        dialog = DicomImportDialog(self, self.last_folder())
        dialog.derivatives_ready.connect(self.open_path)
        dialog.show()
        return dialog

    def last_folder(self) -> str:
        """Return the folder the file dialogs start in (the last one used)."""
        return last_folder()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for item in recent_patients():
            kind, paths = item["kind"], item["paths"]
            label = "Demo patient" if kind == "demo" else " + ".join(Path(p).name for p in paths)
            action = self.recent_menu.addAction(f"{kind}: {label}")
            if kind == "demo":
                action.triggered.connect(self.open_demo)
            else:
                action.triggered.connect(lambda _=False, p=paths: self.open_path(*p[:2]))
        if not self.recent_menu.actions():
            self.recent_menu.addAction("(none)").setEnabled(False)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = sorted(u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile())
        if len(paths) in (1, 2):
            self.open_path(*paths)
        else:
            self.show_error(f"expected one folder or two files, got {len(paths)} items")

    # ------------------------------------------------------------------ controller results
    def _on_maps_ready(self, maps) -> None:
        self.slices.set_data(maps)
        if maps is None:
            self.statusBar().showMessage(strings.NO_ATLAS_MAPS, 8000)

    def _on_comparison_ready(self, comparison) -> None:
        self.stack.setCurrentIndex(1)
        self._show_matrices()
        self._show_most_changed_edge()
        atlas = comparison.atlas.title if comparison.atlas is not None else "ROI tables"
        s = comparison
        text = (f"<b>{s.subject}</b> · {s.pre.label} → {s.post.label} · {atlas} · "
                f"{len(s.rois)} ROIs · denoising <i>{s.strategy}</i> · volumes kept "
                f"{s.pre.n_kept}/{s.pre.n_volumes} pre, {s.post.n_kept}/{s.post.n_volumes} post")
        if s.provenance.get("preprocessing"):  # the quick path, never shown as fMRIPrep
            text += f" · <span style='color:#b00'>{s.provenance['preprocessing']}</span>"
        if s.warnings:
            text += f" · <span style='color:#b00'>{len(s.warnings)} warning(s)</span>"
            self.header.setToolTip("\n".join(s.warnings))
        self.header.setText(text)
        self.setWindowTitle(f"{s.subject} — {strings.APP_NAME}")
        self._on_cursor_moved(self.cursor.position)

    def show_progress(self, percent: int, message: str) -> None:
        """Show a job's progress in the status bar."""
        self.progress.setValue(percent)
        if "%" in message:  # the message carries its own percentage
            self.progress.setFormat(message)
        else:  # one line: a long message is shortened with "…", never wrapped
            message = self.progress.fontMetrics().elidedText(
                message, Qt.TextElideMode.ElideRight, max(self.progress.width() - 60, 120))
            self.progress.setFormat(f"{message} %p%" if message else "%p%")

    def show_busy(self, busy: bool) -> None:
        """Show or hide the progress bar and Cancel button."""
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.actions_.recompute.setEnabled(not busy)

    def show_error(self, message: str) -> None:
        """Record the message, emit ``error_shown`` and show a non-blocking dialog."""
        self.last_error = message
        log.info("error shown: %s", message)
        box = QMessageBox(QMessageBox.Icon.Warning, strings.APP_NAME, message,
                          QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.error_shown.emit(message)

    # ------------------------------------------------------------------ view actions
    def _on_display_changed(self, display) -> None:
        """Render the display options model; keep the widgets in step with it."""
        for widget, value in ((self.threshold, round(display.threshold * 100)),
                              (self.opacity, round(display.opacity * 100))):
            if widget.value() != value:
                widget.blockSignals(True)
                widget.setValue(value)
                widget.blockSignals(False)
        if self.colormap.currentText() != display.colormap:
            self.colormap.blockSignals(True)
            self.colormap.setCurrentText(display.colormap)
            self.colormap.blockSignals(False)
        # these re-render their views; their signals come back here as no-op changes
        for button, on in ((self.actions_.network_blocks, display.network_blocks),
                           (self.matrices.block_button, display.network_blocks),
                           (self.matrices.significant_button, display.significant_only)):
            if button.isChecked() != on:
                button.setChecked(on)
        self.slices.apply_style(OverlayStyle(colormap=display.colormap,
                                             diverging=display.diverging,
                                             threshold=display.threshold,
                                             opacity=display.opacity))

    def _on_blocks_toggled(self, blocks: bool) -> None:
        if blocks != self.controller.display.network_blocks:
            self.controller.set_display(network_blocks=blocks)
        self._show_matrices()

    def _show_matrices(self) -> None:
        """Render the matrices of the current state (Δ in z or in reference SD units)."""
        state = self.controller.state
        if state is None:
            return
        display = state.display
        blocks = display.network_blocks
        data = MatrixData.from_comparison(state.comparison, blocks)
        if display.delta_units == "reference_sd":
            data = in_reference_sd(data, state.statistics, blocks)
        self.matrices.set_data(data, blocks)

    def _on_state_changed(self, state) -> None:
        stats = state.statistics
        has_reference = stats is not None and stats.has_reference
        self.actions_.delta_reference_sd.setEnabled(has_reference)
        if not has_reference and state.display.delta_units != "z":
            self.controller.set_display(delta_units="z")
        elif self.matrices.data is not None and (
                state.display.delta_units == "reference_sd") != self.matrices.data.in_sd:
            self._show_matrices()

    # ------------------------------------------------------------------ reference
    def _ask_reference(self) -> None:
        path = ask_open_file(self, strings.REFERENCE_CHOOSE, strings.REFERENCE_FILTER)
        if path:
            self.set_reference(path)

    def set_reference(self, path: str | None) -> None:
        """Judge changes against a reference of repeat scans (None: within-scan only)."""
        app_settings().setValue("reference_path", path or "")
        self.review.set_reference(path)
        self.statusBar().showMessage(
            f"Reference of repeat scans: {Path(path).name}" if path
            else "No reference: significance against within-scan noise only", 8000)

    def _show_most_changed_edge(self) -> None:
        """Start the time-series panel on the edge with the largest |Δz|."""
        delta = np.abs(np.triu(self.comparison.delta_z, k=1))
        a, b = np.unravel_index(int(np.nanargmax(delta)), delta.shape)
        self._show_timeseries(int(a), int(b))
        title = self.timeseries.plots[0].titleLabel.text
        self.timeseries.plots[0].setTitle(f"{title}   · largest |Δz| edge", size="9pt")

    def _on_cell_clicked(self, a: int, b: int) -> None:
        c = self.comparison
        if c is None:
            return
        if c.rois.coords_mm is not None:
            self.cursor.set_position(c.rois.coords_mm[a])
        self._show_timeseries(a, b)

    def _show_timeseries(self, a: int, b: int) -> None:
        c = self.comparison
        tr = c.pre.tr or 1.0
        times = tuple(s.sample_mask * (s.tr or tr) for s in (c.pre, c.post))
        self.timeseries.set_series(
            (c.rois.names[a], c.rois.names[b]),
            (c.pre.timeseries[:, a], c.pre.timeseries[:, b]),
            (c.post.timeseries[:, a], c.post.timeseries[:, b]), times)

    def _on_cursor_moved(self, xyz) -> None:
        xyz = np.asarray(xyz, dtype=float)
        x, y, z = (format_number(v, "+.0f") for v in xyz)
        parts = [f"MNI x {x}  y {y}  z {z} mm"]
        region = self.controller.region_at(xyz)
        parts.append(f"{roi_display_name(region[0])} ({region[1] or 'no network'})" if region
                     else "outside atlas")
        values = self.slices.data.values_at(xyz) if self.slices.data is not None else None
        if values is not None and np.isfinite(values[0]):
            pre, post, delta = (format_number(v, "+.3f") for v in values)
            parts.append(f"{self.slices.data.label} pre {pre}  post {post}  Δ {delta}")
        self.readout.setText("   ·   ".join(parts))

    def _show_about(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, f"About {strings.APP_NAME}",
                          about_text(), QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # ------------------------------------------------------------------ settings
    def _restore_settings(self) -> None:
        settings = app_settings()
        geometry = settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1600, 1000)
        self.actions_.select(settings.value("atlas"), settings.value("strategy"))
        self.controller.settings = self.actions_.settings()
        reference = str(settings.value("reference_path", "") or "")
        self.controller.reference_path = reference if Path(reference).is_file() else None

    def closeEvent(self, event) -> None:
        self.closing = True  # background work scheduled for later must not start now
        settings = app_settings()
        settings.setValue("geometry", self.saveGeometry())
        settings.setValue("atlas", self.actions_.settings().atlas)
        strategy = self.actions_.strategy_group.checkedAction()
        settings.setValue("strategy", strategy.data() if strategy else "auto")
        settings.sync()
        self.seeds.shutdown()
        self.review.shutdown()
        self.controller.shutdown()
        super().closeEvent(event)
