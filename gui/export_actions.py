"""File → Export report / tables / maps, Save and Open review; right-click view export.

``ExportActions(window)`` adds its actions to the window's File menu (before
Quit) and a "Export view as PNG/SVG" context menu to the matrix and slice
views.  Every public method takes an explicit destination (used by tests and
scripts) or asks with a file dialog when none is given.  The files are written
in a worker (:mod:`gui.export_work`) from the current review state, which holds
every number already; the status bar says when they are done and offers to
open the folder.  Errors go to ``window.show_error``; nothing is ever written
into an input folder, and nothing is overwritten without asking.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PyQt6.QtCore import QObject, Qt, QUrl, pyqtSignal
from PyQt6.QtGui import QAction, QDesktopServices, QKeySequence
from PyQt6.QtWidgets import QInputDialog, QMenu, QMessageBox, QPushButton

from core.errors import InputError
from gui.file_dialogs import ask_existing_folder, ask_open_file, ask_save_file
from gui.jobs import JobRunner, user_message
from gui.view_export import export_view
from gui.view_state import apply_view, view_state

__all__ = ["ExportActions", "export_view"]

log = logging.getLogger(__name__)
_VIEW_FILTER = "PNG image (*.png);;SVG vector image (*.svg)"


class ExportActions(QObject):
    """Export and saved-review actions of a MainWindow.

    Signals
    -------
    exported(str)
        The path of every file or folder written.
    """

    exported = pyqtSignal(str)

    def __init__(self, window, file_menu: QMenu) -> None:
        super().__init__(window)
        self.window = window
        self.patient_label: str | None = None
        self._pending_view: dict | None = None
        self.jobs = JobRunner("export", self)
        self.jobs.succeeded.connect(self._on_written)
        self.jobs.failed.connect(lambda job, message: window.show_error(
            f"{job.kind} failed: {message}"))
        self.jobs.progressed.connect(self._on_progress)
        self.open_folder = QPushButton("Open folder")
        self.open_folder.setFlat(True)
        self.open_folder.setVisible(False)
        self.open_folder.clicked.connect(self._open_last_folder)
        window.statusBar().addPermanentWidget(self.open_folder)
        self._last_written: Path | None = None

        def act(text: str, slot, shortcut=None) -> QAction:
            action = QAction(text, window)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(lambda _=False: slot())
            return action

        self.export_report_action = act("Export report…", self.export_report, "Ctrl+P")
        self.export_tables_action = act("Export matrices and tables (TSV)…", self.export_tables)
        self.export_maps_action = act("Export maps (NIfTI)…", self.export_maps)
        self.save_review_action = act("Save review…", self.save_review, "Ctrl+S")
        self.open_review_action = act("Open review…", self.open_review, "Ctrl+Shift+R")
        self.needs_patient = [self.export_report_action, self.export_tables_action,
                              self.export_maps_action, self.save_review_action]
        quit_action = window.actions_.quit
        file_menu.insertSeparator(quit_action)
        for action in (self.open_review_action, self.save_review_action, None,
                       self.export_report_action, self.export_tables_action,
                       self.export_maps_action):
            if action is None:
                file_menu.insertSeparator(quit_action)
            else:
                file_menu.insertAction(quit_action, action)
        file_menu.insertSeparator(quit_action)
        for view in (window.matrices.graphics, window.slices):
            self.install_view_menu(view)
        c = window.controller
        c.state_changed.connect(self._on_state_changed)
        c.comparison_ready.connect(self._on_comparison_ready)
        c.error_occurred.connect(self._on_error)
        c.busy_changed.connect(lambda _busy: self._update_enabled())
        self._enable(False)

    # ------------------------------------------------------------------ helpers
    def _enable(self, on: bool) -> None:
        for action in self.needs_patient:
            action.setEnabled(on)

    def _update_enabled(self) -> None:
        # exports read the statistics of the review shown: they wait for them, and
        # nothing is exported while another patient opens
        c = self.window.controller
        self._enable(not c.busy and c.state is not None and c.state.ready)

    def _on_state_changed(self, _state) -> None:
        self._update_enabled()

    def _state(self):
        """Return the current review state with its statistics, or None (and say why)."""
        state = self.window.controller.state
        if state is None:
            self.window.show_error("Open a patient first; there is nothing to export.")
            return None
        if not state.ready:
            self.window.show_error("The statistics are still being computed; export again "
                                   "once they are shown.")
            return None
        return state

    def _ask_save(self, title: str, name: str, pattern: str) -> str:
        return ask_save_file(self.window, title, name, pattern)

    def _start(self, what: str, function, *args) -> None:
        self.open_folder.setVisible(False)
        self.jobs.start(what, function, *args, message=f"{what}…")

    def _on_progress(self, percent: int, message: str) -> None:
        if message:
            self.window.statusBar().showMessage(f"{message} ({percent}%)")

    def _on_written(self, job, result) -> None:
        path = Path(result)
        self._last_written = path if path.is_dir() else path.parent
        self.window.statusBar().showMessage(f"{job.kind} done: {path}", 15000)
        self.open_folder.setVisible(True)
        self.exported.emit(str(path))

    def _open_last_folder(self) -> None:
        if self._last_written is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._last_written)))

    def _on_comparison_ready(self, _comparison) -> None:
        view, self._pending_view = self._pending_view, None
        if view is not None:
            self.apply_view(view)

    def _on_error(self, _message: str) -> None:
        self._pending_view = None  # a review that failed to open restores nothing

    def wait(self, timeout_ms: int = 60000) -> None:
        """Wait for a running export (scripts and tests)."""
        self.jobs.shutdown(timeout_ms)

    # ------------------------------------------------------------------ report
    def export_report(self, path: str | Path | None = None, label: str | None = None) -> None:
        """Write the PDF report and its HTML twin (``.html`` next to the PDF)."""
        from gui.export_work import write_report  # lazy: start-up time
        from gui.report_pdf import prepare_fonts, render_report_images

        state = self._state()
        if state is None:
            return
        c = state.comparison
        if label is None:
            label, ok = QInputDialog.getText(
                self.window, "Patient label", "Label printed on the report (no names or "
                "birth dates):", text=self.patient_label or c.subject)
            if not ok:
                return
        self.patient_label = label
        if path is None:
            path = self._ask_save("Export report", f"{c.subject}_report.pdf", "PDF (*.pdf)")
            if not path:
                return
        w = self.window
        data = w.slices.data
        try:  # the figures are views: drawn here, on the GUI thread; the map and the cursor
            # are the window's, the display is the report's own (never the view's filters)
            images = render_report_images(c, slice_data=data, cursor_mm=w.cursor.position,
                                          encode=False)  # PNG encoding: in the worker
        except (OSError, ValueError) as exc:
            w.show_error(user_message(exc, "Drawing the report's figures"))
            return
        prepare_fonts()  # the PDF's text is laid out in the worker
        self._start("Exporting the report", write_report, state, path, label,
                    data.title if data is not None else None, images)

    # ------------------------------------------------------------------ tables and maps
    def _ask_folder(self, title: str) -> str:
        return ask_existing_folder(self.window, title)

    def _output_folder(self, folder, names: list[str], overwrite: bool) -> Path | None:
        """Create and check the folder; ask before replacing files (unless ``overwrite``)."""
        from core.report.analysis_files import check_output_dir  # lazy: start-up time

        try:
            out = check_output_dir(folder, self.window.controller.inputs)
        except InputError as exc:
            self.window.show_error(user_message(exc, "Exporting"))
            return None
        clash = [n for n in names if (out / n).exists()]
        if clash and not overwrite:
            answer = QMessageBox.question(
                self.window, "Replace files?", f"{len(clash)} file(s) already exist in {out} "
                f"(e.g. {clash[0]}). Replace them?")
            if answer != QMessageBox.StandardButton.Yes:
                return None
        return out

    def export_tables(self, folder: str | Path | None = None, overwrite: bool = False) -> None:
        """Write the matrices and tables (TSV with ROI names) and summary.json to a folder."""
        from gui.export_work import write_tables  # lazy: start-up time

        state = self._state()
        if state is None:
            return
        folder = folder or self._ask_folder("Export matrices and tables into folder")
        if not folder:
            return
        names = ["connectivity_pre.tsv", "connectivity_post.tsv", "connectivity_delta.tsv",
                 "networks.tsv", "edges.tsv", "qc.tsv", "rois.tsv", "summary.json"]
        out = self._output_folder(folder, names, overwrite)
        if out is not None:
            self._start("Exporting the tables", write_tables, state, out)

    def export_maps(self, folder: str | Path | None = None, overwrite: bool = False) -> None:
        """Write strength, current (seed/GBC) and tSNR maps as NIfTI (MNI) into a folder."""
        from gui.export_work import map_names, write_maps  # lazy: start-up time

        state = self._state()
        if state is None:
            return
        folder = folder or self._ask_folder("Export maps (NIfTI) into folder")
        if not folder:
            return
        current = self.window.slices.data
        out = self._output_folder(folder, map_names(state, current), overwrite)
        if out is not None:
            self._start("Exporting the maps", write_maps, state, current, out)

    # ------------------------------------------------------------------ view export
    def install_view_menu(self, view) -> None:
        """Give a pyqtgraph view a right-click menu "Export view as PNG/SVG…"."""
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(lambda pos, v=view: self._view_menu(v, pos))

    def _view_menu(self, view, pos) -> None:
        menu = QMenu(view)
        menu.addAction("Export view as PNG…", lambda: self.export_view(view, ".png"))
        menu.addAction("Export view as SVG…", lambda: self.export_view(view, ".svg"))
        menu.popup(view.mapToGlobal(pos))

    def export_view(self, view, suffix: str = ".png", path: str | Path | None = None) -> None:
        """Save a view as PNG or SVG (asks for the file name when ``path`` is None).

        Drawn on the GUI thread: the view is a widget, and drawing it takes
        tens of milliseconds.
        """
        if path is None:
            path = self._ask_save("Export view", f"view{suffix}", _VIEW_FILTER)
            if not path:
                return
        try:
            written = export_view(view, path)
        except (InputError, OSError, ValueError) as exc:
            self.window.show_error(user_message(exc, "Exporting the view"))
            return
        self.window.statusBar().showMessage(f"View saved: {written}", 8000)
        self.exported.emit(str(written))

    # ------------------------------------------------------------------ saved reviews
    def view_state(self) -> dict:
        """Return the view as JSON-ready values (see :func:`gui.view_state.view_state`)."""
        return view_state(self.window, self.patient_label)

    def apply_view(self, view: dict) -> None:
        """Restore a saved view (see :func:`gui.view_state.apply_view`)."""
        apply_view(self.window, view)
        self.patient_label = view.get("patient_label")

    def save_review(self, path: str | Path | None = None, overwrite: bool = False) -> None:
        """Save the review (inputs + SHA-256, parameters, view) as a JSON file."""
        from gui.export_work import write_review  # lazy: start-up time

        state = self._state()
        if state is None:
            return
        if path is None:
            path = self._ask_save("Save review", f"{state.comparison.subject}.review.json",
                                  "Review (*.review.json *.json)")
            if not path:
                return
            overwrite = True  # the save dialog has asked before replacing a file
        self._start("Saving the review", write_review, state, path, self.view_state(),
                    overwrite)

    def open_review(self, path: str | Path | None = None) -> None:
        """Open a saved review: check its inputs, recompute, then restore the view."""
        from core.io.review_file import load_review, open_review_inputs  # lazy: start-up

        w = self.window
        if path is None:
            path = ask_open_file(w, "Open review", "Review (*.review.json *.json)")
            if not path:
                return
        try:  # a small JSON file: read here, so a bad file is reported at once
            review = load_review(path)
        except (InputError, OSError, ValueError) as exc:
            w.show_error(user_message(exc, "Opening the review"))
            return
        settings = review.analysis_settings
        strategy = settings.denoise.strategy or "auto"
        w.actions_.select(settings.atlas, strategy)
        w.actions_.gsr.setChecked(settings.denoise.gsr)
        w.actions_.band_pass.setChecked(settings.denoise.band_pass is not None)
        w.actions_.detrend.setChecked(settings.denoise.detrend)
        self._pending_view = dict(review.view)
        w.controller.open_inputs(lambda: open_review_inputs(review), settings)
