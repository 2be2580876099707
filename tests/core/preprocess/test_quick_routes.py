"""Quick derivatives are labelled, refused until accepted, never mixed with fMRIPrep."""

from __future__ import annotations

import json

import pytest

from core.cli import main
from core.errors import InputError
from core.io.inputs import open_fmriprep, open_nifti_pair
from core.io.preprocessing_route import (
    ACCEPTANCE_FILE,
    QUICK_LABEL,
    RegistrationNotAccepted,
    accept_registration,
    read_quick_provenance,
    route_of,
)

FAST = ["--strategy", "none", "--no-filter"]


def test_routes_are_read_from_dataset_description(quick_demo, demo_root):
    assert route_of(quick_demo) == QUICK_LABEL
    assert route_of(demo_root) == "prepost-review demo generator"
    assert route_of(quick_demo / "sub-demo") == ""
    assert read_quick_provenance(demo_root) is None


def test_unaccepted_quick_derivatives_are_refused_with_how_to_accept(quick_demo):
    with pytest.raises(RegistrationNotAccepted, match="accept-registration") as caught:
        open_fmriprep(quick_demo)
    assert caught.value.provenance.root == quick_demo
    assert len(caught.value.provenance.check_images) == 2


def test_analyze_exits_2_until_accepted_then_labels_the_outputs(quick_demo, tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["analyze", "--fmriprep", str(quick_demo), "--out", str(out), *FAST]) == 2
    error = capsys.readouterr().err
    assert error.count("error:") == 1 and "accept-registration" in error
    assert not out.exists()

    assert main(["accept-registration", str(quick_demo), "--yes", "--reviewer", "Dr A"]) == 0
    assert main(["analyze", "--fmriprep", str(quick_demo), "--out", str(out), *FAST]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["preprocessing"]["route"] == QUICK_LABEL
    assert summary["preprocessing"]["registration_check"]["reviewer"] == "Dr A"
    assert "ses-pre: a warning about this data" in summary["warnings"]


def test_accept_needs_a_yes_when_no_one_is_at_a_terminal(quick_demo, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["accept-registration", str(quick_demo)]) == 2
    assert "--yes" in capsys.readouterr().err
    assert not (quick_demo / ACCEPTANCE_FILE).exists()


def test_acceptance_records_who_when_and_hashes_and_expires_when_an_image_changes(quick_demo):
    accept_registration(quick_demo, reviewer="  Dr   B ")
    record = json.loads((quick_demo / ACCEPTANCE_FILE).read_text())
    assert record["reviewer"] == "Dr B" and record["accepted_at"].endswith("+00:00")
    assert len(record["images"]) == 2 and all(len(h) == 64 for h in record["images"].values())
    inputs = open_fmriprep(quick_demo)
    assert inputs.preprocessing is not None and inputs.preprocessing.accepted
    assert "accepted by Dr B" in inputs.preprocessing.label

    image = read_quick_provenance(quick_demo).check_images[0]
    image.write_bytes(b"\x89PNG another image")
    with pytest.raises(RegistrationNotAccepted, match="changed after Dr B accepted"):
        open_fmriprep(quick_demo)


def test_accepting_another_kind_of_folder_is_refused(demo_root, capsys):
    with pytest.raises(InputError, match="quick-preprocessing derivatives folder"):
        accept_registration(demo_root)
    assert main(["accept-registration", str(demo_root), "--yes"]) == 2
    assert not (demo_root / ACCEPTANCE_FILE).exists()


def test_pre_and_post_from_different_routes_are_refused(quick_demo, demo_root):
    accept_registration(quick_demo)
    func = "sub-demo/ses-{s}/func/sub-demo_ses-{s}_task-rest_space-MNI152NLin2009cAsym_res-3"
    pre = quick_demo / (func.format(s="pre") + "_desc-preproc_bold.nii.gz")
    post = demo_root / (func.format(s="post") + "_desc-preproc_bold.nii.gz")
    if not (pre.is_file() and post.is_file()):
        pytest.skip(f"the demo's file names changed: {pre.name}")
    with pytest.raises(InputError, match="mixing quick-preprocessing and fMRIPrep"):
        open_nifti_pair(pre, post)
    same = open_nifti_pair(pre, quick_demo / post.relative_to(demo_root))
    assert same.preprocessing is not None


def test_comparison_and_report_name_the_route(quick_demo):
    from core.pipeline import run_comparison
    from core.report.content import report_content
    from core.review import compute_statistics
    from core.review_state import ReviewState
    from core.settings import AnalysisSettings, DenoiseSettings

    accept_registration(quick_demo, reviewer="Dr C")
    inputs = open_fmriprep(quick_demo)
    settings = AnalysisSettings(denoise=DenoiseSettings(strategy="none", band_pass=None))
    comparison = run_comparison(inputs, settings)
    assert comparison.provenance["preprocessing"].startswith(QUICK_LABEL)
    state = ReviewState(inputs=inputs, comparison=comparison,
                        statistics=compute_statistics(comparison, inputs))
    content = report_content(state)
    assert dict(content.parameters)["Preprocessing"].startswith(QUICK_LABEL)
    assert "quick preprocessing: no slice-timing correction" in content.warnings
