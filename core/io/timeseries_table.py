"""Reading parcellated time series that another tool already extracted (XCP-D and alike).

Tables are TSV or CSV, optionally gzipped (``.tsv.gz``, ``.csv.gz``), one
column per ROI.  Each column's network comes from a labels table matched by
ROI name (:func:`roi_networks`) or, failing that, from a Schaefer-style name
(:func:`network_from_roi_name`).
"""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import AtlasError, InputFileError, TimeseriesTableError
from core.io.table_cells import numeric_cells

__all__ = [
    "TimeseriesTable",
    "network_from_roi_name",
    "read_roi_labels",
    "read_timeseries_table",
    "roi_networks",
]

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
        With the ``7Networks_``/``17Networks_`` prefix (``7Networks_LH_Default_PFC_1``)
        or without it, starting with the hemisphere (``LH_Vis_1``,
        ``RH_Default_PFCdPFCm_3``, ``LH_VisCent_ExStr_1``).

    Returns
    -------
    str
        The 7- or 17-network name (``Default``, ``VisCent``), or ``""``.
    """
    parts = name.strip().split("_")
    if parts[0].endswith("Networks"):
        parts = parts[1:]
    elif parts[0] not in ("LH", "RH"):
        return ""
    if len(parts) >= 2 and parts[1] in _SCHAEFER_NETWORKS:
        return parts[1]
    return ""


def read_roi_labels(path: str | Path) -> dict[str, str]:
    """Read a labels table that gives each ROI name its network.

    Parameters
    ----------
    path : str or Path
        TSV (CSV when the name ends in ``.csv``) with columns ``name`` and
        ``network`` (``index`` and other columns are ignored).  Empty or
        ``n/a`` networks are ``""``.

    Returns
    -------
    dict of str to str
        Network by ROI name.

    Raises
    ------
    AtlasError
        Missing or unreadable file, no ``name`` or ``network`` column, or a
        name listed twice; the message names the file.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise AtlasError("expected a labels table (TSV), found no file at this path", path)
    try:
        sep = "," if path.name.lower().endswith((".csv", ".csv.gz")) else "\t"
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False,
                            encoding="utf-8-sig")
    except (OSError, ValueError, EOFError, zlib.error, pd.errors.ParserError) as exc:
        raise AtlasError(f"expected a readable labels table ({exc})", path) from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in ("name", "network") if c not in frame.columns]
    if missing:
        found = ", ".join(map(repr, frame.columns)) or "none"
        raise AtlasError(f"expected columns 'name' and 'network' to assign networks to "
                         f"time-series columns, found {found}; missing {', '.join(missing)}",
                         path)
    frame = frame[frame["name"].str.strip() != ""]
    names = frame["name"].str.strip()
    repeated = sorted(set(names[names.duplicated()]))
    if repeated:
        raise AtlasError(f"expected each ROI name once, found repeats of "
                         f"{', '.join(repeated[:5])}" + (" ..." if len(repeated) > 5 else ""),
                         path)
    networks = frame["network"].str.strip()
    networks = networks.where(~networks.str.lower().isin(("n/a", "nan", "none")), "")
    return dict(zip(names, networks, strict=True))


def roi_networks(names: list[str], labels_table: str | Path | None = None,
                 ) -> tuple[list[str], list[str]]:
    """Give each time-series column its network: from the labels table, else from its name.

    Parameters
    ----------
    names : list of str
        Column names of a time-series table.
    labels_table : str or Path, optional
        See :func:`read_roi_labels`; columns are matched by exact name.
        Columns it does not list, or lists without a network, keep the network
        of :func:`network_from_roi_name`.

    Returns
    -------
    networks : list of str
        ``""`` where no network is known.
    warnings : list of str
        One sentence when some columns are not in the labels table.

    Raises
    ------
    AtlasError
        From :func:`read_roi_labels`.
    """
    if labels_table is None:
        return [network_from_roi_name(n) for n in names], []
    labels = read_roi_labels(labels_table)
    networks = [labels.get(n) or network_from_roi_name(n) for n in names]
    unmatched = [n for n in names if n not in labels]
    if not unmatched:
        return networks, []
    listed = ", ".join(unmatched[:5]) + (" ..." if len(unmatched) > 5 else "")
    return networks, [f"{len(unmatched)} of {len(names)} time-series columns are not in the "
                      f"labels table {Path(labels_table).name} and keep the network read from "
                      f"their name (if any): {listed}"]


def read_timeseries_table(path: str | Path, min_volumes: int = 3) -> TimeseriesTable:
    """Read a TSV/CSV with one column per ROI (header = names) and one row per volume.

    Parameters
    ----------
    path : str or Path
        Tab- or comma-separated file, gzipped when its name ends in ``.gz``;
        the delimiter is detected.
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
    gzipped = path.name.lower().endswith(".gz")
    try:
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if gzipped else raw).decode("utf-8-sig")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        kind = "gzipped text table" if gzipped else "readable text table"
        raise InputFileError(f"expected a {kind} ({exc})", path) from exc
    first = text.split("\n", 1)[0]
    sep = "\t" if "\t" in first else ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
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
    data = numeric_cells(frame, path, allow_missing=False, error=TimeseriesTableError)
    if not np.isfinite(data).all():
        bad = int((~np.isfinite(data)).sum())
        row, column = np.argwhere(~np.isfinite(data))[0]
        raise TimeseriesTableError(
            f"expected finite values, found {bad} NaN/Inf cells, the first in column "
            f"{names[column]!r}, row {row + 1} (line {row + 2} of the file)", path)
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
