"""Single-patient inference for the change of connectivity between two sessions.

Two sessions of one person are independent recordings, so for every edge
``Δz = z_post − z_pre`` has variance ``var(z_pre) + var(z_post)``.  The naive
white-noise variance of a Fisher z, ``1 / (T − 3)``, is far too small for BOLD
signals: band-pass filtering and the haemodynamics make neighbouring volumes
strongly correlated, so the effective number of independent samples is much
smaller than ``T`` and naive tests flag many changes that are only noise.

Edges: Bartlett's variance for the pipeline's own denoising (default), or xDF
    The default (:func:`session_z_variance` with ``method="model"``) is
    :func:`core.edge_variance.model_edge_variance`: each ROI's autocorrelation
    is estimated before filtering and carried exactly through the session's
    linear cleaning operator (detrending, confound regression, scrubbing,
    band-pass).  We chose it after measuring that xDF applied to band-passed,
    confound-regressed series under-estimates the variance by about 25%
    (per-edge false-positive rate 0.11–0.12, most null repetitions with some
    FDR-5% edge; see ``benchmarks/validate_stats.py``).  It is the variance
    at ρ = 0 carried over to Fisher's z (see that module for when this is
    exact).

    ``method="xdf"`` is xDF (Afyouni, Smith & Nichols 2019, NeuroImage
    199:609) on the cleaned series, the large-sample variance of Pearson's r
    between two autocorrelated, cross-correlated series (Bartlett 1946, Roy
    1989) estimated from the sample auto- and cross-correlations, with xDF's
    *adaptive truncation*: each ROI's autocorrelation is used up to the first
    lag at which it is within the 95% white-noise band ``±1.96 / sqrt(T − 2)``
    (xDF stops one lag earlier; see :func:`_breakpoints`), and each
    cross-correlation up to the longer of its two ROIs' truncation lags.  The
    variance is not allowed below the white-noise value ``(1 − ρ²)² / T``
    (xDF's "TV" option).  It is well calibrated for unfiltered series and is
    used when a comparison carries no cleaning operator.  Both are better
    than a Bartlett effective degrees of freedom from the cleaned series,
    which under-states the variance for the same reasons as xDF does after
    filtering.

    Three small-sample terms make the test hold far in the tail, where a
    Benjamini–Hochberg threshold over thousands of edges lies (each was
    measured on the null simulations of ``benchmarks/validate_stats.py``; none
    is a tuned constant): the sample autocorrelations are corrected for the
    bias of removing the mean (:func:`_mean_bias_corrected`); Fisher's z gets
    ``1 / (n_eff − 3)`` rather than the delta method's ``1 / n_eff``
    (:func:`fisher_z_variance`); and p values come from a Student t matched to
    the kurtosis of Fisher's z at ``n_eff`` (:func:`delta_z_test`, both
    methods).  For xDF the kept volumes of a scrubbed session are treated as
    contiguous; the default method accounts for the scrubbing through the
    cleaning operator.

Network blocks: delta-method long-run variance
    A block statistic is the mean Fisher z over the edges of a network pair.
    Its edges share ROIs, so they are strongly dependent and the edge
    variances cannot simply be averaged.  We linearise the block mean with its
    influence function (delta method), which gives one scalar time series
    ``ψ(t) = Σ_e w_e [x_i x_j − r_e (x_i² + x_j²) / 2] / (1 − r_e²)`` whose mean is
    the block mean's error; its variance is the long-run variance of ψ,
    estimated from ψ's autocovariance with a Tukey taper (M = √T), then
    rescaled for the denoising (:func:`_denoising_scale`).  This accounts for
    the dependence between edges and for autocorrelation without Gaussian
    assumptions, costs one pass over the data, and for a one-edge block
    reduces to a nonparametric version of the xDF variance.
    :mod:`core.bootstrap` gives circular block bootstrap intervals as a check.

Edge p values are two-sided from that t; network p values are two-sided
normal.  q values are Benjamini–Hochberg (``scipy.stats.false_discovery_control``)
across the edges, or across the network pairs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from core.connectivity import R_MAX, network_names
from core.results import Comparison, SessionConnectivity

__all__ = [
    "delta_z_test",
    "edge_table",
    "fisher_z_variance",
    "influence_block_variance",
    "naive_z_variance",
    "network_block_weights",
    "network_stats_table",
    "session_edge_variance",
    "session_z_variance",
    "standardise",
    "two_sided_p",
    "xdf_r_variance",
]



def standardise(timeseries: np.ndarray) -> np.ndarray:
    """Centre each column and scale it to unit (biased, ``ddof=0``) variance.

    Parameters
    ----------
    timeseries : ndarray, shape (n_volumes, n_rois)

    Returns
    -------
    ndarray of float64, shape (n_volumes, n_rois)
    """
    x = np.asarray(timeseries, dtype=np.float64)
    x = x - x.mean(axis=0)
    sd = x.std(axis=0)
    return x / np.where(sd > 0, sd, 1.0)


def _acf(x: np.ndarray) -> np.ndarray:
    """Biased autocorrelation of each column of a standardised array, lags 0..T-1."""
    t = x.shape[0]
    n_fft = 1 << int(np.ceil(np.log2(2 * t - 1)))
    spectrum = np.fft.rfft(x, n=n_fft, axis=0)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), n=n_fft, axis=0)[:t]
    return acov / np.where(acov[0] > 0, acov[0], 1.0)


def _breakpoints(acf: np.ndarray, n_timepoints: int) -> np.ndarray:
    """Return the truncation lag of each series: lags 1..bp are kept.

    ``bp`` is the first lag whose autocorrelation lies inside the 95%
    white-noise band (xDF's band ``sqrt(2) · 1.3859 / sqrt(T − 2)``).  xDF
    keeps only the lags *before* it; we keep that first lag too.  The band is a
    test of ``ρ(k) = 0``, not evidence that ``ρ(k)`` is 0: for slowly decaying
    autocorrelation (mixtures of AR processes, band-passed BOLD) the first lag
    inside the band still carries a few percent of the variance.  On the null
    simulations of ``benchmarks/validate_stats.py`` dropping it left the
    variance 2–4% low and the per-edge false-positive rate at α = 0.05 at
    0.054–0.057; keeping it brings the estimated variance within 1% of the
    simulated one.  ``acf`` has shape (T, n) with lag 0 in row 0.  When no lag
    falls inside the band, every lag up to T − 2 is kept.
    """
    bound = np.sqrt(2.0) * 1.3859 / np.sqrt(max(n_timepoints - 2, 1))
    lags = np.abs(acf[1 : n_timepoints - 1])
    inside = lags < bound
    first_inside = np.argmax(inside, axis=0) + 1
    return np.where(inside.any(axis=0), first_inside, lags.shape[0]).astype(int)


def _lag_weights(acf: np.ndarray, n_timepoints: int, taper: str) -> np.ndarray:
    """Regularisation weight of each lag (rows) of each series (columns); lag 0 gets 0."""
    lags = np.arange(acf.shape[0])[:, None]
    if taper == "adaptive":
        bp = _breakpoints(acf, n_timepoints)
        return ((lags >= 1) & (lags <= bp[None, :])).astype(float)
    if taper == "tukey":
        m = np.sqrt(n_timepoints)
        w = np.where((lags >= 1) & (lags < m), (1 + np.cos(np.pi * lags / m)) / 2, 0.0)
        return np.broadcast_to(w, acf.shape).copy()
    raise ValueError(f"expected taper 'adaptive' or 'tukey', got {taper!r}")


def _mean_bias_corrected(acf: np.ndarray, lag_w: np.ndarray, n_timepoints: int) -> np.ndarray:
    """Undo the downward bias of sample autocorrelations caused by removing the mean.

    With the sample mean removed, ``E[ρ̂(k)] ≈ (ρ(k) − τ/T) / (1 − τ/T)`` where
    ``τ = Σ_k ρ(k)`` is the long-run variance factor (Marriott & Pope 1954;
    Priestley 1981, §5.3), so ``ρ(k) ≈ ρ̂(k) + (1 − ρ̂(k)) τ / T``; ``τ`` is
    estimated from the lags that the truncation keeps.  Lag 0 stays 1.
    """
    tau = 1.0 + 2.0 * (lag_w * acf).sum(axis=0)
    out = acf + (1.0 - acf) * tau[None, :] / n_timepoints
    out[0] = 1.0
    return out


def xdf_r_variance(
    timeseries: np.ndarray, taper: str = "adaptive"
) -> tuple[np.ndarray, np.ndarray]:
    """Variance of every Pearson correlation of autocorrelated series (xDF).

    Parameters
    ----------
    timeseries : ndarray, shape (n_volumes, n_rois)

    Returns
    -------
    r : ndarray, shape (n_rois, n_rois)
        Sample correlations.
    var_r : ndarray, shape (n_rois, n_rois)
        xDF variance of each r with adaptive truncation and the white-noise
        floor ``(1 − r²)² / T``; the diagonal is 0.

    Notes
    -----
    Follows the reference implementation of Afyouni et al. (2019): biased
    auto/cross-correlation estimates, lag weights ``T − 1 − k`` (``T − 1`` at
    lag 0) divided by ``T²``, with two small-sample changes measured on the
    null simulations of ``benchmarks/validate_stats.py``: the autocorrelations
    are corrected for the bias that removing the sample mean causes
    (:func:`_mean_bias_corrected`), and the truncation keeps the first lag
    inside the white-noise band (:func:`_breakpoints`).  This is the right
    estimator for series that were not filtered; for denoised series the
    edge statistics use :mod:`core.edge_variance` instead.
    """
    x = standardise(timeseries)
    t = x.shape[0]
    if t < 4:
        raise ValueError(f"expected at least 4 volumes for xDF, got {t}")
    rho = np.clip((x.T @ x) / t, -R_MAX, R_MAX)
    np.fill_diagonal(rho, 1.0)
    ac = _acf(x)
    lag_w = _lag_weights(ac, t, taper)
    ac = _mean_bias_corrected(ac, lag_w, t)
    used = np.flatnonzero(lag_w.any(axis=1))
    max_lag = int(min(used.max(), t - 2)) if used.size else 0
    rho2 = rho**2
    total = (t - 1) * (1 - rho2) ** 2
    for k in range(1, max_lag + 1):
        weight = t - 1 - k
        a = lag_w[k] * ac[k]
        ck = (x[k:].T @ x[: t - k]) / t  # ck[i, j] = ρ_ij(+k); ck.T holds ρ_ij(−k)
        cp = np.maximum.outer(lag_w[k], lag_w[k]) * ck
        cn = cp.T
        a_sum = a[:, None] + a[None, :]
        total += weight * (
            rho2 * (a[:, None] ** 2 + a[None, :] ** 2 + cp**2 + cn**2)
            - 2 * rho * a_sum * (cp + cn)
            + 2 * (np.outer(a, a) + cp * cn)
        )
    var_r = total / t**2
    var_r = np.maximum(var_r, (1 - rho2) ** 2 / t)
    np.fill_diagonal(var_r, 0.0)
    np.fill_diagonal(rho, 1.0)
    return rho, var_r


def session_z_variance(session: SessionConnectivity, method: str = "model") -> np.ndarray:
    """Variance of every Fisher z of one session of a comparison.

    Parameters
    ----------
    session : SessionConnectivity
    method : {"model", "xdf", "naive"}
        ``model`` (default): :func:`core.edge_variance.model_edge_variance`,
        Bartlett's variance evaluated exactly for the session's own denoising
        operator, when the session carries its unfiltered signals and operator,
        else ``xdf``; ``xdf`` and ``naive``: :func:`session_edge_variance` of the
        cleaned signals.

    Returns
    -------
    ndarray, shape (n_rois, n_rois)
        Diagonal 0.
    """
    if method == "model":
        if session.unfiltered_timeseries is not None and session.cleaning_operator is not None:
            from core.edge_variance import model_edge_variance

            return model_edge_variance(session.unfiltered_timeseries, session.cleaning_operator)
        method = "xdf"
    return session_edge_variance(session.timeseries, method)


def session_edge_variance(timeseries: np.ndarray, method: str = "xdf") -> np.ndarray:
    """Variance of every Fisher z of one session.

    Parameters
    ----------
    timeseries : ndarray, shape (n_volumes, n_rois)
    method : {"xdf", "naive"}
        ``xdf``: :func:`fisher_z_variance` of the :func:`xdf_r_variance`;
        ``naive``: the white-noise ``1 / (T − 3)``.

    Returns
    -------
    ndarray, shape (n_rois, n_rois)
        Diagonal 0.
    """
    if method == "naive":
        out = np.full((timeseries.shape[1],) * 2, naive_z_variance(timeseries.shape[0]))
        np.fill_diagonal(out, 0.0)
        return out
    if method != "xdf":
        raise ValueError(f"expected method 'xdf' or 'naive', got {method!r}")
    r, var_r = xdf_r_variance(timeseries)
    out = fisher_z_variance(r, var_r)
    np.fill_diagonal(out, 0.0)
    return out


def fisher_z_variance(r: np.ndarray, var_r: np.ndarray) -> np.ndarray:
    """Variance of ``arctanh(r)`` from the variance of ``r``, with Fisher's ``n − 3``.

    The delta method gives ``var_r / (1 − r²)²``, i.e. ``1 / n_eff`` with the
    effective sample size ``n_eff = (1 − r²)² / var_r``.  For white noise the
    variance of Fisher's z is ``1 / (n − 3)``, not ``1 / n``; we apply the same
    small-sample term to the effective size, ``1 / (n_eff − 3)``.  At
    ``n_eff ≈ 100`` (T = 200, moderate autocorrelation) that is 3% more variance,
    which the null simulations of ``benchmarks/validate_stats.py`` confirm is
    needed.  ``n_eff`` is floored at 4 (variance at most 1).

    Parameters
    ----------
    r : ndarray
        Sample correlations.
    var_r : ndarray
        Their variances (e.g. :func:`xdf_r_variance`).

    Returns
    -------
    ndarray
    """
    one_minus = (1 - np.clip(r, -R_MAX, R_MAX) ** 2) ** 2
    with np.errstate(divide="ignore"):
        n_eff = np.where(var_r > 0, one_minus / np.where(var_r > 0, var_r, 1.0), np.inf)
    return 1.0 / (np.maximum(n_eff, 4.0) - 3.0)


def delta_z_test(
    delta_z: np.ndarray, var_pre: np.ndarray, var_post: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Test ``Δz = z_post − z_pre`` of independent sessions against 0.

    The statistic is ``Δz / sqrt(var_pre + var_post)``.  Its p value is
    two-sided from a Student t whose degrees of freedom match the tails of
    Fisher's z: with ``n`` effective samples, ``arctanh(r)`` has excess kurtosis
    ``≈ 2 / n`` (its exact null density is ``sech(z)^(n − 2)``, heavier-tailed
    than the normal), so ``Δz`` has excess kurtosis
    ``κ = Σ_s (2 / n_s) v_s² / (v_pre + v_post)²`` and the t with
    ``ν = 6 / κ + 4`` has the same kurtosis.  ``n_s = 3 + 1 / v_s``
    (:func:`fisher_z_variance`).  ν is several hundred for typical scans, so it
    matters only far in the tail, which is where a Benjamini–Hochberg threshold
    over thousands of edges lies: with normal p values the fraction of null
    simulations with any FDR-5% edge was 0.053 (T = 200), with the t 0.048.

    Parameters
    ----------
    delta_z, var_pre, var_post : ndarray
        Same shape; variances of each session's Fisher z.

    Returns
    -------
    stat, p : ndarray
        NaN where a variance is not positive.
    """
    var_pre = np.asarray(var_pre, dtype=np.float64)
    var_post = np.asarray(var_post, dtype=np.float64)
    total = var_pre + var_post
    ok = (var_pre > 0) & (var_post > 0)
    safe = np.where(ok, total, 1.0)
    stat = np.where(ok, np.asarray(delta_z, dtype=np.float64) / np.sqrt(safe), np.nan)
    kurtosis = sum(2.0 * v**2 / (3.0 + 1.0 / np.where(ok, v, 1.0)) for v in (var_pre, var_post))
    df = 6.0 * safe**2 / kurtosis + 4.0
    return stat, 2.0 * sps.t.sf(np.abs(stat), df)


def naive_z_variance(n_volumes: int) -> float:
    """White-noise variance of a Fisher z, ``1 / (T − 3)``.

    Parameters
    ----------
    n_volumes : int

    Returns
    -------
    float
    """
    return 1.0 / max(n_volumes - 3, 1)


def two_sided_p(stat: np.ndarray) -> np.ndarray:
    """Two-sided normal p value of a Z statistic (NaN stays NaN).

    Parameters
    ----------
    stat : ndarray

    Returns
    -------
    ndarray
    """
    return 2.0 * sps.norm.sf(np.abs(np.asarray(stat, dtype=np.float64)))


def _bh(p: np.ndarray) -> np.ndarray:
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = sps.false_discovery_control(p[ok], method="bh")
    return q


def network_block_weights(
    networks: Sequence[str],
) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """Edges of every within- and between-network block, in ``network_blocks`` order.

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


def _long_run_variance(psi: np.ndarray, taper: str = "adaptive") -> np.ndarray:
    """Variance of the mean of each column of ``psi`` under autocorrelation.

    ``psi`` has mean ~0 by construction (an influence function evaluated at the
    sample estimates), so its autocorrelations get the same mean-removal bias
    correction as xDF's, and the result the same Fisher-type small-sample
    factor ``n_eff / (n_eff − 3)`` with ``n_eff = T / τ`` (``τ`` the long-run
    variance ratio): for one edge of white noise this turns the delta method's
    ``1 / T`` into Fisher's ``1 / (T − 3)``.
    """
    t = psi.shape[0]
    gamma0 = (psi**2).mean(axis=0)
    scale = np.where(gamma0 > 0, gamma0, 1.0)
    acf = _acf(psi / np.sqrt(scale))
    lag_w = _lag_weights(acf, t, taper)
    acf = _mean_bias_corrected(acf, lag_w, t)
    lags = np.arange(acf.shape[0])[:, None]
    weights = lag_w * np.where(lags < t - 1, 1.0 - lags / t, 0.0)
    ratio = np.maximum(1.0 + 2.0 * (weights * acf).sum(axis=0), 1.0)
    n_eff = np.maximum(t / ratio, 4.0)
    return gamma0 * ratio / t * n_eff / (n_eff - 3.0)


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
    var = _long_run_variance(psi, taper)
    var[np.isnan(mean_z)] = np.nan
    return mean_z, var


def edge_table(comparison: Comparison, method: str = "model") -> pd.DataFrame:
    """Per-edge change with its autocorrelation-aware test.

    Parameters
    ----------
    comparison : Comparison
    method : {"model", "xdf", "naive"}
        Variance of each session's Fisher z (see :func:`session_z_variance`).

    Returns
    -------
    DataFrame
        One row per edge ``i < j``: ``roi_a, roi_b, network_a, network_b,
        z_pre, z_post, delta_z, stat, p, q``; ``stat`` is
        ``Δz / sqrt(var_pre + var_post)``; ``p`` from :func:`delta_z_test`.
    """
    var_pre = session_z_variance(comparison.pre, method)
    var_post = session_z_variance(comparison.post, method)
    n = len(comparison.rois)
    ii, jj = np.triu_indices(n, k=1)
    names = np.asarray(comparison.rois.names, dtype=object)
    nets = np.asarray([x or "Unassigned" for x in comparison.rois.networks], dtype=object)
    z_pre, z_post = comparison.pre.z[ii, jj], comparison.post.z[ii, jj]
    delta = z_post - z_pre
    stat, p = delta_z_test(delta, var_pre[ii, jj], var_post[ii, jj])
    return pd.DataFrame({
        "roi_a": names[ii], "roi_b": names[jj], "network_a": nets[ii], "network_b": nets[jj],
        "z_pre": z_pre, "z_post": z_post, "delta_z": delta, "stat": stat, "p": p, "q": _bh(p),
    })


def network_stats_table(comparison: Comparison) -> pd.DataFrame:
    """Within- and between-network mean Fisher z, its change and a test of the change.

    Rows and the ``n_edges, z_pre, z_post, delta_z`` columns equal
    :meth:`core.results.Comparison.network_table`; ``se``, ``stat``, ``p`` and
    ``q`` are added (delta-method long-run variance, see the module notes,
    rescaled for the denoising by :func:`_denoising_scale`; BH across network
    pairs).

    Parameters
    ----------
    comparison : Comparison

    Returns
    -------
    DataFrame
        ``network_a, network_b, n_edges, z_pre, z_post, delta_z, se, stat, p, q``.
    """
    blocks = network_block_weights(comparison.rois.networks)
    edges = [(rows, cols) for _, _, rows, cols in blocks]
    variances = []
    for session in (comparison.pre, comparison.post):
        _, var = influence_block_variance(session.timeseries, edges, taper="tukey")
        variances.append(var * _denoising_scale(session, edges))
    table = comparison.network_table()
    se = np.sqrt(variances[0] + variances[1])
    table["se"] = se
    table["stat"] = table["delta_z"].to_numpy() / se
    table["p"] = two_sided_p(table["stat"].to_numpy())
    table["q"] = _bh(table["p"].to_numpy())
    return table


def _denoising_scale(
    session: SessionConnectivity, blocks: Sequence[tuple[np.ndarray, np.ndarray]]
) -> np.ndarray:
    """Correct block variances for what the cleaned series cannot show.

    The influence-function variance is estimated from the cleaned series, so
    after band-pass filtering it misses variance for the same reason xDF does
    (see :mod:`core.edge_variance`).  Per block we rescale it by
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
    from core.edge_variance import model_edge_variance

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
        infl = _long_run_variance(psi, "tukey").sum()
        if infl > 0:
            scale[b] = model[rows, cols].sum() / infl
    return scale
