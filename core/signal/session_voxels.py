"""A session's brain voxels, read once and kept in memory for every later computation.

Reading and decompressing a session is the slowest step of a review.  The window
reads each session once (:func:`read_session_voxels`, while the ROI means of the
first view are computed from the same blocks) and keeps the voxels in a
:class:`VoxelCache`; the quality control, the seed maps, GBC and every
recomputation with another atlas or denoising start from them.  A file is read
again only when it changed on disk (its path, size and modification time are the
key).

The voxels are stored as float32, volume-major (``data[t]`` is volume ``t``, its
voxels contiguous), as changes from the first volume (``data + origin`` is the
image): exact for BOLD values, whose changes are small next to their baseline, and
float32 products over them then keep their precision.  Derived quantities that do
not depend on the analysis settings (the QC moments) and those that depend only
on the denoising (voxel norms, :mod:`core.maps.prepare`) are kept beside the
voxels in :attr:`SessionVoxels.memo`, so they are computed once.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.errors import InputError

if TYPE_CHECKING:
    from core.signal.extract import RoiWeights

__all__ = ["FileKey", "SessionVoxels", "VoxelCache", "read_session_voxels"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileKey:
    """What identifies a file's content without reading it: path, size, modification time."""

    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: str | Path) -> FileKey:
        """Return the key of a file as it is on disk now."""
        resolved = Path(path).resolve()
        info = os.stat(resolved)
        return cls(str(resolved), int(info.st_size), int(info.st_mtime_ns))


@dataclass(eq=False)
class SessionVoxels:
    """One session's brain voxels in memory.

    Attributes
    ----------
    data : ndarray of float32, shape (n_volumes, n_voxels)
        C-contiguous (volume-major); the change of each voxel from the first
        volume.  Never modified once read.
    origin : ndarray of float32, shape (n_voxels,)
        The first volume's voxels: ``data[t] + origin`` is volume ``t``.
    mask : ndarray of bool, 3D
        The brain mask; voxels are in its Fortran (nilearn) order.
    affine : ndarray, shape (4, 4)
    key : FileKey
        The file the voxels were read from, as it was then.
    memo : dict
        Quantities derived from the voxels, kept with them (see the module notes).
    """

    data: np.ndarray
    origin: np.ndarray
    mask: np.ndarray
    affine: np.ndarray
    key: FileKey
    memo: dict[Any, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def n_volumes(self) -> int:
        """Number of volumes."""
        return int(self.data.shape[0])

    @property
    def n_voxels(self) -> int:
        """Number of brain voxels."""
        return int(self.data.shape[1])

    @property
    def nbytes(self) -> int:
        """Memory held by the voxels."""
        return int(self.data.nbytes + self.origin.nbytes)

    def fits(self, key: FileKey, mask: np.ndarray) -> bool:
        """Tell whether these are the voxels of the file ``key`` under ``mask``."""
        return self.key == key and self.mask.shape == mask.shape \
            and bool(np.array_equal(self.mask, mask))

    def remember(self, name: Any, compute: Callable[[], Any]) -> Any:
        """Return ``memo[name]``, computing it with ``compute()`` the first time.

        Two threads asking for the same quantity compute it once.
        """
        with self._lock:
            if name not in self.memo:
                self.memo[name] = compute()
            return self.memo[name]

    def roi_signals(self, weights: Sequence[RoiWeights], block: int = 32
                    ) -> tuple[list[np.ndarray], np.ndarray]:
        """ROI mean signals and the global signal, from the voxels in memory.

        Parameters
        ----------
        weights : sequence of RoiWeights
            Built on :attr:`mask` (:func:`core.signal.extract.roi_weights`).
        block : int
            Volumes reduced at a time.

        Returns
        -------
        signals : list of ndarray, shape (n_volumes, n_rois_kept)
            Float64, one per weights, equal (bit for bit) to the ones computed
            while the voxels were read (:func:`read_session_voxels` with a
            :class:`core.signal.voxel_reducers.RoiAverager`).
        volume_mean : ndarray, shape (n_volumes,)
            Mean over the brain voxels of each volume.
        """
        from core.signal.voxel_reducers import RoiAverager

        averager = RoiAverager(list(weights), self.n_volumes)
        for first in range(0, self.n_volumes, block):
            averager.add(first, self.data[first : first + block])
        averager.add_origin(self.origin)  # as when read: the same numbers, the same way
        return averager.signals, averager.volume_mean

    def rows(self, index: np.ndarray) -> np.ndarray:
        """Time series of some voxels, shape (len(index), n_volumes), float32, less their origin.

        Enough for anything that does not depend on a voxel's level (carpet rows
        are z-scored, the robust SD is an interquartile range).
        """
        return np.ascontiguousarray(self.data[:, np.asarray(index, dtype=np.intp)].T)


def read_session_voxels(img, mask: np.ndarray, path: str | Path,
                        reducers: Sequence = ()) -> SessionVoxels:
    """Read a session's brain voxels once, feeding ``reducers`` as the blocks go by.

    Parameters
    ----------
    img : nibabel image
        The 4D image.
    mask : ndarray of bool, 3D
    path : str or Path
        The image's file (its :class:`FileKey` is taken before reading).
    reducers : sequence, optional
        As for :func:`core.signal.extract.masked_voxels`: they see the changes
        from the first volume (a RoiAverager then needs ``add_origin(voxels.origin)``).

    Returns
    -------
    SessionVoxels

    Raises
    ------
    InputFileError
        When a compressed file turns out to be damaged while it is read.
    """
    from core.signal.extract import masked_voxels

    key = FileKey.of(path)
    n_voxels = int(mask.sum())
    if n_voxels == 0:
        raise InputError("expected brain voxels, found an empty mask", path)
    origin = np.empty(n_voxels, dtype=np.float32)
    voxels = masked_voxels(img, mask, reducers, keep=True, origin=origin)
    return SessionVoxels(data=voxels.T, origin=origin, mask=np.asarray(mask, dtype=bool),
                         affine=np.asarray(img.affine, dtype=float), key=key)


class VoxelCache:
    """The voxels of the sessions of the patient under review, kept between computations.

    Holds one patient: :meth:`keep_only` drops the voxels of other files before
    a new patient is read, so two patients' voxels are never held together.
    Thread-safe; importing it loads nothing heavy (the window creates one at start).
    """

    def __init__(self) -> None:
        self._sessions: dict[FileKey, SessionVoxels] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sessions)

    @property
    def nbytes(self) -> int:
        """Memory held."""
        with self._lock:
            return sum(v.nbytes for v in self._sessions.values())

    def get(self, path: str | Path, mask: np.ndarray) -> SessionVoxels | None:
        """Return the voxels of ``path`` under ``mask`` if held and the file is unchanged."""
        try:
            key = FileKey.of(path)
        except OSError:
            return None
        with self._lock:
            held = self._sessions.get(key)
        return held if held is not None and held.fits(key, mask) else None

    def put(self, voxels: SessionVoxels) -> None:
        """Keep ``voxels`` (replacing older voxels of the same file)."""
        with self._lock:
            self._sessions = {k: v for k, v in self._sessions.items()
                              if k.path != voxels.key.path}
            self._sessions[voxels.key] = voxels

    def keep_only(self, paths: Sequence[str | Path]) -> None:
        """Drop the voxels of every file but ``paths`` (as they are on disk now)."""
        keys = set()
        for path in paths:
            try:
                keys.add(FileKey.of(path))
            except OSError:
                continue
        with self._lock:
            dropped = [k for k in self._sessions if k not in keys]
            for k in dropped:
                del self._sessions[k]
        if dropped:
            log.info("released the voxels of %d session(s)", len(dropped))

    def clear(self) -> None:
        """Drop every session's voxels."""
        with self._lock:
            self._sessions.clear()
