"""reference.zip and reference_pair.npz (core.io.reference_file) and the verdict that reads them."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from core.errors import InputError
from core.io import files as files_module
from core.io.files import sha256_file
from core.io.inputs import open_timeseries_pair
from core.io.reference_file import FORMAT, VERSION, build_reference, load_reference
from core.io.reference_pair import load_reference_pair, save_reference_pair, triu_edge_index
from core.reference_verdict import (
    REFERENCE_COLUMNS,
    build_cohort_reference,
    pair_from_review,
    reference_verdict,
)
from core.review import compute_statistics, review_patient
from core.settings import AnalysisSettings, DenoiseSettings
from core.stats import reference as rs

# 9 ROIs in 3 networks, 97 volumes: unequal sizes, so a swapped axis cannot pass
NAMES = ["7Networks_LH_Vis_1", "7Networks_LH_Vis_2", "7Networks_RH_Vis_1",
         "7Networks_LH_Default_PFC_1", "7Networks_LH_Default_PCC_1",
         "7Networks_RH_Default_PFC_1", "7Networks_RH_Default_Temp_1",
         "7Networks_LH_Limbic_OFC_1", "7Networks_RH_Limbic_TempPole_1"]
NETWORK = [n.split("_")[2] for n in NAMES]
N_VOLUMES = 97
SETTINGS = AnalysisSettings(denoise=DenoiseSettings(strategy="none", band_pass=None), tr=2.0)
SOFTWARE = {"prepost-review": "test", "numpy": np.__version__}
DROPPED = 4  # sub-06 has a constant signal in this ROI, which the pipeline leaves out


def _session(rng, constant=None):
    factors = {net: rng.normal(size=N_VOLUMES) for net in set(NETWORK)}
    data = np.column_stack([0.7 * factors[net] + rng.normal(size=N_VOLUMES)
                            for net in NETWORK])
    if constant is not None:
        data[:, constant] = 1.0
    return pd.DataFrame(data, columns=NAMES)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """Reviews of 6 synthetic repeat-scan pairs (sub-06 lacks one ROI)."""
    folder = tmp_path_factory.mktemp("cohort")
    rng = np.random.default_rng(5)
    states = {}
    for k in range(1, 7):
        subject = f"sub-0{k}"
        paths = []
        for session in (1, 2):
            path = folder / f"{subject}_ses-{session}.tsv"
            constant = DROPPED if (subject == "sub-06" and session == 1) else None
            _session(rng, constant).to_csv(path, sep="\t", index=False)
            paths.append(path)
        inputs = open_timeseries_pair(*paths, tr=2.0, subject=subject)
        states[subject] = review_patient(inputs, SETTINGS)
    assert len(states["sub-06"].comparison.rois) == len(NAMES) - 1
    return states


@pytest.fixture(scope="module")
def reference_path(cohort, tmp_path_factory):
    pairs = [pair_from_review(cohort[s]) for s in ("sub-06", "sub-01", "sub-02", "sub-03")]
    return build_reference(pairs, tmp_path_factory.mktemp("ref") / "reference.zip", SOFTWARE)


def test_triu_edge_index_matches_numpy():
    ii, jj = np.triu_indices(7, k=1)
    np.testing.assert_array_equal(triu_edge_index(ii, jj, 7), np.arange(ii.size))
    np.testing.assert_array_equal(triu_edge_index(jj, ii, 7), np.arange(ii.size))


def test_pair_round_trip_without_pickle(cohort, tmp_path):
    pair = pair_from_review(cohort["sub-06"])
    path = save_reference_pair(tmp_path / "reference_pair.npz", pair)
    with np.load(path, allow_pickle=False) as data:
        assert set(data.files) >= {"metadata", "edge_delta", "block_within_var"}
    back = load_reference_pair(path)
    assert back.source == path and back.metadata() == pair.metadata()
    for name in ("edge_delta", "edge_within_var", "block_delta", "block_within_var"):
        np.testing.assert_array_equal(getattr(back, name), getattr(pair, name))
    assert back.edge_delta.shape == (8 * 7 // 2,) and back.block_delta.shape == (6,)
    assert back.sessions["pre"] == {"volumes": N_VOLUMES, "volumes_kept": N_VOLUMES, "tr": 2.0}


def test_reference_round_trip_aligns_pairs_by_roi_name(cohort, reference_path):
    ref = load_reference(reference_path)
    n_edges = len(NAMES) * (len(NAMES) - 1) // 2
    assert ref.edge_delta.shape == ref.edge_within_var.shape == (4, n_edges)
    assert ref.block_delta.shape == (4, 6)
    assert ref.roi_names == NAMES  # the complete pairs' order, not the first pair's
    assert ref.subjects == ["sub-06", "sub-01", "sub-02", "sub-03"]
    assert ref.sha256 == sha256_file(reference_path)
    # sub-06's edges with the dropped ROI are NaN; the others are its own Δz
    missing = np.isnan(ref.edge_delta[0])
    ii, jj = np.triu_indices(len(NAMES), k=1)
    np.testing.assert_array_equal(missing, (ii == DROPPED) | (jj == DROPPED))
    kept = cohort["sub-06"].statistics.edges
    np.testing.assert_allclose(ref.edge_delta[0, ~missing], kept["delta_z"], rtol=1e-6)
    np.testing.assert_allclose(ref.edge_delta[1], cohort["sub-01"].statistics.edges["delta_z"],
                               rtol=1e-6)
    np.testing.assert_allclose(ref.block_within_var[2],
                               cohort["sub-02"].statistics.networks["se"] ** 2, rtol=1e-6)


def test_metadata_is_readable_and_complete_without_paths(cohort, reference_path):
    with zipfile.ZipFile(reference_path) as archive:
        text = archive.read("metadata.json").decode("utf-8")
    meta = json.loads(text)
    assert meta["format"] == FORMAT and meta["version"] == VERSION
    assert meta["software"] == SOFTWARE and meta["n_pairs"] == 4
    assert meta["analysis"]["strategy_applied"] == "none"
    assert meta["analysis"]["settings"]["denoise"]["band_pass"] is None
    assert meta["rois"] == {"names": NAMES, "networks": NETWORK}
    assert meta["blocks"][:3] == [["Vis", "Vis"], ["Vis", "Default"], ["Vis", "Limbic"]]
    first = meta["pairs"][0]
    assert first["subject"] == "sub-06" and first["post"]["volumes_kept"] == N_VOLUMES
    inputs = {f.role: f.sha256 for f in cohort["sub-06"].statistics.input_files}
    assert first["inputs"] == inputs
    folder = str(cohort["sub-06"].inputs.files["pre_timeseries"].parent)
    assert folder not in text and "ses-1.tsv" not in text


def test_verdict_adds_columns_and_provenance(cohort, reference_path):
    state = cohort["sub-05"]
    ref = load_reference(reference_path)
    verdict = reference_verdict(ref, state.comparison)
    stats = compute_statistics(state.comparison, state.inputs, verdict=verdict)
    plain = state.statistics
    for table, before in ((stats.edges, plain.edges), (stats.networks, plain.networks)):
        assert list(table.columns) == list(before.columns) + list(REFERENCE_COLUMNS)
        pd.testing.assert_frame_equal(table[before.columns], before)
    edges = stats.edges
    assert (edges["ref_n"] == 4).sum() == 28 and (edges["ref_n"] == 3).sum() == 8
    # by hand: the summary of the reference, the patient's Δz and within-scan variance
    summary = rs.summarise_reference(ref.block_delta, ref.block_within_var)
    t, _, p = rs.test_against_reference(plain.networks["delta_z"].to_numpy(),
                                        plain.networks["se"].to_numpy() ** 2, summary)
    np.testing.assert_allclose(stats.networks["t_ref"], t)
    np.testing.assert_allclose(stats.networks["p_ref"], p)
    np.testing.assert_allclose(edges["ref_mean"], np.nanmean(ref.edge_delta, axis=0))
    prov = stats.reference
    assert prov["sha256"] == sha256_file(reference_path) and prov["n_pairs"] == 4
    assert prov["version"] == VERSION and prov["excluded_subjects"] == []
    assert {"method", "description", "prior_df_edges", "prior_df_networks"} <= set(prov)
    json.dumps(prov, allow_nan=False)


def test_patient_in_the_reference_is_left_out(cohort, reference_path):
    state = cohort["sub-06"]  # also lacks an ROI: its edges are matched by name
    verdict = reference_verdict(load_reference(reference_path), state.comparison)
    edges, networks, prov = verdict(state.statistics.edges, state.statistics.networks,
                                    state.statistics.edge_variance,
                                    state.statistics.networks["se"].to_numpy() ** 2)
    assert prov["n_pairs"] == 3 and prov["excluded_subjects"] == ["sub-06"]
    assert any("left out" in w for w in prov["warnings"])
    assert any("8 of the reference's 9 ROIs" in w for w in prov["warnings"])
    assert (edges["ref_n"] == 3).all() and edges["p_ref"].notna().all()
    assert len(edges) == 28 and networks["q_ref"].notna().all()


def _rewrite(source: Path, target: Path, *, metadata=None, arrays=None, drop=()) -> Path:
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist() if name not in drop}
    if metadata is not None:
        meta = json.loads(members["metadata.json"])
        meta.update(metadata)
        members["metadata.json"] = json.dumps(meta).encode()
    for name, values in (arrays or {}).items():
        buffer = io.BytesIO()
        np.save(buffer, values)
        members[f"{name}.npy"] = buffer.getvalue()
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


@pytest.mark.parametrize("case, match", [
    ("missing", "found no file"),
    ("not_zip", r"expected a prepost-review reference file \(zip\), found a file that is not"),
    ("truncated", "truncated"),
    ("no_member", "missing edge_within_var.npy"),
    ("format", "format 'prepost-review/reference', found 'something/else'"),
    ("future", "format version 2, newer than version 1"),
    ("shape", r"expected edge_delta.npy of floats, shape \(4, 36\)"),
    ("infinite", "found infinite values"),
    ("nan_var", "positive block_within_var wherever block_delta"),
])
def test_bad_reference_files_name_the_file(reference_path, tmp_path, case, match):
    target = tmp_path / f"{case}.zip"
    data = reference_path.read_bytes()
    ref = load_reference(reference_path)
    if case == "not_zip":
        target.write_bytes(b"subject\tpre\tpost\n" * 50)
    elif case == "truncated":
        target.write_bytes(data[: len(data) // 2])
    elif case == "no_member":
        _rewrite(reference_path, target, drop=("edge_within_var.npy",))
    elif case == "format":
        _rewrite(reference_path, target, metadata={"format": "something/else"})
    elif case == "future":
        _rewrite(reference_path, target, metadata={"version": VERSION + 1},
                 drop=("edge_delta.npy",))
    elif case == "shape":
        _rewrite(reference_path, target, arrays={"edge_delta": ref.edge_delta[:, :30]})
    elif case == "infinite":
        bad = ref.edge_delta.copy()
        bad[1, 2] = np.inf
        _rewrite(reference_path, target, arrays={"edge_delta": bad})
    elif case == "nan_var":
        bad = ref.block_within_var.copy()
        bad[0, 0] = np.nan
        _rewrite(reference_path, target, arrays={"block_within_var": bad})
    with pytest.raises(InputError, match=match) as info:
        load_reference(target)
    assert target.name in str(info.value) and "\n" not in str(info.value)


def test_bad_pair_file_names_the_file(tmp_path):
    path = tmp_path / "reference_pair.npz"
    np.savez(path, metadata=np.array("{}"))
    with pytest.raises(InputError, match="missing edge_delta") as info:
        load_reference_pair(path)
    assert path.name in str(info.value)
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(InputError, match="expected a reference pair file"):
        load_reference_pair(path)


@pytest.mark.parametrize("change, match", [
    (lambda c: replace(c, atlas=SimpleNamespace(name="schaefer400", title="Schaefer 400")),
     r"made with time-series tables \(no atlas\), this analysis uses atlas schaefer400"),
    (lambda c: replace(c, strategy="simple"),
     "made with denoising strategy none, this analysis uses denoising strategy simple"),
    (lambda c: replace(c, settings=AnalysisSettings(denoise=DenoiseSettings(
        strategy="none", band_pass=None, gsr=True))),
     "made with no global signal regression, this analysis uses global signal regression"),
    (lambda c: replace(c, settings=AnalysisSettings(denoise=DenoiseSettings(
        strategy="none", band_pass=(0.01, 0.1)))),
     "made with no band-pass, this analysis uses band-pass 0.01–0.1 Hz"),
    (lambda c: replace(c, settings=AnalysisSettings(denoise=DenoiseSettings(
        strategy="none", band_pass=None, detrend=False))),
     "made with linear detrending, this analysis uses no detrending"),
    (lambda c: replace(c, rois=replace(c.rois, names=[*c.rois.names[:-1], "LH_Amygdala"])),
     "found 1 that are not: LH_Amygdala"),
    (lambda c: replace(c, rois=replace(c.rois, networks=["Vis"] * len(c.rois))),
     "puts ROI 7Networks_LH_Default_PFC_1 in network Default, this analysis in Vis"),
])
def test_mismatched_reference_is_refused_in_one_line(cohort, reference_path, change, match):
    comparison = change(cohort["sub-05"].comparison)
    with pytest.raises(InputError, match=match) as info:
        reference_verdict(load_reference(reference_path), comparison)
    assert "reference.zip" in str(info.value) and "\n" not in str(info.value)


def test_build_refuses_pairs_analysed_differently(cohort, tmp_path):
    pairs = [pair_from_review(cohort[s]) for s in ("sub-01", "sub-02", "sub-03")]
    changed = dict(pairs[2].analysis, strategy_applied="simple")
    with pytest.raises(InputError, match="sub-03 was analysed with strategy_applied = "
                                         "'simple', sub-01 with 'none'"):
        build_reference([*pairs[:2], replace(pairs[2], analysis=changed)],
                        tmp_path / "r.zip", SOFTWARE)
    with pytest.raises(InputError, match="expected each subject once, found sub-01 twice"):
        build_reference([*pairs, pairs[0]], tmp_path / "r.zip", SOFTWARE)
    with pytest.raises(InputError, match="expected at least 3 repeat-scan pairs"):
        build_reference(pairs[:2], tmp_path / "r.zip", SOFTWARE)
    moved = replace(pairs[1], roi_networks=("Default",) * len(NAMES))
    with pytest.raises(InputError, match="ROI 7Networks_LH_Vis_1 is in network Default for "
                                         "sub-02 and in Vis for sub-01"):
        build_reference([pairs[0], moved, pairs[2]], tmp_path / "r.zip", SOFTWARE)
    assert not list(tmp_path.iterdir())


def test_nothing_is_half_written(cohort, reference_path, tmp_path, monkeypatch):
    target = tmp_path / "reference.zip"
    target.write_bytes(reference_path.read_bytes())
    before = target.read_bytes()

    def failing_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(files_module.os, "fsync", failing_fsync)
    pairs = [pair_from_review(cohort[s]) for s in ("sub-01", "sub-02", "sub-03")]
    with pytest.raises(OSError, match="disk full"):
        build_reference(pairs, target, SOFTWARE)
    with pytest.raises(OSError, match="disk full"):
        save_reference_pair(tmp_path / "reference_pair.npz", pairs[0])
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reference.zip"]


def test_cohort_reference_from_subject_folders(cohort, tmp_path):
    folders = []
    for subject in ("sub-01", "sub-02", "sub-03", "sub-04"):
        folder = tmp_path / subject
        folder.mkdir()
        if subject != "sub-04":  # an older output without a pair file is left out
            save_reference_pair(folder / "reference_pair.npz", pair_from_review(cohort[subject]))
        folders.append(folder)
    path = build_cohort_reference(tmp_path, folders, SOFTWARE)
    assert path == tmp_path / "reference.zip"
    assert load_reference(path).subjects == ["sub-01", "sub-02", "sub-03"]
    assert build_cohort_reference(tmp_path / "sub-01", folders[:2], SOFTWARE) is None
