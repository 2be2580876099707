"""Run one pre/post comparison: mask, extract, denoise, correlate.

Every step is applied identically to both sessions. Long work reports through
a ``progress(fraction, message)`` callback; the callback may raise
:class:`core.errors.AnalysisCancelled` to stop the run between steps.
"""

from __future__ import annotations

import functools
import logging
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from core.atlas.atlases import load_atlas
from core.errors import InputError
from core.io.inputs import PatientInputs
from core.io.timeseries_table import roi_networks
from core.maps.seeds import (
    NAMED_EDGES,
    clinical_seed_atlas,
    empty_named_edges,
    named_edges_from_signals,
)
from core.qc import held_session_qc, session_qc, streamed_session_qc
from core.results import Comparison, RoiSet, SessionConnectivity
from core.settings import AnalysisSettings
from core.signal.connectivity import correlation_matrix, fisher_z, partial_correlation_matrix
from core.signal.denoise import (
    CleanedSignals,
    check_sampling,
    clean_signals,
    resolve_strategy,
    select_confounds,
)
from core.signal.extract import masked_voxels, roi_weights
from core.signal.masking import analysis_mask
from core.signal.session_voxels import SessionVoxels, VoxelCache, read_session_voxels
from core.signal.voxel_reducers import FiniteCheck, RoiAverager
from core.stats.inference import signal_pair_tests

__all__ = ["ProgressCallback", "run_comparison"]

log = logging.getLogger(__name__)

ProgressCallback = Callable[[float, str], None]
#: Radius of the clinical seed spheres used for the named edges.
SEED_RADIUS_MM = 6.0


def _no_progress(fraction: float, message: str) -> None:
    log.debug("%3.0f%% %s", 100 * fraction, message)


def run_comparison(
    inputs: PatientInputs,
    settings: AnalysisSettings | None = None,
    progress: ProgressCallback | None = None,
    defer_qc: bool = False,
    voxels: VoxelCache | None = None,
) -> Comparison:
    """Compute pre and post connectivity and their difference for one patient.

    Parameters
    ----------
    inputs : PatientInputs
        From :func:`core.io.inputs.open_nifti_pair`, :func:`core.io.inputs.open_fmriprep`,
        :func:`core.io.inputs.open_timeseries_pair` or :func:`core.demo.open_demo_patient`.
    settings : AnalysisSettings, optional
        Defaults to Schaefer 100 with automatic denoising.
    progress : callable, optional
        ``progress(fraction, message)``; may raise ``AnalysisCancelled``.
    defer_qc : bool, default=False
        Leave the voxel-based quality control (DVARS, tSNR, carpet) for
        :meth:`core.results.Comparison.quality_control`, so the connectivity is
        available sooner (the review window computes QC after its first view).
        It uses the voxels held in ``voxels`` while they are held, else reads
        them again, streamed.
    voxels : VoxelCache, optional
        Keeps each session's voxels between runs: a session whose file is held
        (unchanged on disk) is not read again; one that is not is read once and
        added; voxels of other files are dropped first.  Without it the voxels
        are held only while this run needs them.

    Returns
    -------
    Comparison

    Raises
    ------
    InputError
        When the data cannot be analysed; the message names the file.
    """
    settings = settings or AnalysisSettings()
    report = progress or _no_progress
    strategy, warnings = resolve_strategy(inputs, settings)
    check_sampling(inputs, settings)
    warnings = list(inputs.warnings) + warnings
    if inputs.is_image_based:
        rois, series, atlas, qc, edges = _image_timeseries(inputs, settings, strategy, report,
                                                            warnings, defer_qc, voxels)
    else:
        rois, series, atlas = _table_timeseries(inputs, settings, report, warnings)
        qc, edges = None, empty_named_edges()
    report(0.85, "Computing connectivity")
    sessions = []
    for label, one in zip(inputs.sessions, series, strict=True):
        cleaned = one.cleaned
        r = correlation_matrix(cleaned.signals)
        partial = partial_correlation_matrix(cleaned.signals)
        sessions.append(SessionConnectivity(
            label=label, timeseries=cleaned.signals, sample_mask=cleaned.sample_mask,
            n_volumes=one.n_volumes, tr=one.tr, r=r, z=fisher_z(r), partial_r=partial,
            unfiltered_timeseries=one.unfiltered, cleaning_operator=one.operator,
        ))
    deferred = qc if callable(qc) else None
    if qc is None:  # tables: scrubbing is all the QC there is
        qc = (session_qc(None, sessions[0]), session_qc(None, sessions[1]))
    report(1.0, "Done")
    return Comparison(
        subject=inputs.subject, rois=rois, pre=sessions[0], post=sessions[1],
        settings=settings, strategy=strategy, atlas=atlas, warnings=tuple(warnings),
        named_edges=edges, qc=None if deferred else qc, deferred_qc=deferred,
        provenance={"preprocessing": inputs.preprocessing.label} if inputs.preprocessing else {},
    )


@dataclass(eq=False)
class _Series:
    """One session's ROI signals, cleaned and unfiltered, and the cleaning operator."""

    cleaned: CleanedSignals
    unfiltered: np.ndarray
    operator: np.ndarray
    n_volumes: int
    tr: float | None
    extra_unfiltered: np.ndarray | None = None  # the seed spheres' (for the named edges)

    def keep_columns(self, keep: np.ndarray) -> None:
        self.cleaned.signals = self.cleaned.signals[:, keep]
        self.unfiltered = self.unfiltered[:, keep]


def _clean_series(raw, tr, confounds, sample_mask, denoise, source,
                  extra: np.ndarray | None = None) -> tuple[_Series, np.ndarray | None]:
    """Clean ROI signals; keep what the edge statistics need to model the cleaning.

    The signals, the ``extra`` signals (seed spheres) and the identity (which
    gives the cleaning operator) are cleaned in one call: cleaning is
    column-wise, so each column is cleaned exactly as on its own.
    """
    n_volumes, n_rois = raw.shape
    n_extra = 0 if extra is None else extra.shape[1]
    columns = [raw] + ([] if extra is None else [extra]) + [np.eye(n_volumes)]
    cleaned = clean_signals(np.hstack(columns), tr, confounds, sample_mask, denoise,
                            source=source)
    everything = cleaned.signals
    cleaned.signals = everything[:, :n_rois]
    extra_cleaned = everything[:, n_rois : n_rois + n_extra] if extra is not None else None
    operator = everything[:, n_rois + n_extra :]
    both = raw if extra is None else np.hstack([raw, extra])
    unfiltered = clean_signals(both, tr, confounds, None, replace(denoise, band_pass=None),
                               source=source).signals
    series = _Series(cleaned, unfiltered[:, :n_rois], operator, n_volumes, tr)
    series.extra_unfiltered = unfiltered[:, n_rois:] if extra is not None else None
    return series, extra_cleaned


@dataclass(eq=False)
class _SessionResult:
    series: _Series
    seed_signals: dict
    qc: Any  # SessionQC, or a function computing it (deferred QC)
    seed_unfiltered: dict | None = None


def _test_named_edges(edges: pd.DataFrame, results: list[_SessionResult]) -> pd.DataFrame:
    """Add ``stat, p, q`` to the named edges: each tested like an ROI edge (within-scan).

    A group's signal (the DMN) is the mean of its seeds' signals before cleaning,
    which equals the cleaned mean since cleaning is linear.
    """
    edges = edges.copy()
    for column in ("stat", "p", "q"):
        edges[column] = np.nan
    unfiltered = [r.seed_unfiltered or {} for r in results]
    rows: list[int] = []
    columns: list[list[np.ndarray]] = [[], []]
    for edge in NAMED_EDGES:
        seeds = edge.seeds_a + edge.seeds_b
        if edge.edge not in set(edges["edge"]) or not all(
                name in signals for signals in unfiltered for name in seeds):
            continue
        rows.append(int(np.flatnonzero(edges["edge"].to_numpy() == edge.edge)[0]))
        for k, signals in enumerate(unfiltered):
            columns[k] += [np.mean([signals[n] for n in edge.seeds_a], axis=0),
                           np.mean([signals[n] for n in edge.seeds_b], axis=0)]
    if rows:
        tests = signal_pair_tests(
            np.column_stack(columns[0]), results[0].series.operator,
            np.column_stack(columns[1]), results[1].series.operator,
            edges["delta_z"].to_numpy()[rows])
        for column in ("stat", "p", "q"):
            edges.loc[edges.index[rows], column] = tests[column].to_numpy()
    edges.attrs = dict(edges.attrs)
    edges.attrs["note"] = (edges.attrs.get("note", "") + "; p and q test each Δz against "
                           "within-scan noise like an ROI edge, q across these named edges")
    return edges


def _image_timeseries(inputs, settings, strategy, report, warnings, defer_qc=False,
                      cache: VoxelCache | None = None):
    pre, post = inputs.pre_scan, inputs.post_scan
    report(0.02, "Loading atlas")
    atlas = load_atlas(settings.atlas, settings.labels_table)
    report(0.08, "Building brain mask")
    mask = analysis_mask(inputs)
    seed_atlas = clinical_seed_atlas(SEED_RADIUS_MM)
    if cache is not None:
        cache.keep_only([pre.path, post.path])  # another patient's voxels go first
    held = [cache.get(scan.path, mask) if cache is not None else None for scan in (pre, post)]
    report(0.1, "Reading both sessions' voxels" if None in held else
           "Using both sessions' voxels held in memory")
    # The two sessions are independent: decompression (isal) and numpy release the GIL,
    # so reading and reducing them side by side uses both cores.  The ROI weights are
    # built beside them (resampling an atlas may first import nilearn, on a cold start).
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="session") as pool:
        both = pool.submit(lambda: (roi_weights(atlas, mask, pre.affine),
                                    roi_weights(seed_atlas, mask, pre.affine)))
        futures = [pool.submit(_process_session, scan, role, mask, atlas, both,
                               seed_atlas, settings, strategy, report, defer_qc, cache, one)
                   for scan, role, one in zip((pre, post), inputs.sessions, held, strict=True)]
        results = [future.result() for future in futures]
        weights = both.result()[0]
    series = [result.series for result in results]
    keep = _varying_rois(series, [atlas.roi_names[k] for k in weights.kept], warnings)
    dropped = atlas.n_rois - weights.kept.size
    if dropped:
        warnings.append(f"{dropped} ROIs of {atlas.title} have no voxel inside the brain mask")
    index = weights.kept[keep]
    for one in series:
        one.keep_columns(keep)
    rois = RoiSet(
        names=[atlas.roi_names[k] for k in index],
        networks=[atlas.networks[k] for k in index],
        coords_mm=np.asarray(atlas.coords_mm)[index],
        atlas_index=index,
    )
    edges = _test_named_edges(named_edges_from_signals(
        results[0].seed_signals, results[1].seed_signals, SEED_RADIUS_MM), results)
    qc: object = (results[0].qc, results[1].qc)
    if defer_qc:
        qc = functools.partial(_both_sessions, results[0].qc, results[1].qc)
    return rois, series, atlas, qc, edges


def _both_sessions(*computations: Callable[[], object]) -> tuple:
    """Run the sessions' deferred QC side by side, as they were read."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="qc") as pool:
        return tuple(pool.map(lambda compute: compute(), computations))


def _process_session(scan, role, mask, atlas, weights: Future, seed_atlas, settings,
                     strategy, report, defer_qc=False, cache: VoxelCache | None = None,
                     held: SessionVoxels | None = None) -> _SessionResult:
    """Derive one session's ROI and seed signals and QC from its voxels, read at most once.

    Voxels already ``held`` are averaged in memory.  Otherwise the file is read
    once: the ROI means and the finiteness check are computed block by block as
    the voxels go by (from the block where the ``weights`` are ready: the ones
    before are averaged from memory), and the voxels are kept (in ``cache`` when
    given) unless nothing needs them (QC deferred without a cache: the deferred
    QC then reads them again, streamed, :func:`core.qc.session.streamed_session_qc`).
    """
    if held is not None:
        (roi_signals, seed_roi_signals), global_signal = held.roi_signals(weights.result())
    else:
        finite = FiniteCheck()
        if cache is None and defer_qc:  # nothing kept to catch up from: wait for the weights
            averager = RoiAverager(weights.result(), scan.n_volumes)
            origin = np.empty(int(mask.sum()), dtype=np.float32)
            masked_voxels(scan.img, mask, (finite, averager), keep=False, origin=origin)
        else:
            late = _LateAverager(weights, scan.n_volumes)
            held = read_session_voxels(scan.img, mask, scan.path, (finite, late))
            averager, origin = late.finish(held.data), held.origin
        averager.add_origin(origin)
        roi_signals, seed_roi_signals = averager.signals
        global_signal = averager.volume_mean
        if finite.n_bad:
            raise InputError(
                f"expected finite values inside the brain mask, found NaN or Inf in "
                f"{finite.n_bad} voxels", scan.path,
            )
        if cache is not None and held is not None:
            cache.put(held)
    report(0.4, f"Denoising {role}")
    confounds, sample_mask = select_confounds(
        scan.confounds, scan.n_volumes, settings.denoise, strategy
    )
    if settings.denoise.gsr and strategy == "none":
        confounds = pd.DataFrame({"global_signal": global_signal})
    source = f"{role} ({scan.path.name})"
    series, seeds = _clean_series(roi_signals, scan.tr, confounds, sample_mask,
                                  settings.denoise, source, extra=seed_roi_signals)
    cleaned = series.cleaned
    cleaned.label = role
    assert seeds is not None
    seed_weights = weights.result()[1]
    seed_signals = {seed_atlas.roi_names[k]: seeds[:, column]
                    for column, k in enumerate(seed_weights.kept)}
    assert series.extra_unfiltered is not None
    seed_unfiltered = {seed_atlas.roi_names[k]: series.extra_unfiltered[:, column]
                       for column, k in enumerate(seed_weights.kept)}
    log.info("%s: %d of %d volumes kept", role, cleaned.n_kept, scan.n_volumes)

    if defer_qc:
        # a weak reference: a comparison kept for display does not keep the voxels alive
        ref = weakref.ref(held) if held is not None else None
        return _SessionResult(series, seed_signals,
                              functools.partial(_deferred_qc, ref, scan, cleaned, mask, atlas),
                              seed_unfiltered)
    assert held is not None
    report(0.6, f"Quality control of {role}")
    return _SessionResult(series, seed_signals, held_session_qc(scan, cleaned, held, atlas),
                          seed_unfiltered)


class _LateAverager:
    """A RoiAverager whose weights are built while the voxels are already being read."""

    def __init__(self, weights: Future, n_volumes: int) -> None:
        self._weights, self._n_volumes = weights, n_volumes
        self._averager: RoiAverager | None = None
        self._first = n_volumes  # the first volume averaged while reading

    def add(self, first: int, block: np.ndarray) -> None:
        if self._averager is None:
            if not self._weights.done():
                return  # averaged from memory once the read is over
            self._averager = RoiAverager(self._weights.result(), self._n_volumes)
            self._first = first
        self._averager.add(first, block)

    def finish(self, data: np.ndarray, block: int = 32) -> RoiAverager:
        """Average the volumes read before the weights were ready; return the averager."""
        if self._averager is None:
            self._averager = RoiAverager(self._weights.result(), self._n_volumes)
        for start in range(0, self._first, block):
            self._averager.add(start, data[start : min(start + block, self._first)])
        return self._averager


def _deferred_qc(ref, scan, cleaned, mask, atlas):
    """QC from the voxels if they are still held, else reading them again."""
    held = ref() if ref is not None else None
    if held is not None:
        return held_session_qc(scan, cleaned, held, atlas)
    return streamed_session_qc(scan, cleaned, mask, atlas)


def _varying_rois(series, names: list[str], warnings: list[str]) -> np.ndarray:
    keep = np.ones(len(names), dtype=bool)
    for one in series:
        cleaned = one.cleaned
        keep &= cleaned.signals.std(axis=0) > 1e-8 * (1 + np.abs(cleaned.signals).max())
    if not keep.all():
        flat = [names[i] for i in np.flatnonzero(~keep)]
        warnings.append(
            f"{len(flat)} ROIs have a constant signal and were left out: {', '.join(flat[:5])}"
            + (" ..." if len(flat) > 5 else "")
        )
    if keep.sum() < 2:
        raise InputError("expected at least 2 ROIs with a varying signal, found "
                         f"{int(keep.sum())}")
    return np.flatnonzero(keep)


def _table_timeseries(inputs, settings, report, warnings):
    names = inputs.pre_table.roi_names
    networks, unmatched = roi_networks(names, settings.labels_table)
    warnings.extend(unmatched)
    denoise = settings.denoise
    tr = inputs.table_tr or settings.tr
    if denoise.band_pass is not None and tr is None:
        raise InputError(
            "expected a repetition time for band-pass filtering of time-series tables; "
            "give --tr SECONDS or --no-filter"
        )
    series = []
    for i, table in enumerate((inputs.pre_table, inputs.post_table)):
        report(0.2 + 0.3 * i, f"Denoising {inputs.sessions[i]}")
        source = f"{inputs.sessions[i]} ({table.path.name})"
        one, _ = _clean_series(np.asarray(table.data, dtype=np.float64), tr or 1.0, None,
                               None, denoise, source)
        one.tr = tr
        series.append(one)
    keep = _varying_rois(series, names, warnings)
    for one in series:
        one.keep_columns(keep)
    rois = RoiSet(names=[names[k] for k in keep], networks=[networks[k] for k in keep])
    return rois, series, None

