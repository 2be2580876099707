import numpy as np
import pytest

from core.qc import (
    SessionQC,
    carpet_data,
    framewise_displacement,
    motion_warning,
    qc_table,
    read_motion,
)


@pytest.fixture(scope="module")
def demo(demo_root):
    from core.demo import open_demo_patient
    from core.pipeline import run_comparison
    from core.signal.masking import analysis_mask

    inputs = open_demo_patient()
    return inputs, run_comparison(inputs), analysis_mask(inputs)


def test_fd_equals_demo_column(demo):
    inputs, _, _ = demo
    motion, column = read_motion(inputs.pre_scan.confounds)
    fd = framewise_displacement(motion)
    assert np.isnan(fd[0]) and np.isnan(column[0])
    np.testing.assert_allclose(fd[1:], column[1:], rtol=1e-4, atol=1e-5)


def test_session_qc_tsnr_matches_nifti_masker(demo):
    from nilearn.maskers import NiftiMasker

    from core.qc import session_qc

    inputs, comparison, mask = demo
    qc = session_qc(inputs.pre_scan, comparison.pre, mask, comparison.atlas)
    import nibabel as nib

    masker = NiftiMasker(nib.Nifti1Image(mask.astype(np.uint8), inputs.pre_scan.affine),
                         standardize=None)
    data = masker.fit_transform(inputs.pre_scan.img).astype(np.float64)
    expected = data.mean(axis=0) / data.std(axis=0)
    got = masker.transform(nib.Nifti1Image(qc.tsnr_map[..., None],
                                           inputs.pre_scan.affine)).ravel()
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    assert 5 < qc.mean_tsnr_gm < 200
    assert qc.carpet.data.shape[0] <= 1600
    assert qc.carpet.data.shape[1] == inputs.pre_scan.n_volumes
    assert "Default" in qc.carpet.groups
    assert qc.dvars.shape == (inputs.pre_scan.n_volumes,)
    assert np.nanmedian(qc.std_dvars) == pytest.approx(1.0, abs=0.3)


def _qc(fd_mean, n_kept=200, label="pre"):
    fd = np.full(200, fd_mean)
    fd[0] = np.nan
    return SessionQC(label, 200, n_kept, np.zeros(200, bool), fd=fd)


def test_motion_warning():
    assert motion_warning(_qc(0.1), _qc(0.1, label="post")) is None
    assert "FD" in motion_warning(_qc(0.1), _qc(0.3, label="post"))
    assert "scrubbed" in motion_warning(_qc(0.1), _qc(0.1, n_kept=170, label="post"))
    assert motion_warning(_qc(0.1), _qc(0.3), fd_threshold=0.5) is None


def test_qc_table_and_carpet():
    table = qc_table(_qc(0.1), _qc(0.3, n_kept=180))
    assert list(table.columns) == ["measure", "pre", "post", "difference"]
    row = table.set_index("measure").loc["mean_fd_mm"]
    assert row.difference == pytest.approx(0.2)
    assert table.set_index("measure").loc["percent_scrubbed", "post"] == pytest.approx(10)
    rng = np.random.default_rng(0)
    voxels = rng.normal(size=(5000, 50)).astype(np.float32)
    groups = np.array(["B"] * 1000 + ["Other"] * 1000 + ["A"] * 3000, dtype=object)
    carpet = carpet_data(voxels, groups, max_rows=500, order=["A", "B"])
    assert carpet.groups == ["A", "B", "Other"]
    assert carpet.data.shape == (500, 50) and carpet.data.dtype == np.float32
    np.testing.assert_allclose(carpet.data.mean(axis=1), 0, atol=1e-5)


def test_analysis_outputs_include_stats_and_qc(demo, tmp_path):
    import pandas as pd

    from core.report.analysis_files import write_analysis_outputs

    inputs, comparison, _ = demo
    paths = write_analysis_outputs(comparison, inputs, tmp_path / "out")
    assert {"edges.tsv", "qc.tsv", "networks.tsv"} <= {p.name for p in paths}
    qc = pd.read_csv(tmp_path / "out" / "qc.tsv", sep="\t")
    assert "mean_fd_mm" in set(qc.measure)
    nets = pd.read_csv(tmp_path / "out" / "networks.tsv", sep="\t")
    assert {"stat", "p", "q", "n_edges"} <= set(nets.columns)
    edges = pd.read_csv(tmp_path / "out" / "edges.tsv", sep="\t")
    assert list(edges.columns[:10]) == ["roi_a", "roi_b", "network_a", "network_b", "z_pre",
                                        "z_post", "delta_z", "stat", "p", "q"]
    assert len(edges) == len(comparison.rois) * (len(comparison.rois) - 1) // 2


def test_std_dvars_from_a_voxel_subset_matches_all_voxels(demo):
    """The robust-SD subset (speed) changes standardised DVARS by well under 1 %."""
    from core.qc.voxel_measures import _voxel_moments, dvars
    from core.signal.extract import masked_voxels

    inputs, _, mask = demo
    voxels = masked_voxels(inputs.pre_scan.img, mask)
    _, fast = dvars(voxels, _voxel_moments(voxels))
    _, full = dvars(voxels, _voxel_moments(voxels, max_robust=voxels.shape[0]))
    assert voxels.shape[0] > 20000
    np.testing.assert_allclose(fast[1:], full[1:], rtol=0.01)


def test_deferred_qc_equals_qc_computed_while_reading(demo_root, demo_comparison):
    """The review window defers QC past its first view; the numbers must not change."""
    from core.io.inputs import open_fmriprep
    from core.pipeline import run_comparison

    deferred = run_comparison(open_fmriprep(demo_root), demo_comparison.settings, defer_qc=True)
    assert deferred.qc is None and deferred.deferred_qc is not None
    np.testing.assert_allclose(deferred.delta_z, demo_comparison.delta_z)
    qc = deferred.quality_control()
    assert deferred.qc is None, "the comparison is immutable: QC is kept by the review state"
    for got, expected in zip(qc, demo_comparison.qc, strict=True):
        np.testing.assert_allclose(got.dvars, expected.dvars, rtol=1e-6)
        np.testing.assert_allclose(got.std_dvars, expected.std_dvars, rtol=1e-6)
        np.testing.assert_allclose(got.tsnr_map, expected.tsnr_map, rtol=1e-5)
        np.testing.assert_allclose(got.carpet.data, expected.carpet.data, atol=1e-5)
        assert got.mean_tsnr_gm == pytest.approx(expected.mean_tsnr_gm, rel=1e-6)
        assert got.percent_scrubbed == expected.percent_scrubbed
    assert deferred.warnings == demo_comparison.warnings


def _spiky(n_spikes, label="pre", n_kept=200):
    fd = np.full(200, 0.1)
    fd[0] = np.nan
    fd[1:1 + n_spikes] = 0.9  # over nilearn's 0.5 mm
    fd[150] = 0.5             # at the threshold: not over it
    return SessionQC(label, 200, n_kept, np.zeros(200, bool), fd=fd)


def test_volumes_over_the_fd_threshold_are_counted_scrubbed_or_not():
    from core.qc.motion import motion_note

    pre, post = _spiky(4), _spiky(30, label="post")
    assert (pre.n_fd_over_threshold, post.n_fd_over_threshold) == (4, 30)
    table = qc_table(pre, post).set_index("measure")
    assert table.loc["n_fd_over_threshold", "pre"] == 4
    assert table.loc["n_fd_over_threshold", "difference"] == 26
    # none scrubbed, mean FD alike: the 2 % vs 15 % of high-motion volumes still warn
    assert pre.percent_scrubbed == post.percent_scrubbed == 0
    warning = motion_warning(pre, post, fd_threshold=1.0)
    assert warning is not None and "2% vs 15% of volumes with FD > 0.5 mm" in warning
    assert motion_warning(_spiky(4), _spiky(5, label="post"), fd_threshold=1.0) is None
    kept = motion_note(pre, post, "simple")
    assert kept.startswith("4 of 200 volumes (pre) and 30 of 200 (post) have FD > 0.5 mm")
    assert "'simple' strategy does not scrub" in kept and "'scrubbing'" in kept
    scrubbed = motion_note(pre, _spiky(30, "post", n_kept=160), "scrubbing")
    assert "'scrubbing' strategy left out 0 and 40 volumes" in scrubbed
    assert motion_note(SessionQC("pre", 10, 10, np.zeros(10, bool)),
                       SessionQC("post", 10, 10, np.zeros(10, bool)), "simple") == ""
