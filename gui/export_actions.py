"""File → Export report / tables / maps, Save and Open review; right-click view export.

``ExportActions(window)`` adds its actions to the window's File menu (before
Quit) and a "Export view as PNG/SVG" context menu to the matrix and slice
views.  Every public method takes an explicit destination (used by tests and
scripts) or asks with a file dialog when none is given.  Errors go to
``window.show_error``; nothing is ever written into an input folder, and
nothing is overwritten without asking.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMenu, QMessageBox

from core.errors import InputError
from core.io.files import atomic_path
from gui.view_state import apply_view, view_state

__all__ = ["ExportActions", "export_view"]

log = logging.getLogger(__name__)
_VIEW_FILTER = "PNG image (*.png);;SVG vector image (*.svg)"


def export_view(widget, path: str | Path, scale: float = 2.0) -> Path:
    """Save a pyqtgraph view (its whole scene) as PNG or SVG, atomically.

    Parameters
    ----------
    widget : pyqtgraph.GraphicsView
        E.g. ``MatrixView.graphics`` or a ``SliceGrid``.
    path : str or Path
        ``.png`` or ``.svg``.
    scale : float, default=2
        PNG size relative to the widget on screen.

    Returns
    -------
    Path
    """
    import pyqtgraph.exporters as exporters

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise InputError("expected a .png or .svg file name", path)
    with atomic_path(path, suffix) as temporary:
        temp = str(temporary)
        if suffix == ".png":
            exporter = exporters.ImageExporter(widget.scene())
            exporter.parameters()["width"] = max(int(widget.width() * scale), 400)
            if not exporter.export(temp):
                raise OSError(f"{path}: the image could not be written")
        else:
            try:
                exporters.SVGExporter(widget.scene()).export(temp)
            except ValueError:  # pyqtgraph 0.14 cannot parse some Qt 6 SVG paths
                log.info("pyqtgraph's SVG exporter failed; drawing the SVG with QtSvg")
                _qt_svg(widget, temp)
    return path


def _qt_svg(widget, target: str) -> None:
    """Draw a view into an SVG file with Qt's own QSvgGenerator."""
    from PyQt6.QtCore import QRect, QSize
    from PyQt6.QtGui import QPainter
    from PyQt6.QtSvg import QSvgGenerator

    generator = QSvgGenerator()
    generator.setFileName(target)
    generator.setSize(QSize(widget.width(), widget.height()))
    generator.setViewBox(QRect(0, 0, widget.width(), widget.height()))
    generator.setTitle("prepost-review view")
    painter = QPainter()
    if not painter.begin(generator):
        raise OSError(f"{target}: the SVG file cannot be written")
    try:
        widget.render(painter)
    finally:
        painter.end()


class ExportActions(QObject):
    """Export and saved-review actions of a MainWindow.

    Signals
    -------
    exported(str)
        The path of every file or folder written.
    """

    exported = pyqtSignal(str)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.patient_label: str | None = None
        self._pending_view: dict | None = None

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
        file_menu = window.menuBar().actions()[0].menu()
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
        window.controller.comparison_ready.connect(self._on_comparison_ready)
        window.controller.error_occurred.connect(self._on_error)
        # the menu exports wait for the deferred QC and the statistics, so the export
        # (run on the GUI thread) never has to compute them there
        window.review.stats_controller.analysis_finished.connect(self._on_analysis_finished)
        window.controller.busy_changed.connect(self._on_busy_changed)
        self._enable(False)

    # ------------------------------------------------------------------ helpers
    def _enable(self, on: bool) -> None:
        for action in self.needs_patient:
            action.setEnabled(on)

    def _ready(self) -> bool:
        if self.window.comparison is None or self.window.controller.inputs is None:
            self.window.show_error("Open a patient first; there is nothing to export.")
            return False
        return True

    def _ask_save(self, title: str, name: str, pattern: str) -> str:
        folder = Path(str(self.window._last_folder()))
        path, _ = QFileDialog.getSaveFileName(self.window, title, str(folder / name), pattern)
        return path

    def _run(self, what: str, job):
        """Run ``job()`` with a busy cursor; turn errors into a dialog; return its result."""
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            return job()
        except (InputError, OSError, ValueError) as exc:
            log.warning("%s failed: %s", what, exc)
            self.window.show_error(f"{what} failed: {exc}")
        finally:
            QApplication.restoreOverrideCursor()
        return None

    def _on_analysis_finished(self, comparison) -> None:
        self._enable(comparison is self.window.comparison)

    def _on_busy_changed(self, busy: bool) -> None:
        # while a patient opens nothing is exported; if the opening fails, the patient
        # still shown can be exported again once its analysis had finished
        stats = self.window.review.stats_controller
        self._enable(not busy and self.window.comparison is not None
                     and stats.comparison is self.window.comparison and stats.stats is not None)

    def _on_comparison_ready(self, _comparison) -> None:
        view, self._pending_view = self._pending_view, None
        if view is not None:
            self.apply_view(view)

    def _on_error(self, _message: str) -> None:
        self._pending_view = None  # a review that failed to open restores nothing

    # ------------------------------------------------------------------ report
    def export_report(self, path: str | Path | None = None, label: str | None = None) -> None:
        """Write the PDF report and its HTML twin (``.html`` next to the PDF)."""
        if not self._ready():
            return
        c = self.window.comparison
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
        written = self._run("Exporting the report", lambda: self._write_report(path, label))
        if written:
            self.window.statusBar().showMessage(f"Report written: {written}", 6000)
            self.exported.emit(str(written))

    def _write_report(self, path, label: str) -> Path:
        from core.report.content import (
            build_report_content,
            check_report_path,
            write_report_html,
        )
        from gui.report_pdf import write_pdf

        w = self.window
        inputs = w.controller.inputs
        out = check_report_path(path, inputs)
        data = w.slices.data
        content = build_report_content(w.comparison, inputs, patient_label=label,
                                       map_title=data.title if data is not None else None)
        blocks = w.actions_.network_blocks.isChecked()
        images = write_pdf(out, content, w.comparison, slice_data=data,
                           cursor_mm=w.cursor.position, style=w.slices.style_, blocks=blocks,
                           delta=w.matrices.shown_delta() if not blocks else None)
        write_report_html(out.with_suffix(".html"), content, images)
        return out

    # ------------------------------------------------------------------ tables and maps
    def _ask_folder(self, title: str) -> str:
        return QFileDialog.getExistingDirectory(self.window, title, self.window._last_folder())

    def _confirm_overwrite(self, folder: Path, names: list[str]) -> bool:
        clash = [n for n in names if (folder / n).exists()]
        if not clash:
            return True
        answer = QMessageBox.question(
            self.window, "Replace files?", f"{len(clash)} file(s) already exist in {folder} "
            f"(e.g. {clash[0]}). Replace them?")
        return answer == QMessageBox.StandardButton.Yes

    def export_tables(self, folder: str | Path | None = None, overwrite: bool = False) -> None:
        """Write the matrices and tables (TSV with ROI names) and summary.json to a folder."""
        from core.report.analysis_files import check_output_dir, write_analysis_outputs

        if not self._ready():
            return
        folder = folder or self._ask_folder("Export matrices and tables into folder")
        if not folder:
            return
        names = ["connectivity_pre.tsv", "connectivity_post.tsv", "connectivity_delta.tsv",
                 "networks.tsv", "edges.tsv", "qc.tsv", "rois.tsv", "summary.json"]
        w = self.window

        def job():
            out = check_output_dir(folder, w.controller.inputs)
            if not overwrite and not self._confirm_overwrite(out, names):
                return None
            write_analysis_outputs(w.comparison, w.controller.inputs, out)
            return out

        out = self._run("Exporting the tables", job)
        if out:
            self.exported.emit(str(out))

    def map_volumes(self) -> dict[str, tuple[np.ndarray, np.ndarray, str]]:
        """Return the maps to export: ``{file stem: (volume, affine, description)}``."""
        from core.maps.display import display_template, roi_map

        w = self.window
        c = w.comparison
        maps: dict[str, tuple[np.ndarray, np.ndarray, str]] = {}
        if c.atlas is not None:
            affine = display_template().affine
            for key, values in (("pre", c.pre.strength), ("post", c.post.strength),
                                ("delta", c.delta_strength)):
                maps[f"strength_{key}"] = (roi_map(c, values), affine,
                                           f"ROI strength z {key} ({c.atlas.name})")
        data = w.slices.data
        if data is not None and "strength" not in data.title.lower():
            for key in ("pre", "post", "delta"):
                maps[f"current_map_{key}"] = (getattr(data, key), data.affine,
                                              f"{data.title} {key}")
        for qc in c.complete_qc() or ():
            if qc.tsnr_map is not None and qc.affine is not None:
                maps[f"tsnr_{qc.label}"] = (qc.tsnr_map, qc.affine, f"tSNR {qc.label}")
        return maps

    def export_maps(self, folder: str | Path | None = None, overwrite: bool = False) -> None:
        """Write strength, current (seed/GBC) and tSNR maps as NIfTI (MNI) into a folder."""
        from core.maps.export import save_map
        from core.report.analysis_files import check_output_dir

        if not self._ready():
            return
        folder = folder or self._ask_folder("Export maps (NIfTI) into folder")
        if not folder:
            return
        w = self.window

        def job():
            out = check_output_dir(folder, w.controller.inputs)
            maps = self.map_volumes()
            names = [f"{stem}.nii.gz" for stem in maps]
            if not overwrite and not self._confirm_overwrite(out, names):
                return None
            for stem, (volume, affine, text) in maps.items():
                save_map(out / f"{stem}.nii.gz", volume, affine, description=text)
            return out

        out = self._run("Exporting the maps", job)
        if out:
            self.exported.emit(str(out))

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
        """Save a view as PNG or SVG (asks for the file name when ``path`` is None)."""
        if path is None:
            name = f"view{suffix}"
            path = self._ask_save("Export view", name, _VIEW_FILTER)
            if not path:
                return
        written = self._run("Exporting the view", lambda: export_view(view, path))
        if written:
            self.exported.emit(str(written))

    # ------------------------------------------------------------------ saved reviews
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
        from core.io.review_file import make_review, save_review

        if not self._ready():
            return
        w = self.window
        if path is None:
            path = self._ask_save("Save review", f"{w.comparison.subject}.review.json",
                                  "Review (*.review.json *.json)")
            if not path:
                return
            overwrite = True  # the save dialog has asked before replacing a file
        review = self._run("Saving the review", lambda: save_review(
            path, make_review(w.controller.inputs, w.controller.settings, self.view_state()),
            overwrite=overwrite))
        if review:
            w.statusBar().showMessage(f"Review saved: {path}", 6000)
            self.exported.emit(str(path))

    def open_review(self, path: str | Path | None = None) -> None:
        """Open a saved review: check its inputs, recompute, then restore the view."""
        from core.io.review_file import load_review, open_review_inputs

        w = self.window
        if path is None:
            path, _ = QFileDialog.getOpenFileName(w, "Open review", w._last_folder(),
                                                  "Review (*.review.json *.json)")
            if not path:
                return
        review = self._run("Opening the review", lambda: load_review(path))
        if review is None:
            return
        settings = review.analysis_settings
        strategy = settings.denoise.strategy or "auto"
        w.actions_.select(settings.atlas, strategy)
        w.actions_.gsr.setChecked(settings.denoise.gsr)
        w.actions_.band_pass.setChecked(settings.denoise.band_pass is not None)
        self._pending_view = dict(review.view)
        w.controller.open_inputs(lambda: open_review_inputs(review), settings)
