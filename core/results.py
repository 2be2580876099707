"""The result of one pre/post comparison: the data model every view and export reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.atlas.atlases import Atlas
from core.settings import AnalysisSettings
from core.signal.connectivity import network_blocks, roi_strength

__all__ = ["Comparison", "RoiSet", "SessionConnectivity"]


@dataclass(eq=False)
class RoiSet:
    """The ROIs of a comparison, in matrix order.

    Attributes
    ----------
    names : list of str
    networks : list of str
        "" where the atlas defines no network.
    coords_mm : ndarray or None, shape (n_rois, 3)
        MNI centre of each ROI, when known.
    atlas_index : ndarray or None
        Index of each ROI in the atlas (ROIs outside the brain are dropped).
    """

    names: list[str]
    networks: list[str]
    coords_mm: np.ndarray | None = None
    atlas_index: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.names)


@dataclass(eq=False)
class SessionConnectivity:
    """Connectivity of one session.

    Attributes
    ----------
    label : str
        Session label (``pre``, ``post``, or the BIDS session).
    timeseries : ndarray, shape (n_kept, n_rois)
        Denoised ROI signals of the kept volumes.
    sample_mask : ndarray of int
        Kept volume indices.
    n_volumes : int
        Volumes before scrubbing.
    tr : float or None
        Repetition time in seconds.
    r, z, partial_r : ndarray, shape (n_rois, n_rois)
        Pearson r, its Fisher z (zero diagonal), partial correlation.
    unfiltered_timeseries : ndarray, shape (n_volumes, n_rois), optional
        ROI signals with trends and confounds regressed, before filtering and
        scrubbing.
    cleaning_operator : ndarray, shape (n_kept, n_volumes), optional
        The linear denoising (:func:`core.signal.denoise.cleaning_operator`):
        ``timeseries ≈ cleaning_operator @ unfiltered_timeseries``; with it
        :mod:`core.stats.edge_variance` accounts for the denoising exactly.
    """

    label: str
    timeseries: np.ndarray
    sample_mask: np.ndarray
    n_volumes: int
    tr: float | None
    r: np.ndarray
    z: np.ndarray
    partial_r: np.ndarray | None = None
    unfiltered_timeseries: np.ndarray | None = None
    cleaning_operator: np.ndarray | None = None

    @property
    def n_kept(self) -> int:
        """Volumes kept after scrubbing."""
        return int(self.sample_mask.size)

    @property
    def strength(self) -> np.ndarray:
        """Mean z of each ROI with all others."""
        return roi_strength(self.z)


@dataclass(frozen=True, eq=False)
class Comparison:
    """Pre and post connectivity of one patient and their difference.

    Frozen: built once by :func:`core.pipeline.run_comparison` and never
    changed afterwards; what is computed later (the deferred quality control,
    the statistics) lives in :class:`core.review_state.ReviewState`.

    Attributes
    ----------
    subject : str
    rois : RoiSet
    pre, post : SessionConnectivity
    settings : AnalysisSettings
    strategy : str
        Denoising preset actually applied.
    atlas : Atlas or None
        The atlas (None for pre-extracted tables).
    warnings : tuple of str
        Everything the clinician should know about how the numbers were made.
    provenance : dict
        Where the data came from; ``"preprocessing"`` names the quick path
        (:data:`core.io.preprocessing_route.QUICK_LABEL`) when it made them.
    qc : tuple of core.qc.SessionQC or None
        Quality control of pre and post; None when it was deferred
        (:func:`core.pipeline.run_comparison` with ``defer_qc``).
    named_edges : DataFrame or None
        The literature's named edges (:func:`core.maps.seeds.named_edges_from_signals`).
    deferred_qc : callable or None
        Computes the deferred quality control (reads the voxels again, streamed).
    """

    subject: str
    rois: RoiSet
    pre: SessionConnectivity
    post: SessionConnectivity
    settings: AnalysisSettings
    strategy: str
    atlas: Atlas | None = None
    warnings: tuple[str, ...] = ()
    provenance: dict[str, Any] = field(default_factory=dict)
    qc: tuple[Any, Any] | None = None
    named_edges: pd.DataFrame | None = None
    deferred_qc: Callable[[], tuple[Any, Any]] | None = field(default=None, repr=False)

    def quality_control(self) -> tuple[Any, Any] | None:
        """Return the quality control, computing it when it was deferred.

        A deferred computation reads the voxels again each time it is called:
        call it once, in a worker, and keep the result
        (:func:`core.review_state.compute_statistics` does).

        Returns
        -------
        tuple of core.qc.SessionQC or None
            None for inputs without QC data.
        """
        if self.qc is not None:
            return self.qc
        return self.deferred_qc() if self.deferred_qc is not None else None

    @property
    def delta_z(self) -> np.ndarray:
        """Post minus pre Fisher z."""
        return self.post.z - self.pre.z

    @property
    def delta_strength(self) -> np.ndarray:
        """Post minus pre ROI strength."""
        return self.post.strength - self.pre.strength

    def network_table(self) -> pd.DataFrame:
        """Mean z within and between networks, pre, post and post − pre.

        Returns
        -------
        DataFrame
            ``network_a, network_b, n_edges, z_pre, z_post, delta_z``.
        """
        return network_blocks(
            {"z_pre": self.pre.z, "z_post": self.post.z, "delta_z": self.delta_z},
            self.rois.networks,
        )
