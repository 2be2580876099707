"""xDF: the variance of Pearson correlations of autocorrelated series (Afyouni et al. 2019)."""

from __future__ import annotations

import numpy as np

from core.signal.connectivity import R_MAX
from core.stats.autocorrelation import lag_weights, mean_bias_corrected, sample_acf, standardise

__all__ = ["fisher_z_variance", "naive_z_variance", "session_edge_variance", "xdf_r_variance"]


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
    (:func:`mean_bias_corrected`), and the truncation keeps the first lag
    inside the white-noise band (:func:`breakpoints`).  This is the right
    estimator for series that were not filtered; for denoised series the
    edge statistics use :mod:`core.stats.edge_variance` instead.
    """
    x = standardise(timeseries)
    t = x.shape[0]
    if t < 4:
        raise ValueError(f"expected at least 4 volumes for xDF, got {t}")
    rho = np.clip((x.T @ x) / t, -R_MAX, R_MAX)
    np.fill_diagonal(rho, 1.0)
    ac = sample_acf(x)
    lag_w = lag_weights(ac, t, taper)
    ac = mean_bias_corrected(ac, lag_w, t)
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
