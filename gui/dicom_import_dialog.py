"""File → Import DICOM…: two visit folders -> BIDS (dcm2niix) -> preprocessing -> review.

Step 1 converts the pre and post folders into a BIDS dataset; step 2 looks for an
engine (fMRIPrep, else the quick path), shows the exact command, runs it with
progress and cancel, and hands the derivatives folder to the window
(``derivatives_ready``).  Every step runs in the dialog's JobRunner; the work itself
is core's (:mod:`core.preprocess`).
"""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QFontDatabase
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui import strings
from gui.file_dialogs import ask_existing_folder, ask_open_file
from gui.jobs import JobRunner
from gui.settings_store import app_settings

__all__ = ["DicomImportDialog"]

_ENGINES = (("auto", "Automatic (fMRIPrep when available, else quick)"),
            ("fmriprep", "fMRIPrep"), ("quick", "Quick preprocessing (labelled)"))


# ---------------------------------------------------------------- worker functions (no Qt)
def _import_work(pre: str, post: str, out: str, options: dict, progress):
    from core.preprocess.dicom_import import import_dicom

    return import_dicom(pre, post, out, progress=progress, **options)


def _plan_work(bids: str, out: str, options: dict, progress):
    from core.preprocess.engines import plan_preprocessing

    progress(0.0, "Looking for fMRIPrep and the quick path…")
    return plan_preprocessing(bids, out, **options)


def _run_work(plan, progress):
    from core.preprocess.engines import run_preprocessing

    return run_preprocessing(plan, progress)


def _series(text: str) -> int | tuple[int, int] | None:
    """``""`` (automatic), ``"4"`` or ``"4,6"`` (pre, post)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        return None
    numbers = [int(p) for p in parts]  # ValueError: shown to the user
    return numbers[0] if len(numbers) == 1 else (numbers[0], numbers[1])


def _text_box(height: int, placeholder: str) -> QPlainTextEdit:
    """Make a read-only, selectable, scrollable text area of fixed height."""
    box = QPlainTextEdit()
    box.setReadOnly(True)
    box.setFixedHeight(height)
    box.setPlaceholderText(placeholder)
    return box


def _left(*buttons: QPushButton) -> QWidget:
    """Put buttons in a row, at their natural width, left-aligned."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    for button in buttons:
        layout.addWidget(button)
    layout.addStretch(1)
    return row


class _FolderField(QWidget):
    """A path line edit with a Browse… button."""

    def __init__(self, title: str, start: str, file: bool = False) -> None:
        super().__init__()
        self.title, self.file = title, file
        del start  # the dialogs open in the last folder used (gui.file_dialogs)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.setMinimumWidth(420)
        button = QPushButton("Browse…")
        button.clicked.connect(self._browse)
        layout.addWidget(self.edit, 1)
        layout.addWidget(button)

    def _browse(self) -> None:
        start = self.edit.text()  # else the last folder used, in this dialog or another
        if self.file:
            path = ask_open_file(self, self.title, start=start)
        else:  # the next visit's folder is usually beside this one
            path = ask_existing_folder(self, self.title, remember_parent=True, start=start)
        if path:
            self.edit.setText(path)

    def text(self) -> str:
        return self.edit.text().strip()


class DicomImportDialog(QDialog):
    """Import two DICOM visits, preprocess them, open the result.

    Signals
    -------
    derivatives_ready(object)
        The derivatives folder (Path), once preprocessing finished.
    """

    derivatives_ready = pyqtSignal(object)

    def __init__(self, parent: QWidget | None = None, start_folder: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle(strings.IMPORT_DICOM_TITLE)
        self.setMinimumWidth(780)
        self.jobs = JobRunner("dicom-import", self)
        self.plan = None
        settings = app_settings()
        layout = QVBoxLayout(self)
        intro = QLabel(strings.IMPORT_DICOM_INTRO)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        step1 = QGroupBox("1. Convert the two visits to BIDS (dcm2niix, anonymised)")
        form = QFormLayout(step1)
        self.pre = _FolderField("DICOM folder of the visit before treatment", start_folder)
        self.post = _FolderField("DICOM folder of the visit after treatment", start_folder)
        self.bids = _FolderField("New folder for the BIDS dataset", start_folder)
        self.subject = QLineEdit("01")
        self.subject.setToolTip("Letters and digits; never the patient's name or hospital ID")
        self.bold_series = QLineEdit()
        self.t1w_series = QLineEdit()
        for field in (self.bold_series, self.t1w_series):
            field.setPlaceholderText("automatic")
            field.setToolTip("SeriesNumber: N for both visits, or PRE,POST")
        options = QWidget()
        row = QHBoxLayout(options)
        row.setContentsMargins(0, 0, 0, 0)
        for label, field in (("Subject label", self.subject), ("BOLD series", self.bold_series),
                             ("T1w series", self.t1w_series)):
            row.addWidget(QLabel(label))
            field.setMaximumWidth(120)
            row.addWidget(field)
            row.addSpacing(12)
        row.addStretch(1)
        for label, widget in (("Pre visit (DICOM folder)", self.pre),
                              ("Post visit (DICOM folder)", self.post),
                              ("BIDS dataset (new folder)", self.bids), ("", options)):
            form.addRow(label, widget)
        self.import_button = QPushButton("Import")
        form.addRow("", _left(self.import_button))
        self.summary = _text_box(86, "What was imported appears here.")
        form.addRow("Imported", self.summary)
        layout.addWidget(step1)
        step2 = QGroupBox("2. Preprocess into MNI space")
        form2 = QFormLayout(step2)
        self.deriv = _FolderField("New folder for the derivatives", start_folder)
        self.engine = QComboBox()
        for key, label in _ENGINES:
            self.engine.addItem(label, key)
        self.image = QLineEdit(str(settings.value("fmriprep_image", "") or ""))
        self.image.setPlaceholderText("optional: docker:nipreps/fmriprep:25.2.0 or "
                                      "apptainer:/path/fmriprep.sif")
        self.license = _FolderField("FreeSurfer licence file", start_folder, file=True)
        self.license.edit.setText(str(settings.value("fs_license", "") or ""))
        self.license.edit.setPlaceholderText("needed by fMRIPrep (default $FS_LICENSE)")
        for label, widget in (("Derivatives (new folder)", self.deriv),
                              ("Engine", self.engine), ("fMRIPrep container image", self.image),
                              ("FreeSurfer licence", self.license)):
            form2.addRow(label, widget)
        self.check_button = QPushButton("Check engine and show command")
        self.run_button = QPushButton("Preprocess")
        self.run_button.setEnabled(False)
        form2.addRow("", _left(self.check_button, self.run_button))
        self.command = _text_box(126, "The engine and the exact command appear here.")
        self.command.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        form2.addRow("Plan", self.command)
        layout.addWidget(step2)
        self.status = QLabel(strings.IMPORT_DICOM_IDLE)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setFormat("%p%")
        bottom = QHBoxLayout()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.close_button = QPushButton("Close")
        bottom.addWidget(self.progress, 1)
        bottom.addWidget(self.cancel_button)
        bottom.addWidget(self.close_button)
        layout.addWidget(self.status)
        layout.addLayout(bottom)
        self._wire()

    def _wire(self) -> None:
        self.import_button.clicked.connect(self.start_import)
        self.check_button.clicked.connect(self.check_engine)
        self.run_button.clicked.connect(self.start_preprocessing)
        self.cancel_button.clicked.connect(self.jobs.cancel)
        self.close_button.clicked.connect(self.close)
        self.jobs.progressed.connect(self._on_progress)
        self.jobs.busy_changed.connect(self._on_busy)
        self.jobs.succeeded.connect(self._on_succeeded)
        self.jobs.failed.connect(lambda _job, message: self._show(message, error=True))
        self.jobs.cancelled.connect(lambda _job: self._show(strings.IMPORT_DICOM_CANCELLED))
        for field in (self.deriv.edit, self.image, self.license.edit, self.bids.edit):
            field.textChanged.connect(self._forget_plan)
        self.engine.currentIndexChanged.connect(self._forget_plan)

    # ------------------------------------------------------------------ intents
    def start_import(self) -> None:
        """Convert the two visit folders (step 1) in the background."""
        try:
            options = {"subject": self.subject.text().strip() or None,
                       "bold_series": _series(self.bold_series.text()),
                       "t1w_series": _series(self.t1w_series.text())}
        except ValueError:
            self._show("Series numbers: a number, or two separated by a comma (pre,post)",
                       error=True)
            return
        if not (self.pre.text() and self.post.text() and self.bids.text()):
            self._show("Choose the pre and post DICOM folders and a new BIDS folder", error=True)
            return
        self.jobs.start("import", _import_work, self.pre.text(), self.post.text(),
                        self.bids.text(), options, message="Reading the DICOM headers…")

    def check_engine(self) -> None:
        """Choose the engine and build the command (no preprocessing yet)."""
        if not (self.bids.text() and self.deriv.text()):
            self._show("Choose the BIDS dataset and a new derivatives folder", error=True)
            return
        settings = app_settings()
        settings.setValue("fmriprep_image", self.image.text().strip())
        settings.setValue("fs_license", self.license.text())
        options = {"engine": self.engine.currentData(),
                   "fmriprep_image": self.image.text().strip() or None,
                   "fs_license": self.license.text() or None}
        self.jobs.start("plan", _plan_work, self.bids.text(), self.deriv.text(), options,
                        message="Looking for fMRIPrep…")

    def start_preprocessing(self) -> None:
        """Run the checked plan (step 2); cancel stops fMRIPrep, a rerun resumes."""
        if self.plan is not None:
            self.jobs.start("run", _run_work, self.plan, message="Starting…")

    # ------------------------------------------------------------------ results
    def _on_succeeded(self, job, result) -> None:
        if job.kind == "import":
            self._show_import(result)
        elif job.kind == "plan":
            self.plan = result
            lines = [*result.notes]
            lines.append(f"Command: {result.command}" if result.command else
                         "The quick path runs inside this application; its registration "
                         "check must be accepted before analysis.")
            self.command.setPlainText("\n".join(lines))
            self.run_button.setEnabled(True)
            engine = "fMRIPrep" if result.engine == "fmriprep" else "the quick path"
            self._show(f"Ready to preprocess with {engine}: press Preprocess.")
        else:
            self._show(f"Derivatives written to {result.derivatives}; opening them for review.")
            self.derivatives_ready.emit(result.derivatives)

    def _show_import(self, result) -> None:
        lines = [f"BIDS dataset written: {result.bids_dir} (sub-{result.subject})"]
        for s in result.sessions:
            lines.append(f"ses-{s.label}: {s.bold_series}, {s.n_volumes} volumes, TR "
                         f"{s.tr:g} s; T1w: {s.t1w_series or 'none'}")
        lines += [f"Note: {note}" for note in result.notes]
        self.summary.setPlainText("\n".join(lines))
        self._show("Imported. Step 2: check the engine, then preprocess.")
        if not self.deriv.text():
            self.deriv.edit.setText(f"{result.bids_dir}_derivatives")

    def _forget_plan(self, *_args) -> None:
        self.plan = None
        self.run_button.setEnabled(False)
        self.command.clear()

    # ------------------------------------------------------------------ view
    def _show(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color:#b00;" if error else "")

    def _on_progress(self, percent: int, message: str) -> None:
        self.progress.setValue(percent)
        if message:
            self._show(message)

    def _on_busy(self, busy: bool) -> None:
        for widget in (self.import_button, self.check_button, self.close_button):
            widget.setEnabled(not busy)
        self.run_button.setEnabled(not busy and self.plan is not None)
        self.cancel_button.setEnabled(busy)

    def closeEvent(self, event) -> None:
        self.jobs.shutdown()  # a running fMRIPrep is stopped (its work folder is kept)
        super().closeEvent(event)
