"""``analyze --reference``: the verdict columns, the provenance, and refusals with exit 2."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd

from core.cli import main
from core.io.files import sha256_file

WITHIN = ["roi_a", "roi_b", "network_a", "network_b", "z_pre", "z_post", "delta_z", "stat",
          "p", "q"]
REF = ["ref_n", "ref_mean", "ref_sd", "t_ref", "p_ref", "q_ref"]


def test_analyze_with_a_reference_adds_its_columns_and_provenance(demo_root, demo_reference,
                                                                  tmp_path):
    out = tmp_path / "out"
    assert main(["analyze", "--demo", "--reference", str(demo_reference), "--out",
                 str(out)]) == 0
    edges = pd.read_csv(out / "edges.tsv", sep="\t")
    assert list(edges.columns) == WITHIN + REF  # the contract's columns first, unchanged
    networks = pd.read_csv(out / "networks.tsv", sep="\t")
    assert list(networks.columns)[-6:] == REF
    beyond = networks[networks["q_ref"] < 0.05]
    assert {frozenset(p) for p in zip(beyond.network_a, beyond.network_b, strict=True)} == {
        frozenset(("Default", "Limbic")), frozenset(("Default", "Cont"))}
    assert (edges["ref_n"] == 8).all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["reference"]["sha256"] == sha256_file(demo_reference)
    assert summary["reference"]["n_pairs"] == 8


def test_mismatched_or_corrupt_reference_exits_2_before_writing(demo_root, demo_review,
                                                                demo_reference, tmp_path,
                                                                capsys):
    from core.io.reference_file import build_reference
    from core.reference_verdict import pair_from_review
    from core.report.analysis_files import software_versions

    base = pair_from_review(demo_review)
    other = {**base.analysis, "strategy_applied": "compcor"}
    wrong = build_reference([dataclasses.replace(base, subject=f"r{k}", analysis=other)
                             for k in range(3)], tmp_path / "wrong.zip", software_versions())
    out = tmp_path / "out"
    assert main(["analyze", "--demo", "--reference", str(wrong), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error:") and "wrong.zip" in err and "compcor" in err
    assert not (out / "edges.tsv").exists()
    broken = tmp_path / "broken.zip"
    broken.write_bytes(demo_reference.read_bytes()[:500])
    assert main(["analyze", "--demo", "--reference", str(broken), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "broken.zip" in err and "Traceback" not in err
    assert not (out / "edges.tsv").exists()
