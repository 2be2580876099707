"""Carpet plot data: voxel rows grouped by tissue or network, subsampled for display."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.atlas.atlases import Atlas

__all__ = ["CarpetData", "carpet_data", "voxel_groups"]


def voxel_groups(atlas: Atlas | None, mask: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Network label of every brain voxel, from the atlas ROI that contains it.

    Parameters
    ----------
    atlas : Atlas or None
    mask : ndarray of bool, 3D
    affine : ndarray, shape (4, 4)

    Returns
    -------
    ndarray of str, shape (n_mask_voxels,)
        The ROI's network ("Unassigned" when the atlas gives none), "Other"
        outside every ROI, or "Brain" for every voxel when no atlas is given.
    """
    n_vox = int(mask.sum())
    if atlas is None:
        return np.full(n_vox, "Brain", dtype=object)
    from core.signal.extract import roi_weights

    info = roi_weights(atlas, mask, affine)
    member = info.matrix.tocoo()
    groups = np.full(n_vox, "Other", dtype=object)
    nets = np.asarray([n or "Unassigned" for n in atlas.networks], dtype=object)
    groups[member.col[::-1]] = nets[info.kept[member.row[::-1]]]
    return groups


@dataclass(eq=False)
class CarpetData:
    """Voxel × time data for a carpet plot, rows grouped.

    Attributes
    ----------
    data : ndarray of float32, shape (n_rows, n_volumes)
        Each row a voxel's time series, z-scored over time.
    groups : list of str
        Group names in row order.
    group_starts : ndarray of int
        First row of each group (``len(groups) + 1`` entries, last = n_rows).
    voxel_index : ndarray of int
        Index of each row's voxel among the brain voxels.
    """

    data: np.ndarray
    groups: list[str]
    group_starts: np.ndarray
    voxel_index: np.ndarray


def carpet_data(voxels: np.ndarray, groups: Sequence[str] | np.ndarray, max_rows: int = 1500,
                order: Sequence[str] | None = None) -> CarpetData:
    """Z-scored voxel time series grouped by label and evenly subsampled.

    Parameters
    ----------
    voxels : ndarray, shape (n_voxels, n_volumes)
    groups : sequence of str
        Label of every voxel; groups appear in order of first appearance,
        with "Other" last.
    max_rows : int, default=1500
        Rows kept in total, shared among groups in proportion to their size
        (at least one per group).
    order : sequence of str, optional
        Preferred group order (e.g. the atlas's networks); others follow.

    Returns
    -------
    CarpetData
    """
    index, names, starts = _carpet_plan(groups, max_rows, order)
    return _carpet_from(voxels[index], names, starts, index)


def _carpet_plan(groups: Sequence[str] | np.ndarray, max_rows: int,
                 order: Sequence[str] | None) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Rows (brain-voxel indices) of a carpet plot, its group names and group starts."""
    labels = np.asarray(groups, dtype=object)
    names = list(dict.fromkeys(labels.tolist()))
    rank = {g: i for i, g in enumerate(order or [])}
    names = sorted(names, key=lambda g: (g == "Other", rank.get(g, len(rank)), names.index(g)))
    n_vox = labels.size
    rows, starts = [], [0]
    for name in names:
        members = np.flatnonzero(labels == name)
        k = max(1, min(members.size, round(max_rows * members.size / max(n_vox, 1))))
        rows.append(members[np.linspace(0, members.size - 1, k).round().astype(int)])
        starts.append(starts[-1] + k)
    index = np.concatenate(rows) if rows else np.zeros(0, dtype=int)
    return index, names, np.asarray(starts)


def _carpet_from(rows: np.ndarray, names: list[str], starts: np.ndarray,
                 index: np.ndarray) -> CarpetData:
    # z-scored in float64: the rows' BOLD baseline would cost float32 precision
    data = np.array(rows, dtype=np.float64)
    data -= data.mean(axis=1, keepdims=True)
    sd = data.std(axis=1, keepdims=True)
    data /= np.where(sd > 0, sd, 1.0)
    return CarpetData(data.astype(np.float32), names, starts, index)
