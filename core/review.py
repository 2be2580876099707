"""Computing a review: the statistics after the first view, or the whole review at once.

1. :func:`core.pipeline.run_comparison` gives the connectivity (first view);
2. :func:`compute_statistics` gives the deferred quality control, the edge and
   network tests, the QC table, QC-FC, the input SHA-256s and, when a
   reference of repeat scans is given, the reference verdict;

each computed once.  :func:`review_patient` runs both, as the command line
does, and returns a :class:`core.review_state.ReviewState`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from core.io.files import sha256_file
from core.io.inputs import PatientInputs
from core.pipeline import ProgressCallback, run_comparison
from core.qc import motion_warning, qc_fc, qc_table
from core.results import Comparison
from core.review_state import InputFile, ReviewState, ReviewStatistics
from core.settings import AnalysisSettings
from core.stats import edge_table, network_stats_table, session_z_variance
from core.stats.edge_variance import model_edge_variance

__all__ = [
    "QCFC_MAX_POINTS",
    "REFERENCE_COLUMNS",
    "Verdict",
    "apply_verdict",
    "compute_statistics",
    "review_patient",
]

log = logging.getLogger(__name__)

#: Edges drawn in the QC-FC scatter (a random subset of larger sets, fixed seed).
QCFC_MAX_POINTS = 4000

#: ``verdict(edges, networks, edge_variance, network_variance) -> (edges, networks, provenance)``
Verdict = Callable[[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray], tuple]

#: Columns a reference verdict adds to the edge and network tables.
REFERENCE_COLUMNS = ("ref_n", "ref_mean", "ref_sd", "t_ref", "p_ref", "q_ref")


def apply_verdict(statistics: ReviewStatistics, verdict: Verdict | None) -> ReviewStatistics:
    """Judge computed statistics against another reference (or none), computing nothing else.

    Parameters
    ----------
    statistics : ReviewStatistics
    verdict : callable or None
        See :data:`Verdict`; None removes the reference columns.

    Returns
    -------
    ReviewStatistics
        A new object; ``statistics`` is unchanged.
    """
    edges = statistics.edges.drop(columns=list(REFERENCE_COLUMNS), errors="ignore")
    networks = statistics.networks.drop(columns=list(REFERENCE_COLUMNS), errors="ignore")
    reference = None
    if verdict is not None:
        edges, networks, reference = verdict(edges, networks, statistics.edge_variance,
                                             networks["se"].to_numpy() ** 2)
    return replace(statistics, edges=edges, networks=networks, reference=reference)


def _input_files(inputs: PatientInputs) -> tuple[InputFile, ...]:
    return tuple(InputFile(role, Path(path).resolve(), Path(path).stat().st_size,
                           sha256_file(path))
                 for role, path in sorted(inputs.files.items()))


def _model_variance(session) -> np.ndarray | None:
    if session.unfiltered_timeseries is None or session.cleaning_operator is None:
        return None
    return model_edge_variance(session.unfiltered_timeseries, session.cleaning_operator)


def _qcfc_points(comparison: Comparison) -> tuple[np.ndarray | None, np.ndarray | None]:
    coords = comparison.rois.coords_mm
    n = len(comparison.rois)
    if coords is None or n < 3:
        return None, None
    ii, jj = np.triu_indices(n, k=1)
    keep = np.arange(ii.size)
    if keep.size > QCFC_MAX_POINTS:
        keep = np.random.default_rng(0).choice(keep, QCFC_MAX_POINTS, replace=False)
    coords = np.asarray(coords, dtype=float)
    distance = np.linalg.norm(coords[ii[keep]] - coords[jj[keep]], axis=1)
    return distance, comparison.delta_z[ii[keep], jj[keep]]


def _no_progress(fraction: float, message: str) -> None:
    log.debug("%3.0f%% %s", 100 * fraction, message)


def compute_statistics(
    comparison: Comparison,
    inputs: PatientInputs,
    progress: ProgressCallback | None = None,
    verdict: Verdict | None = None,
) -> ReviewStatistics:
    """Compute everything the review shows after its first view, once.

    Each session's edge variance (:mod:`core.stats.edge_variance`) is
    computed once and serves both the edge and the network tests.

    Parameters
    ----------
    comparison : Comparison
    inputs : PatientInputs
        The inputs the comparison was computed from (hashed here).
    progress : callable, optional
        ``progress(fraction, message)``; may raise ``AnalysisCancelled``.
    verdict : callable, optional
        Adds the reference columns to the tables (:data:`Verdict`; see
        :mod:`core.stats.reference`).

    Returns
    -------
    ReviewStatistics
    """
    report = progress or _no_progress
    # hashing reads the input files: done beside the rest, whose numpy work leaves a core free
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hash") as pool:
        hashing = pool.submit(_input_files, inputs)
        statistics = _statistics(comparison, report, hashing)
    if verdict is not None:
        report(0.95, "Reference of repeat scans")
        statistics = apply_verdict(statistics, verdict)
    report(1.0, "Statistics ready")
    return statistics


def _statistics(comparison: Comparison, report: ProgressCallback, hashing: Future
                ) -> ReviewStatistics:
    report(0.0, "Quality control")
    qc = comparison.quality_control()
    report(0.4, "Edge variances")
    models = (_model_variance(comparison.pre), _model_variance(comparison.post))
    variances = tuple(model if model is not None else session_z_variance(session)
                      for model, session in zip(models, (comparison.pre, comparison.post),
                                                strict=True))
    report(0.6, "Edge and network tests")
    edges = edge_table(comparison, variances=(variances[0], variances[1]))
    ii, jj = np.triu_indices(len(comparison.rois), k=1)
    edges["index_a"], edges["index_b"] = ii, jj
    edge_variance = variances[0][ii, jj] + variances[1][ii, jj]
    networks = network_stats_table(comparison, edge_variances=models)
    report(0.9, "Hashing the inputs")
    files = hashing.result()
    table, qcfc, warning = None, None, ""
    if qc is not None:
        qcfc = qc_fc(comparison, qc[0], qc[1])
        table = qc_table(qc[0], qc[1], qcfc)
        warning = motion_warning(qc[0], qc[1]) or ""
    distance, delta = _qcfc_points(comparison)
    return ReviewStatistics(
        edges=edges, networks=networks, edge_variance=edge_variance,
        qc_pre=qc[0] if qc is not None else None, qc_post=qc[1] if qc is not None else None,
        qc_table=table, qcfc=qcfc, motion_warning=warning, input_files=files,
        distance=distance, delta_z=delta,
    )


def review_patient(
    inputs: PatientInputs,
    settings: AnalysisSettings | None = None,
    progress: ProgressCallback | None = None,
    verdict_for: Callable[[Comparison], Verdict] | None = None,
) -> ReviewState:
    """Compute a whole review at once (the command line's path).

    Parameters
    ----------
    inputs : PatientInputs
    settings : AnalysisSettings, optional
    progress : callable, optional
        ``progress(fraction, message)``; may raise ``AnalysisCancelled``.
    verdict_for : callable, optional
        ``verdict_for(comparison) -> Verdict``: the reference verdict for this
        comparison (e.g. ``functools.partial(core.reference_verdict.reference_verdict,
        reference)``), made once the comparison exists; it may raise ``InputError``
        when the reference does not fit the analysis.

    Returns
    -------
    ReviewState
        With its statistics.
    """
    report = progress or _no_progress

    def first(fraction: float, message: str) -> None:
        report(0.8 * fraction, message)

    def second(fraction: float, message: str) -> None:
        report(0.8 + 0.2 * fraction, message)

    comparison = run_comparison(inputs, settings, first)
    verdict = verdict_for(comparison) if verdict_for is not None else None
    statistics = compute_statistics(comparison, inputs, second, verdict)
    return ReviewState(inputs=inputs, comparison=comparison, statistics=statistics)

