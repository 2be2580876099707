"""The denoising-model variance of correlations (core.stats.edge_variance)."""

import numpy as np
import pytest

from core.results import Comparison, RoiSet, SessionConnectivity
from core.settings import AnalysisSettings, DenoiseSettings
from core.signal.connectivity import fisher_z
from core.signal.denoise import clean_signals, cleaning_operator
from core.stats import edge_table, network_stats_table
from core.stats.edge_variance import _lag_traces, model_edge_variance
from core.stats.null_simulation import ar1_series

TR = 2.0


def test_cleaning_operator_reproduces_cleaning_with_confounds_scrubbing_and_filter():
    rng = np.random.default_rng(0)
    t = 120
    raw = rng.normal(size=(t, 5)) + np.linspace(0, 3, t)[:, None]
    confounds = np.cumsum(rng.normal(size=(t, 4)), axis=0)
    keep = np.setdiff1d(np.arange(t), [10, 11, 50, 90])
    settings = DenoiseSettings()
    cleaned = clean_signals(raw, TR, confounds, keep, settings).signals
    operator = cleaning_operator(t, TR, confounds, keep, settings)
    assert operator.shape == (keep.size, t)
    np.testing.assert_allclose(operator @ raw, cleaned, atol=1e-8 * np.abs(cleaned).max())


def test_lag_traces_match_explicit_matrices():
    rng = np.random.default_rng(1)
    t, k_max = 12, 3
    p = rng.normal(size=(9, t))
    h, gram = _lag_traces(p, k_max)
    pc = p - p.mean(axis=0)
    shifts = [np.eye(t, k=-k) for k in range(-k_max, k_max + 1)]  # E_k[u, s] = 1 if u - s = k
    b = [pc @ e @ pc.T for e in shifts]
    np.testing.assert_allclose(h, [np.trace(m) for m in b], atol=1e-10)
    np.testing.assert_allclose(gram, [[np.trace(x @ y) for y in b] for x in b], atol=1e-9)


def test_white_noise_gives_fisher_variance():
    rng = np.random.default_rng(2)
    t = 200
    centre = np.eye(t) - 1.0 / t
    iu = np.triu_indices(20, 1)
    means = [model_edge_variance(rng.standard_normal((t, 20)), centre)[iu].mean()
             for _ in range(10)]
    assert np.mean(means) == pytest.approx(1 / (t - 3), rel=0.01)


def test_band_pass_variance_matches_simulation():
    """var(z) of band-passed AR(1) pairs: model vs the spread over repetitions."""
    rng = np.random.default_rng(3)
    t, n, reps = 200, 6, 300
    phis = np.array([0.3, 0.6, 0.45, 0.5, 0.35, 0.55])
    settings = DenoiseSettings(strategy="none")
    operator = cleaning_operator(t, TR, None, None, settings)
    iu = np.triu_indices(n, 1)
    z, model = [], []
    for _ in range(reps):
        raw = ar1_series(rng, t, phis)
        z.append(fisher_z(np.corrcoef(operator @ raw, rowvar=False))[iu])
        model.append(model_edge_variance(raw, operator)[iu])
    ratio = np.mean(model, axis=0) / np.var(z, axis=0)
    # sampling error of a variance from 300 repetitions is about 8%
    assert 0.9 < ratio.mean() < 1.12
    naive = (1 / (t - 3)) / np.var(z, axis=0)
    assert naive.mean() < 0.5  # filtering leaves far fewer effective samples


def _session(rng, chol, phis, t):
    raw = ar1_series(rng, t, phis) @ chol.T
    confounds = np.cumsum(rng.normal(0, 1, (t, 6)), axis=0)
    raw = raw + confounds @ rng.normal(0, 0.3, (6, phis.size))
    settings = DenoiseSettings(strategy="none")
    cleaned = clean_signals(raw, TR, confounds, None, settings).signals
    unfiltered = clean_signals(raw, TR, confounds, None,
                               DenoiseSettings(strategy="none", band_pass=None)).signals
    r = np.corrcoef(cleaned, rowvar=False)
    return SessionConnectivity(
        label="", timeseries=cleaned, sample_mask=np.arange(t), n_volumes=t, tr=TR, r=r,
        z=fisher_z(r), unfiltered_timeseries=unfiltered,
        cleaning_operator=cleaning_operator(t, TR, confounds, None, settings))


def test_pipeline_null_is_calibrated_where_xdf_on_cleaned_series_is_not():
    rng = np.random.default_rng(4)
    n, t, reps = 24, 200, 30
    loadings = rng.normal(0, 1, (n, 3))
    cov = loadings @ loadings.T + np.diag(rng.uniform(2, 5, n))
    chol = np.linalg.cholesky(cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov))))
    rois = RoiSet(names=[f"R{i}" for i in range(n)], networks=[f"N{i % 4}" for i in range(n)])
    fpr = {"model": [], "xdf": []}
    network = []
    for _ in range(reps):
        phis = rng.uniform(0.3, 0.6, n)
        comparison = Comparison(subject="sim", rois=rois,
                                pre=_session(rng, chol, phis, t), post=_session(rng, chol, phis, t),
                                settings=AnalysisSettings(), strategy="none")
        for method in fpr:
            fpr[method].append(np.mean(edge_table(comparison, method).p < 0.05))
        network.append(network_stats_table(comparison).p.to_numpy())
    assert 0.03 <= np.mean(fpr["model"]) <= 0.07
    assert np.mean(fpr["xdf"]) > 0.08
    assert np.mean(np.concatenate(network) < 0.05) <= 0.08


def test_the_tukey_long_run_variance_needs_only_its_lags(monkeypatch):
    """Lags past sqrt(T) have no Tukey weight: summed directly, the few kept equal the FFT's."""
    from core.stats import autocorrelation
    from core.stats.autocorrelation import long_run_variance, sample_acf

    x = ar1_series(np.random.default_rng(3), 240, np.full(50, 0.6))
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    np.testing.assert_allclose(sample_acf(x, 16), sample_acf(x)[:17], rtol=1e-12, atol=1e-14)
    psi = x * x[::-1]
    fast = long_run_variance(psi, "tukey")
    monkeypatch.setattr(autocorrelation, "sample_acf", lambda values, max_lag=None: sample_acf(
        values))  # every lag, from the FFT
    np.testing.assert_allclose(fast, long_run_variance(psi, "tukey"), rtol=1e-12)
