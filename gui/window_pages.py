"""The window's two pages: "no patient open" with its buttons, and the review layout."""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSlider,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui import strings
from gui.cursor import CursorModel
from gui.matrix_view import MatrixView
from gui.slice_view import SliceGrid
from gui.timeseries_view import TimeSeriesView

__all__ = ["COLORMAPS", "DIVERGING_MAPS", "EmptyPage", "ReviewPage"]

COLORMAPS = ("inferno", "viridis", "plasma", "CET-L3")
#: Colour maps of signed maps and Δ: (name shown, pyqtgraph colour map)
DIVERGING_MAPS = (("blue–white–red", "CET-D1"), ("blue–black–red", "CET-D4"),
                  ("green–white–red", "CET-D3"), ("blue–grey–yellow", "CET-D7"))
_OPENERS = ("open_demo", "open_fmriprep", "open_nifti", "open_timeseries", "import_dicom")


class EmptyPage(QWidget):
    """Shown before a patient is open: one button per way of opening one.

    While a patient opens (the demo is generated on the first run), what is
    happening and how far it is shows under the buttons, with a Cancel button.

    Signals
    -------
    cancel_requested()
    """

    cancel_requested = pyqtSignal()

    def __init__(self, actions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        title = QLabel(f"<h2>{strings.EMPTY_TITLE}</h2><p>{strings.EMPTY_HINT}</p>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        self.buttons: dict[str, QPushButton] = {}
        for key in _OPENERS:
            action = getattr(actions, key)
            button = QPushButton(action.text())
            button.setMinimumWidth(280)
            button.clicked.connect(action.trigger)
            row = QHBoxLayout()
            row.addStretch(1)
            row.addWidget(button)
            row.addStretch(1)
            layout.addLayout(row)
            self.buttons[key] = button
        layout.addSpacing(18)
        self.activity = QLabel()
        self.activity.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.progress = QProgressBar()
        self.progress.setFixedWidth(420)
        self.progress.setTextVisible(True)
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self.cancel_requested)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.progress)
        row.addWidget(self.cancel)
        row.addStretch(1)
        layout.addWidget(self.activity)
        layout.addLayout(row)
        layout.addStretch(2)
        self.set_busy(False)

    def set_busy(self, busy: bool) -> None:
        """Show or hide what is happening (the activity line, progress bar, Cancel)."""
        for widget in (self.activity, self.progress, self.cancel):
            widget.setVisible(busy)
        if busy:
            self.show_progress(0, "Opening…")

    def show_progress(self, percent: int, message: str) -> None:
        """Show how far the job is and what it does."""
        self.progress.setValue(percent)
        if message:
            self.activity.setText(message)


class ReviewPage(QWidget):
    """Header and slice tools above linked slices (left) and the tabs (right).

    Later panels (QC, statistics, network change, seeds) are added to ``tabs``;
    :func:`gui.slice_tools.install_slice_tools` wires the slice tools.
    """

    def __init__(self, cursor: CursorModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 0)
        self.header = QLabel()
        self.header.setWordWrap(True)
        layout.addWidget(self.header)
        self.go_to = QLineEdit()
        self.go_to.setPlaceholderText("Go to x, y, z or ROI name")
        self.go_to.setClearButtonEnabled(True)
        self.go_to.setMinimumWidth(190)
        self.go_to.setMaximumWidth(230)
        self.go_to.setToolTip("Type MNI coordinates in mm (0, -52, 26) or part of an ROI name "
                              "(pcc, default pfc), then Enter (Ctrl+G comes here)")
        self.crosshair = QCheckBox("Crosshair")
        self.crosshair.setChecked(True)
        self.fit_button = QPushButton("Fit slices")
        self.fit_button.setToolTip("Undo zoom and pan. In the slices: wheel zooms, middle drag "
                                   "or Shift+drag pans, double click fits")
        self.colormap = QComboBox()
        self.colormap.addItems(COLORMAPS)
        self.diverging = QComboBox()
        for label, name in DIVERGING_MAPS:
            self.diverging.addItem(label, name)
        self.diverging.setToolTip("Colour map of signed maps (seed maps, GBC) and of every Δ")
        self.threshold = QSlider(Qt.Orientation.Horizontal)
        self.threshold.setRange(0, 90)
        self.threshold.setValue(10)
        self.threshold.setToolTip("Hide overlay values below this % of each colour scale")
        self.threshold_value = QLabel()
        self.threshold_value.setToolTip("The smallest values shown, in the map's units")
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(10, 100)
        self.opacity.setValue(85)
        self.opacity_value = QLabel()
        controls = QHBoxLayout()
        for item in (self.go_to, self.crosshair, self.fit_button, None,
                     "Colour map", self.colormap, "signed & Δ", self.diverging, None,
                     "Threshold", self.threshold, self.threshold_value, None,
                     "Opacity", self.opacity, self.opacity_value):
            if item is None:
                line = QFrame()
                line.setFrameShape(QFrame.Shape.VLine)
                line.setFrameShadow(QFrame.Shadow.Sunken)
                controls.addWidget(line)
            else:
                controls.addWidget(QLabel(item) if isinstance(item, str) else item)
        for slider in (self.threshold, self.opacity):
            slider.setMinimumWidth(60)
            slider.setMaximumWidth(110)
        controls.addStretch(1)
        layout.addLayout(controls)
        self.slices = SliceGrid(cursor)
        self.matrices = MatrixView()
        self.timeseries = TimeSeriesView()
        self.right = QSplitter(Qt.Orientation.Vertical)
        self.right.addWidget(self.matrices)
        self.right.addWidget(self.timeseries)
        self.right.setSizes([580, 280])
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.right, "Connectivity")
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.slices)
        self.splitter.addWidget(self.tabs)
        self.splitter.setSizes([780, 820])
        layout.addWidget(self.splitter, 1)
