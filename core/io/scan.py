"""Loading and validating one preprocessed 4D BOLD scan.

The loader is deliberately strict: a clinician must be told, before any
number is computed, when a file is not a 4D NIfTI image in MNI space, when the
repetition time is missing or implausible, or when pre and post scans do not
share a grid.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import nibabel as nib
import numpy as np

from core.errors import InputError, InputFileError
from core.io.nifti import _check_plausible_size, read_nifti
from core.settings import check_repetition_time

log = logging.getLogger(__name__)

__all__ = [
    "MNI_BOX_MM",
    "BoldScan",
    "check_mni_space",
    "check_spatial_header",
    "load_bold",
    "same_grid",
]


#: Bounding box of the MNI152 brain in millimetres (x, y, z minimum and maximum).
MNI_BOX_MM = np.array([[-90.0, -126.0, -72.0], [90.0, 90.0, 108.0]])


#: Least fraction of the MNI brain box an image in MNI space must cover.
MIN_MNI_COVERAGE = 0.5

_SPACE_RE = re.compile(r"_space-([A-Za-z0-9]+)")


@dataclass(eq=False)
class BoldScan:
    """One session's preprocessed BOLD run and its companion files.

    Attributes
    ----------
    path : Path
        The 4D NIfTI file.
    img : nibabel.Nifti1Image
        The image; its data are read lazily (memory-mapped for ``.nii``).
    tr : float
        Repetition time in seconds.
    tr_source : str
        ``"header"``, ``"sidecar"`` or ``"override"``.
    sidecar : Path or None
        BIDS JSON sidecar, when one was found.
    mask : Path or None
        Brain mask in the same space (fMRIPrep ``desc-brain_mask``).
    confounds : Path or None
        Confounds table (fMRIPrep ``desc-confounds_timeseries.tsv``).
    warnings : list of str
        Non-fatal problems found while loading, shown to the user.
    """

    path: Path
    img: nib.Nifti1Image
    tr: float
    tr_source: str
    sidecar: Path | None = None
    mask: Path | None = None
    confounds: Path | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def n_volumes(self) -> int:
        """Number of volumes (time points)."""
        return int(self.img.shape[3])

    @property
    def grid_shape(self) -> tuple[int, int, int]:
        """Spatial shape of the image."""
        return tuple(int(n) for n in self.img.shape[:3])  # type: ignore[return-value]

    @property
    def affine(self) -> np.ndarray:
        """Voxel-to-MNI-millimetre affine."""
        return np.asarray(self.img.affine)


def load_bold(
    path: str | Path,
    *,
    tr: float | None = None,
    sidecar: str | Path | None = None,
    mask: str | Path | None = None,
    confounds: str | Path | None = None,
) -> BoldScan:
    """Load a preprocessed 4D BOLD image and check it can be analysed.

    Parameters
    ----------
    path : str or Path
        4D NIfTI image in MNI space.
    tr : float, optional
        Repetition time in seconds; overrides header and sidecar.
    sidecar : str or Path, optional
        BIDS JSON sidecar; by default the ``.json`` next to the image is used.
    mask, confounds : str or Path, optional
        Companion brain mask and confounds table, recorded on the scan.

    Returns
    -------
    BoldScan

    Raises
    ------
    InputFileError
        Missing, unreadable, truncated or non-NIfTI file.
    InputError
        Not 4D, fewer than 2 volumes, TR missing or not positive, or not in MNI space.
    """
    path = Path(path)
    img = read_nifti(path)
    shape = img.shape
    if len(shape) == 5 and shape[4] == 1:
        img = nib.Nifti1Image(np.asarray(img.dataobj)[..., 0], img.affine, img.header)
        shape = img.shape
    if len(shape) != 4:
        raise InputError(
            f"expected a 4D image (x, y, z, time), found a {len(shape)}D image of shape {shape}",
            path,
        )
    if shape[3] < 2:
        raise InputError(f"expected a time series, found {shape[3]} volume", path)
    _check_plausible_size(img, path)
    warnings: list[str] = []
    sidecar_path = Path(sidecar) if sidecar is not None else _default_sidecar(path)
    tr_value, tr_source = _repetition_time(img, path, tr, sidecar_path, warnings)
    warnings.extend(check_mni_space(img, path))
    return BoldScan(
        path=path,
        img=img,
        tr=tr_value,
        tr_source=tr_source,
        sidecar=sidecar_path,
        mask=Path(mask) if mask is not None else None,
        confounds=Path(confounds) if confounds is not None else None,
        warnings=warnings,
    )


def _default_sidecar(path: Path) -> Path | None:
    name = path.name
    for ext in (".nii.gz", ".nii"):
        if name.endswith(ext):
            candidate = path.with_name(name[: -len(ext)] + ".json")
            return candidate if candidate.is_file() else None
    return None


def _repetition_time(
    img: nib.Nifti1Image,
    path: Path,
    override: float | None,
    sidecar: Path | None,
    warnings: list[str],
) -> tuple[float, str]:
    if override is not None:
        return _plausible_tr(override, "a repetition time override (--tr)"), "override"
    if sidecar is not None:
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputFileError(f"expected a readable JSON sidecar ({exc})", sidecar) from exc
        value = meta.get("RepetitionTime") if isinstance(meta, dict) else None
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputError(
                    f"expected RepetitionTime as a number of seconds, found {value!r}", sidecar)
            if value > 100:
                warnings.append(
                    f"{sidecar.name}: RepetitionTime {value} looks like milliseconds; "
                    f"using {value / 1000:g} s"
                )
                value = value / 1000.0
            return _plausible_tr(value, "RepetitionTime", sidecar), "sidecar"
    raw = float(img.header["pixdim"][4])
    units = img.header.get_xyzt_units()[1]
    if not np.isfinite(raw) or raw <= 0:
        raise InputError(
            "expected a repetition time in the header (pixdim[4]) or a JSON sidecar with "
            f"RepetitionTime, found {raw:g} and no sidecar; give it with --tr",
            path,
        )
    if units == "msec":
        raw = raw / 1000.0
    elif units == "usec":
        raw = raw / 1e6
    elif raw > 100:
        warnings.append(
            f"{path.name}: header TR {raw:g} with units '{units}' looks like milliseconds; "
            f"using {raw / 1000:g} s"
        )
        log.warning("TR %s in %s interpreted as milliseconds", raw, path.name)
        raw = raw / 1000.0
    return _plausible_tr(raw, "a repetition time (header pixdim[4])", path,
                         hint="; give the right one with --tr"), "header"


def _plausible_tr(value: float, what: str, path: Path | None = None, hint: str = "") -> float:
    try:
        return check_repetition_time(value, what)
    except ValueError as exc:
        raise InputError(f"{exc}{hint}", path) from None


def check_spatial_header(img: nib.spatialimages.SpatialImage, path: str | Path) -> None:
    """Refuse images that do not say where they lie in space.

    Parameters
    ----------
    img : nibabel image
        3D or 4D NIfTI image.
    path : str or Path
        Its file, named in the message.

    Raises
    ------
    InputError
        When both the sform and the qform codes are 0 (no orientation: nibabel
        would invent a grid at the origin), when a voxel size is zero or not
        finite, or when the voxel-to-world affine is not finite or not invertible.
    """
    header = img.header
    if isinstance(header, nib.Nifti1Header):  # NIfTI-2 headers derive from it
        sform, qform = int(header["sform_code"]), int(header["qform_code"])
        if sform == 0 and qform == 0:
            raise InputError(
                "expected an image that states its orientation in space (sform or qform "
                "code above 0), found sform and qform codes 0: the file does not say where "
                "the brain lies, so it cannot be matched to MNI space", path)
    zooms = np.asarray(header.get_zooms()[:3], dtype=float)
    if not (np.isfinite(zooms).all() and (zooms > 0).all()):
        sizes = " x ".join(f"{z:g}" for z in zooms)
        raise InputError(
            f"expected voxel sizes above 0 mm, found {sizes} mm in the header (pixdim)", path)
    affine = np.asarray(img.affine, dtype=float)
    determinant = np.linalg.det(affine[:3, :3]) if np.isfinite(affine).all() else np.nan
    if not np.isfinite(determinant) or abs(determinant) < 1e-6:
        raise InputError(
            "expected an invertible voxel-to-world affine, found one that is "
            + ("not finite" if not np.isfinite(determinant) else "singular (a zero axis)"),
            path)


def check_mni_space(img: nib.spatialimages.SpatialImage, path: str | Path) -> list[str]:
    """Refuse images that are evidently not in MNI space.

    Parameters
    ----------
    img : nibabel image
        3D or 4D image.
    path : str or Path
        Its file, named in the message.

    Returns
    -------
    list of str
        A warning when the field of view covers less than half of the MNI brain
        box (a slab): ROIs outside it will be left out.

    Raises
    ------
    InputError
        When the header states no orientation (:func:`check_spatial_header`),
        the BIDS ``space-`` entity names a non-MNI space, the affine is oblique
        or the identity (voxel coordinates), has no origin offset, or the field
        of view lies mostly outside the MNI brain box.
    """
    path = Path(path)
    check_spatial_header(img, path)
    match = _SPACE_RE.search(path.name)
    if match and not match.group(1).upper().startswith("MNI"):
        raise InputError(
            f"expected an image in MNI space, found space-{match.group(1)} in the file name",
            path,
        )
    affine = np.asarray(img.affine, dtype=float)
    rot = affine[:3, :3]
    off_diagonal = np.abs(rot - np.diag(np.diag(rot))).max()
    if off_diagonal > 1e-3 * np.abs(np.diag(rot)).max():
        raise InputError(
            "expected an axis-aligned image in MNI space, found an oblique affine "
            "(native scanner space?)",
            path,
        )
    if np.allclose(affine, np.eye(4)):
        raise InputError(
            "expected an image in MNI space, found an identity affine (voxel coordinates)",
            path,
        )
    corners = np.array(
        [[i, j, k] for i in (0, img.shape[0] - 1) for j in (0, img.shape[1] - 1)
         for k in (0, img.shape[2] - 1)],
        dtype=float,
    )
    world = corners @ rot.T + affine[:3, 3]
    low, high = world.min(axis=0), world.max(axis=0)
    size = np.maximum(high - low, 1e-6)
    overlap = np.clip(np.minimum(high, MNI_BOX_MM[1]) - np.maximum(low, MNI_BOX_MM[0]), 0, None)
    fraction = float(np.prod(overlap / size))
    if fraction < 0.5:
        raise InputError(
            "expected an image in MNI space, found a field of view "
            f"x {low[0]:.0f}..{high[0]:.0f}, y {low[1]:.0f}..{high[1]:.0f}, "
            f"z {low[2]:.0f}..{high[2]:.0f} mm that lies mostly outside the MNI brain",
            path,
        )
    if np.allclose(affine[:3, 3], 0.0):
        raise InputError(
            "expected an image in MNI space, found an affine without an origin offset "
            "(voxel 0, 0, 0 placed at the MNI origin): the header's orientation is not real",
            path,
        )
    box = MNI_BOX_MM[1] - MNI_BOX_MM[0]
    covered = float(np.prod(overlap / box))
    if covered < MIN_MNI_COVERAGE:
        return [
            f"{path.name}: the field of view x {low[0]:.0f}..{high[0]:.0f}, "
            f"y {low[1]:.0f}..{high[1]:.0f}, z {low[2]:.0f}..{high[2]:.0f} mm covers only "
            f"{100 * covered:.0f} % of the MNI brain box: ROIs outside it are left out"
        ]
    return []


def same_grid(a: nib.spatialimages.SpatialImage, b: nib.spatialimages.SpatialImage) -> bool:
    """Return True when two images share spatial shape and affine (within 1e-3 mm).

    Parameters
    ----------
    a, b : nibabel images

    Returns
    -------
    bool
    """
    return tuple(a.shape[:3]) == tuple(b.shape[:3]) and np.allclose(
        a.affine, b.affine, atol=1e-3
    )
