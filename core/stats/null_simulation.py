"""Null simulations: two sessions of one person with nothing changed, cleaned as the pipeline does.

The calibration of the single-patient statistics is measured on these
(``benchmarks/validate_stats.py`` prints it; a slow test guards it): pre and
post come from the same generative process, a fixed ROI correlation from a
factor model with an AR(1) autocorrelation per ROI, in two settings:

* ``unfiltered``: AR(1) series, only detrended;
* ``pipeline``: what the product does by default: twelve motion-like
  confounds (six random walks and their derivatives) add artefacts to the raw
  signals and are regressed out, then detrending and the 0.01–0.1 Hz
  Butterworth band-pass.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.signal import lfilter

from core.results import Comparison, RoiSet, SessionConnectivity
from core.settings import AnalysisSettings, DenoiseSettings
from core.signal.connectivity import fisher_z
from core.signal.denoise import clean_signals, cleaning_operator
from core.stats.blocks import network_stats_table
from core.stats.inference import edge_table

__all__ = [
    "SETTINGS",
    "ar1_series",
    "factor_correlation",
    "motion_confounds",
    "null_comparison",
    "null_false_positive_rates",
    "simulated_session",
]

#: The two simulation settings (see the module notes).
SETTINGS = ("unfiltered", "pipeline")
TR = 2.0
_BURN_IN = 50


def ar1_series(rng: np.random.Generator, n_volumes: int,
               phis: Sequence[float] | np.ndarray) -> np.ndarray:
    """Independent unit-variance AR(1) series, one column per coefficient.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_volumes : int
    phis : sequence of float
        Lag-1 autocorrelation of each column.

    Returns
    -------
    ndarray, shape (n_volumes, len(phis))
    """
    coefficients = np.asarray(phis, dtype=float)
    white = rng.standard_normal((n_volumes + _BURN_IN, coefficients.size))
    return np.column_stack([lfilter([np.sqrt(1 - p**2)], [1, -p], white[:, i])
                            for i, p in enumerate(coefficients)])[_BURN_IN:]


def factor_correlation(rng: np.random.Generator, n_rois: int, n_factors: int = 5
                       ) -> np.ndarray:
    """Return a realistic true ROI correlation matrix from a factor model.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_rois : int
    n_factors : int, default=5

    Returns
    -------
    ndarray, shape (n_rois, n_rois)
    """
    loadings = rng.normal(0, 1, (n_rois, n_factors))
    cov = loadings @ loadings.T + np.diag(rng.uniform(2, 6, n_rois))
    sd = np.sqrt(np.diag(cov))
    return cov / np.outer(sd, sd)


def motion_confounds(rng: np.random.Generator, n_volumes: int) -> np.ndarray:
    """Six random-walk parameters and their derivatives, as in an fMRIPrep table.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_volumes : int

    Returns
    -------
    ndarray, shape (n_volumes, 12)
    """
    walk = np.cumsum(rng.normal(0, 1, (n_volumes, 6)), axis=0)
    return np.hstack([walk, np.vstack([np.zeros((1, 6)), np.diff(walk, axis=0)])])


def simulated_session(rng: np.random.Generator, chol: np.ndarray, phis: np.ndarray,
                      n_volumes: int, setting: str) -> SessionConnectivity:
    """One simulated session, cleaned as the pipeline cleans it.

    Parameters
    ----------
    rng : numpy.random.Generator
    chol : ndarray, shape (n_rois, n_rois)
        Cholesky factor of the true correlation.
    phis : ndarray, shape (n_rois,)
        AR(1) coefficient of each ROI's sources.
    n_volumes : int
    setting : {"unfiltered", "pipeline"}

    Returns
    -------
    SessionConnectivity
        With the unfiltered signals and the cleaning operator, so every
        variance method of :mod:`core.stats` applies.
    """
    if setting not in SETTINGS:
        raise ValueError(f"expected a setting in {SETTINGS}, got {setting!r}")
    raw = ar1_series(rng, n_volumes, phis) @ chol.T
    confounds = None
    denoise = DenoiseSettings(strategy="none", band_pass=None)
    if setting == "pipeline":
        confounds = motion_confounds(rng, n_volumes)
        raw = raw + confounds[:, :6] @ rng.normal(0, 0.3, (6, phis.size))
        denoise = DenoiseSettings(strategy="none")
    cleaned = clean_signals(raw, TR, confounds, None, denoise, source="simulation").signals
    unfiltered = clean_signals(raw, TR, confounds, None,
                               DenoiseSettings(strategy="none", band_pass=None),
                               source="simulation").signals
    operator = cleaning_operator(n_volumes, TR, confounds, None, denoise)
    r = np.corrcoef(cleaned, rowvar=False)
    return SessionConnectivity(
        label="", timeseries=cleaned, sample_mask=np.arange(n_volumes), n_volumes=n_volumes,
        tr=TR, r=r, z=fisher_z(r), unfiltered_timeseries=unfiltered,
        cleaning_operator=operator)


def null_comparison(rng: np.random.Generator, chol: np.ndarray, n_volumes: int,
                    setting: str) -> Comparison:
    """Pre and post of one simulated person with nothing changed.

    Parameters
    ----------
    rng : numpy.random.Generator
    chol : ndarray
        Cholesky factor of the true correlation (:func:`factor_correlation`).
    n_volumes : int
    setting : {"unfiltered", "pipeline"}

    Returns
    -------
    Comparison
        ROIs ``R0..`` in six networks ``N0..N5``.
    """
    n_rois = chol.shape[0]
    rois = RoiSet(names=[f"R{i}" for i in range(n_rois)],
                  networks=[f"N{i % 6}" for i in range(n_rois)])
    phis = np.asarray(rng.uniform(0.3, 0.6, n_rois))
    pre, post = (simulated_session(rng, chol, phis, n_volumes, setting) for _ in range(2))
    return Comparison(subject="sim", rois=rois, pre=pre, post=post,
                      settings=AnalysisSettings(), strategy="none")


def null_false_positive_rates(
    n_volumes: int, setting: str, n_reps: int, seed: int = 0, n_rois: int = 60,
    methods: Sequence[str] = ("naive", "xdf", "model"), alpha: float = 0.05,
) -> tuple[dict[str, float], dict[str, float], float]:
    """Measure the tests' false-positive rates on null simulations.

    Parameters
    ----------
    n_volumes : int
    setting : {"unfiltered", "pipeline"}
    n_reps : int
    seed : int, default=0
    n_rois : int, default=60
    methods : sequence of str
        Edge variance methods (:func:`core.stats.session_z_variance`).
    alpha : float, default=0.05

    Returns
    -------
    edge_fpr : dict
        Per method, the share of edges with p < alpha.
    any_fdr : dict
        Per method, the share of repetitions with any edge at q < alpha.
    network_fpr : float
        The share of network pairs with p < alpha (the default method).
    """
    rng = np.random.default_rng(seed)
    chol = np.linalg.cholesky(factor_correlation(rng, n_rois))
    fpr: dict[str, list[float]] = {m: [] for m in methods}
    any_fdr: dict[str, list[bool]] = {m: [] for m in methods}
    network = []
    for _ in range(n_reps):
        comparison = null_comparison(rng, chol, n_volumes, setting)
        for method in methods:
            edges = edge_table(comparison, method)
            fpr[method].append(float(np.mean(edges.p < alpha)))
            any_fdr[method].append(bool(np.any(edges.q < alpha)))
        network.append(float(np.mean(network_stats_table(comparison).p < alpha)))
    return ({m: float(np.mean(v)) for m, v in fpr.items()},
            {m: float(np.mean(v)) for m, v in any_fdr.items()}, float(np.mean(network)))
