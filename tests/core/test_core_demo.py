"""The demo patient: deterministic, fMRIPrep-shaped, and its injected change is recovered."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from core.demo import (
    INJECTED_CHANGE,
    demo_ground_truth,
    generate_demo_patient,
    open_demo_patient,
)
from core.io.fmriprep import discover_fmriprep
from core.pipeline import run_comparison
from core.settings import AnalysisSettings, DenoiseSettings


def _digest(folder):
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_demo_is_an_fmriprep_folder_with_two_sessions(demo_root):
    dataset = discover_fmriprep(demo_root)
    assert dataset.subjects() == ["demo"]
    assert dataset.sessions("demo") == ["post", "pre"] or dataset.sessions("demo") == [
        "pre", "post"]
    for run in dataset.runs:
        assert run.confounds is not None and run.mask is not None and run.sidecar is not None
    inputs = open_demo_patient()
    assert inputs.sessions == ("pre", "post")
    assert inputs.pre_scan.tr == pytest.approx(2.0)
    assert inputs.pre_scan.n_volumes == demo_ground_truth().n_volumes
    header = inputs.pre_scan.confounds.read_text().splitlines()[0].split("\t")
    for column in ("trans_x", "rot_z", "framewise_displacement", "csf", "white_matter",
                   "a_comp_cor_00", "std_dvars"):
        assert column in header


def test_demo_generation_is_deterministic(tmp_path):
    generate_demo_patient(tmp_path / "a", seed=7)
    generate_demo_patient(tmp_path / "b", seed=7)
    generate_demo_patient(tmp_path / "c", seed=8)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_ground_truth_matrices_differ_only_in_injected_pairs():
    truth = demo_ground_truth()
    diff = truth.post_correlation - truth.pre_correlation
    changed = {(truth.networks[i], truth.networks[j])
               for i, j in zip(*np.nonzero(np.triu(diff)), strict=True)}
    assert changed == {tuple(sorted(pair, key=truth.networks.index)) for pair in INJECTED_CHANGE}
    for matrix in (truth.pre_correlation, truth.post_correlation):
        assert np.all(np.linalg.eigvalsh(matrix) > 0)


@pytest.mark.parametrize("strategy", [None, "scrubbing", "compcor"])
def test_injected_change_is_the_largest_network_delta(strategy):
    comparison = run_comparison(
        open_demo_patient(), AnalysisSettings(denoise=DenoiseSettings(strategy=strategy)))
    table = comparison.network_table()
    table["pair"] = [frozenset((a, b)) for a, b in zip(table.network_a, table.network_b,
                                                       strict=True)]
    ranked = table.reindex(table.delta_z.abs().sort_values(ascending=False).index)
    injected = {frozenset(pair): change for pair, change in INJECTED_CHANGE.items()}
    top = ranked.head(len(injected))
    assert set(top.pair) == set(injected)
    for pair, delta in zip(top.pair, top.delta_z, strict=True):
        assert np.sign(delta) == np.sign(injected[pair])
    # and with a clear margin over every other network pair
    assert top.delta_z.abs().min() > 1.3 * ranked.delta_z.abs().iloc[len(injected)]
