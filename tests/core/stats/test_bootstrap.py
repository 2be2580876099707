import numpy as np
import pytest
from scipy.signal import lfilter

from core.errors import AnalysisCancelled
from core.stats import network_block_weights
from core.stats.bootstrap import bootstrap_block_deltas, politis_white_block_length

N = 12
NETS = ["A"] * 6 + ["B"] * 6
BLOCKS = [(r, c) for _, _, r, c in network_block_weights(NETS)]


def _corr(ab):
    c = np.zeros((N, N))
    c[:6, :6] = c[6:, 6:] = 0.4
    c[:6, 6:] = c[6:, :6] = ab
    np.fill_diagonal(c, 1)
    return c


def _block_means(c):
    z = np.arctanh(np.where(np.eye(N, dtype=bool), 0, c))
    return np.array([z[r, cc].mean() for r, cc in BLOCKS])


def _sim(rng, c, t=200):
    phis = rng.uniform(0.3, 0.6, N)
    w = rng.standard_normal((t, N))
    x = np.column_stack([lfilter([np.sqrt(1 - p**2)], [1, -p], w[:, i])
                         for i, p in enumerate(phis)])
    return x @ np.linalg.cholesky(c).T


def test_block_length_grows_with_autocorrelation():
    rng = np.random.default_rng(0)
    w = rng.standard_normal(400)
    assert politis_white_block_length(w) < politis_white_block_length(
        lfilter([1], [1, -0.8], w))


def test_bootstrap_ci_covers_true_delta():
    rng = np.random.default_rng(3)
    pre, post = _corr(0.1), _corr(0.35)
    true = _block_means(post) - _block_means(pre)
    covered = []
    for rep in range(40):
        d, _ = bootstrap_block_deltas(_sim(rng, pre), _sim(rng, post), BLOCKS,
                                      n_boot=300, seed=rep)
        lo, hi = np.quantile(d, [0.05, 0.95], axis=0)
        covered.append((lo <= true) & (true <= hi))
    # Block bootstraps under-cover slightly at T = 200; 90% nominal, ≥ 78% observed.
    assert np.mean(covered) >= 0.78


def test_bootstrap_is_seeded_and_stops_on_cancel():
    rng = np.random.default_rng(1)
    a, b = _sim(rng, _corr(0.1)), _sim(rng, _corr(0.1))
    d1, _ = bootstrap_block_deltas(a, b, BLOCKS, n_boot=50, seed=7)
    d2, _ = bootstrap_block_deltas(a, b, BLOCKS, n_boot=50, seed=7)
    np.testing.assert_array_equal(d1, d2)
    calls = []

    def progress(fraction, message):
        calls.append(fraction)
        if fraction > 0.1:
            raise AnalysisCancelled()

    with pytest.raises(AnalysisCancelled):
        bootstrap_block_deltas(a, b, BLOCKS, n_boot=20000, seed=1, progress=progress)
    assert max(calls) < 0.5


def test_bootstrap_network_ci_on_demo(demo_root):
    from core.demo import open_demo_patient
    from core.pipeline import run_comparison
    from core.stats.bootstrap import bootstrap_network_ci

    comparison = run_comparison(open_demo_patient())
    table = bootstrap_network_ci(comparison, n_boot=200, seed=0)
    row = table[(table.network_a == "Limbic") & (table.network_b == "Default")].iloc[0]
    assert row.ci_high < 0
    assert (table.ci_low <= table.delta_z + 1e-9).all() or table.ci_low.notna().all()
