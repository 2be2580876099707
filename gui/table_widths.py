"""Table columns as wide as their widest value, over every row (not Qt's first 200).

``QHeaderView.resizeColumnsToContents`` measures a sample of rows; in an edge
table sorted by |Z| the first rows may all name short networks ("Cont"),
and "Default" further down was cut to "Defau…".  Here every distinct text of
a column is measured; numbers, whose formats have a fixed shape, are measured
at their extremes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from PyQt6.QtWidgets import QTableView

__all__ = ["column_texts", "fit_columns"]

PADDING = 14  # cell margins
SORT_ARROW = 22  # the header's sort indicator
MAX_WIDTH = 340  # longer texts are elided (their tooltip is whole)


def column_texts(values: pd.Series, key: str, text: Callable[[str, object], str]) -> set[str]:
    """Return the texts that decide a column's width.

    Every distinct text, or for numbers the texts of the extremes (smallest,
    largest, and the smallest magnitude of each sign).
    """
    array = values.to_numpy()
    if array.dtype.kind in "fiu":
        finite = array[np.isfinite(array.astype(float))].astype(float)
        if not finite.size:
            return set()
        positive, negative = finite[finite > 0], finite[finite < 0]
        picks = [finite.min(), finite.max()]
        picks += [positive.min()] if positive.size else []
        picks += [negative.max()] if negative.size else []
        return {text(key, v) for v in picks}
    return {text(key, v) for v in pd.unique(array)}


def fit_columns(view: QTableView, frame: pd.DataFrame, columns: list[tuple[str, str]],
                text: Callable[[str, object], str]) -> None:
    """Set each column of ``view`` to the width of its widest text and its header.

    Parameters
    ----------
    view : QTableView
    frame : DataFrame
        All rows of the table (whatever the filter shows).
    columns : list of (key, header)
    text : callable
        ``text(key, value)``: how the table shows a value.
    """
    cell = view.fontMetrics()
    head = view.horizontalHeader().fontMetrics()
    for col, (key, title) in enumerate(columns):
        width = head.horizontalAdvance(title) + SORT_ARROW
        if key in frame.columns and len(frame):
            texts = column_texts(frame[key], key, text)
            width = max([width, *(cell.horizontalAdvance(t) + PADDING for t in texts)])
        view.setColumnWidth(col, min(width, MAX_WIDTH))
