"""What the Seeds & GBC tab computes in workers: display look-up, seed and GBC maps.

Plain functions and data classes: no Qt objects are touched here, so every
function can run in a worker thread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from core.display_text import format_number
from gui import strings
from gui.display_data import SliceData

__all__ = [
    "SEED_DELTA_LEVEL",
    "SEED_LEVEL",
    "DisplayGrid",
    "VoxelMaps",
    "gbc_work",
    "prepare_work",
    "seed_title",
    "seed_work",
    "slice_data",
]

#: Fixed colour scales (Fisher z) so that maps can be compared while the seed moves.
SEED_LEVEL = 1.2
SEED_DELTA_LEVEL = 0.8


@dataclass(eq=False)
class DisplayGrid:
    """Nearest-neighbour look-up from the display grid to the prepared brain voxels.

    Attributes
    ----------
    template : ndarray, 3D
        Display underlay (the strength maps' template, so views keep their grid).
    affine : ndarray, shape (4, 4)
        Display voxel-to-MNI affine.
    target : ndarray of int
        Flat (C-order) display voxels that fall on a prepared brain voxel.
    source : ndarray of int
        The prepared brain-voxel row shown at each ``target``.
    """

    template: np.ndarray
    affine: np.ndarray
    target: np.ndarray
    source: np.ndarray

    @classmethod
    def build(cls, template: np.ndarray, affine: np.ndarray, mask: np.ndarray,
              data_affine: np.ndarray) -> DisplayGrid:
        """Map every display voxel centre to the nearest voxel of the data grid's mask."""
        shape = template.shape
        ijk = np.indices(shape, dtype=np.float32).reshape(3, -1)
        to_data = np.linalg.inv(data_affine) @ np.asarray(affine, dtype=float)
        data_ijk = np.rint(to_data[:3, :3].astype(np.float32) @ ijk
                           + to_data[:3, 3:4].astype(np.float32)).astype(np.int64)
        inside = np.all((data_ijk >= 0) & (data_ijk < np.array(mask.shape)[:, None]), axis=0)
        flat = np.zeros(inside.size, dtype=np.int64)
        flat[inside] = np.ravel_multi_index(tuple(data_ijk[:, inside]), mask.shape, order="F")
        position = np.full(mask.size, -1, dtype=np.int64)
        brain = np.flatnonzero(mask.ravel(order="F"))
        position[brain] = np.arange(brain.size)
        row = np.where(inside, position[flat], -1)
        target = np.flatnonzero(row >= 0)
        return cls(template=template, affine=np.asarray(affine, dtype=float), target=target,
                   source=row[target])

    def volume(self, values: np.ndarray) -> np.ndarray:
        """Show a brain-voxel vector on the display grid (NaN off the brain)."""
        out = np.full(self.template.shape, np.nan, dtype=np.float32)
        out.reshape(-1)[self.target] = values[self.source]
        return out


@dataclass(eq=False)
class VoxelMaps:
    """One map of both sessions on the prepared brain voxels (what is shown and exported).

    Attributes
    ----------
    kind : str
        ``"seed"``, ``"gbc"`` or ``"gbc_gsr"``.
    pre, post, delta : ndarray of float32, shape (n_voxels,)
    title : str
        Shown above the views and stored in the NIfTI description.
    xyz_mm : tuple of float or None
        Seed centre (seed maps only).
    radius_mm : float or None
        Seed radius (seed maps only).
    stride : int
        GBC target stride (1 = all voxels).
    """

    kind: str
    pre: np.ndarray
    post: np.ndarray
    delta: np.ndarray
    title: str
    xyz_mm: tuple[float, float, float] | None = None
    radius_mm: float | None = None
    stride: int = 1

    @property
    def stem(self) -> str:
        """File-name stem for export."""
        if self.kind == "seed" and self.xyz_mm is not None:
            x, y, z = (f"{v:+.0f}".replace("+", "p").replace("-", "m") for v in self.xyz_mm)
            return f"seedmap_x{x}_y{y}_z{z}_r{self.radius_mm:g}mm"
        return self.kind + ("" if self.stride == 1 else f"_stride{self.stride}")


def prepare_work(inputs, settings, template, affine, voxels, cleaning, progress):
    """Worker thread: prepare both sessions and the display look-up. No Qt objects.

    ``voxels`` (a VoxelCache) holds the sessions' voxels read for the first view
    and ``cleaning`` the comparison's cleaning operators: nothing is read again.
    """
    from core.maps.prepare import prepare_patient

    pre, post = prepare_patient(inputs, settings, progress, voxels=voxels, cleaning=cleaning)
    if template is None:
        from core.maps.display import display_template

        img = display_template()
        template, affine = img.get_fdata(dtype="float32"), img.affine
    return pre, post, _display_grid(template, affine, pre.mask, pre.affine)


_GRIDS: dict[bytes, DisplayGrid] = {}


def _display_grid(template, affine, mask, data_affine) -> DisplayGrid:
    """Return the display look-up, built once per display grid and brain mask."""
    import hashlib

    key = hashlib.sha1(b"".join([
        repr(template.shape).encode(), np.asarray(affine, dtype=float).tobytes(),
        np.packbits(mask).tobytes(), repr(mask.shape).encode(),
        np.asarray(data_affine, dtype=float).tobytes(),
        hashlib.sha1(np.ascontiguousarray(template).tobytes()).digest()])).digest()
    grid = _GRIDS.get(key)
    if grid is None:
        _GRIDS.clear()  # one patient at a time
        grid = _GRIDS[key] = DisplayGrid.build(template, affine, mask, data_affine)
    return grid


def seed_title(xyz_mm, radius_mm: float) -> str:
    """Title of a seed map (also the NIfTI description)."""
    x, y, z = xyz_mm
    where = ", ".join(format_number(v, ".0f") for v in (x, y, z))
    return f"Seed map: Fisher z with a {radius_mm:g} mm sphere at ({where})"


def seed_work(prepared, display: DisplayGrid, xyz, radius_mm: float):
    """Worker thread: seed maps of both sessions, placed on the display grid."""
    from core.maps.seedmaps import seed_maps

    start = time.perf_counter()
    z_pre, z_post, delta = seed_maps(prepared[0], prepared[1], xyz, radius_mm)
    core_ms = 1e3 * (time.perf_counter() - start)
    maps = VoxelMaps("seed", z_pre, z_post, delta, seed_title(xyz, radius_mm), xyz_mm=xyz,
                     radius_mm=radius_mm)
    return maps, slice_data(maps, display), core_ms


def gbc_work(prepared, display: DisplayGrid, gsr: bool, stride: int, progress):
    """Worker thread: GBC of both sessions (blockwise), placed on the display grid."""
    from core.maps.gbc import gbc_maps

    pre, post, delta = gbc_maps(prepared[0], prepared[1], gsr=gsr, stride=stride,
                                progress=progress)
    title = strings.GBC_TITLE_GSR if gsr else strings.GBC_TITLE
    if stride > 1:
        title += f" · targets: one voxel in {stride} per axis"
    maps = VoxelMaps("gbc_gsr" if gsr else "gbc", pre, post, delta, title, stride=stride)
    return maps, slice_data(maps, display)


def slice_data(maps: VoxelMaps, display: DisplayGrid) -> SliceData:
    """Display volumes of a map with fixed symmetric scales."""
    if maps.kind == "seed":
        level, delta_level = SEED_LEVEL, SEED_DELTA_LEVEL
    else:
        level = max(float(np.percentile(np.abs(np.r_[maps.pre, maps.post]), 99)), 1e-3)
        delta_level = max(float(np.percentile(np.abs(maps.delta), 99)), 1e-3)
    label = "seed z" if maps.kind == "seed" else "GBC z"
    return SliceData(template=display.template, affine=display.affine,
                     pre=display.volume(maps.pre), post=display.volume(maps.post),
                     delta=display.volume(maps.delta), title=maps.title,
                     levels=(-level, level), delta_max=delta_level, signed=True, label=label)
