"""The command-line contract: flags, output files, exit codes, no writes into inputs."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.io.fmriprep import discover_fmriprep, select_pre_post

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONAL = Path(nib.__file__).parent / "tests" / "data" / "functional.nii"
CONTRACT_FILES = {"connectivity_pre.tsv", "connectivity_post.tsv", "connectivity_delta.tsv",
                  "networks.tsv", "summary.json"}


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def demo_output(demo_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    before = _hashes(demo_root)
    assert main(["analyze", "--fmriprep", str(demo_root), "--out", str(out)]) == 0
    assert _hashes(demo_root) == before  # inputs untouched
    return out


def test_analyze_writes_the_contract_files(demo_output):
    names = {p.name for p in demo_output.iterdir()}
    assert names >= CONTRACT_FILES
    assert not [n for n in names if n.endswith(".part") or n.startswith(".")]


def test_matrices_are_square_named_with_zero_diagonal(demo_output):
    pre = pd.read_csv(demo_output / "connectivity_pre.tsv", sep="\t", index_col=0)
    post = pd.read_csv(demo_output / "connectivity_post.tsv", sep="\t", index_col=0)
    delta = pd.read_csv(demo_output / "connectivity_delta.tsv", sep="\t", index_col=0)
    assert pre.shape == (100, 100)
    assert list(pre.index) == list(pre.columns)
    assert pre.index[0].startswith("7Networks_")
    assert np.all(np.diag(pre.to_numpy()) == 0)
    assert np.allclose(pre.to_numpy(), pre.to_numpy().T)
    assert np.allclose(delta.to_numpy(), post.to_numpy() - pre.to_numpy(), atol=2e-6)


def test_networks_table_columns(demo_output):
    table = pd.read_csv(demo_output / "networks.tsv", sep="\t")
    assert {"network_a", "network_b", "z_pre", "z_post", "delta_z"} <= set(table.columns)
    assert len(table) == 7 * 8 // 2


def test_summary_records_parameters_versions_and_hashes(demo_output, demo_root):
    summary = json.loads((demo_output / "summary.json").read_text())
    assert summary["parameters"]["atlas"] == "schaefer100"
    assert summary["parameters"]["strategy_applied"] == "simple"
    assert summary["parameters"]["denoise"]["band_pass"] == [0.01, 0.1]
    assert summary["sessions"]["pre"]["volumes_kept"] == 300
    for key in ("nilearn", "nibabel", "numpy", "prepost-review"):
        assert summary["software"][key]
    pre_run, _ = select_pre_post(discover_fmriprep(demo_root))
    digest = hashlib.sha256(pre_run.bold.read_bytes()).hexdigest()
    assert summary["inputs"]["pre_bold"]["sha256"] == digest
    assert "not a diagnostic device" in summary["disclaimer"]


def test_plain_pearson_with_no_denoising(tmp_path, demo_root):
    """--strategy none --no-filter gives Fisher-z of plain Pearson r of ROI means."""
    from nilearn.maskers import NiftiLabelsMasker

    from core.atlas.atlases import load_atlas

    pre_run, post_run = select_pre_post(discover_fmriprep(demo_root))
    out = tmp_path / "plain"
    code = main(["analyze", "--pre", str(pre_run.bold), "--post", str(post_run.bold),
                 "--mask-pre", str(pre_run.mask), "--mask-post", str(post_run.mask),
                 "--strategy", "none", "--no-filter", "--out", str(out)])
    assert code == 0
    ours = pd.read_csv(out / "connectivity_post.tsv", sep="\t", index_col=0).to_numpy()
    masker = NiftiLabelsMasker(load_atlas("schaefer100").labels_img, mask_img=pre_run.mask,
                               detrend=True)
    series = masker.fit_transform(str(post_run.bold))
    reference = np.arctanh(np.clip(np.corrcoef(series, rowvar=False), -1 + 1e-7, 1 - 1e-7))
    np.fill_diagonal(reference, 0)
    assert np.abs(ours - reference).max() < 1e-5


def test_refuses_to_write_into_an_input_folder(demo_root, capsys):
    before = _hashes(demo_root)
    code = main(["analyze", "--fmriprep", str(demo_root), "--out",
                 str(demo_root / "sub-demo")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "outside the patient's input folders" in err[0]
    assert _hashes(demo_root) == before


def test_bad_input_exits_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "scan.nii.gz"
    bad.write_bytes(b"this is not an image")
    out = tmp_path / "out"
    code = main(["analyze", "--pre", str(bad), "--post", str(bad), "--out", str(out)])
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "scan.nii.gz" in lines[0]
    assert not out.exists() or not any(out.iterdir())


def test_unknown_flag_is_one_line_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["analyze", "--frobnicate", "--out", "x"])
    assert info.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_atlases_lists_every_bundled_atlas(capsys):
    assert main(["atlases"]) == 0
    names = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
    for expected in ("schaefer100", "schaefer400", "seitzman300", "dosenbach160", "aal3"):
        assert expected in names


def test_timeseries_tables(tmp_path):
    rng = np.random.default_rng(3)
    names = ["7Networks_LH_Default_PFC_1", "7Networks_LH_Default_PCC_1",
             "7Networks_LH_Cont_Par_1", "7Networks_RH_Limbic_OFC_1", "custom_roi"]
    paths = []
    for session in ("pre", "post"):
        data = rng.standard_normal((120, len(names)))
        path = tmp_path / f"{session} séance.tsv"  # spaces and non-ASCII in the name
        pd.DataFrame(data, columns=names).to_csv(path, sep="\t", index=False)
        paths.append(path)
    out = tmp_path / "out"
    code = main(["analyze", "--timeseries-pre", str(paths[0]), "--timeseries-post",
                 str(paths[1]), "--tr", "2", "--out", str(out)])
    assert code == 0
    rois = pd.read_csv(out / "rois.tsv", sep="\t")
    assert list(rois.network.fillna("")) == ["Default", "Default", "Cont", "Limbic", ""]


def test_nibabel_functional_run_through_the_whole_pipeline(tmp_path):
    """The real, tiny MNI fMRI run shipped with nibabel (20 volumes, 4x4x8 mm)."""
    pre = tmp_path / "in" / "pre.nii"
    pre.parent.mkdir()
    shutil.copy(FUNCTIONAL, pre)
    img = nib.load(FUNCTIONAL)
    data = np.asarray(img.dataobj)[..., ::-1]  # same scan, time reversed: r is unchanged
    post = tmp_path / "in" / "post.nii"
    nib.save(nib.Nifti1Image(data, img.affine, img.header), post)
    out = tmp_path / "out"
    code = main(["analyze", "--pre", str(pre), "--post", str(post), "--atlas", "aal3",
                 "--no-filter", "--min-volumes", "10", "--out", str(out)])
    assert code == 0
    delta = pd.read_csv(out / "connectivity_delta.tsv", sep="\t", index_col=0)
    pre_z = pd.read_csv(out / "connectivity_pre.tsv", sep="\t", index_col=0)
    assert len(delta) >= 5 and np.abs(pre_z.to_numpy()).max() > 0.1
    assert np.abs(delta.to_numpy()).max() < 1e-5


def test_main_py_runs_the_cli_as_a_subprocess(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "atlases"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0 and "schaefer100" in result.stdout


def test_named_edges_tsv_equals_the_voxel_route(demo_output, demo_root):
    """named_edges.tsv (ROI path) equals named edges from prepared voxel data (seed path)."""
    from core.io.inputs import open_fmriprep
    from core.maps.prepare import prepare_patient
    from core.maps.seeds import named_edges
    from core.settings import AnalysisSettings

    table = pd.read_csv(demo_output / "named_edges.tsv", sep="\t")
    assert list(table.edge) == ["dlPFC(L)–sgACC", "insula(L)–DMN", "insula(R)–DMN",
                                "amygdala(L)–sgACC", "amygdala(R)–sgACC", "PCC–mPFC"]
    pre, post = prepare_patient(open_fmriprep(demo_root), AnalysisSettings())
    reference = named_edges(pre, post, radius_mm=6.0)
    assert np.abs(table.z_pre.to_numpy() - reference.z_pre.to_numpy()).max() < 1e-4
    assert np.abs(table.delta_z.to_numpy() - reference.delta_z.to_numpy()).max() < 1e-4
    # each named edge is tested like an ROI edge; q across the six
    assert {"stat", "p", "q"} <= set(table.columns)
    assert table[["stat", "p", "q"]].notna().all().all()
    assert ((table.p > 0) & (table.p <= table.q) & (table.q <= 1)).all()
