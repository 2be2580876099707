"""Menus and actions of the main window (File, View, Analysis, Help)."""

from __future__ import annotations

from PyQt6.QtGui import QAction, QActionGroup, QKeySequence

from core.atlas.atlases import DEFAULT_ATLAS, list_atlases
from core.settings import DEFAULT_BAND_PASS, STRATEGIES, AnalysisSettings, DenoiseSettings
from gui import strings

__all__ = ["Actions", "build_menus"]

BAND_PASS = DEFAULT_BAND_PASS


class Actions:
    """All QActions of the window, created once, wired by the window."""

    def __init__(self, window) -> None:
        def act(text: str, shortcut=None, checkable: bool = False, tip: str = "") -> QAction:
            action = QAction(text, window)
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
            action.setCheckable(checkable)
            if tip:
                action.setStatusTip(tip)
            return action

        self.open_demo = act(strings.OPEN_DEMO, "Ctrl+D",
                             tip="Synthetic patient for trying the app")
        self.open_fmriprep = act(strings.OPEN_FMRIPREP, QKeySequence.StandardKey.Open)
        self.open_nifti = act(strings.OPEN_NIFTI, "Ctrl+Shift+O")
        self.open_timeseries = act(strings.OPEN_TIMESERIES, "Ctrl+Shift+T")
        self.import_dicom = act(strings.IMPORT_DICOM, "Ctrl+I", tip="Two DICOM visit folders "
                                "-> BIDS -> fMRIPrep or the quick path -> review")
        self.quit = act("Quit", QKeySequence.StandardKey.Quit)
        self.show_matrices = act("Show matrices", "Ctrl+M", checkable=True)
        self.show_timeseries = act("Show time series", "Ctrl+T", checkable=True)
        self.network_blocks = act("Network blocks in matrices", "Ctrl+B", checkable=True)
        self.reset_cursor = act("Centre cursor on the PCC", "Home")
        for action in (self.show_matrices, self.show_timeseries):
            action.setChecked(True)
        self.atlas_group = QActionGroup(window)
        self.atlases: dict[str, QAction] = {}
        for info in list_atlases():
            action = act(info.title, checkable=True)
            action.setData(info.name)
            self.atlas_group.addAction(action)
            self.atlases[info.name] = action
        self.atlases[DEFAULT_ATLAS].setChecked(True)
        self.strategy_group = QActionGroup(window)
        self.strategies: dict[str, QAction] = {}
        for name in ("auto", *STRATEGIES):
            label = "Automatic (simple if confounds exist)" if name == "auto" else name
            action = act(f"Denoising: {label}", checkable=True)
            action.setData(name)
            self.strategy_group.addAction(action)
            self.strategies[name] = action
        self.strategies["auto"].setChecked(True)
        self.gsr = act("Global signal regression", checkable=True)
        self.band_pass = act(f"Band-pass {BAND_PASS[0]:g}–{BAND_PASS[1]:g} Hz", checkable=True)
        self.band_pass.setChecked(True)
        self.detrend = act("Linear detrending", checkable=True,
                           tip="Off for series another tool already cleaned: with strategy "
                               "none and no band-pass the matrices are then plain Pearson "
                               "correlations")
        self.detrend.setChecked(True)
        self.recompute = act("Recompute", "Ctrl+R",
                             tip="Run the analysis again with these settings")
        self.choose_reference = act(strings.REFERENCE_CHOOSE, tip="Judge changes against a "
                                    "reference of untreated repeat scans (made by `cohort`)")
        self.clear_reference = act(strings.REFERENCE_NONE)
        self.delta_reference_sd = act(strings.DELTA_REFERENCE_SD, checkable=True)
        self.delta_reference_sd.setEnabled(False)
        self.about = act("About…", QKeySequence.StandardKey.HelpContents)

    def settings(self) -> AnalysisSettings:
        """AnalysisSettings described by the checked actions."""
        atlas = self.atlas_group.checkedAction()
        strategy = self.strategy_group.checkedAction()
        name = strategy.data() if strategy else "auto"
        denoise = DenoiseSettings(
            strategy=None if name == "auto" else name,
            gsr=self.gsr.isChecked(),
            band_pass=BAND_PASS if self.band_pass.isChecked() else None,
            detrend=self.detrend.isChecked(),
        )
        return AnalysisSettings(atlas=atlas.data() if atlas else DEFAULT_ATLAS, denoise=denoise)

    def select(self, atlas: str | None, strategy: str | None) -> None:
        """Check the atlas and strategy actions by name (unknown names are ignored)."""
        if atlas in self.atlases:
            self.atlases[atlas].setChecked(True)
        if strategy in self.strategies:
            self.strategies[strategy].setChecked(True)


def build_menus(window, actions: Actions):
    """Fill the window's menu bar; return the File menu and its Recent submenu."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    for action in (actions.open_demo, actions.open_fmriprep, actions.open_nifti,
                   actions.open_timeseries, actions.import_dicom):
        file_menu.addAction(action)
    recent = file_menu.addMenu("Recent patients")
    file_menu.addSeparator()
    file_menu.addAction(actions.quit)
    view = bar.addMenu("&View")
    for action in (actions.show_matrices, actions.show_timeseries, actions.network_blocks,
                   actions.delta_reference_sd, actions.reset_cursor):
        view.addAction(action)
    analysis = bar.addMenu("&Analysis")
    atlas_menu = analysis.addMenu("Atlas")
    for action in actions.atlases.values():
        atlas_menu.addAction(action)
    strategy_menu = analysis.addMenu("Denoising strategy")
    for action in actions.strategies.values():
        strategy_menu.addAction(action)
    analysis.addAction(actions.gsr)
    analysis.addAction(actions.band_pass)
    analysis.addAction(actions.detrend)
    analysis.addSeparator()
    analysis.addAction(actions.choose_reference)
    analysis.addAction(actions.clear_reference)
    analysis.addSeparator()
    analysis.addAction(actions.recompute)
    help_menu = bar.addMenu("&Help")
    help_menu.addAction(actions.about)
    return file_menu, recent


def about_text() -> str:
    """HTML for the About box: the app's version, libraries, atlas licences, disclaimer."""
    import platform

    import nibabel
    import nilearn
    import numpy
    import pyqtgraph
    from PyQt6.QtCore import PYQT_VERSION_STR, QT_VERSION_STR

    from core import __version__

    versions = (f"Python {platform.python_version()} · PyQt {PYQT_VERSION_STR} (Qt "
                f"{QT_VERSION_STR}) · pyqtgraph {pyqtgraph.__version__} · numpy "
                f"{numpy.__version__} · nibabel {nibabel.__version__} · nilearn "
                f"{nilearn.__version__}")
    atlases = "".join(f"<li><b>{a.title}</b>: {a.licence}<br><small>{a.citation}</small></li>"
                      for a in list_atlases())
    from core.logs import log_file_path

    return (f"<h3>{strings.APP_NAME}</h3><p>Version {__version__} (prepost-review)</p>"
            f"<p><b>{strings.DISCLAIMER}</b></p><p>{versions}</p>"
            f"<p>Underlay: MNI152 2009 template from nilearn (offline package data).</p>"
            f"<p>Atlases and licences:</p><ul>{atlases}</ul>"
            f"<p>Log file: <code>{log_file_path()}</code> (file paths, subject and session "
            f"labels and dates are removed from it).</p>")
