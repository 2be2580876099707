"""Writing analysis results: whole files or nothing, never into an input folder."""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core import DISCLAIMER, __version__
from core.errors import InputError
from core.io.files import atomic_write_text
from core.io.inputs import PatientInputs
from core.maps.seeds import empty_named_edges
from core.report.tsv import frame_tsv, matrix_tsv
from core.results import Comparison
from core.review import compute_statistics
from core.review_state import ReviewState, ReviewStatistics
from core.signal.connectivity import fisher_z

__all__ = [
    "check_output_dir",
    "software_versions",
    "summary_dict",
    "write_analysis_outputs",
    "write_review_outputs",
]


def software_versions() -> dict[str, str]:
    """Versions of this program and of the libraries that produced the numbers.

    Returns
    -------
    dict of str to str
    """
    import nibabel
    import nilearn
    import scipy

    return {
        "prepost-review": __version__, "python": platform.python_version(),
        "numpy": np.__version__, "scipy": scipy.__version__, "pandas": pd.__version__,
        "nibabel": nibabel.__version__, "nilearn": nilearn.__version__,
    }


def check_output_dir(out_dir: str | Path, inputs: PatientInputs) -> Path:
    """Create the output folder, refusing any folder that holds or contains inputs.

    Parameters
    ----------
    out_dir : str or Path
    inputs : PatientInputs

    Returns
    -------
    Path
        The resolved output folder.

    Raises
    ------
    InputError
        When the folder is an input folder or lies inside the fMRIPrep folder,
        or cannot be created.
    """
    out = Path(out_dir).expanduser().resolve()
    root = inputs.root.resolve() if inputs.root is not None else None
    if out in inputs.input_folders() or (root is not None and root in out.parents):
        raise InputError(
            "expected an output folder outside the patient's input folders, "
            f"got {out}, which holds or lies inside the inputs"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"the output folder cannot be created ({exc.strerror})", out) from exc
    return out


def _matrix_tsv(matrix: np.ndarray, names: list[str]) -> str:
    return matrix_tsv(matrix, names, "roi", "%.6f")


def _tsv(frame: pd.DataFrame) -> str:
    return frame_tsv(frame, "%.6g")


def _partial_z(partial: np.ndarray | None) -> np.ndarray:
    if partial is None:
        raise ValueError("partial correlation was not computed")
    return fisher_z(partial)


def summary_dict(state: ReviewState) -> dict[str, Any]:
    """Everything needed to reproduce and audit the numbers, as a JSON-ready dict.

    Parameters
    ----------
    state : ReviewState
        With its statistics (the input SHA-256s are read from them).

    Returns
    -------
    dict
    """
    comparison, inputs, statistics = state.comparison, state.inputs, _statistics(state)
    files = {f.role: {"path": str(f.path), "bytes": f.n_bytes, "sha256": f.sha256}
             for f in statistics.input_files}
    sessions = {
        role: {"label": s.label, "volumes": s.n_volumes, "volumes_kept": s.n_kept, "tr": s.tr}
        for role, s in (("pre", comparison.pre), ("post", comparison.post))
    }
    summary = {
        "disclaimer": DISCLAIMER,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "subject": comparison.subject,
        "input_kind": inputs.kind,
        "parameters": {**comparison.settings.to_dict(), "strategy_applied": comparison.strategy,
                       "measure": "Pearson r, Fisher z (arctanh), diagonal 0"},
        "atlas": comparison.atlas.title if comparison.atlas is not None else "from table",
        "n_rois": len(comparison.rois),
        "sessions": sessions,
        "inputs": files,
        "warnings": list(state.warnings),
        "named_edges_note": (comparison.named_edges.attrs.get("note", "")
                             if comparison.named_edges is not None else ""),
        "software": software_versions(),
    }
    if statistics.reference is not None:
        summary["reference"] = statistics.reference
    if inputs.preprocessing is not None:
        summary["preprocessing"] = inputs.preprocessing.to_dict()
    return summary


def _statistics(state: ReviewState) -> ReviewStatistics:
    if state.statistics is None:
        raise ValueError("expected a review state with its statistics computed, got one "
                         "without (core.review.compute_statistics)")
    return state.statistics


def write_review_outputs(state: ReviewState, out_dir: str | Path) -> list[Path]:
    """Write the command line's result files of a computed review into ``out_dir``.

    Nothing is computed again: every table comes from ``state.statistics``.
    Files: ``connectivity_pre.tsv``, ``connectivity_post.tsv``,
    ``connectivity_delta.tsv`` (Fisher z, ROI names as header row and first
    column, diagonal 0), ``partial_pre.tsv`` and ``partial_post.tsv`` (Fisher z
    of partial correlations), ``networks.tsv`` (with the single-patient test:
    ``se, stat, p, q``), ``edges.tsv`` (every ROI pair with ``stat, p, q``),
    ``qc.tsv`` (motion, scrubbing, tSNR, QC-FC; pre, post, difference),
    ``named_edges.tsv`` (dlPFC–sgACC, insula–DMN, amygdala–sgACC, PCC–mPFC),
    ``rois.tsv`` and ``summary.json``.  With a reference, ``edges.tsv`` and
    ``networks.tsv`` gain ``ref_n, ref_mean, ref_sd, t_ref, p_ref, q_ref``.
    Each appears whole or not at all.

    Parameters
    ----------
    state : ReviewState
        With its statistics.
    out_dir : str or Path

    Returns
    -------
    list of Path
        The files written.
    """
    comparison, statistics = state.comparison, _statistics(state)
    out = check_output_dir(out_dir, state.inputs)
    edges = comparison.named_edges if comparison.named_edges is not None else (
        empty_named_edges())
    names = comparison.rois.names
    rois = pd.DataFrame({"roi": names, "network": comparison.rois.networks,
                         "strength_pre": comparison.pre.strength,
                         "strength_post": comparison.post.strength,
                         "strength_delta": comparison.delta_strength})
    if comparison.rois.coords_mm is not None:
        for axis, column in zip("xyz", comparison.rois.coords_mm.T, strict=True):
            rois[f"{axis}_mm"] = column
    qc = statistics.qc_table if statistics.qc_table is not None else pd.DataFrame(
        columns=["measure", "pre", "post", "difference"])
    contents = {
        "connectivity_pre.tsv": _matrix_tsv(comparison.pre.z, names),
        "connectivity_post.tsv": _matrix_tsv(comparison.post.z, names),
        "connectivity_delta.tsv": _matrix_tsv(comparison.delta_z, names),
        "partial_pre.tsv": _matrix_tsv(_partial_z(comparison.pre.partial_r), names),
        "partial_post.tsv": _matrix_tsv(_partial_z(comparison.post.partial_r), names),
        "networks.tsv": _tsv(statistics.networks),
        "edges.tsv": _tsv(statistics.edges.drop(columns=["index_a", "index_b"],
                                                errors="ignore")),
        "qc.tsv": _tsv(qc),
        "named_edges.tsv": _tsv(edges),
        "rois.tsv": frame_tsv(rois, "%.6f"),
    }
    summary = summary_dict(state)
    summary["outputs"] = [*contents, "summary.json"]
    contents["summary.json"] = json.dumps(summary, indent=2) + "\n"
    return [atomic_write_text(out / name, text) for name, text in contents.items()]


def write_analysis_outputs(
    comparison: Comparison, inputs: PatientInputs, out_dir: str | Path
) -> list[Path]:
    """Compute the statistics of a comparison and write its result files.

    For a notebook holding only a comparison; the program itself keeps a
    :class:`core.review_state.ReviewState` and calls
    :func:`write_review_outputs`, which computes nothing again.

    Parameters
    ----------
    comparison : Comparison
    inputs : PatientInputs
    out_dir : str or Path

    Returns
    -------
    list of Path
        The files written.
    """
    check_output_dir(out_dir, inputs)
    state = ReviewState(inputs=inputs, comparison=comparison,
                        statistics=compute_statistics(comparison, inputs))
    return write_review_outputs(state, out_dir)
