"""Statistics tab: sortable edge table (|Z| first, q filter), network table, bootstrap CIs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PyQt6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    pyqtSignal,
)
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.display_text import format_number, format_p, roi_display_name
from gui import strings
from gui.table_widths import fit_columns

__all__ = ["DataFrameModel", "EdgeFilterModel", "StatsPanel", "cell_text"]

ALPHA = 0.05
#: The change, its test and q come right after the edge's name, visible without scrolling.
EDGE_COLUMNS = [("roi_a", "ROI A"), ("roi_b", "ROI B"), ("delta_z", "Δz"), ("stat", "Z"),
                ("q", "q"), ("p", "p"), ("z_pre", "z pre"), ("z_post", "z post"),
                ("network_a", "Network A"), ("network_b", "Network B")]
NETWORK_COLUMNS = [("network_a", "Network A"), ("network_b", "Network B"),
                   ("n_edges", "Edges"), ("delta_z", "Δz"), ("stat", "Z"), ("p", "p"),
                   ("q", "q"), ("ci_low", "CI low"), ("ci_high", "CI high")]
#: With a reference of repeat scans: the verdict against normal change, after the
#: within-scan test (``ref_mean``, ``ref_sd``: Δz of untreated repeat scans).
REFERENCE_COLUMNS = [("t_ref", "t ref"), ("q_ref", "q ref"), ("p_ref", "p ref"),
                     ("ref_mean", "ref mean Δ"), ("ref_sd", "ref SD")]
#: The q column of each verdict (DisplayOptions.verdict).
VERDICT_Q = {"within": "q", "reference": "q_ref"}


def with_reference(columns: list[tuple[str, str]], frame: pd.DataFrame
                   ) -> list[tuple[str, str]]:
    """Insert the reference columns after ``p`` when the table has them."""
    if "q_ref" not in frame.columns:
        return columns
    keys = [c for c, _ in columns]
    at = keys.index("p") + 1
    return columns[:at] + REFERENCE_COLUMNS + columns[at:]


def cell_text(key: str, value) -> str:
    """How a table cell shows a value of column ``key`` (one format per kind, no "-0.000")."""
    if not isinstance(value, (float, int, np.floating, np.integer)):
        return roi_display_name(value)
    if not np.isfinite(value):
        return ""
    if key in ("p", "q", "p_ref", "q_ref"):
        return format_p(value)
    if key in ("n_edges", "ref_n"):
        return f"{value:.0f}"
    return format_number(value, "+.3f")


class DataFrameModel(QAbstractTableModel):
    """Read-only table model of chosen DataFrame columns; sorts numbers by value.

    The Z column ("stat") sorts by |Z| so the largest changes of either sign come first.
    Columns are held as numpy arrays and sorting is one ``argsort``, so tables of
    tens of thousands of edges (Schaefer 400 has 79,800) fill and sort at once.
    """

    def __init__(self, columns: list[tuple[str, str]], parent=None) -> None:
        super().__init__(parent)
        self.columns = columns
        self.frame = pd.DataFrame(columns=[c for c, _ in columns])
        self._arrays: dict[str, np.ndarray] = {}
        self._order = np.zeros(0, dtype=int)
        #: The user's last sort (column key, order); new rows of the same table keep it.
        self._sort: tuple[str, Qt.SortOrder] | None = None

    def set_frame(self, frame: pd.DataFrame,
                  columns: list[tuple[str, str]] | None = None) -> None:
        """Replace the rows (missing columns show as empty), optionally the columns.

        The rows come in the current sort order (e.g. after the bootstrap adds its
        columns to the network table, the user's sort stays).
        """
        self.beginResetModel()
        if columns is not None:
            self.columns = columns
        self.frame = frame.reset_index(drop=True)
        self._arrays = {key: self.frame[key].to_numpy() for key in self.frame.columns}
        self._order = np.arange(len(self.frame))
        if self._sort is not None and self._sort[0] in self._arrays:
            self._order = self._ranked(*self._sort)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else int(self._order.size)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section][1]
        return None

    def value(self, row: int, key: str):
        """Raw value of a row in the current order (NaN where the column is missing)."""
        column = self._arrays.get(key)
        return column[self._order[row]] if column is not None else np.nan

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Reorder the rows by a column (|Z| for the Z column; NaN last)."""
        if not 0 <= column < len(self.columns):
            return
        key = self.columns[column][0]
        self._sort = (key, order)
        if key not in self._arrays or not self._order.size:
            return
        self.layoutAboutToBeChanged.emit()
        self._order = self._ranked(key, order)
        self.layoutChanged.emit()

    def _ranked(self, key: str, order: Qt.SortOrder) -> np.ndarray:
        values = self._arrays[key]
        if values.dtype.kind in "fiu":
            numbers = np.abs(values) if key == "stat" else values.astype(float)
            numbers = np.where(np.isfinite(numbers), numbers, -np.inf)
            ranked = np.argsort(numbers, kind="stable")
        else:
            ranked = np.argsort(values.astype(str), kind="stable")
        return ranked[::-1] if order == Qt.SortOrder.DescendingOrder else ranked

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        key = self.columns[index.column()][0]
        value = self.value(index.row(), key)
        numeric = isinstance(value, (float, int, np.floating, np.integer))
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(key, value)
        if role == Qt.ItemDataRole.TextAlignmentRole and numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return str(value)
        if role == Qt.ItemDataRole.ForegroundRole and key in ("q", "q_ref") and numeric \
                and value < ALPHA:
            from PyQt6.QtGui import QColor

            return QColor(170, 0, 0)
        return None


class EdgeFilterModel(QSortFilterProxyModel):
    """Optionally keeps only rows with q < 0.05; sorting is the source model's (fast).

    ``q_key`` is the q column of the chosen verdict (``q`` or ``q_ref``).
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.significant_only = False
        self.q_key = "q"

    def set_significant_only(self, on: bool) -> None:
        self.significant_only = on
        self.invalidateFilter()

    def set_q_key(self, key: str) -> None:
        self.q_key = key
        self.invalidateFilter()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Let the source model reorder its rows; the filter keeps that order."""
        self.sourceModel().sort(column, order)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex) -> bool:
        if not self.significant_only:
            return True
        q = self.sourceModel().value(source_row, self.q_key)
        return bool(np.isfinite(q) and q < ALPHA)


def _table_view(model) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSortingEnabled(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(20)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.horizontalHeader().setResizeContentsPrecision(200)  # widths from 200 rows, not all
    view.horizontalHeader().setStretchLastSection(True)
    return view


class StatsPanel(QWidget):
    """Edge and network statistics.

    Signals
    -------
    edge_selected(int, int)
        ROI indices of the clicked edge row (same meaning as a matrix cell click).
    verdict_chosen(str)
        ``"within"`` or ``"reference"``: which test the user wants significance from.
    bootstrap_requested()
    bootstrap_cancel_requested()
    """

    edge_selected = pyqtSignal(int, int)
    verdict_chosen = pyqtSignal(str)
    bootstrap_requested = pyqtSignal()
    bootstrap_cancel_requested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edge_model = DataFrameModel(EDGE_COLUMNS, self)
        self.edge_proxy = EdgeFilterModel(self)
        self.edge_proxy.setSourceModel(self.edge_model)
        self.edge_view = _table_view(self.edge_proxy)
        self.edge_view.clicked.connect(self._on_edge_clicked)
        self.significant_only = QCheckBox("q < 0.05 only")
        self.significant_only.toggled.connect(self._on_filter_toggled)
        self.verdict = QComboBox()
        self.verdict.addItem(strings.VERDICT_WITHIN, "within")
        self.verdict.addItem(strings.VERDICT_REFERENCE, "reference")
        self.verdict.setToolTip("Which test decides what counts as significant, here and in "
                                "the Δ matrix")
        self.verdict.setEnabled(False)
        self.verdict.currentIndexChanged.connect(
            lambda _i: self.verdict_chosen.emit(self.verdict.currentData()))
        self.verdict_note = QLabel(strings.VERDICT_WITHIN_ONLY)
        self.verdict_note.setWordWrap(True)
        self.verdict_note.setStyleSheet("color:#5c4400; background:#fff4ce; padding:3px;")
        self.edge_count = QLabel()
        self.network_model = DataFrameModel(NETWORK_COLUMNS, self)
        self.network_proxy = EdgeFilterModel(self)
        self.network_proxy.setSourceModel(self.network_model)
        self.network_view = _table_view(self.network_proxy)
        self.bootstrap_button = QPushButton("Bootstrap confidence intervals")
        self.bootstrap_button.setToolTip("Circular block bootstrap (1000 resamples) of the "
                                         "network-level Δz; runs in the background")
        self.bootstrap_button.clicked.connect(self.bootstrap_requested)
        self.boot_progress = QProgressBar()
        self.boot_progress.setFixedWidth(300)
        self.boot_cancel = QPushButton("Cancel")
        self.boot_cancel.clicked.connect(self.bootstrap_cancel_requested)
        self.boot_status = QLabel()
        self.set_bootstrap_busy(False)

        edge_box = _titled_table("<b>Edge changes</b> (largest |Z| first)",
                                 [self.edge_count, QLabel("Significant against:"),
                                  self.verdict, self.significant_only], self.edge_view,
                                 strings.STATS_EDGE_HINT)
        net_box = _titled_table("<b>Network blocks</b> (mean Fisher z)",
                                [self.boot_status, self.boot_progress, self.boot_cancel,
                                 self.bootstrap_button], self.network_view,
                                strings.STATS_NETWORK_HINT)

        self.empty_label = QLabel(strings.STATS_EMPTY)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(edge_box)
        splitter.addWidget(net_box)
        splitter.setSizes([520, 380])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.verdict_note)
        layout.addWidget(splitter, 1)
        self.bootstrap_button.setEnabled(False)

    # ------------------------------------------------------------------ data
    def set_stats(self, stats) -> None:
        """Fill both tables from a :class:`core.review_state.ReviewStatistics`."""
        self.empty_label.setVisible(False)
        self.edge_model.set_frame(stats.edges, with_reference(EDGE_COLUMNS, stats.edges))
        self.network_model.set_frame(stats.networks,
                                     with_reference(NETWORK_COLUMNS, stats.networks))
        self.edge_view.sortByColumn(self._column("stat", self.edge_model.columns),
                                    Qt.SortOrder.DescendingOrder)
        self.network_view.sortByColumn(self._column("stat", self.network_model.columns),
                                       Qt.SortOrder.DescendingOrder)
        reference = stats.reference
        self.verdict.setEnabled(reference is not None)
        if reference is None:
            self.verdict_note.setText(strings.VERDICT_WITHIN_ONLY)
        else:
            self.verdict_note.setText(strings.VERDICT_WITH_REFERENCE.format(
                n=reference.get("n_pairs", "?"),
                name=Path(str(reference.get("file", "reference"))).name))
        for view, model in ((self.edge_view, self.edge_model),
                            (self.network_view, self.network_model)):
            fit_columns(view, model.frame, model.columns, cell_text)
        self.bootstrap_button.setEnabled(True)
        self.boot_status.setText("")
        self._update_count()

    def clear(self, computing: bool = False) -> None:
        """Empty the tables; ``computing``: say that the new patient's are on their way."""
        self.edge_model.set_frame(pd.DataFrame())
        self.network_model.set_frame(pd.DataFrame())
        self.bootstrap_button.setEnabled(False)
        self.empty_label.setText(strings.STATS_COMPUTING if computing else strings.STATS_EMPTY)
        self.empty_label.setVisible(True)
        self._update_count()

    def set_bootstrap(self, table: pd.DataFrame) -> None:
        """Add the bootstrap CI columns to the network table."""
        frame = self.network_model.frame.copy()
        ci = table.set_index(["network_a", "network_b"])[["ci_low", "ci_high"]]
        keys = pd.MultiIndex.from_frame(frame[["network_a", "network_b"]])
        frame["ci_low"] = ci["ci_low"].reindex(keys).to_numpy()
        frame["ci_high"] = ci["ci_high"].reindex(keys).to_numpy()
        self.network_model.set_frame(frame)
        lengths = table[["block_length_pre", "block_length_post"]].iloc[0]
        self.boot_status.setText(
            f"95% CI, block length {lengths.iloc[0]:.0f}/{lengths.iloc[1]:.0f} volumes")
        fit_columns(self.network_view, self.network_model.frame, self.network_model.columns,
                    cell_text)

    def set_bootstrap_busy(self, busy: bool) -> None:
        self.boot_progress.setVisible(busy)
        self.boot_cancel.setVisible(busy)
        # the progress bar takes the button's place, so the row keeps room for its title
        self.bootstrap_button.setVisible(not busy)
        self.bootstrap_button.setEnabled(not busy)
        if busy:
            self.boot_progress.setValue(0)

    def set_bootstrap_progress(self, percent: int, message: str) -> None:
        self.boot_progress.setValue(percent)
        # one line: shortened with "…" if it must be, never wrapped
        message = self.boot_progress.fontMetrics().elidedText(
            message, Qt.TextElideMode.ElideRight, self.boot_progress.width() - 50)
        self.boot_progress.setFormat(f"{message} %p%" if message else "%p%")

    def set_bootstrap_cancelled(self) -> None:
        self.boot_status.setText("Bootstrap cancelled")

    def set_verdict(self, verdict: str) -> None:
        """Show significance from ``"within"`` or ``"reference"`` (the display option)."""
        index = self.verdict.findData(verdict)
        if index >= 0 and index != self.verdict.currentIndex():
            self.verdict.blockSignals(True)
            self.verdict.setCurrentIndex(index)
            self.verdict.blockSignals(False)
        self.significant_only.setText("q ref < 0.05 only" if verdict == "reference"
                                      else "q < 0.05 only")
        for proxy in (self.edge_proxy, self.network_proxy):
            proxy.set_q_key(VERDICT_Q.get(verdict, "q"))
        self._update_count()

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _column(key: str, columns: list[tuple[str, str]]) -> int:
        return [c for c, _ in columns].index(key)

    def _update_count(self) -> None:
        total = self.edge_model.rowCount()
        shown = self.edge_proxy.rowCount()
        self.edge_count.setText(f"{shown} of {total} edges  " if total else "")

    def _on_filter_toggled(self, on: bool) -> None:
        self.edge_proxy.set_significant_only(on)
        self._update_count()

    def _on_edge_clicked(self, index: QModelIndex) -> None:
        row = self.edge_proxy.mapToSource(index).row()
        a = self.edge_model.value(row, "index_a")
        b = self.edge_model.value(row, "index_b")
        if np.isfinite(a) and np.isfinite(b):
            self.edge_selected.emit(int(a), int(b))


def _titled_table(title: str, controls: list[QWidget], view: QWidget, hint: str) -> QWidget:
    """Return a table under a title row (title left, controls right) with a hint below."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    head = QHBoxLayout()
    head.addWidget(QLabel(title))
    head.addStretch(1)
    for control in controls:
        head.addWidget(control)
    layout.addLayout(head)
    layout.addWidget(view, 1)
    note = QLabel(f"<small>{hint}</small>")
    note.setWordWrap(True)
    layout.addWidget(note)
    return box
