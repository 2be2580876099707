"""Calibration of the reference verdict (core.reference_verdict, core.stats.reference).

Real data: the retest cohort (/work/shared/data/retest_cohort, 18 people scanned
twice without ketamine), each pair analysed with the product's pipeline
(``--strategy none --no-filter --tr 2``: the series are denoised by the source).
Leave-half-out: a reference is built from 9 pairs (``build_reference``, written
and read back as ``reference.zip``) and each of the other 9 is tested as a
patient through ``reference_verdict``, then the halves swap.  Split 0 is the
cohort order; 20 more random 9/9 splits (seed 1) follow.  Nothing is tuned on
the held-out half.  An injected +0.25 z on every edge of one network pair (and
on its block) must be found at q_ref < .05 among the 36 network pairs.

Rows: ``reference`` is the shipped verdict (moderated Crawford–Howell with the
patient's within-scan variance); ``CH`` and ``CH+w`` are plain Crawford–Howell
without moderation, without and with the patient's within-scan variance;
``within`` is the within-scan test alone (no reference).

Synthetic: references of N = 5, 10, 30 pairs from a known model (see
``_synthetic``), patients as noisy as the references or twice as noisy.

Run: ``python benchmarks/validate_reference.py [--quick]`` (a few minutes;
``--quick``: 4 random splits and 30 synthetic repetitions).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.io.inputs import open_timeseries_pair
from core.io.reference_file import build_reference, load_reference
from core.reference_verdict import pair_from_review, reference_verdict
from core.review import review_patient
from core.settings import AnalysisSettings, DenoiseSettings
from core.stats import reference as rs
from core.stats.inference import benjamini_hochberg, two_sided_p

COHORT = Path("/work/shared/data/retest_cohort")
SETTINGS = AnalysisSettings(denoise=DenoiseSettings(strategy="none", band_pass=None), tr=2.0,
                            labels_table=str(COHORT / "rois.tsv"))
INJECT = 0.25
BLOCKS = {"Lim-Def": frozenset(("Limbic", "Default")), "Con-Def": frozenset(("Cont", "Default"))}
METHODS = ("reference", "CH", "CH+w", "within")


def _review(row, networks):
    """One pair through the product's own path (``analyze --timeseries-pre ... --labels``)."""
    inputs = open_timeseries_pair(COHORT / row.pre, COHORT / row.post, tr=SETTINGS.tr,
                                  subject=row.subject)
    return review_patient(inputs, SETTINGS)


def load_cohort():
    rois = pd.read_csv(COHORT / "rois.tsv", sep="\t")
    networks = dict(zip(rois["name"], rois["network"], strict=True))
    rows = list(pd.read_csv(COHORT / "cohort.tsv", sep="\t").itertuples(index=False))
    try:
        from threadpoolctl import threadpool_limits
        limit = threadpool_limits(1)
    except ImportError:
        limit = contextlib.nullcontext()
    with limit, ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda r: _review(r, networks), rows))


def _in_block(table, block):
    return np.array([frozenset(ab) == block for ab in
                     zip(table["network_a"], table["network_b"], strict=True)])


def _plain_ch(summaries, stats, use_w):
    """Crawford-Howell without moderation: edge p, block p, injected blocks found."""
    edges_ref, blocks_ref = summaries
    var_b = stats.networks["se"].to_numpy() ** 2
    _, _, p_e = rs.test_against_reference(stats.edges["delta_z"].to_numpy(),
                                          stats.edge_variance if use_w else None, edges_ref,
                                          moderated=False)

    def blocks(x):
        return rs.test_against_reference(x, var_b if use_w else None, blocks_ref,
                                         moderated=False)[2]

    x_b = stats.networks["delta_z"].to_numpy()
    return p_e, blocks(x_b), _found(stats.networks, blocks)


def _found(networks, block_p):
    """Whether each injected block reaches q < .05 among the blocks."""
    out = {}
    for name, block in BLOCKS.items():
        hit = _in_block(networks, block)
        p = block_p(networks["delta_z"].to_numpy() + INJECT * hit)
        out[name] = float((benjamini_hochberg(p)[hit] < .05).all())
    return out


def _summaries(reference):
    labels = np.array([n or "Unassigned" for n in reference.roi_networks], dtype=object)
    ii, jj = np.triu_indices(labels.size, k=1)
    groups = np.where(labels[ii] <= labels[jj], labels[ii] + "|" + labels[jj],
                      labels[jj] + "|" + labels[ii])
    return (rs.summarise_reference(reference.edge_delta, reference.edge_within_var, groups),
            rs.summarise_reference(reference.block_delta, reference.block_within_var))


def _row(p_edges, p_blocks, found, extra=None):
    q = benjamini_hochberg(p_edges)
    return {"edge_p": np.mean(p_edges < .05), "edge_q": np.mean(q < .05),
            "any_q": float((q < .05).any()), "net_p": np.mean(p_blocks < .05), **found,
            **(extra or {})}


def held_out_tests(states, reference_idx, held_out, folder):
    pairs = [pair_from_review(states[i]) for i in reference_idx]
    reference = load_reference(build_reference(pairs, folder / "reference.zip",
                                               {"prepost-review": "benchmark"}))
    summaries = _summaries(reference)
    rows = []
    for i in held_out:
        stats = states[i].statistics
        var_b = stats.networks["se"].to_numpy() ** 2
        verdict = reference_verdict(reference, states[i].comparison)
        edges, networks, prov = verdict(stats.edges, stats.networks, stats.edge_variance, var_b)

        def verdict_p(x, verdict=verdict, stats=stats, var_b=var_b):
            table = stats.networks.assign(delta_z=x)
            return verdict(stats.edges, table, stats.edge_variance, var_b)[1]["p_ref"].to_numpy()

        d0 = {"d0_edges": prov["prior_df_edges"] or np.inf,
              "d0_net": prov["prior_df_networks"] or np.inf}
        rows.append({"method": "reference", **_row(edges["p_ref"].to_numpy(),
                                                   networks["p_ref"].to_numpy(),
                                                   _found(stats.networks, verdict_p), d0)})
        for method, use_w in (("CH", False), ("CH+w", True)):
            p_e, p_b, found = _plain_ch(summaries, stats, use_w)
            rows.append({"method": method, **_row(p_e, p_b, found)})
        found = _found(stats.networks, lambda x, v=var_b: two_sided_p(x / np.sqrt(v)))
        rows.append({"method": "within", **_row(stats.edges["p"].to_numpy(),
                                                stats.networks["p"].to_numpy(), found)})
    return rows


def splits(n, n_random, seed=1):
    first, second = np.arange(n // 2), np.arange(n // 2, n)
    out = [(first, second), (second, first)]
    rng = np.random.default_rng(seed)
    for _ in range(n_random):
        perm = rng.permutation(n)
        a, b = np.sort(perm[: n // 2]), np.sort(perm[n // 2:])
        out += [(a, b), (b, a)]
    return out


def print_table(rows, title):
    frame = pd.DataFrame(rows)
    n_tests = (frame["method"] == "reference").sum()
    print(f"\n{title} ({n_tests} held-out tests)")
    print(f"{'method':10s} {'edge p<.05':>10s} {'[min, max]':>14s} {'edge q<.05 %':>12s} "
          f"{'any q':>6s} {'net p<.05 %':>11s} " + " ".join(f"{k + ' found':>13s}"
                                                        for k in BLOCKS))
    for method in METHODS:
        r = frame[frame["method"] == method]
        print(f"{method:10s} {r.edge_p.mean():10.4f} [{r.edge_p.min():.3f}, {r.edge_p.max():.3f}]"
              f" {100 * r.edge_q.mean():12.4f} {r.any_q.mean():6.2f} {100 * r.net_p.mean():11.1f} "
              + " ".join(f"{r[k].mean():13.2f}" for k in BLOCKS))
    ref = frame[frame["method"] == "reference"]
    print(f"  prior df (moderation): edges median {np.median(ref.d0_edges):.0f} "
          f"[{ref.d0_edges.min():.0f}, {ref.d0_edges.max():.0f}]; network pairs infinite "
          f"(full pooling) in {np.mean(np.isinf(ref.d0_net)):.0%} of references")


def _synthetic(n_ref, patient_scale, reps, rng, n_items=20000, n_groups=20):
    """Known model: per-group total/within ratio 1.5–3.5, item jitter, pair scales, noisy w."""
    group = np.repeat(np.arange(n_groups), n_items // n_groups)
    wbar = 0.03 * np.exp(rng.normal(0, 0.25, n_items))
    kappa = rng.uniform(1.5, 3.5, n_groups)[group]
    tau2 = (kappa - 1) * wbar * np.exp(rng.normal(0, 0.17, n_items))
    mu = rng.normal(0, 0.02, n_items)

    def draw(n, scale):
        b = rng.normal(size=(n, n_items)) * np.sqrt(tau2) * np.exp(rng.normal(0, .1, (n, 1)))
        w = wbar * scale
        return (mu + b + rng.normal(size=(n, n_items)) * np.sqrt(w),
                w * np.exp(rng.normal(0, 0.1, (n, n_items))))

    out = []
    for _ in range(reps):
        summary = rs.summarise_reference(*draw(n_ref, rng.uniform(0.8, 1.25, (n_ref, 1))),
                                         group)
        x, w = draw(1, patient_scale)
        _, _, p = rs.test_against_reference(x[0], w[0], summary)
        q = benjamini_hochberg(p)
        out.append((np.mean(p < .05), np.mean(q < .05), (q < .05).any(), np.mean(p < .001),
                    summary.prior_df))
    return np.array(out, dtype=float)


def main():
    start = time.time()
    quick = "--quick" in sys.argv
    n_random, reps = (4, 30) if quick else (20, 100)
    print("Reference verdict: calibration on untreated repeat scans (retest cohort, 18 pairs, "
          f"419 ROIs, 36 network pairs); injection +{INJECT} z on every edge of one network "
          "pair; 'found' = its q_ref < .05 among the network pairs")
    states = load_cohort()
    print(f"  [{time.time() - start:.0f} s: 18 pairs through the pipeline]")
    all_splits = splits(len(states), n_random)
    with tempfile.TemporaryDirectory() as folder:
        rows = []
        for a, b in all_splits[:2]:
            rows += held_out_tests(states, a, b, Path(folder))
        print_table(rows, "A. leave-half-out, cohort-order split, both directions")
        for a, b in all_splits[2:]:
            rows += held_out_tests(states, a, b, Path(folder))
        print_table(rows, f"B. cohort-order split + {n_random} random 9/9 splits, both "
                          "directions")
    print(f"  [{time.time() - start:.0f} s]")
    print(f"\nC. synthetic: 20,000 items in 20 groups, {reps} repetitions; false-positive "
          "rates of the shipped method (expected .05 / ~0 / <= .05 / .001)")
    print(f"{'N':>3s} {'patient w':>9s} {'p<.05':>7s} {'q<.05 %':>8s} {'any q':>6s} "
          f"{'p<.001':>7s} {'prior df':>8s}")
    rng = np.random.default_rng(7)
    for n_ref in (5, 10, 30):
        for scale in (1.0, 2.0):
            v = _synthetic(n_ref, scale, reps, rng)
            print(f"{n_ref:3d} {scale:9.1f} {v[:, 0].mean():7.4f} {100 * v[:, 1].mean():8.4f} "
                  f"{v[:, 2].mean():6.2f} {v[:, 3].mean():7.4f} {np.median(v[:, 4]):8.0f}")
    print(f"\nruntime {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
