"""Functional connectivity measures: correlation, Fisher z, partial correlation, summaries."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "R_MAX",
    "correlation_matrix",
    "fisher_z",
    "network_block_edges",
    "network_blocks",
    "network_names",
    "partial_correlation_matrix",
    "roi_strength",
]

#: Largest |r| before the Fisher transform (keeps arctanh finite).
R_MAX = 1.0 - 1e-7


def correlation_matrix(timeseries: np.ndarray) -> np.ndarray:
    """Pearson correlation between the columns of a time-series array.

    Parameters
    ----------
    timeseries : ndarray, shape (n_volumes, n_rois)

    Returns
    -------
    ndarray, shape (n_rois, n_rois)
        Symmetric matrix with ones on the diagonal.

    Raises
    ------
    ValueError
        When the input is not 2D or has fewer than 3 volumes.
    """
    ts = np.asarray(timeseries, dtype=np.float64)
    if ts.ndim != 2 or ts.shape[0] < 3:
        raise ValueError(f"Expected an array (n_volumes >= 3, n_rois), got shape {ts.shape}")
    r = np.corrcoef(ts, rowvar=False)
    return np.atleast_2d(r)


def fisher_z(r: np.ndarray) -> np.ndarray:
    """Fisher transform ``arctanh(r)`` with the diagonal set to 0.

    Parameters
    ----------
    r : ndarray
        Correlation matrix; values are clipped to ±(1 − 1e-7) first.

    Returns
    -------
    ndarray
        Fisher z matrix of the same shape.
    """
    z = np.arctanh(np.clip(r, -R_MAX, R_MAX))
    if z.ndim == 2 and z.shape[0] == z.shape[1]:
        np.fill_diagonal(z, 0.0)
    return z


def partial_correlation_matrix(timeseries: np.ndarray) -> np.ndarray:
    """Partial correlation with nilearn's ``ConnectivityMeasure``.

    The covariance is estimated with nilearn's default Ledoit-Wolf shrinkage,
    which keeps the precision matrix defined when ROIs outnumber volumes.

    Parameters
    ----------
    timeseries : ndarray, shape (n_volumes, n_rois)

    Returns
    -------
    ndarray, shape (n_rois, n_rois)
        Partial correlations, ones on the diagonal.
    """
    from nilearn.connectome import ConnectivityMeasure

    measure = ConnectivityMeasure(kind="partial correlation", standardize=False)
    return np.asarray(measure.fit_transform([np.asarray(timeseries, dtype=np.float64)])[0])


def roi_strength(z: np.ndarray) -> np.ndarray:
    """Mean Fisher z of each ROI with every other ROI.

    Parameters
    ----------
    z : ndarray, shape (n_rois, n_rois)
        Fisher z matrix with a zero diagonal.

    Returns
    -------
    ndarray, shape (n_rois,)
    """
    n = z.shape[0]
    if n < 2:
        return np.zeros(n)
    off = z.copy()
    np.fill_diagonal(off, 0.0)
    return off.sum(axis=1) / (n - 1)


def network_names(networks: Sequence[str]) -> list[str]:
    """Distinct network names in order of first appearance, unassigned ("") last.

    Parameters
    ----------
    networks : sequence of str

    Returns
    -------
    list of str
    """
    names = list(dict.fromkeys(n for n in networks if n))
    if any(not n for n in networks):
        names.append("")
    return names


def network_block_edges(
    networks: Sequence[str],
) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """Edges of every within- and between-network block, in table order.

    Parameters
    ----------
    networks : sequence of str
        Network of each ROI ("" is reported as "Unassigned").

    Returns
    -------
    list of (network_a, network_b, rows, cols)
        ROI index arrays of the block's edges (upper triangle within a network).
    """
    labels = np.asarray([n or "Unassigned" for n in networks])
    names = [n or "Unassigned" for n in network_names(list(networks))]
    blocks = []
    for i, a in enumerate(names):
        ia = np.flatnonzero(labels == a)
        for b in names[i:]:
            ib = np.flatnonzero(labels == b)
            if a == b:
                rr, cc = np.triu_indices(ia.size, k=1)
                rows, cols = ia[rr], ia[cc]
            else:
                rows, cols = np.repeat(ia, ib.size), np.tile(ib, ia.size)
            blocks.append((a, b, rows, cols))
    return blocks


def network_blocks(matrices: dict[str, np.ndarray], networks: Sequence[str]) -> pd.DataFrame:
    """Mean of each matrix within and between every pair of networks.

    Within a network the mean is over distinct ROI pairs (upper triangle);
    between two networks it is over all cross pairs.

    Parameters
    ----------
    matrices : dict of str to ndarray
        Named square matrices of equal shape, e.g. ``{"z_pre": ..., "z_post": ...}``.
    networks : sequence of str
        Network of each ROI ("" for unassigned, shown as "Unassigned").

    Returns
    -------
    DataFrame
        Columns ``network_a``, ``network_b``, ``n_edges`` and one column per matrix.
    """
    rows = []
    for a, b, rows_idx, cols_idx in network_block_edges(networks):
        row: dict[str, object] = {"network_a": a, "network_b": b, "n_edges": rows_idx.size}
        for key, m in matrices.items():
            row[key] = float(m[rows_idx, cols_idx].mean()) if rows_idx.size else np.nan
        rows.append(row)
    return pd.DataFrame(rows)
