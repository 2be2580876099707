"""The quick path's steps against known truth: motion parameters, EPI → MNI registration."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from core.preprocess.quick_motion import estimate_motion, motion_table
from core.preprocess.quick_registration import register_epi_to_mni, template_images
from core.preprocess.quick_synthetic import rigid_matrix, write_synthetic_bids
from core.qc.motion import framewise_displacement

REALISTIC = {"shape": (64, 64, 36), "voxel_mm": (3.5, 3.5, 4.0)}


def test_motion_table_turns_matrices_into_fmriprep_parameters():
    centre = np.array([2.0, -20.0, 15.0])
    truth = np.array([[0, 0, 0, 0, 0, 0], [1.0, -0.5, 0.2, 2.0, 0.0, -1.0],
                      [0.3, 0.4, -0.6, -1.0, 0.5, 0.5]])
    matrices = np.stack([rigid_matrix(row[3:], row[:3], centre) for row in truth])
    table = motion_table(matrices, centre)
    np.testing.assert_allclose(table[["trans_x", "trans_y", "trans_z"]], truth[:, :3],
                               atol=1e-9)
    np.testing.assert_allclose(np.degrees(table[["rot_x", "rot_y", "rot_z"]]), truth[:, 3:],
                               atol=1e-9)
    expected = framewise_displacement(np.c_[truth[:, :3], np.radians(truth[:, 3:])])
    np.testing.assert_allclose(table["framewise_displacement"], expected, equal_nan=True)
    assert table["framewise_displacement"][1] == pytest.approx(
        1.0 + 0.5 + 0.2 + 50 * np.radians(3.0))  # Power's FD by hand


def _run_as_npy(bold: str, tmp_path) -> tuple[str, np.ndarray]:
    img = nib.load(bold)
    path = tmp_path / "run.npy"
    np.save(path, np.ascontiguousarray(np.asarray(img.dataobj, dtype=np.float32).T))
    return str(path), img.affine


def test_rigid_motion_is_recovered_within_half_a_millimetre(tmp_path):
    subject = write_synthetic_bids(tmp_path / "bids", sessions=("pre",), n_volumes=5,
                                   motion_mm=1.5, motion_deg=1.5, seed=7, **REALISTIC)
    npy, affine = _run_as_npy(next((tmp_path / "bids").rglob("*_bold.nii.gz")), tmp_path)
    matrices, _ = estimate_motion(npy, affine, 2, list(range(5)), str(tmp_path), "pre")
    poses = subject.poses["pre"]
    _, mask = template_images(4)
    points = mask.affine @ np.c_[np.argwhere(np.asarray(mask.dataobj) > 0),
                                 np.ones(int((np.asarray(mask.dataobj) > 0).sum()))].T
    in_reference = poses[2] @ points
    for t in range(5):
        truth = poses[t] @ np.linalg.inv(poses[2])
        error = np.linalg.norm(((matrices[t] - truth) @ in_reference)[:3], axis=0).mean()
        assert error < 0.5, (t, error)
    assert not list(tmp_path.glob("pre_motion_*")), "ANTs' files must be deleted"


def test_epi_to_mni_from_two_starts_lands_within_two_millimetres(tmp_path):
    subject = write_synthetic_bids(tmp_path / "bids", sessions=("pre",), n_volumes=1,
                                   motion_mm=0.0, motion_deg=0.0, seed=5, **REALISTIC)
    img = nib.load(next((tmp_path / "bids").rglob("*_bold.nii.gz")))
    mean = np.asarray(img.dataobj, dtype=np.float32)[..., 0]
    found = register_epi_to_mni(mean, img.affine, 2, str(tmp_path), "pre")
    _, mask = template_images(2)
    inside = np.asarray(mask.dataobj) > 0
    points = mask.affine @ np.c_[np.argwhere(inside), np.ones(int(inside.sum()))].T
    error = np.linalg.norm(((found.matrix - subject.poses["pre"][0]) @ points)[:3], axis=0)
    assert error.mean() < 2.0
    assert found.disagreement_mm < 3.0 and set(found.scores) == {"scanner coordinates",
                                                                  "centre of mass"}
