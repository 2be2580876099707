"""Variance of every correlation after the pipeline's own denoising.

xDF (:func:`core.stats.inference.xdf_r_variance`) estimates the variance of a
correlation from the auto- and cross-correlations of the series that were
correlated.  After band-pass filtering and confound regression those series
have long, oscillating autocorrelations and fewer degrees of freedom than
volumes; truncated sample autocorrelations miss both.  On the null simulations
of ``benchmarks/validate_stats.py`` xDF applied to band-passed series
under-estimated the variance by about 25% (per-edge false-positive rate 0.09 at
α = 0.05, a third of the repetitions with some FDR-5% edge).

Here the denoising is not estimated but known: :func:`core.signal.denoise.clean_signals`
is linear in the signals, so the cleaned series of one session are
``x = P u`` with ``P`` the cleaning operator (detrending, confound regression,
scrubbing and filtering of that session, :func:`core.signal.denoise.cleaning_operator`).
We estimate each ROI's autocorrelation *before* filtering (after regressing
trends and confounds, which ``P`` removes anyway), where it is short and well
estimated, with xDF's adaptive truncation and mean-bias correction, and
evaluate Bartlett's variance of the cleaned correlation exactly for that
model, without assuming the cleaned series are stationary: for independent
Gaussian series, ``Var(x_i'x_j) = tr(P Σ_i P' P Σ_j P')`` and
``E[x_i'x_i] = tr(P Σ_i P')`` (Isserlis), so ``var(r) = tr(X_i X_j) /
(tr X_i tr X_j)`` with ``X_i = P Σ_i P'``.  With ``Σ_i = Σ_k ρ_i(k) E_k``
(``E_k`` the lag-``k`` shift) every trace is a bilinear form ``ρ_i' H ρ_j``
with one small matrix ``H_kl = tr(P E_k P' P E_l P')`` per session, so all
edges cost one small matrix product.  Fisher's ``1 / (n − 3)`` is applied to
the effective size as in :func:`core.stats.inference.fisher_z_variance` (here
``1 / (n_eff − 2)``, because ``n_eff`` already excludes the mean).

This is the variance at ρ = 0 carried over to Fisher's z, which is exact when
two ROIs share the shape of their autocorrelation (Fisher's z then has the
same variance at every ρ) and an approximation when they do not: with true
correlations of 0.36–0.8 and AR(1) coefficients spread over 0–0.8, the
per-edge ratio of estimated to simulated variance had a spread of 0.098
against xDF's 0.066 on unfiltered data, with the same false-positive rate.
We model the cross-correlations no further because truncated cross-correlations
of the unfiltered signals do not reproduce the cleaned correlations (the
slow shared signal that filtering removes needs every lag).
"""

from __future__ import annotations

import numpy as np

from core.stats.autocorrelation import lag_weights, mean_bias_corrected, sample_acf, standardise

__all__ = ["MAX_LAG", "model_edge_variance"]

#: Longest raw-signal lag modelled; longer significant autocorrelation is truncated here.
MAX_LAG = 40


def model_edge_variance(signals: np.ndarray, operator: np.ndarray) -> np.ndarray:
    """Variance of the Fisher z of every correlation of ``operator @ signals``.

    Parameters
    ----------
    signals : ndarray, shape (n_volumes, n_rois)
        ROI signals before filtering and scrubbing, ideally with trends and
        confounds already regressed (:func:`core.signal.denoise.cleaning_operator`
        without filter or scrubbing): only their autocorrelations are used, and
        those are short and well estimated when the slow, non-stationary parts
        that cleaning removes anyway are gone.
    operator : ndarray, shape (n_kept, n_volumes)
        Linear cleaning operator of the session: cleaned = ``operator @ signals``.

    Returns
    -------
    ndarray, shape (n_rois, n_rois)
        Variance of ``arctanh`` of each cleaned correlation; diagonal 0.
    """
    u = np.asarray(signals, dtype=np.float64)
    t, n = u.shape
    if operator.shape[1] != t:
        raise ValueError(f"expected an operator with {t} columns, got shape {operator.shape}")
    if _removes_linear_trend(operator):
        # cleaning starts by detrending, so P u = P detrend(u); the detrended
        # signals have shorter, better estimated autocorrelations
        from scipy.signal import detrend

        u = detrend(u, axis=0, type="linear")
    u = standardise(u)
    acf = sample_acf(u)
    lag_w = lag_weights(acf, t, "adaptive")
    acf = mean_bias_corrected(acf, lag_w, t)
    bp = np.minimum(lag_w.sum(axis=0).astype(int), MAX_LAG)  # lags 1..bp are kept
    n_lags = int(min(bp.max(initial=0), t - 2))
    auto = np.zeros((n, 2 * n_lags + 1))
    auto[:, n_lags] = 1.0
    for k in range(1, n_lags + 1):
        auto[:, n_lags + k] = auto[:, n_lags - k] = np.where(k <= bp, acf[k], 0.0)
    h, gram = _lag_traces(operator, n_lags)
    expected = auto @ h  # E[x_i' x_i] of the cleaned series
    var_r0 = (auto @ gram @ auto.T) / np.outer(expected, expected)
    # n_eff already counts the degree of freedom of the mean (tr of the centred
    # operator is T − 1 for white noise), so Fisher's 1 / (n − 3) is 1 / (n_eff − 2)
    n_eff = 1.0 / np.maximum(var_r0, 1e-12)
    var_z = 1.0 / (np.maximum(n_eff, 4.0) - 2.0)
    np.fill_diagonal(var_z, 0.0)
    return var_z


def _removes_linear_trend(operator: np.ndarray) -> bool:
    centred = operator - operator.mean(axis=0)
    trend = np.linspace(-1.0, 1.0, operator.shape[1])
    scale = np.abs(centred).sum(axis=1).max() + 1e-12
    return bool(np.abs(centred @ trend).max() <= 1e-6 * scale)


def _lag_traces(operator: np.ndarray, n_lags: int) -> tuple[np.ndarray, np.ndarray]:
    """``h_k = tr(P E_k P')`` and ``H_kl = tr(P E_k P' P E_l P')`` for k, l in −K..K.

    ``P`` is centred over time first (the correlation removes the mean).
    """
    p = operator - operator.mean(axis=0)
    n_kept, t = p.shape
    blocks = np.empty((2 * n_lags + 1, n_kept, n_kept))
    for index, k in enumerate(range(-n_lags, n_lags + 1)):
        # (P E_k)[:, s] = P[:, s + k]; E_k[u, s] = 1 where u − s = k
        shifted = np.zeros_like(p)
        if k >= 0:
            shifted[:, : t - k] = p[:, k:]
        else:
            shifted[:, -k:] = p[:, : t + k]
        blocks[index] = shifted @ p.T
    h = np.trace(blocks, axis1=1, axis2=2)
    flat = blocks.reshape(blocks.shape[0], -1)
    frobenius = flat @ flat.T  # <B_k, B_l>; tr(B_k B_l) = <B_k, B_l'> and B_l' = B_{-l}
    return h, frobenius[:, ::-1]
