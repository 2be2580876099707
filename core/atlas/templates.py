"""nilearn's MNI152 masks and template on a data grid: resampled once per grid, kept on disk.

nilearn derives its 2 mm masks and template from its 1 mm images, and importing it
takes a second or more.  What it computes for a grid is kept in the user's cache
folder (:func:`core.resources.user_cache_dir`, keyed by the nilearn version and
the grid), so a later session reads it back with numpy alone: a patient opened
the moment the window appears can start reading its voxels while nilearn is
still being imported in the background.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["display_template_data", "preload_templates", "template_mask"]

log = logging.getLogger(__name__)

_LOADERS = {"brain": "load_mni152_brain_mask", "grey_matter": "load_mni152_gm_mask"}


def template_mask(kind: str, shape: tuple[int, ...], affine: np.ndarray) -> np.ndarray:
    """Return an MNI152 mask resampled (nearest neighbour) to a grid.

    Parameters
    ----------
    kind : {"brain", "grey_matter"}
        nilearn's ``load_mni152_brain_mask`` or ``load_mni152_gm_mask`` (2 mm,
        package data; nothing is downloaded).
    shape : tuple of int
        Spatial shape of the grid.
    affine : ndarray, shape (4, 4)
        Voxel-to-MNI-mm affine of the grid.

    Returns
    -------
    ndarray of bool
        A read-only array; the result is cached per grid (in memory and on disk).
    """
    if kind not in _LOADERS:
        raise ValueError(f"expected a mask kind among {sorted(_LOADERS)}, got {kind!r}")
    key = np.round(np.asarray(affine, dtype=float), 6).tobytes()
    return _cached(kind, tuple(int(n) for n in shape[:3]), key)


def display_template_data() -> tuple[np.ndarray, np.ndarray]:
    """Return nilearn's ``load_mni152_template(resolution=2)``: float32 data and affine.

    Returns
    -------
    data : ndarray of float32, 3D (read-only)
    affine : ndarray, shape (4, 4)
    """
    return _display_template()


def preload_templates() -> None:
    """Load the display template, and nilearn's 2 mm masks unless they are kept on disk.

    About 1 s the first time on a machine (nilearn derives them), then a read.
    """
    _display_template()
    if not _folder().is_dir() or not any(_folder().glob("brain_*.npy")):
        for kind in _LOADERS:
            _template(kind)


@lru_cache(maxsize=4)
def _template(kind: str):
    from nilearn import datasets

    return getattr(datasets, _LOADERS[kind])(resolution=2)


@lru_cache(maxsize=8)
def _cached(kind: str, shape: tuple[int, int, int], affine_key: bytes) -> np.ndarray:
    name = f"{kind}_{_digest(repr(shape).encode() + affine_key)}.npy"
    stored = _read(name)
    if stored is not None and stored.shape == shape:
        mask = stored.astype(bool)
    else:
        mask = _resampled(kind, shape, np.frombuffer(affine_key, dtype=float).reshape(4, 4))
        _write(name, mask)
    mask.setflags(write=False)
    return mask


def _resampled(kind: str, shape: tuple[int, int, int], affine: np.ndarray) -> np.ndarray:
    template = _template(kind)
    if template.shape[:3] == shape and np.allclose(template.affine, affine, atol=1e-6):
        data = np.asarray(template.dataobj)
    else:
        from nilearn.image import resample_img

        data = np.asarray(resample_img(template, target_affine=affine, target_shape=shape,
                                       interpolation="nearest", force_resample=True,
                                       copy_header=True).dataobj)
    return data > 0


@lru_cache(maxsize=1)
def _display_template() -> tuple[np.ndarray, np.ndarray]:
    name = "display_template_2mm.npy"
    stored = _read(name)
    if stored is not None and stored.ndim == 3 and stored.shape[0] > 4:
        affine, data = stored[:4, :4, 0].astype(float), stored[4:].astype(np.float32)
    else:
        from nilearn.datasets import load_mni152_template

        img = load_mni152_template(resolution=2)
        data, affine = img.get_fdata(dtype="float32"), np.asarray(img.affine, dtype=float)
        packed = np.zeros((data.shape[0] + 4, *data.shape[1:]), dtype=np.float32)
        packed[:4, :4, 0] = affine  # 2 mm affines are exact in float32
        packed[4:] = data
        _write(name, packed)
    data.setflags(write=False)
    return data, affine


def _digest(key: bytes) -> str:
    return hashlib.sha1(key).hexdigest()[:16]


def _folder() -> Path:
    from importlib.metadata import PackageNotFoundError, version

    from core.resources import user_cache_dir

    try:
        nilearn = version("nilearn")
    except PackageNotFoundError:  # pragma: no cover - nilearn is a dependency
        nilearn = "unknown"
    return user_cache_dir() / "templates" / f"nilearn-{nilearn}"


def _read(name: str) -> np.ndarray | None:
    path = _folder() / name
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None


def _write(name: str, array: np.ndarray) -> None:
    """Keep ``array`` for later sessions (atomically; a failure only costs the next start)."""
    folder = _folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".npy")
        with os.fdopen(handle, "wb") as stream:
            stream.write(buffer.getvalue())
        os.replace(temporary, folder / name)
    except OSError as exc:
        log.info("could not keep %s in the cache folder (%s)", name, exc)
