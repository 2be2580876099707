"""The demo's reference of untreated repeat scans: cached, realistic, and the demo stands out."""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import core.demo_reference as demo_reference
from core.demo import INJECTED_CHANGE, NETWORKS, demo_ground_truth
from core.demo_reference import (
    N_SUBJECTS,
    demo_reference_path,
    ensure_demo_reference,
    is_current,
    reference_subject_truth,
)
from core.errors import AnalysisCancelled
from core.io.reference_file import load_reference
from core.reference_verdict import reference_verdict
from core.review import apply_verdict

INJECTED = {frozenset(pair) for pair in INJECTED_CHANGE}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The demo reference built once into the session's demo cache, with its build time.

    The session cache (tests/conftest.py) is fresh for a test run, so this builds it;
    the window's test (tests/gui/test_gui_demo_reference.py) then finds it cached.
    """
    cache = Path(os.environ["PREPOST_CACHE_DIR"])
    calls: list[tuple[float, str]] = []
    started = time.perf_counter()
    path = ensure_demo_reference(cache_dir=cache,
                                 progress=lambda f, m: calls.append((f, m)))
    seconds = time.perf_counter() - started
    print(f"\ndemo reference built in {seconds:.1f} s, {path.stat().st_size} bytes")
    return SimpleNamespace(cache=cache, path=path, seconds=seconds, progress=calls,
                           reference=load_reference(path))


def _with_software(data: bytes, **software: str) -> bytes:
    """A copy of a reference zip whose metadata records other software versions."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            member = source.read(name)
            if name == "metadata.json":
                metadata = json.loads(member)
                metadata["software"].update(software)
                member = json.dumps(metadata).encode()
            target.writestr(name, member)
    return out.getvalue()


def test_reference_subjects_vary_between_sessions_without_an_injected_change():
    base = demo_ground_truth().pre_correlation
    first = reference_subject_truth(1)
    again = reference_subject_truth(1)
    assert [s["subject"] for s in map(reference_subject_truth, range(1, 4))] == [
        "ref01", "ref02", "ref03"]
    upper = np.triu_indices(len(NETWORKS), k=1)
    session_changes = []
    for k in range(1, N_SUBJECTS + 1):
        truth = reference_subject_truth(k)
        for matrix in truth["correlations"]:
            assert np.allclose(matrix, matrix.T) and np.allclose(np.diag(matrix), 1.0)
            assert np.linalg.eigvalsh(matrix).min() > 0
        pre, post = truth["correlations"]
        session_changes.append((post - pre)[upper])
        assert not np.allclose(pre, base)
    changes = np.concatenate(session_changes)
    # independent session deviations of SD 0.12: the change has SD about 0.17, centred on 0
    assert 0.12 < changes.std() < 0.22 and abs(changes.mean()) < 0.03
    for a, b in zip(first["correlations"], again["correlations"], strict=True):
        assert np.array_equal(a, b)


def test_cancelling_a_build_leaves_nothing(tmp_path):
    def cancel(fraction, message):
        if "ses-post" in message:
            raise AnalysisCancelled("cancelled")

    with pytest.raises(AnalysisCancelled):
        ensure_demo_reference(cache_dir=tmp_path, progress=cancel)
    assert list(demo_reference_path(tmp_path).parent.iterdir()) == []


@pytest.mark.slow
def test_reference_is_built_into_the_cache_whole_and_small(built):
    assert built.path == demo_reference_path(built.cache)
    assert is_current(built.path)
    assert [p.name for p in built.path.parent.iterdir()] == ["reference.zip"]
    assert built.reference.subjects == [f"sub-ref{k:02d}" for k in range(1, N_SUBJECTS + 1)]
    assert built.path.stat().st_size < 2_000_000
    fractions = [f for f, _ in built.progress]
    if fractions:  # built in this run (not found in a cache kept by PREPOST_CACHE_DIR)
        assert fractions == sorted(fractions) and fractions[-1] == 1.0


@pytest.mark.slow
def test_between_session_variability_exceeds_within_scan_noise(built):
    """As on real repeat scans: untreated change is larger than the within-scan SE."""
    ref = built.reference
    for kind, low, high in (("block", 1.05, 1.25), ("edge", 1.0, 1.2)):
        delta, within = getattr(ref, f"{kind}_delta"), getattr(ref, f"{kind}_within_var")
        between_sd = np.sqrt(np.nanmean(np.nanvar(delta, axis=0, ddof=1)))
        within_se = np.sqrt(np.nanmean(within))
        print(f"{kind}: between-session SD of Δz {between_sd:.3f}, within-scan SE "
              f"{within_se:.3f}, ratio {between_sd / within_se:.2f}")
        assert low < between_sd / within_se < high


@pytest.mark.slow
def test_demo_patient_change_stands_out_against_the_reference(built, demo_review):
    verdict = reference_verdict(built.reference, demo_review.comparison)
    statistics = apply_verdict(demo_review.statistics, verdict)
    networks = statistics.networks
    pairs = [frozenset(ab) for ab in zip(networks.network_a, networks.network_b, strict=True)]
    flagged = {pair for pair, q in zip(pairs, networks.q_ref, strict=True) if q < 0.05}
    assert flagged == INJECTED
    assert statistics.reference["n_pairs"] == N_SUBJECTS
    assert statistics.reference["warnings"] == []

    rois = demo_review.comparison.rois
    network = dict(zip(rois.names, rois.networks, strict=True))
    edges = statistics.edges
    inside = np.array([frozenset((network[a], network[b])) in INJECTED
                       for a, b in zip(edges.roi_a, edges.roi_b, strict=True)])
    significant = edges.q_ref.to_numpy() < 0.05
    n_in, n_out = int(significant[inside].sum()), int(significant[~inside].sum())
    print(f"edges with q_ref < .05: {n_in} of {inside.sum()} inside the injected network "
          f"pairs, {n_out} of {(~inside).sum()} outside")
    assert n_in >= 20
    assert n_out <= 0.002 * (~inside).sum()


@pytest.mark.slow
def test_second_call_returns_the_cached_file(built, monkeypatch):
    def no_build(*args, **kwargs):
        raise AssertionError("rebuilt a current reference")

    monkeypatch.setattr(demo_reference, "build_demo_reference", no_build)
    before = built.path.stat().st_mtime_ns
    started = time.perf_counter()
    assert ensure_demo_reference(cache_dir=built.cache) == built.path
    assert time.perf_counter() - started < 1.0
    assert built.path.stat().st_mtime_ns == before


@pytest.mark.slow
@pytest.mark.parametrize("stale", ["reference version", "generator version",
                                   "program version", "damaged"])
def test_stale_or_damaged_reference_is_rebuilt(built, tmp_path, monkeypatch, stale):
    """The build itself is replaced by a copy of the built file (a full one takes a minute)."""
    good = built.path.read_bytes()
    path = demo_reference_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes({
        "reference version": _with_software(good, **{demo_reference._STAMP_REFERENCE: "0"}),
        "generator version": _with_software(good, **{demo_reference._STAMP_GENERATOR: "0"}),
        "program version": _with_software(good, **{"prepost-review": "0.0.1"}),
        "damaged": good[: len(good) // 2],
    }[stale])
    assert not is_current(path)
    builds = []

    def fake_build(out_path, progress=None, work_dir=None):
        builds.append(out_path)
        out_path.write_bytes(good)
        return out_path

    monkeypatch.setattr(demo_reference, "build_demo_reference", fake_build)
    assert ensure_demo_reference(cache_dir=tmp_path) == path
    assert builds == [path] and is_current(path)
    ensure_demo_reference(cache_dir=tmp_path)
    assert len(builds) == 1
