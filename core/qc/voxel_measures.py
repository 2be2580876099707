"""Voxel-wise quality measures: DVARS, tSNR and the moments they are computed from.

Voxel arrays stay float32 (n_voxels, n_volumes) and are reduced in chunks,
so no full float64 copy of a 4D image is made.
"""

from __future__ import annotations

import numpy as np

__all__ = ["dvars", "grey_matter_mask", "temporal_snr"]


_CHUNK = 4096


_ROBUST_VOXELS = 20000


def _voxel_moments(voxels: np.ndarray, max_robust: int = _ROBUST_VOXELS) -> dict[str, np.ndarray]:
    """Per-voxel mean, SD, lag-1 autocorrelation, per-volume squared steps, robust SD.

    The robust SD (IQR / 1.349) only enters the mean that standardises DVARS,
    so it is computed on an evenly spaced subset of at most ``max_robust``
    voxels: the quantile selection is the slowest step of QC, and the mean over
    20,000 voxels is within a fraction of a percent of the mean over all.
    """
    n_vox, t = voxels.shape
    out = {k: np.zeros(n_vox) for k in ("mean", "sd", "ar1")}
    diff_sq = np.zeros(max(t - 1, 0))
    for start in range(0, n_vox, _CHUNK):
        block = voxels[start : start + _CHUNK].astype(np.float64)
        sl = slice(start, start + block.shape[0])
        out["mean"][sl] = block.mean(axis=1)
        centred = block - out["mean"][sl, None]
        denom = (centred**2).sum(axis=1)
        out["sd"][sl] = np.sqrt(denom / max(t, 1))
        out["ar1"][sl] = np.where(denom > 0, (centred[:, 1:] * centred[:, :-1]).sum(axis=1)
                                  / np.where(denom > 0, denom, 1.0), 0.0)
        diff_sq += (np.diff(block, axis=1) ** 2).sum(axis=0)
    out["diff_sq"] = diff_sq
    out.update(_robust_moments(voxels, out["ar1"], max_robust))
    return out


def _volume_major_moments(data: np.ndarray, chunk: int = 4096,
                          max_robust: int = _ROBUST_VOXELS) -> dict[str, np.ndarray]:
    """:func:`_voxel_moments` of voxels held volume-major, shape (n_volumes, n_voxels).

    Chunks of voxel columns are read (each volume's part contiguous), not
    voxel rows, which on volume-major data would read across every volume.
    """
    t, n_vox = data.shape
    out = {k: np.zeros(n_vox) for k in ("mean", "sd", "ar1")}
    diff_sq = np.zeros(max(t - 1, 0))
    for start in range(0, n_vox, chunk):
        block = data[:, start : start + chunk].astype(np.float64)
        sl = slice(start, start + block.shape[1])
        mean = block.mean(axis=0)
        steps = np.diff(block, axis=0)
        diff_sq += np.einsum("tv,tv->t", steps, steps)
        block -= mean
        denom = np.einsum("tv,tv->v", block, block)
        lag = np.einsum("tv,tv->v", block[1:], block[:-1])
        out["mean"][sl] = mean
        out["sd"][sl] = np.sqrt(denom / max(t, 1))
        out["ar1"][sl] = np.where(denom > 0, lag / np.where(denom > 0, denom, 1.0), 0.0)
    out["diff_sq"] = diff_sq
    subset = _robust_subset(n_vox, max_robust)
    out.update(_robust_from(np.ascontiguousarray(data[:, subset].T), out["ar1"][subset]))
    return out


def _robust_subset(n_vox: int, max_robust: int = _ROBUST_VOXELS) -> np.ndarray:
    return np.unique(np.linspace(0, n_vox - 1, min(n_vox, max_robust)).astype(int))


def _robust_moments(voxels: np.ndarray, ar1: np.ndarray, max_robust: int = _ROBUST_VOXELS
                    ) -> dict[str, np.ndarray]:
    """Robust SD (IQR / 1.349) and lag-1 autocorrelation of an even subset of voxels."""
    subset = _robust_subset(voxels.shape[0], max_robust)
    return _robust_from(voxels[subset], ar1[subset])


def _robust_from(rows: np.ndarray, ar1: np.ndarray) -> dict[str, np.ndarray]:
    q75, q25 = np.percentile(rows, [75, 25], axis=1)
    return {"robust_sd": (q75 - q25) / 1.349, "robust_ar1": ar1}


def dvars(voxels: np.ndarray, moments: dict[str, np.ndarray] | None = None
          ) -> tuple[np.ndarray, np.ndarray]:
    """DVARS (Power et al. 2012) and standardised DVARS (Nichols 2013, as fMRIPrep).

    Parameters
    ----------
    voxels : ndarray, shape (n_voxels, n_volumes)
        Brain voxels (float32 is fine; reduced in float64 chunks).
    moments : dict, optional
        Pre-computed voxel moments (internal reuse).

    Returns
    -------
    dvars : ndarray, shape (n_volumes,)
        RMS over voxels of the volume-to-volume change; NaN at volume 0.
    std_dvars : ndarray, shape (n_volumes,)
        DVARS divided by its expected value under temporal stationarity,
        ``mean_v(robust_sd_v × sqrt(2 (1 − ar1_v)))``; NaN at volume 0.
    """
    m = moments if moments is not None else _voxel_moments(voxels)
    return _dvars_from(m, voxels.shape[0])


def _dvars_from(m: dict[str, np.ndarray], n_voxels: int) -> tuple[np.ndarray, np.ndarray]:
    raw = np.sqrt(m["diff_sq"] / max(n_voxels, 1))
    ok = m["robust_sd"] > 0
    expected = float(np.mean(np.sqrt(2 * (1 - m["robust_ar1"][ok])) * m["robust_sd"][ok])) \
        if ok.any() else np.nan
    std = raw / expected if expected and np.isfinite(expected) else np.full_like(raw, np.nan)
    return np.concatenate([[np.nan], raw]), np.concatenate([[np.nan], std])


def temporal_snr(voxels: np.ndarray) -> np.ndarray:
    """Temporal SNR of each voxel: mean over time divided by SD over time (ddof 0).

    Parameters
    ----------
    voxels : ndarray, shape (n_voxels, n_volumes)

    Returns
    -------
    ndarray of float32, shape (n_voxels,)
        0 where the SD is 0.
    """
    m = _voxel_moments(voxels)
    return _tsnr_from(m)


def _tsnr_from(m: dict[str, np.ndarray]) -> np.ndarray:
    sd = m["sd"]
    return np.where(sd > 0, m["mean"] / np.where(sd > 0, sd, 1.0), 0.0).astype(np.float32)


def grey_matter_mask(mask: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Return nilearn's MNI152 grey-matter mask on the data grid, restricted to ``mask``.

    Parameters
    ----------
    mask : ndarray of bool, 3D
        Brain mask of the data grid.
    affine : ndarray, shape (4, 4)

    Returns
    -------
    ndarray of bool, shape (n_mask_voxels,)
        Grey-matter flag of each brain voxel, in ``masked_voxels`` order.
    """
    from core.atlas.templates import template_mask

    flat = template_mask("grey_matter", mask.shape, affine).ravel(order="F")
    return flat[np.flatnonzero(mask.ravel(order="F"))]
