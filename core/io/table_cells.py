"""Strict reading of numeric tables: every cell a number (or ``n/a`` where allowed).

pandas turns a column holding one stray word into an ``object`` column, and the
error surfaces far away ("ufunc 'isnan' not supported").  These helpers read
every cell as text and check it, so the message names the file, the column,
the first bad row and its value.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import ConfoundsError, InputError

__all__ = ["NOT_AVAILABLE", "numeric_cells", "read_confounds_table"]

#: How fMRIPrep (and BIDS) write a missing value.
NOT_AVAILABLE = "n/a"


def numeric_cells(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    allow_missing: bool,
    error: type[InputError] = InputError,
) -> np.ndarray:
    """Turn a table read as text into float64, refusing any cell that is not a number.

    Parameters
    ----------
    frame : DataFrame
        Read with ``dtype=str, keep_default_na=False`` so no cell was converted.
    path : str or Path
        The table's file, named in the message.
    allow_missing : bool
        Accept ``n/a`` (as NaN), as fMRIPrep writes in the first row of
        derivative columns.
    error : InputError subclass, default=InputError
        The exception raised.

    Returns
    -------
    ndarray of float64, shape frame.shape
        ``nan`` where ``n/a`` was accepted; ``nan``/``inf`` written as numbers
        are kept for the caller's own finiteness check.

    Raises
    ------
    InputError
        Naming the column, the first bad row (counted from 1 after the header,
        with its line in the file) and the value found.
    """
    values = np.empty(frame.shape, dtype=np.float64)
    for j, column in enumerate(frame.columns):
        text = frame[column].astype(str).str.strip()
        numbers = pd.to_numeric(text, errors="coerce")
        missing = text.str.lower() == NOT_AVAILABLE
        literal_nan = text.str.lower().isin(("nan", "+nan", "-nan"))
        bad = numbers.isna() & ~literal_nan & (~missing if allow_missing else True)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            found = text.iloc[row]
            expected = "numbers or n/a" if allow_missing else "numbers"
            raise error(
                f"expected {expected} in column {column!r}, found "
                f"{repr(found) if found else 'an empty cell'} in row {row + 1} "
                f"(line {row + 2} of the file)", path)
        values[:, j] = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    return values


def read_confounds_table(path: str | Path) -> pd.DataFrame:
    """Read an fMRIPrep confounds table strictly: numbers or ``n/a`` in every cell.

    Parameters
    ----------
    path : str or Path
        Tab-separated ``*_desc-confounds_timeseries.tsv``.

    Returns
    -------
    DataFrame of float64
        ``n/a`` as NaN.

    Raises
    ------
    ConfoundsError
        Missing or unreadable file, ragged rows, or a cell that is not a number;
        the message names the file, the column and the first bad row.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError,
            pd.errors.ParserError) as exc:
        message = str(exc).strip().replace("\n", " ")
        raise ConfoundsError(f"expected a readable tab-separated table ({message})",
                             path) from None
    if frame.shape[1] == 0:
        raise ConfoundsError("expected a confounds table with columns, found none", path)
    values = numeric_cells(frame, path, allow_missing=True, error=ConfoundsError)
    return pd.DataFrame(values, columns=[str(c) for c in frame.columns])
