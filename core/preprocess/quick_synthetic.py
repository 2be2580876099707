"""Synthetic BIDS data with known head poses, to measure the quick path against the truth.

The anatomy is the MNI152 template itself (same-anatomy data): an EPI-like
contrast (CSF bright, white matter dark) is built from nilearn's grey- and
white-matter templates, and a T1w from the T1 template with a bright shell
standing in for scalp and skull.  The subject's head differs from the
template by a known scaling (a few per cent per axis); each session places
that head in the scanner with a known rotation and translation, and
each volume adds a known rigid head motion, so the map from any MNI point to
the scanner point where it was imaged is known exactly for every volume.
Used by the tests and by ``benchmarks/quick_preprocessing.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
from scipy import ndimage
from scipy.spatial.transform import Rotation

__all__ = ["SyntheticSubject", "rigid_matrix", "write_synthetic_bids"]

_HEAD_CENTRE_MM = np.array([0.0, -18.0, 18.0])  # MNI brain centre, roughly


@dataclass(frozen=True)
class SyntheticSubject:
    """The truth behind a synthetic BIDS subject.

    Attributes
    ----------
    root : Path
        The BIDS dataset.
    subject : str
    poses : dict of str to ndarray, shape (n_volumes, 4, 4)
        Per session and volume, the RAS map from an MNI point to the scanner
        point where it was imaged.
    t1w_pose : ndarray, shape (4, 4) or None
        The same for the T1w (in the first session), when one was written.
    """

    root: Path
    subject: str
    poses: dict[str, np.ndarray]
    t1w_pose: np.ndarray | None


def rigid_matrix(rotation_deg, translation_mm, centre_mm=_HEAD_CENTRE_MM) -> np.ndarray:
    """Return a 4 × 4 rotation (extrinsic x-y-z degrees) about a centre, then a translation.

    Parameters
    ----------
    rotation_deg, translation_mm : array-like, shape (3,)
    centre_mm : array-like, shape (3,)

    Returns
    -------
    ndarray, shape (4, 4)
    """
    matrix = np.eye(4)
    rotation = Rotation.from_euler("xyz", rotation_deg, degrees=True).as_matrix()
    centre = np.asarray(centre_mm, dtype=float)
    matrix[:3, :3] = rotation
    matrix[:3, 3] = centre + np.asarray(translation_mm, dtype=float) - rotation @ centre
    return matrix


def _anatomy() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """EPI-like and T1w-like volumes of the template (1 mm) and their affine."""
    from nilearn import datasets

    t1 = datasets.load_mni152_template(resolution=1)
    grey = datasets.load_mni152_gm_template(resolution=1).get_fdata(dtype=np.float32)
    white = datasets.load_mni152_wm_template(resolution=1).get_fdata(dtype=np.float32)
    brain = datasets.load_mni152_brain_mask(resolution=1).get_fdata(dtype=np.float32) > 0
    csf = np.clip(1.0 - grey - white, 0.0, 1.0) * brain
    epi = 0.75 * grey + 0.45 * white + 1.0 * csf
    head = ndimage.binary_dilation(brain, iterations=9)
    scalp = head & ~ndimage.binary_dilation(brain, iterations=4)
    anatomy = t1.get_fdata(dtype=np.float32) + 0.8 * scalp
    return epi.astype(np.float32), anatomy.astype(np.float32), t1.affine


def _sample(volume: np.ndarray, volume_affine: np.ndarray, grid_affine: np.ndarray,
            shape: tuple[int, ...], pose: np.ndarray) -> np.ndarray:
    """Image the anatomy in a scanner grid: voxel → scanner mm → MNI mm → anatomy voxel."""
    to_source = np.linalg.inv(volume_affine) @ np.linalg.inv(pose) @ grid_affine
    return ndimage.affine_transform(volume, to_source[:3, :3], to_source[:3, 3],
                                    output_shape=shape, order=1)


def _grid(shape: tuple[int, ...], voxel_mm: tuple[float, ...]) -> np.ndarray:
    """Return an axial scanner grid centred on the scanner's origin."""
    affine = np.diag([*voxel_mm, 1.0])
    affine[:3, 3] = -np.asarray(voxel_mm) * (np.asarray(shape) - 1) / 2.0
    return affine


def _head_size(rng: np.random.Generator) -> np.ndarray:
    """Return the head against the template: a scaling of up to 5 % per axis about its centre."""
    scale = np.diag([*rng.uniform(0.95, 1.05, 3), 1.0])
    centre = np.eye(4)
    centre[:3, 3] = _HEAD_CENTRE_MM
    return centre @ scale @ np.linalg.inv(centre)


def _session_pose(rng: np.random.Generator, pose_deg: float, pose_mm: float) -> np.ndarray:
    """Where the head lies in the scanner in one session (rigid)."""
    return rigid_matrix(rng.uniform(-pose_deg, pose_deg, 3), rng.uniform(-pose_mm, pose_mm, 3)
                        + np.array([0.0, 18.0, -18.0]))  # the head near the scanner's centre


def _motion(rng: np.random.Generator, n: int, motion_mm: float, motion_deg: float
            ) -> np.ndarray:
    """Smooth random head motion (a random walk, centred), one rigid matrix per volume."""
    steps = rng.normal(0.0, 1.0, (n, 6))
    walk = np.cumsum(steps, axis=0)
    walk -= walk.mean(axis=0)
    walk /= np.maximum(np.abs(walk).max(axis=0), 1e-9)
    return np.stack([rigid_matrix(w[3:] * motion_deg, w[:3] * motion_mm) for w in walk])


def write_synthetic_bids(root: str | Path, *, subject: str = "synth",
                         sessions: tuple[str, ...] = ("pre", "post"),
                         shape: tuple[int, int, int] = (64, 64, 36),
                         voxel_mm: tuple[float, float, float] = (3.5, 3.5, 4.0),
                         n_volumes: int = 300, tr: float = 2.0, with_t1w: bool = False,
                         pose_mm: float = 10.0, pose_deg: float = 8.0,
                         motion_mm: float = 1.0, motion_deg: float = 1.0,
                         noise: float = 0.02, t1w_voxel_mm: float = 1.5,
                         seed: int = 0) -> SyntheticSubject:
    """Write a synthetic BIDS subject with known head poses and motion.

    Parameters
    ----------
    root : str or Path
        BIDS root to create (``sub-<subject>/ses-<s>/func``, ``anat``).
    subject : str, default="synth"
    sessions : tuple of str, default=("pre", "post")
    shape, voxel_mm : tuple
        EPI grid, axial, centred on the scanner's origin.
    n_volumes : int, default=300
    tr : float, default=2.0
    with_t1w : bool, default=False
        Write a T1w (with a scalp-like shell) in the first session.
    pose_mm, pose_deg : float
        Range of each session's head position (uniform, per axis).
    motion_mm, motion_deg : float
        Largest head motion within a run, per axis.
    noise : float, default=0.02
        Gaussian noise relative to the brain's signal.
    t1w_voxel_mm : float, default=1.5
        Voxel size of the T1w (its grid spans 180 × 216 × 180 mm).
    seed : int, default=0

    Returns
    -------
    SyntheticSubject
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / "dataset_description.json").write_text(json.dumps(
        {"Name": "prepost-review synthetic subject (not real data)", "BIDSVersion": "1.9.0",
         "DatasetType": "raw"}, indent=2))
    rng = np.random.default_rng(seed)
    epi, anatomy, source_affine = _anatomy()
    grid = _grid(shape, voxel_mm)
    n_slices = shape[2]
    order = [*range(0, n_slices, 2), *range(1, n_slices, 2)]
    timing = [0.0] * n_slices
    for k, z in enumerate(order):
        timing[z] = round(k * tr / n_slices, 4)
    poses, t1w_pose = {}, None
    head = _head_size(rng)  # one head, placed anew in each session
    for index, session in enumerate(sessions):
        pose = _session_pose(rng, pose_deg, pose_mm) @ head
        motion = _motion(rng, n_volumes, motion_mm, motion_deg)
        poses[session] = np.einsum("tij,jk->tik", motion, pose)
        fluctuation = 1.0 + 0.01 * np.cumsum(rng.normal(0, 0.3, n_volumes)) / np.sqrt(n_volumes)
        data = np.empty((*shape, n_volumes), dtype=np.float32)
        for t in range(n_volumes):
            image = _sample(epi, source_affine, grid, shape, poses[session][t])
            data[..., t] = 1000.0 * fluctuation[t] * image + 30.0 \
                + rng.normal(0.0, 1000.0 * noise, shape)
        func = root / f"sub-{subject}" / f"ses-{session}" / "func"
        func.mkdir(parents=True, exist_ok=True)
        stem = f"sub-{subject}_ses-{session}_task-rest_bold"
        img = nib.Nifti1Image(data, grid)
        img.header.set_xyzt_units("mm", "sec")
        img.header.set_zooms((*voxel_mm, tr))
        nib.save(img, func / f"{stem}.nii.gz")
        (func / f"{stem}.json").write_text(json.dumps(
            {"RepetitionTime": tr, "SliceTiming": timing, "TaskName": "rest"}, indent=2))
        if with_t1w and index == 0:
            t1w_pose = pose
            anat = func.parent / "anat"
            anat.mkdir(exist_ok=True)
            t1_shape = tuple(round(n / t1w_voxel_mm) for n in (180, 216, 180))
            t1_grid = _grid(t1_shape, (t1w_voxel_mm,) * 3)
            t1 = _sample(anatomy, source_affine, t1_grid, t1_shape, pose) * 1000.0
            t1 += rng.normal(0.0, 10.0, t1_shape)
            nib.save(nib.Nifti1Image(t1.astype(np.float32), t1_grid),
                     anat / f"sub-{subject}_ses-{session}_T1w.nii.gz")
    return SyntheticSubject(root=root, subject=subject, poses=poses, t1w_pose=t1w_pose)
