"""Reductions computed while a session's voxels are read, one block of volumes at a time.

:func:`core.signal.extract.masked_voxels` hands every reducer consecutive blocks of
volumes (shape ``(n_block_volumes, n_voxels)``, float32, just decompressed and
still in cache), so ROI averages, the finiteness check and the QC moments cost
no extra pass over the session's hundreds of megabytes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FiniteCheck", "RoiAverager", "VoxelMoments", "VoxelSampler"]


class RoiAverager:
    """ROI mean signals (float64) of one or more :class:`core.signal.extract.RoiWeights` matrices.

    Each volume is reduced with ``np.bincount`` (float64 sums of the float32
    voxels), 3x faster than a sparse product, which first converts and
    transposes each block to float64: a matrix whose voxels each belong to one
    ROI (a label atlas) sums the volume by a voxel → ROI look-up, with no gather;
    others (overlapping spheres) gather their few voxels.

    Parameters
    ----------
    weights : sequence of RoiWeights
    n_volumes : int

    Attributes
    ----------
    signals : list of ndarray, shape (n_volumes, n_rois_kept)
        One per weights, equal to ``weights.average(voxels)``.
    volume_mean : ndarray, shape (n_volumes,)
        Mean over all voxels of each volume (the global signal).
    """

    def __init__(self, weights, n_volumes: int) -> None:
        self._plans = [_SumPlan(w.matrix) for w in weights]
        self._signals = [np.zeros((n_volumes, w.matrix.shape[0])) for w in weights]
        self.volume_mean = np.zeros(n_volumes)

    @property
    def signals(self) -> list[np.ndarray]:
        """ROI means of each weights matrix."""
        return self._signals

    def add_origin(self, origin: np.ndarray) -> None:
        """Add back a per-voxel origin subtracted from the volumes averaged.

        See :func:`core.signal.extract.masked_voxels` (``origin``).
        """
        values = np.asarray(origin, dtype=np.float64)
        for plan, signals in zip(self._plans, self._signals, strict=True):
            signals += np.bincount(plan.rows, weights=values[plan.cols] * plan.values,
                                   minlength=plan.n_rois)
        self.volume_mean += values.mean()

    def add(self, first: int, block: np.ndarray) -> None:
        """Average one block of volumes."""
        # a label look-up sums every voxel once: its bins also give the volume's total
        totals = np.empty(block.shape[0]) if self._plans[0].roi_of is not None else None
        for i, (plan, signals) in enumerate(zip(self._plans, self._signals, strict=True)):
            for k, volume in enumerate(block):
                signals[first + k], total = plan.apply(volume)
                if i == 0 and totals is not None:
                    totals[k] = total
        rows = slice(first, first + block.shape[0])
        if totals is not None:
            self.volume_mean[rows] = totals / block.shape[1]
        else:
            self.volume_mean[rows] = block.mean(axis=1, dtype=np.float64)


class _SumPlan:
    """How one sparse (ROI × voxel) matrix reduces a volume with ``np.bincount``."""

    def __init__(self, matrix) -> None:
        coo = matrix.tocoo()
        self.n_rois, n_voxels = (int(n) for n in coo.shape)
        rows, cols = coo.row.astype(np.intp), coo.col.astype(np.intp)
        values = coo.data.astype(np.float64)
        order = np.argsort(cols, kind="stable")
        rows, cols, values = rows[order], cols[order], values[order]
        self.rows, self.cols, self.values = rows, cols, values
        #: Label look-up (each voxel in at most one ROI, one weight per ROI): the ROI
        #: of every voxel, the last bin for none; None for other matrices.
        self.roi_of: np.ndarray | None = None
        scale = np.zeros(self.n_rois)
        scale[rows] = values
        if np.unique(cols).size == cols.size and cols.size > n_voxels // 2 \
                and np.array_equal(scale[rows], values):
            self.roi_of = np.full(n_voxels, self.n_rois, dtype=np.intp)
            self.roi_of[cols] = rows
            self.scale = scale

    def apply(self, volume: np.ndarray) -> tuple[np.ndarray, float | None]:
        """Return the ROIs' weighted sums and, for a label look-up, the volume's total."""
        if self.roi_of is None:
            return np.bincount(self.rows, weights=np.take(volume, self.cols) * self.values,
                               minlength=self.n_rois), None
        # an average: sum, then divide by the ROI's size
        sums = np.bincount(self.roi_of, weights=volume, minlength=self.n_rois + 1)
        return sums[: self.n_rois] * self.scale, float(sums.sum())


class FiniteCheck:
    """Which voxels hold NaN or Inf anywhere (checked block by block)."""

    def __init__(self) -> None:
        self.bad: np.ndarray | None = None

    def add(self, first: int, block: np.ndarray) -> None:
        """Check one block of volumes."""
        if np.isfinite(block).all():
            return
        bad = ~np.isfinite(block).all(axis=0)
        self.bad = bad if self.bad is None else self.bad | bad

    @property
    def n_bad(self) -> int:
        """Number of voxels with a non-finite value."""
        return 0 if self.bad is None else int(self.bad.sum())


class VoxelMoments:
    """Per-voxel mean, SD and lag-1 autocorrelation and per-volume squared steps.

    Sums are accumulated in float64 relative to the first volume (so the large
    baseline of BOLD signals does not cost precision).

    Parameters
    ----------
    n_voxels, n_volumes : int
    """

    def __init__(self, n_voxels: int, n_volumes: int) -> None:
        self.n_volumes = n_volumes
        self._origin: np.ndarray | None = None
        self._sum = np.zeros(n_voxels)
        self._sum_sq = np.zeros(n_voxels)
        self._lag1 = np.zeros(n_voxels)
        self._previous: np.ndarray | None = None
        self.diff_sq = np.zeros(max(n_volumes - 1, 0))

    def add(self, first: int, block: np.ndarray) -> None:
        """Accumulate one block of volumes."""
        x = block.astype(np.float64)
        if self._origin is None:
            self._origin = x[0].copy()
        x -= self._origin
        self._sum += x.sum(axis=0)
        self._sum_sq += np.einsum("tv,tv->v", x, x)
        if self._previous is not None:
            self._lag1 += self._previous * x[0]
            self.diff_sq[first - 1] = ((x[0] - self._previous) ** 2).sum()
        if x.shape[0] > 1:
            self._lag1 += np.einsum("tv,tv->v", x[1:], x[:-1])
            self.diff_sq[first : first + x.shape[0] - 1] = (np.diff(x, axis=0) ** 2).sum(axis=1)
        self._previous = x[-1].copy()

    def result(self) -> dict[str, np.ndarray]:
        """``mean``, ``sd`` (ddof 0), ``ar1``, ``diff_sq`` (see :mod:`core.qc.voxel_measures`)."""
        t = self.n_volumes
        assert self._origin is not None and self._previous is not None
        last = self._previous  # the first volume is 0 relative to itself
        mean = self._sum / t
        denom = self._sum_sq - t * mean**2
        # Σ (x_t − m)(x_{t−1} − m) over t = 1..T−1
        cross = self._lag1 - mean * (2 * self._sum - last) + (t - 1) * mean**2
        ar1 = np.where(denom > 0, cross / np.where(denom > 0, denom, 1.0), 0.0)
        return {"mean": mean + self._origin, "sd": np.sqrt(np.maximum(denom, 0) / max(t, 1)),
                "ar1": ar1, "diff_sq": self.diff_sq.copy()}


class VoxelSampler:
    """Keep the time series of a few voxels (carpet rows, robust-SD subset).

    Parameters
    ----------
    columns : ndarray of int
        Brain-voxel indices to keep.
    n_volumes : int

    Attributes
    ----------
    samples : ndarray of float32, shape (n_volumes, n_columns)
    """

    def __init__(self, columns: np.ndarray, n_volumes: int) -> None:
        self._columns = np.asarray(columns, dtype=np.intp)
        self.samples = np.empty((n_volumes, self._columns.size), dtype=np.float32)

    def add(self, first: int, block: np.ndarray) -> None:
        """Keep the sampled voxels of one block of volumes."""
        self.samples[first : first + block.shape[0]] = block[:, self._columns]
