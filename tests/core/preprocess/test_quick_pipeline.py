"""The quick path end to end on a tiny synthetic subject: layout, confounds, record, cleanup."""

from __future__ import annotations

import json
import shutil

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from quick_testkit import TINY, temporary_entries, tiny_options

from core.errors import AnalysisCancelled, InputError
from core.io.fmriprep import discover_fmriprep, select_pre_post
from core.io.preprocessing_route import QUICK_LABEL, QUICK_PIPELINE, read_quick_provenance
from core.preprocess.quick import QUICK_WARNINGS, run_quick_preprocessing
from core.preprocess.quick_synthetic import write_synthetic_bids
from core.qc.motion import MOTION_COLUMNS, framewise_displacement, read_motion


def test_outputs_open_with_the_fmriprep_discovery(quick_run):
    dataset = discover_fmriprep(quick_run.out)
    pre, post = select_pre_post(dataset)
    assert (pre.session, post.session) == ("pre", "post")
    for run in (pre, post):
        assert run.space == "MNI152NLin2009aSym" and run.res == "4"
        assert run.mask is not None and run.confounds is not None and run.sidecar is not None
        bold = nib.load(run.bold)
        assert bold.shape == (50, 59, 48, 10)
        assert bold.header.get_zooms()[3] == pytest.approx(2.0)
        mask = np.asarray(nib.load(run.mask).dataobj) > 0
        assert mask.sum() > 1000
        assert np.all(np.asarray(bold.dataobj)[mask].std(axis=1) > 0)


def test_confounds_use_fmriprep_names_and_power_fd(quick_run):
    pre, _ = select_pre_post(discover_fmriprep(quick_run.out))
    motion, fd = read_motion(pre.confounds)
    assert motion is not None and fd is not None and motion.shape == (10, 6)
    assert np.isnan(fd[0])
    np.testing.assert_allclose(fd[1:], framewise_displacement(motion)[1:], rtol=1e-4)
    table = pd.read_csv(pre.confounds, sep="\t", na_values="n/a")
    for column in (*MOTION_COLUMNS, "global_signal", "csf", "white_matter", "std_dvars",
                   "trans_x_derivative1_power2"):
        assert column in table.columns
    reference = json.loads((quick_run.out / "quick_preprocessing.json").read_text())[
        "sessions"]["pre"]["reference_volume"]
    assert np.abs(motion[reference]).max() < 1e-6  # the reference does not move


def test_confounds_table_feeds_nilearns_presets(quick_run, tmp_path):
    from nilearn.interfaces.fmriprep import load_confounds_strategy

    pre, _ = select_pre_post(discover_fmriprep(quick_run.out))
    for strategy in ("simple", "scrubbing"):
        confounds, _ = load_confounds_strategy(str(pre.bold), denoise_strategy=strategy)
        assert len(confounds) == 10 and "trans_x" in confounds.columns


def test_description_record_and_check_images_name_the_route(quick_run):
    description = json.loads((quick_run.out / "dataset_description.json").read_text())
    assert description["GeneratedBy"][0]["Name"] == QUICK_PIPELINE
    provenance = read_quick_provenance(quick_run.out)
    assert provenance is not None and not provenance.accepted
    assert set(QUICK_WARNINGS) <= set(provenance.warnings)
    assert QUICK_LABEL in provenance.label
    assert len(provenance.check_images) == 2
    for image in provenance.check_images:
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    coverage = pd.read_csv(quick_run.out / "roi_coverage.tsv", sep="\t")
    assert len(coverage) == 100
    assert coverage[["coverage_pre", "coverage_post"]].stack().between(0, 1).all()
    assert coverage["coverage_pre"].mean() > 0.8  # the synthetic EPI covers the head


def test_progress_is_monotonic_and_nothing_temporary_is_left(quick_run):
    fractions = [f for f, _ in quick_run.messages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("Motion correction" in m for _, m in quick_run.messages)
    assert quick_run.temporary_after <= quick_run.temporary_before
    assert sorted(p.name for p in quick_run.root.iterdir()) == ["bids", "deriv"]


def test_two_runs_write_identical_data(quick_run, tmp_path):
    again = run_quick_preprocessing(quick_run.bids, tmp_path / "again", "sub-synth", None,
                                    tiny_options(workers=1))
    for first in sorted(quick_run.out.rglob("*")):
        if not first.is_file() or first.name == "quick_preprocessing.json":
            continue
        second = again / first.relative_to(quick_run.out)
        if first.name.endswith(".nii.gz"):
            a, b = nib.load(first), nib.load(second)
            assert np.array_equal(np.asarray(a.dataobj), np.asarray(b.dataobj)), first.name
            assert np.array_equal(a.affine, b.affine)
        else:
            assert first.read_bytes() == second.read_bytes(), first.name


def test_cancel_stops_the_workers_and_leaves_nothing(quick_run, tmp_path):
    before = temporary_entries()

    def cancel_at_motion(_fraction, message):
        if message.startswith("Motion correction"):
            raise AnalysisCancelled()

    with pytest.raises(AnalysisCancelled):
        run_quick_preprocessing(quick_run.bids, tmp_path / "out", "synth", cancel_at_motion,
                                tiny_options())
    assert list(tmp_path.iterdir()) == []
    assert temporary_entries() <= before


def test_a_rerun_replaces_an_earlier_quick_output_but_nothing_else(quick_run, tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="new or empty output folder"):
        run_quick_preprocessing(quick_run.bids, foreign, "synth", None, tiny_options())
    assert (foreign / "notes.txt").read_text() == "mine"
    with pytest.raises(InputError, match="never writes into its input"):
        run_quick_preprocessing(quick_run.bids, quick_run.bids / "sub-synth" / "out", "synth",
                                None, tiny_options())


def test_bad_inputs_get_one_clear_message(tmp_path):
    write_synthetic_bids(tmp_path / "one", sessions=("pre",), **TINY)
    with pytest.raises(InputError, match=r"two sessions .* found ses-pre"):
        run_quick_preprocessing(tmp_path / "one", tmp_path / "o1", "synth", None)
    with pytest.raises(InputError, match="expected a subject folder sub-nobody, found sub-synth"):
        run_quick_preprocessing(tmp_path / "one", tmp_path / "o2", "nobody", None)
    bids = tmp_path / "three_d"
    write_synthetic_bids(bids, **TINY)
    bold = next(bids.rglob("*ses-post_task-rest_bold.nii.gz"))
    img = nib.load(bold)
    nib.save(nib.Nifti1Image(np.asarray(img.dataobj)[..., 0], img.affine), bold)
    with pytest.raises(InputError, match=r"expected a 4D BOLD series .* found a 3D image"):
        run_quick_preprocessing(bids, tmp_path / "o3", "synth", None)
    shutil.rmtree(bids)
    write_synthetic_bids(bids, **TINY)
    sidecar = next(bids.rglob("*ses-pre_task-rest_bold.json"))
    sidecar.write_text("{}")
    bold = sidecar.with_name(sidecar.name.replace(".json", ".nii.gz"))
    img = nib.load(bold)
    img.header.set_zooms((*img.header.get_zooms()[:3], 0.0))
    nib.save(img, bold)
    with pytest.raises(InputError, match="repetition time"):
        run_quick_preprocessing(bids, tmp_path / "o4", "synth", None)
    assert not any((tmp_path / f"o{k}").exists() for k in range(1, 5))


def test_an_installation_without_antspyx_says_so(quick_run, tmp_path, monkeypatch, capsys):
    import importlib.util

    from core.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ants" else real(name, *a))
    with pytest.raises(InputError, match=r"needs antspyx, .*pip install antspyx"):
        run_quick_preprocessing(quick_run.bids, tmp_path / "out", "synth", None)
    assert main(["preprocess", str(quick_run.bids), "--out", str(tmp_path / "o"),
                 "--engine", "quick"]) == 2
    assert "pip install antspyx" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
