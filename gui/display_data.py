"""Plain data the slice views draw: template and overlay volumes on one grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SliceData"]


@dataclass(eq=False)
class SliceData:
    """Volumes for the Pre | Post | Δ slice views, all on one grid.

    Attributes
    ----------
    template : ndarray, shape (nx, ny, nz)
        Anatomical underlay (gray).
    affine : ndarray, shape (4, 4)
        Diagonal voxel-to-MNI affine with positive steps (x right, y anterior, z up).
    pre, post, delta : ndarray of float, shape (nx, ny, nz)
        Overlay values, NaN where there is nothing to show.
    title : str
        What the overlay is (shown above the views).
    unit : str
        Unit of the overlay values.
    levels : tuple of float, optional
        Fixed colour scale of Pre and Post (default: from the data's percentiles).
    delta_max : float, optional
        Fixed half-range of the symmetric Δ scale (default: from the data).
    signed : bool
        True when Pre and Post are signed (e.g. seed maps): they get the diverging
        colour map and a symmetric threshold, like Δ.
    label : str
        Short name of the values for the status read-out.
    """

    template: np.ndarray
    affine: np.ndarray
    pre: np.ndarray
    post: np.ndarray
    delta: np.ndarray
    title: str = ""
    unit: str = "z"
    levels: tuple[float, float] | None = None
    delta_max: float | None = None
    signed: bool = False
    label: str = "strength z"

    def voxel(self, xyz_mm) -> tuple[int, int, int] | None:
        """Voxel index of an MNI point, or None outside the grid."""
        ijk = np.linalg.solve(self.affine, np.r_[np.asarray(xyz_mm, float), 1.0])[:3]
        ijk = np.rint(ijk).astype(int)
        if np.any(ijk < 0) or np.any(ijk >= self.template.shape):
            return None
        return int(ijk[0]), int(ijk[1]), int(ijk[2])

    def values_at(self, xyz_mm) -> tuple[float, float, float] | None:
        """Overlay values (pre, post, Δ) at an MNI point, or None outside the grid."""
        ijk = self.voxel(xyz_mm)
        if ijk is None:
            return None
        return float(self.pre[ijk]), float(self.post[ijk]), float(self.delta[ijk])
