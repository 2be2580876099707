"""The reference-based single-patient test (core.stats.reference): closed forms and calibration."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from core.stats import reference as rs
from core.stats.inference import benjamini_hochberg

# deliberately unequal sizes: a swapped axis cannot pass
N_PAIRS, N_ITEMS = 7, 11


def _reference(rng, n_pairs=N_PAIRS, n_items=N_ITEMS, tau2=0.02, w=0.01):
    wbar = w * np.exp(rng.normal(0, 0.2, n_items))
    within = wbar * np.exp(rng.normal(0, 0.1, (n_pairs, n_items)))
    delta = rng.normal(0, np.sqrt(tau2 + within))
    return delta, within


def test_crawford_howell_exactly_when_the_patient_is_as_noisy_as_the_references():
    rng = np.random.default_rng(0)
    delta, within = _reference(rng)
    summary = rs.summarise_reference(delta, within)
    x = rng.normal(0, 0.2, N_ITEMS)
    m, s = delta.mean(axis=0), delta.std(axis=0, ddof=1)
    expected_t = (x - m) / (s * np.sqrt(1 + 1 / N_PAIRS))
    for w_patient in (None, summary.within_var):
        t, df, p = rs.test_against_reference(x, w_patient, summary, moderated=False)
        np.testing.assert_allclose(t, expected_t, rtol=1e-12)
        np.testing.assert_array_equal(df, np.full(N_ITEMS, N_PAIRS - 1.0))
        np.testing.assert_allclose(p, 2 * sps.t.sf(np.abs(expected_t), N_PAIRS - 1), rtol=1e-10)
    np.testing.assert_array_equal(summary.n, np.full(N_ITEMS, N_PAIRS))
    np.testing.assert_allclose(summary.within_var, within.mean(axis=0))


@pytest.mark.parametrize("moderated", [False, True])
def test_large_reference_gives_the_z_test(moderated):
    rng = np.random.default_rng(1)
    n_pairs, n_items, mu, tau2, w = 20000, 13, 0.05, 0.02, 0.01
    within = np.full((n_pairs, n_items), w)
    delta = mu + rng.normal(0, np.sqrt(tau2 + w), (n_pairs, n_items))
    summary = rs.summarise_reference(delta, within)
    x = np.linspace(-0.5, 0.5, n_items)
    t, df, p = rs.test_against_reference(x, np.full(n_items, w), summary, moderated)
    z = (x - mu) / np.sqrt(tau2 + w)
    np.testing.assert_allclose(t, z, rtol=0.02, atol=0.02)  # sampling error of m and s
    assert (df > 1e4).all()
    np.testing.assert_allclose(p, 2 * sps.norm.sf(np.abs(t)), atol=1e-3)


def test_a_noisier_patient_gets_a_larger_variance_and_more_degrees_of_freedom():
    rng = np.random.default_rng(2)
    delta, within = _reference(rng)
    summary = rs.summarise_reference(delta, within)
    x = rng.normal(0, 0.2, N_ITEMS)
    t1, df1, _ = rs.test_against_reference(x, summary.within_var, summary, moderated=False)
    t2, df2, _ = rs.test_against_reference(x, 3 * summary.within_var, summary, moderated=False)
    assert (np.abs(t2) < np.abs(t1)).all()
    assert (df2 > df1).all()
    # V = (1 + 1/N) s2 + w_p - wbar
    v = (1 + 1 / N_PAIRS) * summary.var + 2 * summary.within_var
    np.testing.assert_allclose(t2, (x - summary.mean) / np.sqrt(v), rtol=1e-12)


def test_the_prior_is_recovered_from_scaled_chi_square_variances():
    rng = np.random.default_rng(3)
    n_items, d, d0 = 40000, 8, 12.0
    scale = np.exp(rng.normal(0, 0.3, n_items))
    groups = rng.integers(0, 3, n_items)
    kappa = np.array([1.5, 2.0, 3.0])[groups]
    true_var = kappa * scale * d0 / rng.chisquare(d0, n_items)
    var = true_var * rng.chisquare(d, n_items) / d
    prior, prior_df, pooled = rs.fit_variance_prior(var, np.full(n_items, d), scale, groups)
    assert abs(prior_df - d0) / d0 < 0.15
    np.testing.assert_allclose(prior / scale, kappa, rtol=0.05)
    np.testing.assert_array_equal(pooled, d * np.bincount(groups)[groups])
    # no spread beyond sampling noise: infinite prior df (full pooling)
    var = 2.0 * scale * rng.chisquare(d, n_items) / d
    _, prior_df, _ = rs.fit_variance_prior(var, np.full(n_items, d), scale)
    assert prior_df > 1000  # infinite, or as good as (the spread is estimated)


def test_missing_pairs_and_items_give_nan_not_errors():
    rng = np.random.default_rng(4)
    delta, within = _reference(rng)
    delta[:, 0] = np.nan  # an ROI every pair lacks
    delta[: N_PAIRS - 1, 1] = np.nan  # only one pair has it
    delta[0, 2] = np.nan  # one pair lacks it
    summary = rs.summarise_reference(delta, within)
    np.testing.assert_array_equal(summary.n[:4], [0, 1, N_PAIRS - 1, N_PAIRS])
    t, _, p = rs.test_against_reference(np.zeros(N_ITEMS), None, summary)
    assert np.isnan(p[:2]).all() and np.isfinite(p[2:]).all()
    assert np.isnan(t[:2]).all()
    part = summary.take(np.array([3, 2]))
    assert part.n.tolist() == [N_PAIRS, N_PAIRS - 1] and part.prior_df == summary.prior_df


def test_shapes_are_checked():
    with pytest.raises(ValueError, match=r"expected two arrays of shape \(n_pairs, n_items\)"):
        rs.summarise_reference(np.zeros((N_PAIRS, N_ITEMS)), np.ones((N_ITEMS, N_PAIRS)))
    summary = rs.summarise_reference(np.zeros((N_PAIRS, N_ITEMS)), np.ones((N_PAIRS, N_ITEMS)))
    with pytest.raises(ValueError, match="expected the patient's Δz for the summary's 11"):
        rs.test_against_reference(np.zeros(N_PAIRS), None, summary)


def _simulated_false_positives(n_ref, patient_scale, reps, rng):
    """Share of null items with p < .05 and with q < .05 (the helper's synthetic design)."""
    n_items, n_groups = 6000, 12
    group = np.repeat(np.arange(n_groups), n_items // n_groups)
    wbar = 0.03 * np.exp(rng.normal(0, 0.25, n_items))
    kappa = rng.uniform(1.5, 3.5, n_groups)[group]
    tau2 = (kappa - 1) * wbar * np.exp(rng.normal(0, 0.17, n_items))
    mu = rng.normal(0, 0.02, n_items)

    def draw(n, scale):
        b = rng.normal(size=(n, n_items)) * np.sqrt(tau2) * np.exp(rng.normal(0, 0.1, (n, 1)))
        w = wbar * scale
        delta = mu + b + rng.normal(size=(n, n_items)) * np.sqrt(w)
        return delta, w * np.exp(rng.normal(0, 0.1, (n, n_items)))

    p05, q05 = [], []
    for _ in range(reps):
        summary = rs.summarise_reference(*draw(n_ref, rng.uniform(0.8, 1.25, (n_ref, 1))),
                                         group)
        x, w = draw(1, patient_scale)
        _, _, p = rs.test_against_reference(x[0], w[0], summary)
        p05.append(np.mean(p < 0.05))
        q05.append(np.mean(benjamini_hochberg(p) < 0.05))
    return float(np.mean(p05)), float(np.mean(q05))


@pytest.mark.parametrize("n_ref", [5, 10, 30])
@pytest.mark.parametrize("patient_scale", [1.0, 2.0])
def test_false_positive_rate_on_simulated_nulls(n_ref, patient_scale):
    rng = np.random.default_rng(100 + n_ref)
    p05, q05 = _simulated_false_positives(n_ref, patient_scale, reps=40, rng=rng)
    assert abs(p05 - 0.05) <= 0.015, p05
    assert q05 <= 0.002, q05
