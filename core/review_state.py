"""The review state: everything one review shows, computed once and never changed.

A :class:`ReviewState` is built in a worker and then published whole; a change
(new statistics, another colour map) is a new state made with
:meth:`ReviewState.with_statistics` or :meth:`ReviewState.with_display`.
Views render it, and the exports, the report and saved reviews read it without
computing anything again.  Nothing here imports Qt.

The states are made by :mod:`core.review`.  This module holds only the data
classes, so the window can import it at start-up without the scientific stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: importing these loads the scientific stack
    import numpy as np
    import pandas as pd

    from core.io.inputs import PatientInputs
    from core.qc import SessionQC
    from core.results import Comparison
    from core.settings import AnalysisSettings

__all__ = ["DisplayOptions", "InputFile", "ReviewState", "ReviewStatistics", "reading_warnings"]


@dataclass(frozen=True)
class DisplayOptions:
    """How the review is shown: the model the display widgets bind to.

    Like FSLeyes' DisplayOpts, these live beside the data, not in widgets,
    so saving a review, the report and every view read the same values.

    Attributes
    ----------
    colormap : str
        Colour map of the slice overlays of positive maps (ROI strength), Pre and Post.
    diverging : str
        Colour map of signed maps (seed maps, GBC) and of every Δ overlay.
    threshold : float
        Overlay threshold as a fraction of the colour range (0–1).
    opacity : float
        Overlay opacity (0–1).
    network_blocks : bool
        Matrices show network blocks instead of ROIs.
    significant_only : bool
        The Δ matrix shows only cells that pass the chosen verdict.
    verdict : {"within", "reference"}
        Which test marks a change as significant: within-scan noise, or the
        reference of untreated repeat scans.
    delta_units : {"z", "reference_sd"}
        The Δ matrix in Fisher z, or in units of the reference's SD of Δ.
    """

    colormap: str = "inferno"
    diverging: str = "CET-D1"
    threshold: float = 0.10
    opacity: float = 0.85
    network_blocks: bool = False
    significant_only: bool = False
    verdict: str = "within"
    delta_units: str = "z"

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"expected a threshold in 0–1, got {self.threshold}")
        if not 0.0 <= self.opacity <= 1.0:
            raise ValueError(f"expected an opacity in 0–1, got {self.opacity}")
        if self.verdict not in ("within", "reference"):
            raise ValueError(f"expected verdict 'within' or 'reference', got {self.verdict!r}")
        if self.delta_units not in ("z", "reference_sd"):
            raise ValueError(f"expected delta units 'z' or 'reference_sd', got "
                             f"{self.delta_units!r}")


@dataclass(frozen=True)
class InputFile:
    """One input file as the outputs record it.

    Attributes
    ----------
    role : str
        ``pre_bold``, ``post_confounds``, ...
    path : Path
    n_bytes : int
    sha256 : str
    """

    role: str
    path: Path
    n_bytes: int
    sha256: str


@dataclass(frozen=True, eq=False)
class ReviewStatistics:
    """What is computed after the first view: QC, tests, hashes (and the reference verdict).

    Attributes
    ----------
    edges : DataFrame
        :func:`core.stats.edge_table`, with ``index_a, index_b`` (ROI indices)
        and, with a reference, its columns (:mod:`core.stats.reference`).
    networks : DataFrame
        :func:`core.stats.network_stats_table` (and the reference columns).
    edge_variance : ndarray
        Within-scan variance of each edge's Δz (rows of ``edges``).
    qc_pre, qc_post : SessionQC or None
    qc_table : DataFrame or None
        :func:`core.qc.qc_table` with the QC-FC rows.
    qcfc : core.qc.QcFc or None
    motion_warning : str
        "" when the sessions agree or lack motion data.
    input_files : tuple of InputFile
    distance, delta_z : ndarray or None
        Inter-ROI distance (mm) and Δz of up to ``QCFC_MAX_POINTS`` edges for
        the QC-FC scatter (None without ROI coordinates; see :mod:`core.review`).
    reference : dict or None
        Provenance of the reference the verdict used (SHA-256, N, ...).
    """

    edges: pd.DataFrame
    networks: pd.DataFrame
    edge_variance: np.ndarray
    qc_pre: SessionQC | None = None
    qc_post: SessionQC | None = None
    qc_table: pd.DataFrame | None = None
    qcfc: Any = None
    motion_warning: str = ""
    input_files: tuple[InputFile, ...] = ()
    distance: np.ndarray | None = None
    delta_z: np.ndarray | None = None
    reference: dict[str, Any] | None = None

    @property
    def qc(self) -> tuple[SessionQC, SessionQC] | None:
        """Pre and post QC, or None for inputs without QC."""
        if self.qc_pre is None or self.qc_post is None:
            return None
        return self.qc_pre, self.qc_post

    @property
    def has_reference(self) -> bool:
        """True when the tables carry the reference verdict."""
        return self.reference is not None


@dataclass(frozen=True, eq=False)
class ReviewState:
    """One review: inputs, comparison, statistics and display options; immutable.

    Attributes
    ----------
    inputs : PatientInputs
    comparison : Comparison
    statistics : ReviewStatistics or None
        None until :func:`core.review.compute_statistics` has run (the first view does
        not wait for it).
    display : DisplayOptions
    """

    inputs: PatientInputs
    comparison: Comparison
    statistics: ReviewStatistics | None = None
    display: DisplayOptions = field(default_factory=DisplayOptions)

    @property
    def settings(self) -> AnalysisSettings:
        """The analysis settings the comparison was computed with."""
        return self.comparison.settings

    @property
    def ready(self) -> bool:
        """True once the statistics (and QC) are computed."""
        return self.statistics is not None

    @property
    def warnings(self) -> tuple[str, ...]:
        """Everything the clinician should know, with the motion and reference warnings."""
        extra: tuple[str, ...] = ()
        if self.statistics is not None:
            extra = (self.statistics.motion_warning,)
            if self.statistics.reference is not None:
                extra += tuple(self.statistics.reference.get("warnings", ()))
        return self.comparison.warnings + tuple(w for w in extra if w)

    def with_statistics(self, statistics: ReviewStatistics) -> ReviewState:
        """Return a new state with the statistics.

        Parameters
        ----------
        statistics : ReviewStatistics

        Returns
        -------
        ReviewState
        """
        return replace(self, statistics=statistics)

    def with_display(self, **changes: Any) -> ReviewState:
        """Return a new state with some display options changed.

        Parameters
        ----------
        **changes
            Fields of :class:`DisplayOptions`.

        Returns
        -------
        ReviewState
        """
        return replace(self, display=replace(self.display, **changes))


def reading_warnings(state: ReviewState) -> list[str]:
    """Return the warnings that change how the results read, without the motion warning.

    The motion warning has a banner and a report paragraph of its own; these
    (TR differences, resampling, ROIs left out, a reference that does not fit)
    are listed together above the views and at the top of the report.

    Parameters
    ----------
    state : ReviewState

    Returns
    -------
    list of str
    """
    motion = state.statistics.motion_warning if state.statistics is not None else None
    return [w for w in state.warnings if w != motion]
