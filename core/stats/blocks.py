"""Network blocks: the mean Fisher z within and between networks and a test of its change.

See :mod:`core.stats` (network blocks) for the delta-method long-run variance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.results import Comparison, SessionConnectivity
from core.signal.connectivity import R_MAX, network_block_edges
from core.stats.autocorrelation import long_run_variance, standardise
from core.stats.edge_variance import model_edge_variance
from core.stats.inference import benjamini_hochberg, two_sided_p

__all__ = ["influence_block_variance", "network_block_weights", "network_stats_table"]

#: The network table's blocks: ``[(network_a, network_b, rows, cols), ...]``.
network_block_weights = network_block_edges


def influence_block_variance(
    timeseries: np.ndarray,
    blocks: Sequence[tuple[np.ndarray, np.ndarray]],
    taper: str = "adaptive",
) -> tuple[np.ndarray, np.ndarray]:
    """Mean Fisher z of edge blocks and its autocorrelation-aware variance.

    Parameters
    ----------
    timeseries : ndarray, shape (n_volumes, n_rois)
    blocks : sequence of (rows, cols)
        ROI index arrays of each block's edges.

    Returns
    -------
    mean_z : ndarray, shape (n_blocks,)
        NaN for blocks without edges.
    var : ndarray, shape (n_blocks,)
        Delta-method long-run variance of ``mean_z`` (see the module notes).
    """
    x = standardise(timeseries)
    t = x.shape[0]
    r = np.clip((x.T @ x) / t, -R_MAX, R_MAX)
    z = np.arctanh(r)
    mean_z = np.full(len(blocks), np.nan)
    psi = np.zeros((t, len(blocks)))
    for b, (rows, cols) in enumerate(blocks):
        if rows.size == 0:
            continue
        mean_z[b] = z[rows, cols].mean()
        ua, ia = np.unique(rows, return_inverse=True)
        ub, ib = np.unique(cols, return_inverse=True)
        w = np.zeros((ua.size, ub.size))
        np.add.at(w, (ia, ib), 1.0 / (rows.size * (1 - r[rows, cols] ** 2)))
        wr = w * r[np.ix_(ua, ub)]
        xa, xb = x[:, ua], x[:, ub]
        psi[:, b] = ((xa @ w) * xb).sum(axis=1) - 0.5 * (
            (xa**2) @ wr.sum(axis=1) + (xb**2) @ wr.sum(axis=0)
        )
    var = long_run_variance(psi, taper)
    var[np.isnan(mean_z)] = np.nan
    return mean_z, var


def network_stats_table(
    comparison: Comparison,
    edge_variances: tuple[np.ndarray | None, np.ndarray | None] | None = None,
) -> pd.DataFrame:
    """Within- and between-network mean Fisher z, its change and a test of the change.

    Rows and the ``n_edges, z_pre, z_post, delta_z`` columns equal
    :meth:`core.results.Comparison.network_table`; ``se``, ``stat``, ``p`` and
    ``q`` are added (delta-method long-run variance, see the module notes,
    rescaled for the denoising by :func:`_denoising_scale`; BH across network
    pairs).

    Parameters
    ----------
    comparison : Comparison
    edge_variances : (ndarray or None, ndarray or None), optional
        Each session's :func:`core.stats.edge_variance.model_edge_variance`
        when it was already computed (None where the session has no denoising
        model); computed here otherwise.

    Returns
    -------
    DataFrame
        ``network_a, network_b, n_edges, z_pre, z_post, delta_z, se, stat, p, q``.
    """
    blocks = network_block_weights(comparison.rois.networks)
    edges = [(rows, cols) for _, _, rows, cols in blocks]
    known = edge_variances or (None, None)
    variances = []
    for session, model in zip((comparison.pre, comparison.post), known, strict=True):
        _, var = influence_block_variance(session.timeseries, edges, taper="tukey")
        variances.append(var * _denoising_scale(session, edges, model))
    table = comparison.network_table()
    se = np.sqrt(variances[0] + variances[1])
    table["se"] = se
    table["stat"] = table["delta_z"].to_numpy() / se
    table["p"] = two_sided_p(table["stat"].to_numpy())
    table["q"] = benjamini_hochberg(table["p"].to_numpy())
    return table


def _denoising_scale(
    session: SessionConnectivity, blocks: Sequence[tuple[np.ndarray, np.ndarray]],
    model: np.ndarray | None = None,
) -> np.ndarray:
    """Correct block variances for what the cleaned series cannot show.

    The influence-function variance is estimated from the cleaned series, so
    after band-pass filtering it misses variance for the same reason xDF does
    (see :mod:`core.stats.edge_variance`).  Per block we rescale it by
    ``Σ_e v_model(e) / Σ_e v_infl(e)``: the block's edges' variances from the
    denoising model over the same edges' one-edge influence variances from the
    cleaned series.  The dependence between edges still comes from the
    influence function.  On band-passed null simulations this brought the
    network false-positive rate from 0.082 to 0.050 (unfiltered: 0.054 to
    0.049).  Sessions without a denoising model get 1.
    """
    ones = np.ones(len(blocks))
    if session.unfiltered_timeseries is None or session.cleaning_operator is None:
        return ones
    if model is None:
        model = model_edge_variance(session.unfiltered_timeseries, session.cleaning_operator)
    x = standardise(session.timeseries)
    t = x.shape[0]
    r = np.clip((x.T @ x) / t, -R_MAX, R_MAX)
    scale = ones.copy()
    for b, (rows, cols) in enumerate(blocks):
        if rows.size == 0:
            continue
        re = r[rows, cols]
        psi = (x[:, rows] * x[:, cols] - re * (x[:, rows] ** 2 + x[:, cols] ** 2) / 2) / (1 - re**2)
        infl = long_run_variance(psi, "tukey").sum()
        if infl > 0:
            scale[b] = model[rows, cols].sum() / infl
    return scale
