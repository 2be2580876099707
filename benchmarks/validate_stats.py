"""Calibration and sensitivity of the single-patient statistics (core.stats).

Null simulations: pre and post from the same generative process (fixed true
ROI correlation from a 5-factor model, AR(1) φ per ROI drawn in 0.3–0.6, TR 2 s,
equal lengths).  Prints the per-edge false-positive rate at α = 0.05 for xDF
and for the naive white-noise variance 1/(T − 3), the fraction of repetitions
with any FDR-5% edge, the network-level false-positive rate, and on the demo
patient the sensitivity for the injected change.

Run: ``PREPOST_CACHE_DIR=/tmp/democache python benchmarks/validate_stats.py``
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from scipy.signal import lfilter
from scipy.stats import false_discovery_control

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.stats import (
    influence_block_variance,
    naive_z_variance,
    network_block_weights,
    two_sided_p,
    xdf_r_variance,
)

ALPHA = 0.05


def simulate_session(rng, chol, phis, n_volumes):
    """Independent AR(1) sources mixed to a fixed lag-0 correlation."""
    white = rng.standard_normal((n_volumes + 50, phis.size))
    ar = np.column_stack([lfilter([np.sqrt(1 - p**2)], [1, -p], white[:, i])
                          for i, p in enumerate(phis)])[50:]
    return ar @ chol.T


def true_correlation(rng, n_rois, n_factors=5):
    loadings = rng.normal(0, 1, (n_rois, n_factors))
    cov = loadings @ loadings.T + np.diag(rng.uniform(2, 6, n_rois))
    sd = np.sqrt(np.diag(cov))
    return cov / np.outer(sd, sd)


def null_simulation(n_volumes, n_rois=60, n_reps=200, seed=0):
    rng = np.random.default_rng(seed)
    networks = [f"N{i % 6}" for i in range(n_rois)]
    blocks = [(r, c) for _, _, r, c in network_block_weights(networks)]
    chol = np.linalg.cholesky(true_correlation(rng, n_rois))
    ii, jj = np.triu_indices(n_rois, k=1)
    fpr = {"xdf": [], "naive": []}
    any_fdr = {"xdf": [], "naive": []}
    net_fp = []
    for _ in range(n_reps):
        phis = rng.uniform(0.3, 0.6, n_rois)
        z, var, block = [], [], []
        for _session in range(2):
            x = simulate_session(rng, chol, phis, n_volumes)
            r, var_r = xdf_r_variance(x)
            z.append(np.arctanh(r[ii, jj]))
            var.append(var_r[ii, jj] / (1 - r[ii, jj] ** 2) ** 2)
            block.append(influence_block_variance(x, blocks, taper="tukey"))
        delta = z[1] - z[0]
        for name, v in (("xdf", var[0] + var[1]),
                        ("naive", 2 * naive_z_variance(n_volumes))):
            p = two_sided_p(delta / np.sqrt(v))
            fpr[name].append(np.mean(p < ALPHA))
            any_fdr[name].append(bool(np.any(false_discovery_control(p) < ALPHA)))
        (m0, v0), (m1, v1) = block
        net_fp.append(np.mean(two_sided_p((m1 - m0) / np.sqrt(v0 + v1)) < ALPHA))
    return {k: float(np.mean(v)) for k, v in fpr.items()}, \
        {k: float(np.mean(v)) for k, v in any_fdr.items()}, float(np.mean(net_fp))


def demo_sensitivity():
    from core.demo import INJECTED_CHANGE, open_demo_patient
    from core.pipeline import run_comparison
    from core.stats import edge_table, network_stats_table

    comparison = run_comparison(open_demo_patient())
    edges = edge_table(comparison)
    nets = network_stats_table(comparison)
    injected = {frozenset(pair) for pair in INJECTED_CHANGE}
    edge_pairs = [frozenset((a, b)) for a, b in zip(edges.network_a, edges.network_b,
                                                     strict=True)]
    in_edge = np.array([p in injected for p in edge_pairs])
    net_pairs = [frozenset((a, b)) for a, b in zip(nets.network_a, nets.network_b,
                                                    strict=True)]
    in_net = np.array([p in injected for p in net_pairs])
    return edges, nets, in_edge, in_net


def main():
    start = time.time()
    print("Null simulations (pre and post from one process; AR(1) φ 0.3–0.6, TR 2 s)")
    header = (f"{'T':>5} {'ROIs':>5} {'reps':>5} | {'edge FPR xDF':>12} {'naive':>7} | "
              f"{'any FDR5% xDF':>13} {'naive':>7} | {'network FPR':>11}")
    print(header)
    print("-" * len(header))
    for n_volumes, seed in ((200, 1), (300, 2)):
        fpr, any_fdr, net = null_simulation(n_volumes, seed=seed)
        print(f"{n_volumes:>5} {60:>5} {200:>5} | {fpr['xdf']:>12.3f} {fpr['naive']:>7.3f} | "
              f"{any_fdr['xdf']:>13.3f} {any_fdr['naive']:>7.3f} | {net:>11.3f}")
    print("targets: edge FPR 0.03–0.07, any-FDR ≤ 0.05, network FPR 0.03–0.07\n")
    edges, nets, in_edge, in_net = demo_sensitivity()
    print("Demo patient (injected: Default–Limbic −0.6, Default–Cont +0.6 latent r)")
    print(f"edges in injected pairs significant at q<0.05: "
          f"{np.mean(edges.q[in_edge] < ALPHA):.3f} of {int(in_edge.sum())}")
    print(f"edges elsewhere significant at q<0.05:        "
          f"{np.mean(edges.q[~in_edge] < ALPHA):.3f} of {int((~in_edge).sum())}")
    cols = ["network_a", "network_b", "n_edges", "z_pre", "z_post", "delta_z", "stat", "p", "q"]
    print(nets.loc[in_net, cols].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"other network pairs with q<0.05: {int((nets.q[~in_net] < ALPHA).sum())} "
          f"of {int((~in_net).sum())}")
    print(f"\n({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
