"""The reference verdict on real untreated repeat scans: leave-half-out calibration.

The retest cohort (/work/shared/data/retest_cohort: 18 people scanned twice,
no ketamine) is analysed pair by pair with the product's own pipeline, as the
cohort command does.  The first 9 pairs (cohort order) are the reference and
each of the last 9 is tested against it as a patient, then the halves swap:
18 held-out tests where nothing was done.  An injected +0.25 z change of every
Default–Limbic edge of a held-out pair must be found at q_ref < .05 among the
network pairs.  ``benchmarks/validate_reference.py`` prints the full table.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.io.inputs import open_timeseries_pair
from core.io.reference_file import build_reference, load_reference
from core.reference_verdict import pair_from_review, reference_verdict
from core.review import review_patient
from core.review_state import ReviewState
from core.settings import AnalysisSettings, DenoiseSettings

COHORT = Path("/work/shared/data/retest_cohort")
# the series are denoised by the source's pipeline (see its README)
SETTINGS = AnalysisSettings(denoise=DenoiseSettings(strategy="none", band_pass=None), tr=2.0,
                            labels_table=str(COHORT / "rois.tsv"))
INJECT, BLOCK = 0.25, frozenset(("Default", "Limbic"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (COHORT / "cohort.tsv").is_file(), reason="retest cohort absent"),
]


def _review(subject: str, pre: str, post: str, networks: dict[str, str]) -> ReviewState:
    """One pair through the product's own path (``analyze --timeseries-pre ... --labels``)."""
    inputs = open_timeseries_pair(COHORT / pre, COHORT / post, tr=SETTINGS.tr, subject=subject)
    state = review_patient(inputs, SETTINGS)
    assert state.comparison.rois.networks == [networks[n] for n in state.comparison.rois.names]
    return state


def _single_threaded_blas():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(1)  # two pairs side by side beat one pair on two BLAS threads


@pytest.fixture(scope="module")
def retest():
    """Per pair: its part of a reference and its statistics; one comparison for the checks."""
    rois = pd.read_csv(COHORT / "rois.tsv", sep="\t")
    networks = dict(zip(rois["name"], rois["network"], strict=True))
    rows = list(pd.read_csv(COHORT / "cohort.tsv", sep="\t").itertuples(index=False))
    with _single_threaded_blas(), ThreadPoolExecutor(2) as pool:
        states = list(pool.map(lambda r: _review(r.subject, r.pre, r.post, networks), rows))
    assert all(len(s.comparison.rois) == len(rois) for s in states)
    return {"pairs": [pair_from_review(s) for s in states],
            "statistics": [s.statistics for s in states],
            "comparison": states[0].comparison}


def _in_block(table: pd.DataFrame) -> np.ndarray:
    return np.array([frozenset(ab) == BLOCK for ab in
                     zip(table["network_a"], table["network_b"], strict=True)])


def _inject(edges: pd.DataFrame, networks: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    edges, networks = edges.copy(), networks.copy()
    edges.loc[_in_block(edges), "delta_z"] += INJECT
    networks.loc[_in_block(networks), "delta_z"] += INJECT
    return edges, networks


def test_leave_half_out_on_untreated_repeat_scans(retest, tmp_path):
    pairs, statistics = retest["pairs"], retest["statistics"]
    half = len(pairs) // 2
    first, second = list(range(half)), list(range(half, len(pairs)))
    rows = []
    for reference_idx, held_out in ((first, second), (second, first)):
        path = build_reference([pairs[i] for i in reference_idx], tmp_path / "reference.zip",
                               {"prepost-review": "calibration"})
        reference = load_reference(path)
        for i in held_out:
            stats = statistics[i]
            comparison = replace(retest["comparison"], subject=pairs[i].subject)
            verdict = reference_verdict(reference, comparison)
            network_var = stats.networks["se"].to_numpy() ** 2
            edges, networks, provenance = verdict(stats.edges, stats.networks,
                                                  stats.edge_variance, network_var)
            assert provenance["n_pairs"] == half and not provenance["excluded_subjects"]
            _, injected, _ = verdict(*_inject(stats.edges, stats.networks),
                                     stats.edge_variance, network_var)
            rows.append({
                "edge_p": np.mean(edges["p_ref"] < 0.05), "edge_q": np.mean(edges["q_ref"] < 0.05),
                "net_p": np.mean(networks["p_ref"] < 0.05),
                "found": bool((injected.loc[_in_block(injected), "q_ref"] < 0.05).all()),
                "within_edge_p": np.mean(stats.edges["p"] < 0.05),
                "within_edge_q": np.mean(stats.edges["q"] < 0.05),
                "within_net_p": np.mean(stats.networks["p"] < 0.05),
            })
    result = pd.DataFrame(rows)
    means = result.mean()
    print(f"\nleave-half-out, cohort order, both directions ({len(result)} held-out pairs):\n"
          f"  edges p_ref<.05 {means.edge_p:.4f} [{result.edge_p.min():.3f}, "
          f"{result.edge_p.max():.3f}]; q_ref<.05 {100 * means.edge_q:.4f} %; network pairs "
          f"p_ref<.05 {100 * means.net_p:.1f} %; +{INJECT} z Default-Limbic found at "
          f"q_ref<.05 in {100 * means.found:.0f} %\n"
          f"  within-scan test alone: edges p<.05 {means.within_edge_p:.4f}, q<.05 "
          f"{100 * means.within_edge_q:.2f} %, network pairs p<.05 "
          f"{100 * means.within_net_p:.1f} %")
    assert 0.03 <= means.edge_p <= 0.07
    assert means.edge_q <= 0.001
    assert means.net_p <= 0.10
    assert means.found > 0.5
