"""The demo-statistics figures quoted in the README are what the code computes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def _paragraph(text: str, start: str) -> str:
    begin = text.index(start)
    return " ".join(text[begin:text.index("\n\n", begin)].split())


def test_demo_sensitivity_sentence_matches_the_statistics(review_stats):
    from core.demo import INJECTED_CHANGE

    edges, networks = review_stats.edges, review_stats.networks
    injected = {frozenset(pair) for pair in INJECTED_CHANGE}
    in_edge = np.array([frozenset(p) in injected
                        for p in zip(edges.network_a, edges.network_b, strict=True)])
    q = edges.q.to_numpy()
    hits, total = int((q[in_edge] < 0.05).sum()), int(in_edge.sum())
    elsewhere, rest = int((q[~in_edge] < 0.05).sum()), int((~in_edge).sum())
    sentence = _paragraph(README.read_text(encoding="utf-8"),
                          "On the demo patient (`python3 benchmarks/validate_stats.py --demo`")
    assert f"{hits} of the {total} edges" in sentence, sentence
    assert f"({100 * hits / total:.1f} %)" in sentence, sentence
    assert f"and {elsewhere} of {rest:,} elsewhere" in sentence, sentence
    in_net = np.array([frozenset(p) in injected
                       for p in zip(networks.network_a, networks.network_b, strict=True)])
    bound = float(re.search(r"q ≤ ([0-9.]+)", sentence).group(1))
    assert networks.q[in_net].max() <= bound
    assert "no other pair q < 0.05" in sentence and networks.q[~in_net].min() >= 0.05
