"""Statistics: single-patient inference for the change of connectivity between two sessions.

Two sessions of one person are independent recordings, so for every edge
``Δz = z_post − z_pre`` has variance ``var(z_pre) + var(z_post)``.  The naive
white-noise variance of a Fisher z, ``1 / (T − 3)``, is far too small for BOLD
signals: band-pass filtering and the haemodynamics make neighbouring volumes
strongly correlated, so the effective number of independent samples is much
smaller than ``T`` and naive tests flag many changes that are only noise.

Edges: Bartlett's variance for the pipeline's own denoising (default), or xDF
    The default (:func:`session_z_variance` with ``method="model"``) is
    :func:`core.stats.edge_variance.model_edge_variance`: each ROI's autocorrelation
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
    (xDF stops one lag earlier; see :func:`core.stats.autocorrelation.breakpoints`), and each
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
    bias of removing the mean
    (:func:`core.stats.autocorrelation.mean_bias_corrected`); Fisher's z gets
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
    rescaled for the denoising (:func:`core.stats.blocks.network_stats_table`).  This accounts for
    the dependence between edges and for autocorrelation without Gaussian
    assumptions, costs one pass over the data, and for a one-edge block
    reduces to a nonparametric version of the xDF variance.
    :mod:`core.stats.bootstrap` gives circular block bootstrap intervals as a check.

Edge p values are two-sided from that t; network p values are two-sided
normal.  q values are Benjamini–Hochberg (``scipy.stats.false_discovery_control``)
across the edges, or across the network pairs.
"""

from __future__ import annotations

from core.stats.autocorrelation import standardise
from core.stats.blocks import (
    influence_block_variance,
    network_block_weights,
    network_stats_table,
)
from core.stats.inference import (
    benjamini_hochberg,
    delta_z_test,
    edge_table,
    session_z_variance,
    two_sided_p,
)
from core.stats.xdf import (
    fisher_z_variance,
    naive_z_variance,
    session_edge_variance,
    xdf_r_variance,
)

__all__ = [
    "benjamini_hochberg",
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
