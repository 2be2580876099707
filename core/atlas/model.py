"""What an atlas is: labelled regions or spheres in MNI space, with names and networks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import nibabel as nib

__all__ = ["MNI_BOX_MM", "Atlas", "AtlasInfo", "Row"]

#: One row of a label table: (label value, ROI name, network).
Row = tuple[int, str, str]


#: Rough MNI brain bounding box in mm, as (min, max) for x, y and z.
MNI_BOX_MM = ((-90.0, 90.0), (-126.0, 90.0), (-72.0, 108.0))


@dataclass(frozen=True)
class AtlasInfo:
    """Summary of a registry atlas, available without loading it.

    Attributes
    ----------
    name, title : str
        Registry key used on the command line (e.g. ``"schaefer100"``) and title.
    kind : str
        ``"labels"`` (integer label image) or ``"spheres"`` (coordinates).
    n_rois : int
        Number of regions of interest.
    citation, licence : str
        Reference to cite, and licence of the atlas data as far as stated.
    """

    name: str
    title: str
    kind: str
    n_rois: int
    citation: str
    licence: str


@dataclass(frozen=True, eq=False)
class Atlas:
    """A loaded atlas: ROI names, networks, coordinates and label image or spheres.

    Attributes
    ----------
    name, title, kind : str
        Registry key (file name for a user atlas), title, and ``"labels"`` or
        ``"spheres"``.
    roi_names, networks : tuple of str
        Non-empty name and network of each ROI; network ``""`` where the atlas
        defines none.
    coords_mm : ndarray, shape (n_rois, 3)
        Read-only MNI coordinates in mm: sphere centres, or label centroids
        (centre of mass) for label atlases.
    labels_img : nibabel.Nifti1Image or None
        Integer label image (labels kind; 0 is background), else None.
    label_values : tuple of int
        Value of each ROI in `labels_img`; ``()`` for spheres.
    radius_mm : ndarray, shape (n_rois,), or None
        Read-only sphere radii in mm (spheres kind), else None.
    citation, licence : str
        Reference to cite and licence of the atlas data.
    """

    name: str
    title: str
    kind: str
    roi_names: tuple[str, ...]
    networks: tuple[str, ...]
    coords_mm: np.ndarray
    labels_img: nib.Nifti1Image | None
    label_values: tuple[int, ...]
    radius_mm: np.ndarray | None
    citation: str
    licence: str

    @property
    def n_rois(self) -> int:
        """Number of regions of interest."""
        return len(self.roi_names)

    def network_order(self) -> np.ndarray:
        """Return ROI indices sorted so that each network forms one block.

        Returns
        -------
        ndarray of int
            A permutation of ``range(n_rois)``: networks in order of their first
            ROI, ROIs without a network (``""``) last, original order kept
            within a network.
        """
        first: dict[str, int] = {}
        for network in self.networks:
            if network:
                first.setdefault(network, len(first))
        rank = [first.get(network, len(first)) for network in self.networks]
        return np.argsort(np.asarray(rank, dtype=int), kind="stable")


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _atlas(
    info: AtlasInfo,
    rows: list[Row],
    coords: object,
    img: nib.Nifti1Image | None = None,
    radius: object = None,
) -> Atlas:
    """Build an Atlas from (label value, name, network) rows."""
    return Atlas(
        name=info.name,
        title=info.title,
        kind="labels" if img is not None else "spheres",
        roi_names=tuple(row[1] for row in rows),
        networks=tuple(row[2] for row in rows),
        coords_mm=_readonly(np.array(coords, dtype=float).reshape(-1, 3)),
        labels_img=img,
        label_values=tuple(row[0] for row in rows) if img is not None else (),
        radius_mm=None if radius is None else _readonly(np.array(radius, dtype=float).ravel()),
        citation=info.citation,
        licence=info.licence,
    )


def _labels_atlas(
    info: AtlasInfo, img: nib.Nifti1Image, data: np.ndarray, rows: list[Row]
) -> Atlas:
    """Build a label atlas, ROIs sorted by label value, with centroids in mm."""
    from nibabel.affines import apply_affine
    from scipy import ndimage

    rows = sorted(rows)
    values = [row[0] for row in rows]
    ijk = np.asarray(ndimage.center_of_mass(np.ones(data.shape), data, values), dtype=float)
    coords = apply_affine(img.affine, ijk.reshape(-1, 3))
    return _atlas(info, rows, coords, img=img)
