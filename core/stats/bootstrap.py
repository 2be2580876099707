"""Circular block bootstrap confidence intervals for network-level Δz.

Each session's ROI time series are resampled jointly (the same time indices
for every ROI, so the spatial correlation is kept) in circular blocks
(Politis & Romano 1992).  The block length is chosen per session by the
automatic rule of Politis & White (2004, with the correction of Patton,
Politis & White 2009) for the circular bootstrap, applied to every ROI series
and summarised by the median.  Because the sessions are independent, a
bootstrap Δ is ``post* − pre*`` from independent resamples; the interval is
the percentile interval of those differences.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from core.results import Comparison
from core.signal.connectivity import R_MAX
from core.stats.blocks import network_block_weights, standardise

__all__ = ["bootstrap_block_deltas", "bootstrap_network_ci", "politis_white_block_length"]

log = logging.getLogger(__name__)

ProgressCallback = Callable[[float, str], None]


def politis_white_block_length(series: np.ndarray) -> float:
    """Optimal circular-bootstrap block length of one series (Politis & White 2004).

    Parameters
    ----------
    series : ndarray, shape (n_volumes,)

    Returns
    -------
    float
        Block length in volumes, at least 1 and at most ``n_volumes / 3``.
    """
    x = np.asarray(series, dtype=np.float64)
    x = x - x.mean()
    t = x.size
    if t < 8 or not np.any(x):
        return 1.0
    k_n = max(5, int(np.ceil(np.sqrt(np.log10(t)))))
    max_lag = min(int(np.ceil(np.sqrt(t))) + k_n, t - 1)
    gamma = np.array([x[: t - k] @ x[k:] / t for k in range(max_lag + 1)])
    rho = gamma / gamma[0]
    bound = 2.0 * np.sqrt(np.log10(t) / t)
    m_hat = max_lag - k_n
    for m in range(1, max_lag - k_n + 1):
        if np.all(np.abs(rho[m : m + k_n]) < bound):
            m_hat = m - 1
            break
    big_m = min(2 * max(m_hat, 1), max_lag)
    lags = np.arange(-big_m, big_m + 1)
    u = np.abs(lags) / big_m
    flat_top = np.where(u <= 0.5, 1.0, 2.0 * (1.0 - u))
    g = gamma[np.abs(lags)]
    big_g = np.sum(flat_top * np.abs(lags) * g)
    g0 = np.sum(flat_top * g)
    d_cb = (4.0 / 3.0) * g0**2
    if d_cb <= 0:
        return 1.0
    length = (2.0 * big_g**2 / d_cb) ** (1.0 / 3.0) * t ** (1.0 / 3.0)
    return float(np.clip(length, 1.0, t / 3.0))


def _session_block_length(timeseries: np.ndarray) -> int:
    lengths = [politis_white_block_length(col) for col in np.asarray(timeseries).T]
    return max(1, round(float(np.median(lengths))))


def _block_matrix(n_rois: int, blocks: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """(n_rois², n_blocks) averaging matrix of flattened z matrices over each block."""
    w = np.zeros((n_rois * n_rois, len(blocks)))
    for b, (rows, cols) in enumerate(blocks):
        if rows.size:
            np.add.at(w[:, b], rows * n_rois + cols, 1.0 / rows.size)
    return w


def _resampled_block_means(x, length, n_boot, weights, rng, progress, start, span, label):
    t, n = x.shape
    out = np.empty((n_boot, weights.shape[1]))
    chunk = max(1, min(n_boot, int(2e6 // max(t * n, 1))))
    n_blocks = int(np.ceil(t / length))
    done = 0
    while done < n_boot:
        size = min(chunk, n_boot - done)
        starts = rng.integers(0, t, size=(size, n_blocks))
        index = (starts[:, :, None] + np.arange(length)[None, None, :]).reshape(size, -1)[:, :t]
        sample = x[index % t]  # (size, t, n)
        sample = sample - sample.mean(axis=1, keepdims=True)
        sample /= np.maximum(sample.std(axis=1, keepdims=True), 1e-12)
        r = np.einsum("bti,btj->bij", sample, sample) / t
        z = np.arctanh(np.clip(r, -R_MAX, R_MAX))
        out[done : done + size] = z.reshape(size, -1) @ weights
        done += size
        progress(start + span * done / n_boot, f"Bootstrap {label}: {done} of {n_boot}")
    return out


def bootstrap_block_deltas(
    ts_pre: np.ndarray,
    ts_post: np.ndarray,
    blocks: Sequence[tuple[np.ndarray, np.ndarray]],
    n_boot: int = 1000,
    seed: int = 0,
    block_length: int | tuple[int, int] | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[np.ndarray, tuple[int, int]]:
    """Bootstrap replicates of the post − pre mean Fisher z of edge blocks.

    Parameters
    ----------
    ts_pre, ts_post : ndarray, shape (n_volumes, n_rois)
        ROI time series of each session (lengths may differ).
    blocks : sequence of (rows, cols)
        ROI index arrays of each block's edges.
    n_boot : int
    seed : int
    block_length : int or (int, int), optional
        Fixed block length(s) in volumes; default Politis–White per session.
    progress : callable, optional
        ``progress(fraction, message)``, called after every chunk of
        replicates; it may raise :class:`core.errors.AnalysisCancelled`.

    Returns
    -------
    deltas : ndarray, shape (n_boot, n_blocks)
    lengths : (int, int)
        Block lengths used for pre and post.
    """
    report = progress or (lambda fraction, message: None)
    pre, post = standardise(ts_pre), standardise(ts_post)
    if block_length is None:
        lengths = (_session_block_length(pre), _session_block_length(post))
    elif isinstance(block_length, tuple):
        lengths = (int(block_length[0]), int(block_length[1]))
    else:
        lengths = (int(block_length), int(block_length))
    weights = _block_matrix(pre.shape[1], blocks)
    rng = np.random.default_rng(seed)
    report(0.0, "Bootstrap: starting")
    boot_pre = _resampled_block_means(pre, lengths[0], n_boot, weights, rng, report,
                                      0.0, 0.5, "pre")
    boot_post = _resampled_block_means(post, lengths[1], n_boot, weights, rng, report,
                                       0.5, 0.5, "post")
    return boot_post - boot_pre, lengths


def bootstrap_network_ci(
    comparison: Comparison,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    block_length: int | None = None,
) -> pd.DataFrame:
    """Circular block bootstrap confidence intervals of network-level Δz.

    Parameters
    ----------
    comparison : Comparison
    n_boot : int, default=1000
    confidence : float, default=0.95
    seed : int, default=0
        The same seed gives the same intervals.
    progress : callable, optional
        ``progress(fraction, message)``; may raise
        :class:`core.errors.AnalysisCancelled`, which stops the bootstrap.
    block_length : int, optional
        Fixed block length in volumes; default Politis–White automatic choice.

    Returns
    -------
    DataFrame
        ``network_a, network_b, n_edges, delta_z, boot_se, ci_low, ci_high,
        block_length_pre, block_length_post``.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"expected a confidence level between 0 and 1, got {confidence}")
    blocks = network_block_weights(comparison.rois.networks)
    deltas, lengths = bootstrap_block_deltas(
        comparison.pre.timeseries, comparison.post.timeseries,
        [(rows, cols) for _, _, rows, cols in blocks], n_boot=n_boot, seed=seed,
        block_length=block_length, progress=progress,
    )
    table = comparison.network_table()[["network_a", "network_b", "n_edges", "delta_z"]].copy()
    alpha = (1 - confidence) / 2
    table["boot_se"] = deltas.std(axis=0, ddof=1)
    table["ci_low"] = np.quantile(deltas, alpha, axis=0)
    table["ci_high"] = np.quantile(deltas, 1 - alpha, axis=0)
    empty = table["n_edges"].to_numpy() == 0
    table.loc[empty, ["boot_se", "ci_low", "ci_high"]] = np.nan
    table["block_length_pre"], table["block_length_post"] = lengths
    log.info("bootstrap block lengths: pre %d, post %d volumes", *lengths)
    return table
