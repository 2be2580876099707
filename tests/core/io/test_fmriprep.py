"""Tests for core.io.fmriprep: discovery of fMRIPrep outputs and pre/post selection."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.errors import FmriprepLayoutError
from core.io.fmriprep import (
    MNI_SPACES,
    FmriprepDataset,
    FmriprepRun,
    discover_fmriprep,
    select_pre_post,
)

MNI = "MNI152NLin2009cAsym"
SPACES = ((MNI, "2"), (MNI, "1"), ("MNI152NLin6Asym", "2"), ("T1w", None))


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return path


def add_run(
    base: Path,
    sub: str = "01",
    ses: str | None = "pre",
    task: str = "rest",
    run: str | None = None,
    spaces=SPACES,
    confounds: str | None = "timeseries",
    mask: bool = True,
    sidecar: bool = True,
) -> Path:
    """Write the file names fMRIPrep (--level full) writes for one BOLD run."""
    func = base / f"sub-{sub}" / (f"ses-{ses}" if ses else "") / "func"
    stem = f"sub-{sub}" + (f"_ses-{ses}" if ses else "") + f"_task-{task}"
    stem += f"_run-{run}" if run else ""
    for space, res in spaces:
        ent = f"{stem}_space-{space}" + (f"_res-{res}" if res else "")
        touch(func / f"{ent}_desc-preproc_bold.nii.gz")
        touch(func / f"{ent}_boldref.nii.gz")
        if sidecar:
            touch(func / f"{ent}_desc-preproc_bold.json")
        if mask:
            touch(func / f"{ent}_desc-brain_mask.nii.gz")
            touch(func / f"{ent}_desc-brain_mask.json")
    if confounds:
        touch(func / f"{stem}_desc-confounds_{confounds}.tsv")
        touch(func / f"{stem}_desc-confounds_{confounds}.json")
    touch(func / f"{stem}_from-boldref_to-T1w_mode-image_desc-coreg_xfm.txt")
    touch(base / f"sub-{sub}" / "anat" / f"sub-{sub}_desc-preproc_T1w.nii.gz")
    return func


def two_sessions(base: Path, pre: str = "pre", post: str = "post", **kwargs) -> Path:
    add_run(base, ses=pre, **kwargs)
    add_run(base, ses=post, **kwargs)
    touch(base / "dataset_description.json")
    return base


# --------------------------------------------------------------------------- discovery


def test_typical_layout_picks_mni_2009c_res2_with_matching_files(tmp_path):
    ds = discover_fmriprep(two_sessions(tmp_path / "fmriprep"))
    assert isinstance(ds, FmriprepDataset)
    assert ds.root == tmp_path / "fmriprep"
    assert len(ds.runs) == 8
    assert ds.subjects() == ["01"]
    assert ds.sessions("01") == ds.sessions("sub-01") == ["post", "pre"]
    assert ds.tasks() == ds.tasks("01") == ["rest"]
    assert ds.spaces() == ["MNI152NLin6Asym", MNI, "T1w"]  # natural order: 6 < 2009

    pre, post = select_pre_post(ds)
    assert (pre.session, post.session) == ("pre", "post")
    for r, ses in ((pre, "pre"), (post, "post")):
        stem = f"sub-01_ses-{ses}_task-rest"
        assert isinstance(r, FmriprepRun)
        assert (r.subject, r.task, r.run, r.space, r.res) == ("01", "rest", None, MNI, "2")
        assert r.bold.name == f"{stem}_space-{MNI}_res-2_desc-preproc_bold.nii.gz"
        assert r.sidecar.name == f"{stem}_space-{MNI}_res-2_desc-preproc_bold.json"
        assert r.mask.name == f"{stem}_space-{MNI}_res-2_desc-brain_mask.nii.gz"
        assert r.confounds.name == f"{stem}_desc-confounds_timeseries.tsv"
        assert r.bold.parent == r.mask.parent == r.confounds.parent
    assert pre.label == f"sub-01 ses-pre task-rest space-{MNI} res-2"


def test_masks_are_matched_by_space_and_res(tmp_path):
    ds = discover_fmriprep(two_sessions(tmp_path))
    for r in ds.runs:
        ent = f"space-{r.space}" + (f"_res-{r.res}" if r.res else "")
        assert f"_{ent}_desc-brain_mask" in r.mask.name
        assert r.mask.name.replace("desc-brain_mask", "desc-preproc_bold") == r.bold.name
    pre, _ = select_pre_post(ds, space="space-MNI152NLin6Asym")
    assert (pre.space, pre.res) == ("MNI152NLin6Asym", "2")
    assert "MNI152NLin6Asym_res-2_desc-brain_mask" in pre.mask.name


def test_missing_companions_are_none(tmp_path):
    ds = discover_fmriprep(two_sessions(tmp_path, confounds=None, mask=False, sidecar=False))
    pre, post = select_pre_post(ds)
    assert pre.sidecar is pre.mask is pre.confounds is None
    assert post.bold.exists()


def test_old_confounds_regressors_name_is_found(tmp_path):
    ds = discover_fmriprep(two_sessions(tmp_path, confounds="regressors", spaces=[(MNI, None)]))
    pre, post = select_pre_post(ds)
    assert pre.confounds.name == "sub-01_ses-pre_task-rest_desc-confounds_regressors.tsv"
    assert post.confounds.name.endswith("desc-confounds_regressors.tsv")
    assert pre.res is None and pre.label == f"sub-01 ses-pre task-rest space-{MNI}"


def test_timeseries_preferred_over_regressors(tmp_path):
    func = add_run(tmp_path, ses="pre", confounds="timeseries")
    touch(func / "sub-01_ses-pre_task-rest_desc-confounds_regressors.tsv")
    add_run(tmp_path, ses="post", confounds="regressors")
    pre, post = select_pre_post(discover_fmriprep(tmp_path))
    assert pre.confounds.name.endswith("_timeseries.tsv")
    assert post.confounds.name.endswith("_regressors.tsv")


def test_uncompressed_nifti_and_junk_names(tmp_path):
    func = tmp_path / "sub-01" / "ses-a" / "func"
    touch(func / f"sub-01_ses-a_task-rest_space-{MNI}_desc-preproc_bold.nii")
    touch(func / f"sub-01_ses-a_task-rest_space-{MNI}_desc-brain_mask.nii")
    for junk in (
        "notes.txt",
        ".DS_Store",
        f"sub-01_ses-a_task-rest_space-{MNI}_desc-preproc_bold.nii.gz.bak",
        f"sub-01_ses-a_task-rest_echo-1_space-{MNI}_desc-preproc_bold.nii.gz",
        f"sub-01_ses-a_task-rest_run-1_run-2_space-{MNI}_desc-preproc_bold.nii.gz",
        f"sub-01_ses-a_space-{MNI}_desc-preproc_bold.nii.gz",  # no task
        f"sub-01_ses-a_task-rest_space-{MNI}_desc-aseg_dseg.nii.gz",
    ):
        touch(func / junk)
    (func / "subfolder").mkdir()
    ds = discover_fmriprep(tmp_path)
    assert len(ds.runs) == 1
    assert ds.runs[0].bold.name.endswith("_desc-preproc_bold.nii")
    assert ds.runs[0].mask.name.endswith("_desc-brain_mask.nii")


def test_entities_in_any_order_and_acq(tmp_path):
    func = tmp_path / "sub-01" / "ses-1" / "func"
    touch(func / f"sub-01_task-rest_ses-1_res-2_space-{MNI}_run-1_desc-preproc_bold.nii.gz")
    touch(func / "sub-01_ses-1_task-rest_acq-mb4_run-1_space-T1w_desc-preproc_bold.nii.gz")
    ds = discover_fmriprep(tmp_path)
    first = ds.runs[0]
    assert (first.session, first.run, first.res, first.acq) == ("1", "1", "2", None)
    assert first.space == MNI
    assert ds.runs[1].label == "sub-01 ses-1 task-rest acq-mb4 run-1 space-T1w"


def test_root_is_a_parent_with_derivatives_fmriprep(tmp_path):
    bids = tmp_path / "study"
    touch(bids / "sub-01" / "ses-pre" / "func" / "sub-01_ses-pre_task-rest_bold.nii.gz")
    deriv = two_sessions(bids / "derivatives" / "fmriprep")
    ds = discover_fmriprep(bids)
    assert ds.root == deriv
    assert select_pre_post(ds)[0].bold.is_relative_to(deriv)

    outdir = tmp_path / "out"
    two_sessions(outdir / "fmriprep")
    (outdir / "freesurfer").mkdir()
    assert discover_fmriprep(str(outdir)).root == outdir / "fmriprep"


def test_non_ascii_and_spaces_in_root(tmp_path):
    root = tmp_path / "Patiënt Müller – 日本 data" / "fmriprep out"
    ds = discover_fmriprep(two_sessions(root))
    pre, post = select_pre_post(ds)
    assert pre.bold.exists() and post.bold.exists()
    assert ds.root == root


def test_symlink_loop_does_not_hang(tmp_path):
    base = two_sessions(tmp_path / "fmriprep")
    (base / "sub-01" / "func").mkdir()
    try:
        os.symlink(base / "sub-01", base / "sub-01" / "ses-loop")
        os.symlink(base, base / "sub-01" / "ses-pre" / "func" / "up")
        os.symlink(base / "sub-02", base / "sub-02")  # self loop
        os.symlink(base / "sub-01" / "func", base / "sub-01" / "func" / "again")
    except (OSError, NotImplementedError):
        pytest.skip("symbolic links are not available here")
    ds = discover_fmriprep(tmp_path)
    assert ds.subjects() == ["01"]
    assert select_pre_post(ds)[0].session == "pre"


# --------------------------------------------------------------------------- discovery errors


def test_missing_root_and_file_root(tmp_path):
    with pytest.raises(FmriprepLayoutError, match="found nothing"):
        discover_fmriprep(tmp_path / "nope")
    with pytest.raises(FmriprepLayoutError, match="found a file"):
        discover_fmriprep(touch(tmp_path / "x.nii.gz"))


def test_empty_folder(tmp_path):
    with pytest.raises(FmriprepLayoutError, match=r"sub-<label>/ folders, found none") as info:
        discover_fmriprep(tmp_path)
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith(str(tmp_path))


def test_subject_folder_chosen_instead_of_its_parent(tmp_path):
    add_run(tmp_path)
    with pytest.raises(FmriprepLayoutError, match="found a single subject folder"):
        discover_fmriprep(tmp_path / "sub-01")


def test_minimal_level_output(tmp_path):
    func = tmp_path / "sub-01" / "ses-pre" / "func"
    stem = "sub-01_ses-pre_task-rest"
    for name in (
        "desc-hmc_boldref.nii.gz",
        "desc-coreg_boldref.nii.gz",
        "desc-coreg_boldref.json",
        "desc-brain_mask.nii.gz",
        "from-orig_to-boldref_mode-image_desc-hmc_xfm.txt",
        "from-boldref_to-T1w_mode-image_desc-coreg_xfm.txt",
    ):
        touch(func / f"{stem}_{name}")
    with pytest.raises(FmriprepLayoutError, match=r"--level minimal.*--level full") as info:
        discover_fmriprep(tmp_path)
    assert "no preprocessed BOLD" in str(info.value)


def test_raw_bids_only(tmp_path):
    touch(tmp_path / "sub-01" / "ses-1" / "func" / "sub-01_ses-1_task-rest_bold.nii.gz")
    touch(tmp_path / "sub-01" / "ses-1" / "func" / "sub-01_ses-1_task-rest_bold.json")
    with pytest.raises(FmriprepLayoutError, match="found raw BIDS BOLD files"):
        discover_fmriprep(tmp_path)


def test_no_preproc_bold_generic(tmp_path):
    touch(tmp_path / "sub-01" / "anat" / "sub-01_desc-preproc_T1w.nii.gz")
    (tmp_path / "sub-01" / "func").mkdir()
    with pytest.raises(
        FmriprepLayoutError, match=r"expected \*_desc-preproc_bold\.nii\[\.gz\] .*found none"
    ):
        discover_fmriprep(tmp_path)


# --------------------------------------------------------------------------- session choice


@pytest.mark.parametrize(
    ("first", "second", "pre", "post"),
    [
        ("followup", "baseline", "baseline", "followup"),
        ("t1", "t0", "t0", "t1"),
        ("postop", "preop", "preop", "postop"),
        ("after", "before", "before", "after"),
        ("1", "2", "1", "2"),
        ("10", "2", "2", "10"),
        ("t2", "t1", "t1", "t2"),
    ],
)
def test_session_naming(tmp_path, first, second, pre, post):
    ds = discover_fmriprep(two_sessions(tmp_path, first, second, spaces=[(MNI, "2")]))
    got = select_pre_post(ds)
    assert (got[0].session, got[1].session) == (pre, post)


def test_more_than_two_unnamed_sessions_takes_first_two(tmp_path):
    for ses in ("3", "1", "2"):
        add_run(tmp_path, ses=ses, spaces=[(MNI, None)])
    pre, post = select_pre_post(discover_fmriprep(tmp_path))
    assert (pre.session, post.session) == ("1", "2")
    pre, post = select_pre_post(discover_fmriprep(tmp_path), pre_session="1", post_session="3")
    assert (pre.session, post.session) == ("1", "3")
    _, post = select_pre_post(discover_fmriprep(tmp_path), pre_session="2")
    assert post.session == "3"
    pre, _ = select_pre_post(discover_fmriprep(tmp_path), post_session="ses-3")
    assert pre.session == "1"


def test_sessions_overridable(tmp_path):
    ds = discover_fmriprep(two_sessions(tmp_path))
    pre, post = select_pre_post(ds, pre_session="ses-post", post_session="pre")
    assert (pre.session, post.session) == ("post", "pre")
    _, post = select_pre_post(ds, pre_session="post")
    assert post.session == "pre"
    with pytest.raises(
        FmriprepLayoutError,
        match=r"expected ses-mid for sub-01 task-rest .*found ses-post, ses-pre",
    ):
        select_pre_post(ds, post_session="mid")
    with pytest.raises(FmriprepLayoutError, match="found ses-pre for both"):
        select_pre_post(ds, pre_session="pre", post_session="pre")


def test_only_one_session(tmp_path):
    add_run(tmp_path, ses="pre")
    ds = discover_fmriprep(tmp_path)
    with pytest.raises(
        FmriprepLayoutError, match=r"expected two sessions \(pre and post\) .*found one: ses-pre"
    ):
        select_pre_post(ds)


def test_no_sessions(tmp_path):
    add_run(tmp_path, ses=None)
    with pytest.raises(FmriprepLayoutError, match=r"two sessions .*found none"):
        select_pre_post(discover_fmriprep(tmp_path))


# --------------------------------------------------------------------------- other choices


def test_no_mni_space_names_t1w(tmp_path):
    ds = discover_fmriprep(two_sessions(tmp_path, spaces=[("T1w", None)]))
    assert ds.spaces() == ["T1w"]
    with pytest.raises(
        FmriprepLayoutError,
        match=r"MNI space .*found only space\(s\) T1w.*--output-spaces MNI152NLin2009cAsym",
    ):
        select_pre_post(ds)


def test_requested_space_must_be_mni_and_present(tmp_path):
    ds = discover_fmriprep(two_sessions(tmp_path))
    with pytest.raises(FmriprepLayoutError, match="found space-T1w requested"):
        select_pre_post(ds, space="T1w")
    with pytest.raises(FmriprepLayoutError, match="expected space-MNI305 in both sessions"):
        select_pre_post(ds, space="MNI305")


def test_no_common_space_between_sessions(tmp_path):
    add_run(tmp_path, ses="pre", spaces=[(MNI, "2")])
    add_run(tmp_path, ses="post", spaces=[("MNI152NLin6Asym", "2")])
    with pytest.raises(
        FmriprepLayoutError,
        match=rf"common MNI space .*{MNI} res-2 in ses-pre and MNI152NLin6Asym res-2 in ses-post",
    ):
        select_pre_post(discover_fmriprep(tmp_path))


def test_other_mni_space_and_res_fallback(tmp_path):
    two_sessions(tmp_path, spaces=[("MNI152NLin2009cSym", "3"), ("MNIColin27", "1")])
    pre, post = select_pre_post(discover_fmriprep(tmp_path))
    assert (pre.space, pre.res) == (post.space, post.res) == ("MNI152NLin2009cSym", "3")


def test_multiple_subjects(tmp_path):
    two_sessions(tmp_path / "d")
    add_run(tmp_path / "d", sub="02", ses="pre")
    add_run(tmp_path / "d", sub="02", ses="post")
    ds = discover_fmriprep(tmp_path / "d")
    assert ds.subjects() == ["01", "02"]
    with pytest.raises(
        FmriprepLayoutError,
        match=r"expected a single sub-<label> .*found sub-01, sub-02; choose one",
    ):
        select_pre_post(ds)
    pre, _ = select_pre_post(ds, subject="sub-02")
    assert pre.subject == "02"
    with pytest.raises(
        FmriprepLayoutError, match="expected sub-03 for this dataset, found sub-01, sub-02"
    ):
        select_pre_post(ds, subject="03")


def test_task_choice(tmp_path):
    two_sessions(tmp_path, task="rest", spaces=[(MNI, "2")])
    two_sessions(tmp_path, task="nback", spaces=[(MNI, "2")])
    ds = discover_fmriprep(tmp_path)
    assert ds.tasks() == ["nback", "rest"]
    assert select_pre_post(ds)[0].task == "rest"
    assert select_pre_post(ds, task="task-nback")[1].task == "nback"
    with pytest.raises(FmriprepLayoutError, match=r"expected task-foo .*task-nback, task-rest"):
        select_pre_post(ds, task="foo")


def test_task_without_rest(tmp_path):
    two_sessions(tmp_path / "a", task="restingstate", spaces=[(MNI, "2")])
    two_sessions(tmp_path / "a", task="nback", spaces=[(MNI, "2")])
    assert select_pre_post(discover_fmriprep(tmp_path / "a"))[0].task == "restingstate"
    two_sessions(tmp_path / "b", task="gonogo", spaces=[(MNI, "2")])
    assert select_pre_post(discover_fmriprep(tmp_path / "b"))[0].task == "gonogo"
    two_sessions(tmp_path / "b", task="nback", spaces=[(MNI, "2")])
    with pytest.raises(
        FmriprepLayoutError, match=r"expected task-rest .*found task-gonogo, task-nback; choose one"
    ):
        select_pre_post(discover_fmriprep(tmp_path / "b"))


def test_runs_natural_order_and_override(tmp_path):
    for ses in ("pre", "post"):
        for run in ("10", "2"):
            add_run(tmp_path, ses=ses, run=run, spaces=[(MNI, "2")])
    ds = discover_fmriprep(tmp_path)
    assert [r.run for r in ds.runs if r.session == "pre"] == ["2", "10"]
    pre, post = select_pre_post(ds)
    assert pre.run == post.run == "2"
    assert pre.label == f"sub-01 ses-pre task-rest run-2 space-{MNI} res-2"
    assert select_pre_post(ds, run="run-10")[0].run == "10"
    assert select_pre_post(ds, run="02")[1].run == "2"
    with pytest.raises(FmriprepLayoutError, match=r"expected run-3 .*found run-2, run-10"):
        select_pre_post(ds, run="3")


def test_mni_spaces_constant():
    assert MNI_SPACES[0] == MNI
    assert {"MNI152NLin6Asym", "MNI305", "MNIColin27", "MNI152Lin"} <= set(MNI_SPACES)
    assert all(s.startswith("MNI") for s in MNI_SPACES)
