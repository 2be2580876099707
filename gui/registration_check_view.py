"""The registration check of quick-preprocessing derivatives, before any analysis.

Opening quick derivatives whose check nobody has accepted stops in the
controller (:class:`core.io.preprocessing_route.RegistrationNotAccepted`);
:func:`show_registration_check` then shows the same images the quick path
wrote (the MNI template's edges over each session's mean EPI in three planes)
with the route's warnings.  Accepting records who and when
(:func:`core.io.preprocessing_route.accept_registration`, a small JSON) and
opens the patient again; "Not now" opens nothing.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QPixmap
from PyQt6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

__all__ = ["RegistrationCheckView", "show_registration_check"]

INTRO = ("<b>These data were preprocessed with the quick path, not fMRIPrep.</b> Before any "
         "analysis, look at every session: the <span style='color:#d00'>red edges of the MNI "
         "template</span> must follow the brain's outline, the ventricles and the large sulci "
         "in all three rows (sagittal, coronal, axial). A misregistered brain puts every ROI "
         "in the wrong place.")


class RegistrationCheckView(QDialog):
    """Shows the check images and warnings; the user accepts them or not.

    Parameters
    ----------
    provenance : core.io.preprocessing_route.QuickProvenance
    parent : QWidget, optional

    Signals
    -------
    accepted_by(str)
        The reviewer's name, when the user accepts.
    """

    accepted_by = pyqtSignal(str)

    def __init__(self, provenance, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.provenance = provenance
        self.setWindowTitle("Registration check — quick preprocessing")
        layout = QVBoxLayout(self)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.warnings = QLabel("<br>".join(f"⚠ {w}" for w in provenance.warnings))
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #b00000;")
        self.warnings.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        warnings = QScrollArea()  # a long list scrolls instead of squeezing the images
        warnings.setWidgetResizable(True)
        warnings.setWidget(self.warnings)
        warnings.setFrameShape(QScrollArea.Shape.NoFrame)
        warnings.setMaximumHeight(6 * self.fontMetrics().lineSpacing())
        layout.addWidget(warnings)
        if provenance.stale_reason:
            stale = QLabel(f"An earlier acceptance no longer holds: {provenance.stale_reason}.")
            stale.setWordWrap(True)
            layout.addWidget(stale)
        self.tabs = QTabWidget()
        self._pixmaps: list[tuple[QLabel, QPixmap]] = []
        for image in provenance.check_images:
            self.tabs.addTab(self._image_tab(image), _session_of(image.name))
        layout.addWidget(self.tabs, 1)
        layout.addLayout(self._acceptance_row())

    def _image_tab(self, path) -> QWidget:
        label = QLabel()
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        pixmap = QPixmap(str(path))
        if pixmap.isNull():
            label.setText(f"Cannot show {path}")
        else:
            self._pixmaps.append((label, pixmap))
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(label)
        scroll.setStyleSheet("background: black;")
        return scroll

    def _acceptance_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.fit = QCheckBox("Whole image in view")
        self.fit.setToolTip("Unticked: the images fill the width; scroll to see every row")
        self.fit.setChecked(True)
        self.fit.toggled.connect(self._scale_images)
        row.addWidget(self.fit)
        row.addSpacing(24)
        row.addWidget(QLabel("Reviewer:"))
        self.reviewer = QLineEdit(_login_name())
        self.reviewer.setMaximumWidth(260)
        row.addWidget(self.reviewer)
        row.addStretch(1)
        buttons = QDialogButtonBox()
        self.accept_button = QPushButton("I looked at every session: accept the registration")
        self.accept_button.setAutoDefault(False)  # Enter must not accept by accident
        self.later_button = QPushButton("Not now")
        buttons.addButton(self.accept_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.later_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.accept_button.setDefault(False)
        self.later_button.setDefault(True)  # Enter means "not now", never "accept"
        buttons.accepted.connect(self._on_accept)
        buttons.rejected.connect(self.reject)
        row.addWidget(buttons)
        return row

    def _on_accept(self) -> None:
        self.accepted_by.emit(" ".join(self.reviewer.text().split()))
        self.accept()

    def resizeEvent(self, event) -> None:
        """Scale the images to the room available, keeping their proportions."""
        super().resizeEvent(event)
        self._scale_images()

    def _scale_images(self) -> None:
        width = max(200, self.tabs.width() - 30)
        height = max(150, self.tabs.height() - self.tabs.tabBar().height() - 10)
        for label, pixmap in self._pixmaps:
            if self.fit.isChecked():
                scaled = pixmap.scaled(min(width, pixmap.width()), min(height, pixmap.height()),
                                       Qt.AspectRatioMode.KeepAspectRatio,
                                       Qt.TransformationMode.SmoothTransformation)
            else:
                scaled = pixmap.scaledToWidth(min(width, pixmap.width()),
                                              Qt.TransformationMode.SmoothTransformation)
            label.setPixmap(scaled)


def _session_of(name: str) -> str:
    parts = [p for p in name.split("_") if p.startswith("ses-")]
    return parts[0] if parts else name


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


def show_registration_check(window, pending, reopen: Callable) -> RegistrationCheckView:
    """Show the check for derivatives the controller could not open; accept, then reopen.

    Parameters
    ----------
    window : gui.main_window.MainWindow
    pending : core.io.preprocessing_route.RegistrationNotAccepted
    reopen : callable
        Opens the same inputs again (given to the controller).

    Returns
    -------
    RegistrationCheckView
        Shown non-modally-blocking (``open``); kept on ``window.registration_check``.
    """
    view = RegistrationCheckView(pending.provenance, window)
    screen = window.screen().availableGeometry() if window.screen() else None
    if screen is not None:
        view.resize(min(1280, screen.width() - 40), min(900, screen.height() - 60))

    def accept(reviewer: str) -> None:
        from core.errors import InputError
        from core.io.preprocessing_route import accept_registration

        try:
            accept_registration(pending.provenance.root, reviewer or None)
        except (InputError, OSError) as exc:
            window.show_error(str(exc))
            return
        window.statusBar().showMessage("Registration check accepted; opening the patient", 8000)
        window.controller.open_inputs(reopen)

    view.accepted_by.connect(accept)
    view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    window.registration_check = view
    view.open()
    return view
