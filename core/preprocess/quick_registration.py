"""Registration of a run's mean EPI to nilearn's MNI152 template (antspyx), in workers.

Without a T1w, the mean EPI is registered affinely to the template from two
starts, the scanner's coordinates and the centres of mass; the better match
(mutual information inside the template's brain and the EPI's field of
view) is kept, and the distance between the two answers is reported, because two
starts that disagree mean the answer is not to be trusted without a look.
With a T1w, the EPI is registered rigidly to the T1w, and the T1w to the
template (affine then SyN).  Both tell the caller how to map template points
into the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

from core.io.nifti import read_nifti
from core.preprocess.quick_ants import matrix_from_ants_file, matrix_to_ants_file, to_ants_image

__all__ = [
    "STARTS",
    "EpiRegistration",
    "register_epi_to_mni",
    "register_epi_to_t1",
    "register_t1_to_mni",
    "template_images",
]

#: The two starts of the EPI-only registration.
STARTS = ("scanner coordinates", "centre of mass")


@dataclass(frozen=True)
class EpiRegistration:
    """The EPI → template affine found from two starts.

    Attributes
    ----------
    matrix : ndarray, shape (4, 4)
        RAS map from template points to the run's reference (the chosen start).
    chosen : str
        Which start won (one of :data:`STARTS`).
    scores : dict of str to float
        Normalised mutual information of template and moved EPI inside the
        template's brain and the EPI's field of view, per start.
    disagreement_mm : float
        Mean distance, over the template's brain, between the two answers.
    """

    matrix: np.ndarray
    chosen: str
    scores: dict[str, float]
    disagreement_mm: float


def template_images(resolution_mm: int) -> tuple[nib.Nifti1Image, nib.Nifti1Image]:
    """Load nilearn's MNI152 (2009a symmetric, skull-stripped) T1 template and brain mask.

    Parameters
    ----------
    resolution_mm : int

    Returns
    -------
    template, mask : nibabel.Nifti1Image
        On the same grid (package data; nothing is downloaded).
    """
    from nilearn import datasets
    from nilearn.image import resample_to_img

    template = datasets.load_mni152_template(resolution=resolution_mm)
    mask = resample_to_img(datasets.load_mni152_brain_mask(resolution=resolution_mm),
                           template, interpolation="nearest", force_resample=True,
                           copy_header=True)
    return template, mask


def _ants_template(resolution_mm: int) -> tuple[object, object, np.ndarray]:
    template, mask = template_images(resolution_mm)
    fixed = to_ants_image(template.get_fdata(dtype=np.float32), template.affine)
    brain = np.asarray(mask.dataobj) > 0
    return fixed, to_ants_image(brain.astype(np.float32), mask.affine), brain


def _brain_points(brain: np.ndarray, affine: np.ndarray, step: int = 2) -> np.ndarray:
    ijk = np.argwhere(brain)[::step]
    return (affine @ np.c_[ijk, np.ones(len(ijk))].T)[:3]


def _quantile_bins(values: np.ndarray, n_bins: int = 32) -> np.ndarray:
    edges = np.quantile(values, np.linspace(0.0, 1.0, n_bins + 1)[1:-1])
    return np.digitize(values, edges)


def _overlap_similarity(fixed, moving, fov, brain: np.ndarray, transforms: list[str]) -> float:
    """Normalised mutual information inside the template brain and the moved field of view."""
    import ants
    from sklearn.metrics import normalized_mutual_info_score

    moved = ants.apply_transforms(fixed, moving, transforms).numpy()
    inside = ants.apply_transforms(fixed, fov, transforms,
                                   interpolator="nearestNeighbor").numpy() > 0.5
    keep = brain & inside
    if keep.sum() < 100:
        return 0.0
    return float(normalized_mutual_info_score(_quantile_bins(fixed.numpy()[keep]),
                                              _quantile_bins(moved[keep])))


def _centre_start(moving, affine: np.ndarray, brain: np.ndarray, template_affine: np.ndarray,
                  path: Path) -> list[str]:
    """Return a translation that puts the template brain's centre on the EPI head's centre.

    The head is ANTs' own foreground mask of the mean EPI (threshold and
    clean-up), so a bright background does not pull the centre.
    """
    import ants

    head = ants.get_mask(moving).numpy() > 0
    if not head.any():
        head = np.ones(head.shape, dtype=bool)
    epi_centre = affine @ np.r_[np.argwhere(head).mean(axis=0), 1.0]
    template_centre = template_affine @ np.r_[np.argwhere(brain).mean(axis=0), 1.0]
    shift = np.eye(4)
    shift[:3, 3] = (epi_centre - template_centre)[:3]
    return [matrix_to_ants_file(shift, path)]


def register_epi_to_mni(mean: np.ndarray, affine: np.ndarray, resolution_mm: int,
                        scratch: str, name: str) -> EpiRegistration:
    """Register a mean EPI affinely to the template from two starts (run in a worker).

    Parameters
    ----------
    mean : ndarray, shape (x, y, z)
        The motion-corrected mean of the run, in its reference's grid.
    affine : ndarray, shape (4, 4)
        Its voxel-to-scanner-mm affine.
    resolution_mm : int
        Template resolution.
    scratch : str
        Private folder for ANTs' files.
    name : str
        Prefix of this run's files in ``scratch``.

    Returns
    -------
    EpiRegistration
    """
    import ants

    fixed, fixed_mask, brain = _ants_template(resolution_mm)
    moving = to_ants_image(mean, affine)
    fov = to_ants_image(np.ones(mean.shape, dtype=np.float32), affine)
    template_affine = template_images(resolution_mm)[0].affine
    initial = {STARTS[0]: "Identity",
               STARTS[1]: _centre_start(moving, affine, brain, template_affine,
                                        Path(scratch) / f"{name}_centres.mat")}
    matrices, scores = {}, {}
    for k, start in enumerate(STARTS):
        result = ants.registration(fixed, moving, type_of_transform="Affine",
                                   initial_transform=initial[start], mask=fixed_mask,
                                   outprefix=str(Path(scratch) / f"{name}_start{k}_"))
        matrices[start] = matrix_from_ants_file(result["fwdtransforms"][0])
        scores[start] = _overlap_similarity(fixed, moving, fov, brain, result["fwdtransforms"])
    xyz = _brain_points(brain, template_affine)
    points = np.r_[xyz, np.ones((1, xyz.shape[1]))]
    a, b = (matrices[s] for s in STARTS)
    disagreement = float(np.linalg.norm(((a - b) @ points)[:3], axis=0).mean())
    chosen = max(scores, key=lambda s: scores[s])
    return EpiRegistration(matrix=matrices[chosen], chosen=chosen, scores=scores,
                           disagreement_mm=disagreement)


def register_epi_to_t1(mean: np.ndarray, affine: np.ndarray, t1w: str, same_session: bool,
                       scratch: str, name: str) -> np.ndarray:
    """Register a mean EPI rigidly to a T1w image (run in a worker).

    Parameters
    ----------
    mean, affine : see :func:`register_epi_to_mni`
    t1w : str
        The T1w NIfTI file.
    same_session : bool
        Start from the scanner's coordinates (same session), else from the
        centres of mass.
    scratch, name : str

    Returns
    -------
    ndarray, shape (4, 4)
        RAS map from T1w points to the run's reference.
    """
    import ants

    t1 = read_nifti(t1w)
    fixed = to_ants_image(np.asarray(t1.dataobj, dtype=np.float32), t1.affine)
    result = ants.registration(fixed, to_ants_image(mean, affine), type_of_transform="Rigid",
                               initial_transform="Identity" if same_session else None,
                               outprefix=str(Path(scratch) / f"{name}_epi_t1_"))
    return matrix_from_ants_file(result["fwdtransforms"][0])


def register_t1_to_mni(t1w: str, resolution_mm: int, scratch: str, name: str,
                       syn_iterations: tuple[int, ...] = (40, 20, 0)) -> list[str]:
    """Register a T1w image to the template, affine then SyN (run in a worker).

    Parameters
    ----------
    t1w : str
    resolution_mm : int
    scratch, name : str
    syn_iterations : tuple of int, default=(40, 20, 0)
        SyN iterations per level (antspyx's default).

    Returns
    -------
    list of str
        ANTs' forward transforms (warp, affine) in ``scratch``: template
        points to T1w points, as ``ants.apply_transforms`` takes them.
    """
    import ants

    fixed, fixed_mask, _ = _ants_template(resolution_mm)
    t1 = read_nifti(t1w)
    moving = to_ants_image(np.asarray(t1.dataobj, dtype=np.float32), t1.affine)
    result = ants.registration(fixed, moving, type_of_transform="SyN", mask=fixed_mask,
                               mask_all_stages=True, reg_iterations=syn_iterations,
                               outprefix=str(Path(scratch) / f"{name}_t1_mni_"))
    return list(result["fwdtransforms"])
