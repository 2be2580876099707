"""Reading parcellated time series that another tool already extracted (XCP-D and alike)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import InputFileError, TimeseriesTableError

__all__ = ["TimeseriesTable", "network_from_roi_name", "read_timeseries_table"]

_SCHAEFER_NETWORKS = {
    "Vis", "SomMot", "DorsAttn", "SalVentAttn", "Limbic", "Cont", "Default",
    "VisCent", "VisPeri", "SomMotA", "SomMotB", "DorsAttnA", "DorsAttnB",
    "SalVentAttnA", "SalVentAttnB", "LimbicA", "LimbicB", "ContA", "ContB", "ContC",
    "DefaultA", "DefaultB", "DefaultC", "TempPar",
}


@dataclass(eq=False)
class TimeseriesTable:
    """ROI time series read from a table.

    Attributes
    ----------
    path : Path
        The source file.
    data : ndarray, shape (n_volumes, n_rois)
    roi_names : list of str
        Column headers.
    """

    path: Path
    data: np.ndarray
    roi_names: list[str]


def network_from_roi_name(name: str) -> str:
    """Guess the network from a Schaefer-style ROI name, "" when unknown.

    Parameters
    ----------
    name : str
        For example ``7Networks_LH_Default_PFC_1``.

    Returns
    -------
    str
    """
    parts = name.split("_")
    if len(parts) >= 3 and parts[0].endswith("Networks") and parts[2] in _SCHAEFER_NETWORKS:
        return parts[2]
    return ""


def read_timeseries_table(path: str | Path, min_volumes: int = 3) -> TimeseriesTable:
    """Read a TSV/CSV with one column per ROI (header = names) and one row per volume.

    Parameters
    ----------
    path : str or Path
        Tab- or comma-separated file; the delimiter is detected.
    min_volumes : int, default=3
        Fewest rows accepted.

    Returns
    -------
    TimeseriesTable

    Raises
    ------
    InputFileError
        Missing or unreadable file.
    TimeseriesTableError
        No header, non-numeric cells, NaN/Inf values, duplicate names or too few rows.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError("expected a TSV/CSV time-series file, found nothing there", path)
    try:
        with path.open("r", encoding="utf-8-sig") as handle:
            first = handle.readline()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"expected a readable text table ({exc})", path) from exc
    sep = "\t" if "\t" in first else ","
    try:
        frame = pd.read_csv(path, sep=sep, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise TimeseriesTableError(f"expected a table with a header row ({exc})", path) from exc
    if frame.shape[1] < 2:
        raise TimeseriesTableError(
            f"expected at least 2 ROI columns, found {frame.shape[1]}", path
        )
    names = [str(c) for c in frame.columns]
    if all(_is_number(n) for n in names):
        raise TimeseriesTableError(
            "expected a header row with ROI names, found numbers in the first row", path
        )
    if len(set(names)) != len(names):
        raise TimeseriesTableError("expected unique ROI names in the header", path)
    try:
        data = frame.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TimeseriesTableError(f"expected numeric values only ({exc})", path) from exc
    if not np.isfinite(data).all():
        bad = int((~np.isfinite(data)).sum())
        raise TimeseriesTableError(f"expected finite values, found {bad} NaN/Inf cells", path)
    if data.shape[0] < min_volumes:
        raise TimeseriesTableError(
            f"expected at least {min_volumes} rows (volumes), found {data.shape[0]}", path
        )
    return TimeseriesTable(path=path, data=data, roi_names=names)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
