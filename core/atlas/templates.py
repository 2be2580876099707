"""nilearn's MNI152 masks on a data grid, resampled once per grid and cached."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["preload_templates", "template_mask"]

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
        A read-only array; the result is cached per grid.
    """
    if kind not in _LOADERS:
        raise ValueError(f"expected a mask kind among {sorted(_LOADERS)}, got {kind!r}")
    key = np.round(np.asarray(affine, dtype=float), 6).tobytes()
    return _cached(kind, tuple(int(n) for n in shape[:3]), key)


def preload_templates() -> None:
    """Load nilearn's 2 mm masks once (about 0.5 s), e.g. while the window is idle."""
    for kind in _LOADERS:
        _template(kind)


@lru_cache(maxsize=4)
def _template(kind: str):
    from nilearn import datasets

    return getattr(datasets, _LOADERS[kind])(resolution=2)


@lru_cache(maxsize=8)
def _cached(kind: str, shape: tuple[int, int, int], affine_key: bytes) -> np.ndarray:
    from nilearn.image import resample_img

    affine = np.frombuffer(affine_key, dtype=float).reshape(4, 4)
    template = _template(kind)
    if template.shape[:3] == shape and np.allclose(template.affine, affine, atol=1e-6):
        data = np.asarray(template.dataobj)
    else:
        data = np.asarray(resample_img(template, target_affine=affine, target_shape=shape,
                                       interpolation="nearest", force_resample=True,
                                       copy_header=True).dataobj)
    mask = data > 0
    mask.setflags(write=False)
    return mask
