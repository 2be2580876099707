"""The reference verdict: whether the patient's change exceeds that of untreated people.

Glue between a review and a reference of untreated repeat scans
(:mod:`core.io.reference_file`, statistics in :mod:`core.stats.reference`)::

    reference = load_reference("reference.zip")
    verdict = reference_verdict(reference, comparison)  # checks the analyses match
    statistics = compute_statistics(comparison, inputs, verdict=verdict)

and, for a cohort, one pair's part of a reference from its review
(:func:`pair_from_review`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from core.errors import InputError
from core.io.reference_file import MIN_PAIRS, REFERENCE_FILE, Reference, build_reference
from core.io.reference_pair import (
    REFERENCE_PAIR_FILE,
    ReferencePair,
    load_reference_pair,
    triu_edge_index,
)
from core.stats.inference import benjamini_hochberg
from core.stats.reference import (
    METHOD,
    METHOD_DESCRIPTION,
    ReferenceSummary,
    summarise_reference,
    test_against_reference,
)

if TYPE_CHECKING:
    from core.results import Comparison
    from core.review_state import ReviewState

__all__ = ["REFERENCE_COLUMNS", "analysis_record", "build_cohort_reference",
           "pair_from_review", "reference_verdict"]

log = logging.getLogger(__name__)

#: Columns the verdict adds to the edge and network tables.
REFERENCE_COLUMNS = ("ref_n", "ref_mean", "ref_sd", "t_ref", "p_ref", "q_ref")
VerdictFunction = Callable[[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray],
                           tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]]


def analysis_record(settings: dict[str, Any], strategy: str, atlas: Any) -> dict[str, Any]:
    """Describe the analysis that a reference must share with the patient's.

    Parameters
    ----------
    settings : dict
        :meth:`core.settings.AnalysisSettings.to_dict`; file paths are reduced
        to file names.
    strategy : str
        Denoising preset applied.
    atlas : core.atlas.atlases.Atlas or None
        None for time-series tables.

    Returns
    -------
    dict
        ``settings``, ``strategy_applied``, ``atlas`` (registry name) and ``atlas_title``.
    """
    settings = {**settings, "denoise": dict(settings.get("denoise", {}))}
    for key in ("atlas", "labels_table"):
        if isinstance(settings.get(key), str) and ("/" in settings[key] or "\\" in settings[key]):
            settings[key] = Path(settings[key]).name
    band = settings["denoise"].get("band_pass")
    settings["denoise"]["band_pass"] = None if band is None else [float(x) for x in band]
    return {"settings": settings, "strategy_applied": strategy,
            "atlas": None if atlas is None else atlas.name,
            "atlas_title": None if atlas is None else atlas.title}


def pair_from_review(state: ReviewState) -> ReferencePair:
    """Take one repeat-scan pair's part of a reference from its computed review.

    Parameters
    ----------
    state : ReviewState
        With its statistics (:func:`core.review.review_patient`).

    Returns
    -------
    ReferencePair
        Save it with :func:`core.io.reference_pair.save_reference_pair`.
    """
    comparison, statistics = state.comparison, state.statistics
    if statistics is None:
        raise ValueError("expected a review state with its statistics computed, got one without")
    rois, edges, networks = comparison.rois, statistics.edges, statistics.networks
    ii, jj = np.triu_indices(len(rois), k=1)
    if "index_a" in edges and not (np.array_equal(edges["index_a"], ii)
                                   and np.array_equal(edges["index_b"], jj)):
        raise ValueError("expected the edge table in upper-triangle order of the ROI list")
    return ReferencePair(
        subject=comparison.subject,
        analysis=analysis_record(comparison.settings.to_dict(), comparison.strategy,
                                 comparison.atlas),
        roi_names=tuple(rois.names), roi_networks=tuple(rois.networks),
        blocks=tuple(zip(networks["network_a"], networks["network_b"], strict=True)),
        edge_delta=edges["delta_z"].to_numpy(np.float32),
        edge_within_var=np.asarray(statistics.edge_variance, np.float32),
        block_delta=networks["delta_z"].to_numpy(np.float32),
        block_within_var=(networks["se"].to_numpy(np.float64) ** 2).astype(np.float32),
        sessions={role: {"volumes": int(s.n_volumes), "volumes_kept": int(s.n_kept),
                         "tr": None if s.tr is None else float(s.tr)}
                  for role, s in (("pre", comparison.pre), ("post", comparison.post))},
        inputs={f.role: f.sha256 for f in statistics.input_files},
        atlas_index=None if rois.atlas_index is None else tuple(int(k) for k in rois.atlas_index),
    )


def build_cohort_reference(out_dir: str | Path, subject_folders: Sequence[str | Path],
                           software: dict[str, str]) -> Path | None:
    """Build ``OUT/reference.zip`` from the ``reference_pair.npz`` of a cohort's subjects.

    Parameters
    ----------
    out_dir : str or Path
        The cohort output folder.
    subject_folders : sequence of str or Path
        Finished subject folders, in table order; folders without a pair file
        (made by an earlier version) are left out with a warning.
    software : dict of str to str
        Versions recorded in the reference.

    Returns
    -------
    Path or None
        None when fewer than :data:`~core.io.reference_file.MIN_PAIRS` pairs exist.
    """
    files = [Path(f) / REFERENCE_PAIR_FILE for f in subject_folders]
    missing = [f.parent.name for f in files if not f.is_file()]
    if missing:
        log.warning("%d subject folders have no %s and are not in the reference: %s",
                    len(missing), REFERENCE_PAIR_FILE, ", ".join(missing[:5]))
    pairs = [load_reference_pair(f) for f in files if f.is_file()]
    if len(pairs) < MIN_PAIRS:
        log.warning("no reference of repeat scans written: %d pairs, at least %d needed",
                    len(pairs), MIN_PAIRS)
        return None
    return build_reference(pairs, Path(out_dir) / REFERENCE_FILE, software)


def _describe(record: dict[str, Any]) -> dict[str, str]:
    """Put what must match into words, from an :func:`analysis_record`."""
    denoise = record["settings"]["denoise"]
    band = denoise.get("band_pass")
    return {
        "atlas": (f"atlas {record['atlas']}" if record["atlas"]
                  else "time-series tables (no atlas)"),
        "strategy": f"denoising strategy {record['strategy_applied']}",
        "gsr": "global signal regression" if denoise["gsr"] else "no global signal regression",
        "band_pass": (f"band-pass {band[0]:g}–{band[1]:g} Hz" if band else "no band-pass"),
        "detrend": "linear detrending" if denoise["detrend"] else "no detrending",
    }


def _check_match(reference: Reference, comparison: Comparison) -> list[str]:
    """Raise InputError on the first difference; return warnings for the rest."""
    ours = _describe(analysis_record(comparison.settings.to_dict(), comparison.strategy,
                                     comparison.atlas))
    try:
        theirs = _describe(reference.analysis)
    except (KeyError, TypeError, IndexError):
        raise InputError("expected the analysis parameters in metadata.json, found them "
                         "incomplete", reference.path) from None
    for key, text in theirs.items():
        if ours[key] != text:
            raise InputError(f"the reference was made with {text}, this analysis uses "
                             f"{ours[key]}", reference.path)
    network = dict(zip(reference.roi_names, reference.roi_networks, strict=True))
    absent = [n for n in comparison.rois.names if n not in network]
    if absent:
        raise InputError(f"expected this analysis's ROIs among the reference's {len(network)}, "
                         f"found {len(absent)} that are not: {', '.join(absent[:3])}"
                         + (" ..." if len(absent) > 3 else ""), reference.path)
    for name, net in zip(comparison.rois.names, comparison.rois.networks, strict=True):
        if network[name] != net:
            raise InputError(f"the reference puts ROI {name} in network "
                             f"{network[name] or 'none'}, this analysis in {net or 'none'}",
                             reference.path)
    warnings = []
    if len(comparison.rois) < len(network):
        warnings.append(f"this analysis has {len(comparison.rois)} of the reference's "
                        f"{len(network)} ROIs; its network blocks average fewer edges than "
                        "the reference's")
    trs = {s.get("tr") for p in reference.metadata["pairs"] for s in (p["pre"], p["post"])}
    mine = {comparison.pre.tr, comparison.post.tr}
    if None not in trs | mine and not all(any(abs(a - b) < 1e-3 for b in trs) for a in mine):
        warnings.append(f"the reference's TR ({', '.join(f'{t:g}' for t in sorted(trs))} s) "
                        f"differs from this analysis's ({', '.join(f'{t:g}' for t in mine)} s)")
    return warnings


def _prior_df(summary: ReferenceSummary) -> float | None:
    return None if np.isinf(summary.prior_df) else round(float(summary.prior_df), 2)


def _add_columns(table: pd.DataFrame, rows: np.ndarray, delta: np.ndarray,
                 within_var: np.ndarray, summary: ReferenceSummary) -> pd.DataFrame:
    """Columns for the table's rows; ``rows`` index the summary (-1: not in the reference)."""
    found = rows >= 0
    part = summary.take(np.where(found, rows, 0))
    t, _, p = test_against_reference(delta, within_var, part)
    out = table.copy()
    out["ref_n"] = np.where(found, part.n, 0)
    columns = {"ref_mean": part.mean, "ref_sd": part.sd, "t_ref": t, "p_ref": p}
    for name, values in columns.items():
        out[name] = np.where(found, values, np.nan)
    out["q_ref"] = benjamini_hochberg(out["p_ref"].to_numpy())
    return out


def reference_verdict(reference: Reference, comparison: Comparison) -> VerdictFunction:
    """Check that a reference fits an analysis and return its verdict.

    The reference must be made with the same atlas, denoising strategy, global
    signal regression, band-pass and detrending, and hold every ROI of the
    analysis (which may have dropped some) in the same networks.  Edges are
    matched by their ROI names, blocks by their network names.  When the
    patient's subject ID is among the reference's, that pair is left out.

    Parameters
    ----------
    reference : Reference
        From :func:`core.io.reference_file.load_reference`.
    comparison : Comparison

    Returns
    -------
    callable
        ``verdict(edges, networks, edge_variance, network_variance)`` returning
        the tables with :data:`REFERENCE_COLUMNS` added and the provenance
        dict (:data:`core.review.Verdict`).

    Raises
    ------
    InputError
        One line naming the first difference, or too few pairs.
    """
    warnings = _check_match(reference, comparison)
    subjects = reference.subjects
    keep = np.array([s != comparison.subject for s in subjects])
    if not keep.all():
        warnings.append(f"{comparison.subject} is one of the reference's pairs and was left "
                        "out of it for this verdict (leave-one-out)")
    if keep.sum() < MIN_PAIRS:
        raise InputError(f"expected at least {MIN_PAIRS} reference pairs other than "
                         f"{comparison.subject}, found {int(keep.sum())}", reference.path)
    names, networks = reference.roi_names, reference.roi_networks
    ii, jj = np.triu_indices(len(names), k=1)
    labels = np.array([n or "Unassigned" for n in networks], dtype=object)
    groups = np.where(labels[ii] <= labels[jj], labels[ii] + "|" + labels[jj],
                      labels[jj] + "|" + labels[ii])
    edges_ref = summarise_reference(reference.edge_delta[keep], reference.edge_within_var[keep],
                                    groups)
    blocks_ref = summarise_reference(reference.block_delta[keep],
                                     reference.block_within_var[keep])
    block_row = {frozenset(b): k for k, b in enumerate(reference.blocks)}
    roi_index = pd.Index(names)
    provenance = {
        "file": reference.path.name, "sha256": reference.sha256,
        "format": reference.metadata["format"], "version": reference.metadata["version"],
        "created": reference.metadata.get("created"),
        "software": reference.metadata.get("software"), "n_pairs": int(keep.sum()),
        "subjects": [s for s, k in zip(subjects, keep, strict=True) if k],
        "excluded_subjects": [s for s, k in zip(subjects, keep, strict=True) if not k],
        "method": METHOD, "description": METHOD_DESCRIPTION,
        "prior_df_edges": _prior_df(edges_ref), "prior_df_networks": _prior_df(blocks_ref),
        "warnings": warnings,
    }

    def verdict(edges: pd.DataFrame, networks: pd.DataFrame, edge_variance: np.ndarray,
                network_variance: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
        a = roi_index.get_indexer(pd.Index(edges["roi_a"]))
        b = roi_index.get_indexer(pd.Index(edges["roi_b"]))
        rows = np.where((a >= 0) & (b >= 0), triu_edge_index(a, b, len(names)), -1)
        edges = _add_columns(edges, rows, edges["delta_z"].to_numpy(np.float64),
                             np.asarray(edge_variance, np.float64), edges_ref)
        rows = np.array([block_row.get(frozenset(ab), -1) for ab in
                         zip(networks["network_a"], networks["network_b"], strict=True)], int)
        networks = _add_columns(networks, rows, networks["delta_z"].to_numpy(np.float64),
                                np.asarray(network_variance, np.float64), blocks_ref)
        return edges, networks, dict(provenance, warnings=list(warnings))

    return verdict
