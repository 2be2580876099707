"""Fast ROI time-series extraction: mask once, then one sparse averaging product.

nilearn's maskers recompute the region layout for every image. Here the atlas is
resampled once to the data grid, turned into a sparse (ROI × voxel) averaging
matrix over the brain voxels, and each session is reduced with one product.
The numbers equal nilearn's ``NiftiLabelsMasker`` / ``NiftiSpheresMasker`` with
the same mask (tested).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import nibabel as nib
import numpy as np
from scipy import sparse

from core.atlas.atlases import Atlas
from core.errors import InputError

__all__ = ["RoiWeights", "brain_mask_for", "masked_voxels", "roi_signals", "roi_weights"]

log = logging.getLogger(__name__)


@dataclass(eq=False)
class RoiWeights:
    """Averaging weights of each ROI over the brain voxels of one grid.

    Attributes
    ----------
    matrix : scipy.sparse.csc_matrix, shape (n_rois_kept, n_voxels)
        Row ``i`` holds ``1 / n_i`` on the voxels of ROI ``i``.
    kept : ndarray of int
        Atlas indices of the ROIs that have at least one voxel in the mask.
    voxel_counts : ndarray of int
        Voxels per kept ROI.
    """

    matrix: sparse.csc_matrix
    kept: np.ndarray
    voxel_counts: np.ndarray

    def average(self, voxels: np.ndarray, chunk: int = 16384) -> np.ndarray:
        """Return ROI mean signals, shape (n_volumes, n_rois_kept), from (n_voxels, n_volumes).

        The product runs in float64 over blocks of voxels, so a float32 voxel
        array is never copied whole to float64.
        """
        if voxels.flags.f_contiguous and not voxels.flags.c_contiguous:
            # volume-major (as masked_voxels returns): reduce blocks of whole volumes
            from core.signal.voxel_reducers import RoiAverager

            averager = RoiAverager([self], voxels.shape[1])
            volumes = voxels.T
            for first in range(0, volumes.shape[0], READ_BLOCK):
                averager.add(first, volumes[first : first + READ_BLOCK])
            return averager.signals[0]
        out = np.zeros((self.matrix.shape[0], voxels.shape[1]))
        for start in range(0, voxels.shape[0], chunk):
            block = slice(start, start + chunk)
            out += self.matrix[:, block] @ voxels[block].astype(np.float64)
        return out.T


def brain_mask_for(img: nib.spatialimages.SpatialImage) -> np.ndarray:
    """Resample nilearn's MNI152 brain mask to an image's grid (nearest neighbour).

    Parameters
    ----------
    img : nibabel image
        Defines the grid.

    Returns
    -------
    ndarray of bool, shape img.shape[:3]
    """
    from core.atlas.templates import template_mask

    return template_mask("brain", img.shape[:3], img.affine).copy()


def masked_voxels(img: nib.spatialimages.SpatialImage, mask: np.ndarray,
                  reducers: Sequence = (), keep: bool = True,
                  origin: np.ndarray | None = None) -> np.ndarray:
    """Return the brain voxels of a 4D image as a float32 (n_voxels, n_volumes) array.

    ``.nii.gz`` files are decompressed volume by volume (``isal``), keeping
    only the masked voxels, so the full 4D image is never held in memory;
    ``.nii`` files are read through their memory map.

    Parameters
    ----------
    img : nibabel image
        4D image.
    mask : ndarray of bool
        3D mask on the image grid.
    reducers : sequence, optional
        Objects with ``add(first_volume, block)`` (:mod:`core.signal.voxel_reducers`),
        called with each block of :data:`READ_BLOCK` consecutive volumes,
        shape ``(n_block, n_voxels)``, while it is still in cache.
    keep : bool, default=True
        False: only feed the reducers and return None, holding one block of
        volumes at a time instead of the session's voxels.
    origin : ndarray of float32, shape (n_voxels,), optional
        Receives the first volume's voxels, which are then subtracted from every
        volume before the reducers see it and before it is kept: the values are
        changes from the first volume, exact in float32 for BOLD values (within a
        factor 2 of it), and small, so float32 products over them lose no
        precision to the signal's baseline.  Whatever is computed from the
        voxels, while reading or later from the kept ones, is computed from the
        same numbers.

    Returns
    -------
    ndarray of float32 or None
        Fortran-ordered: each volume's voxels are contiguous in memory.

    Raises
    ------
    InputFileError
        When a compressed file turns out to be damaged while it is read.
    """
    index = np.flatnonzero(mask.ravel(order="F"))
    source = getattr(img.dataobj, "file_like", None)
    if isinstance(source, str) and source.endswith(".gz"):
        return _stream_gz(img, source, index, reducers, keep,  # type: ignore[return-value]
                          origin)
    data = np.asanyarray(img.dataobj)
    flat = data.reshape(-1, data.shape[3], order="F")  # each column is one volume
    return _gather(index, (flat[:, t] for t in range(flat.shape[1])),  # type: ignore[return-value]
                   flat.shape[1], reducers, keep=keep, origin=origin)


#: Volumes handed to the reducers at a time.
READ_BLOCK = 8


def roi_signals(img: nib.spatialimages.SpatialImage, mask: np.ndarray,
                weights: Sequence[RoiWeights]) -> list[np.ndarray]:
    """ROI mean signals of a 4D image, computed while it is read (no voxel copy kept).

    Parameters
    ----------
    img : nibabel image
        4D image.
    mask : ndarray of bool
        3D mask on the image grid (the one ``weights`` were built on).
    weights : sequence of RoiWeights
        One or more atlases' averaging matrices (:func:`roi_weights`).

    Returns
    -------
    list of ndarray, shape (n_volumes, n_rois_kept)
        Float64 ROI means, one array per weights, equal to
        ``weights.average(masked_voxels(img, mask))``.
    """
    from core.signal.voxel_reducers import RoiAverager

    averager = RoiAverager(list(weights), int(img.shape[3]))
    origin = np.empty(int(mask.sum()), dtype=np.float32)
    masked_voxels(img, mask, (averager,), keep=False, origin=origin)
    averager.add_origin(origin)
    return averager.signals


def _gather(index: np.ndarray, volumes, n_volumes: int, reducers: Sequence = (),
            scale: tuple[float, float] | None = None, keep: bool = True,
            origin: np.ndarray | None = None) -> np.ndarray | None:
    """Collect ``volume[index]`` of each volume as the columns of a (n_voxels, n_volumes) array.

    Each volume's voxels are written contiguously (the array is Fortran-ordered,
    i.e. volume-major in memory): writing one column of a C-ordered array
    instead touches a separate cache line for every voxel, which made the
    gather 8x slower on a 2 mm brain.  Blocks of volumes go to the reducers as
    soon as they are complete.  Without ``keep`` only one block is held (and
    reused), and None is returned.  With ``origin``, the first volume is copied
    there and subtracted from each block before the reducers see it.
    """
    out = _populated((n_volumes, index.size)) if keep else np.empty(
        (READ_BLOCK, index.size), dtype=np.float32)
    start = 0
    for t, volume in enumerate(volumes):
        row = out[t if keep else t - start]
        if volume.dtype == np.float32:
            np.take(volume, index, out=row)
        else:
            row[:] = volume[index]
        if scale is not None:
            row *= np.float32(scale[0])
            row += np.float32(scale[1])
        if t == 0 and origin is not None:
            origin[:] = row
        if t + 1 - start == READ_BLOCK or t + 1 == n_volumes:
            block = out[start : t + 1] if keep else out[: t + 1 - start]
            if origin is not None:
                block -= origin  # exact for values within a factor 2 of it (Sterbenz)
            for reducer in reducers:
                reducer.add(start, block)
            start = t + 1
    return out.T if keep else None


def _populated(shape: tuple[int, int]) -> np.ndarray:
    """Return an empty float32 array whose memory the kernel has already mapped.

    Filling fresh memory takes a page fault per page, inside the gather, which
    holds the GIL: the other session's thread then waits.  ``MAP_POPULATE`` maps
    every page in one system call that releases the GIL (Linux; elsewhere a plain
    ``np.empty``).
    """
    import mmap

    size = int(np.prod(shape)) * 4
    flags = getattr(mmap, "MAP_POPULATE", None)
    if flags is None or size == 0:
        return np.empty(shape, dtype=np.float32)
    memory = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | flags)
    return np.frombuffer(memory, dtype=np.float32).reshape(shape)


def _stream_gz(img: nib.spatialimages.SpatialImage, source: str, index: np.ndarray,
               reducers: Sequence, keep: bool = True,
               origin: np.ndarray | None = None) -> np.ndarray | None:
    import zlib

    from isal import igzip

    from core.errors import InputFileError

    header = img.header
    dtype = header.get_data_dtype()
    n_volumes = int(img.shape[3])
    volume_bytes = int(np.prod(img.shape[:3])) * dtype.itemsize
    slope, inter = header.get_slope_inter()  # type: ignore[attr-defined]
    buffer = bytearray(volume_bytes)
    view = memoryview(buffer)
    volume = np.frombuffer(buffer, dtype=dtype)

    def volumes():
        with igzip.open(source, "rb") as stream:
            stream.seek(int(img.dataobj.offset))  # type: ignore[attr-defined]
            for t in range(n_volumes):
                if stream.readinto(view) != volume_bytes:
                    raise InputFileError(
                        f"the image is truncated: volume {t + 1} of {n_volumes} is incomplete",
                        source,
                    )
                yield volume

    scaled = slope is not None and (slope != 1 or (inter or 0) != 0)
    try:
        return _gather(index, volumes(), n_volumes, reducers,
                       (float(slope), float(inter or 0)) if scaled else None, keep, origin)
    except (OSError, EOFError, zlib.error) as exc:
        if isinstance(exc, InputFileError):
            raise
        raise InputFileError(f"the gzip stream is damaged ({exc})", source) from exc


def roi_weights(atlas: Atlas, mask: np.ndarray, affine: np.ndarray) -> RoiWeights:
    """Build the sparse averaging matrix of an atlas on a masked grid.

    Parameters
    ----------
    atlas : Atlas
        Label atlas (resampled to the grid by nearest neighbour, as nilearn's
        ``NiftiLabelsMasker`` does) or sphere atlas (voxels within the radius of
        each centre plus the voxel nearest to it, as ``NiftiSpheresMasker``).
    mask : ndarray of bool
        Brain mask on the data grid.
    affine : ndarray
        Voxel-to-mm affine of the grid.

    Returns
    -------
    RoiWeights

    Raises
    ------
    InputError
        When no ROI of the atlas overlaps the brain mask.

    Notes
    -----
    The result is remembered per atlas object and grid, and shared: do not modify it.
    """
    key = hashlib.sha1(np.packbits(np.asarray(mask, dtype=bool)).tobytes()
                       + repr(mask.shape).encode()
                       + np.round(np.asarray(affine, dtype=float), 6).tobytes()).digest()
    with _WEIGHTS_LOCK:
        known = _WEIGHTS.get(atlas, {}).get(key)
    if known is not None:
        return known
    weights = _roi_weights(atlas, mask, affine)
    with _WEIGHTS_LOCK:
        grids = _WEIGHTS.setdefault(atlas, {})
        if len(grids) >= 4:
            grids.clear()
        grids[key] = weights
    return weights


#: Weights already built, by atlas (while it exists) and grid: another computation with
#: the same atlas (a recomputation, the QC's carpet) does not resample it again.
_WEIGHTS: weakref.WeakKeyDictionary[Atlas, dict[bytes, RoiWeights]] = (
    weakref.WeakKeyDictionary())
_WEIGHTS_LOCK = threading.Lock()


def _roi_weights(atlas: Atlas, mask: np.ndarray, affine: np.ndarray) -> RoiWeights:
    index = np.flatnonzero(mask.ravel(order="F"))
    if atlas.kind == "labels":
        rows, cols = _label_members(atlas, mask, affine, index)
    else:
        rows, cols = _sphere_members(atlas, mask, affine, index)
    n_rois = atlas.n_rois
    member = sparse.csr_matrix(
        (np.ones(rows.size), (rows, cols)), shape=(n_rois, index.size)
    )
    member.sum_duplicates()
    member.data[:] = 1.0
    counts = np.asarray(member.sum(axis=1)).ravel().astype(int)
    kept = np.flatnonzero(counts > 0)
    if kept.size == 0:
        raise InputError(f"expected atlas '{atlas.title}' to overlap the brain, found no overlap")
    if kept.size < n_rois:
        log.warning("%d ROIs have no voxel inside the brain mask", n_rois - kept.size)
    member = member[kept]
    scale = sparse.diags(1.0 / counts[kept])
    return RoiWeights(matrix=(scale @ member).tocsc(), kept=kept, voxel_counts=counts[kept])


def _label_members(
    atlas: Atlas, mask: np.ndarray, affine: np.ndarray, index: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    from nilearn.image import resample_img

    labels_img = atlas.labels_img
    assert labels_img is not None
    if labels_img.shape[:3] != mask.shape or not np.allclose(labels_img.affine, affine, atol=1e-3):
        labels_img = resample_img(
            labels_img,
            target_affine=affine,
            target_shape=mask.shape,
            interpolation="nearest",
            force_resample=True,
            copy_header=True,
        )
    values = np.asarray(labels_img.dataobj).ravel(order="F")[index]
    lookup = {int(v): i for i, v in enumerate(atlas.label_values)}
    uniques, inverse = np.unique(values, return_inverse=True)
    roi_of_unique = np.array([lookup.get(int(v), -1) for v in uniques], dtype=int)
    roi = roi_of_unique[inverse] if uniques.size else np.array([], dtype=int)
    cols = np.flatnonzero(roi >= 0)
    return roi[cols], cols


#: Sphere atlases up to this many (sphere, voxel) pairs use plain distances, not a k-d tree.
_BRUTE_FORCE_PAIRS = 20_000_000


def _sphere_members(
    atlas: Atlas, mask: np.ndarray, affine: np.ndarray, index: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    ijk = np.column_stack(np.unravel_index(index, mask.shape, order="F"))
    xyz = ijk @ affine[:3, :3].T + affine[:3, 3]
    radii = atlas.radius_mm if atlas.radius_mm is not None else np.full(atlas.n_rois, 5.0)
    if atlas.n_rois * index.size <= _BRUTE_FORCE_PAIRS:
        def within(centre, radius):  # a few spheres: distances beat building a tree
            return np.flatnonzero(((xyz - centre) ** 2).sum(axis=1) <= (radius + 1e-9) ** 2)
    else:
        from scipy.spatial import cKDTree

        tree = cKDTree(xyz)

        def within(centre, radius):
            return np.asarray(tree.query_ball_point(centre, r=radius + 1e-9), dtype=int)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    inverse = np.linalg.inv(affine)
    for roi, (centre, radius) in enumerate(zip(atlas.coords_mm, radii, strict=True)):
        members = within(np.asarray(centre, dtype=float), float(radius))
        nearest = np.round(inverse[:3, :3] @ centre + inverse[:3, 3]).astype(int)
        if np.all(nearest >= 0) and np.all(nearest < mask.shape):
            flat = int(np.ravel_multi_index(tuple(nearest), mask.shape, order="F"))
            at = int(np.searchsorted(index, flat))
            if at < index.size and index[at] == flat:
                members = np.append(members, at)
        rows.append(np.full(members.size, roi))
        cols.append(members)
    return np.concatenate(rows), np.concatenate(cols)
