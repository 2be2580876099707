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
from core.io.files import atomic_write_text, sha256_file
from core.io.inputs import PatientInputs
from core.results import Comparison

__all__ = ["check_output_dir", "software_versions", "summary_dict", "write_analysis_outputs"]


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
    frame = pd.DataFrame(matrix, index=names, columns=names)
    frame.index.name = "roi"
    return frame.to_csv(sep="\t", float_format="%.6f", lineterminator="\n")


def _tsv(frame: pd.DataFrame) -> str:
    return frame.to_csv(sep="\t", index=False, float_format="%.6g", lineterminator="\n")


def _partial_z(partial: np.ndarray | None) -> np.ndarray:
    from core.signal.connectivity import fisher_z

    if partial is None:
        raise ValueError("partial correlation was not computed")
    return fisher_z(partial)


def summary_dict(comparison: Comparison, inputs: PatientInputs) -> dict[str, Any]:
    """Everything needed to reproduce and audit the numbers, as a JSON-ready dict.

    Parameters
    ----------
    comparison : Comparison
    inputs : PatientInputs

    Returns
    -------
    dict
    """
    files = {
        role: {"path": str(path.resolve()), "bytes": path.stat().st_size,
               "sha256": sha256_file(path)}
        for role, path in sorted(inputs.files.items())
    }
    sessions = {
        role: {"label": s.label, "volumes": s.n_volumes, "volumes_kept": s.n_kept, "tr": s.tr}
        for role, s in (("pre", comparison.pre), ("post", comparison.post))
    }
    return {
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
        "warnings": list(comparison.warnings),
        "named_edges_note": (comparison.named_edges.attrs.get("note", "")
                             if comparison.named_edges is not None else ""),
        "software": software_versions(),
    }


def write_analysis_outputs(
    comparison: Comparison, inputs: PatientInputs, out_dir: str | Path
) -> list[Path]:
    """Write the command line's result files into ``out_dir``.

    Files: ``connectivity_pre.tsv``, ``connectivity_post.tsv``,
    ``connectivity_delta.tsv`` (Fisher z, ROI names as header row and first
    column, diagonal 0), ``partial_pre.tsv`` and ``partial_post.tsv`` (Fisher z
    of partial correlations), ``networks.tsv`` (with the single-patient test:
    ``se, stat, p, q``), ``edges.tsv`` (every ROI pair with ``stat, p, q``),
    ``qc.tsv`` (motion, scrubbing, tSNR, QC-FC; pre, post, difference),
    ``named_edges.tsv`` (dlPFC–sgACC, insula–DMN, amygdala–sgACC, PCC–mPFC),
    ``rois.tsv`` and ``summary.json``.
    Each appears whole or not at all.

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
    from core.qc import comparison_qc, qc_fc, qc_table
    from core.stats import edge_table, network_stats_table

    out = check_output_dir(out_dir, inputs)
    from core.maps.seeds import empty_named_edges

    qc = comparison.complete_qc() or comparison_qc(comparison, inputs)
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
    contents = {
        "connectivity_pre.tsv": _matrix_tsv(comparison.pre.z, names),
        "connectivity_post.tsv": _matrix_tsv(comparison.post.z, names),
        "connectivity_delta.tsv": _matrix_tsv(comparison.delta_z, names),
        "partial_pre.tsv": _matrix_tsv(_partial_z(comparison.pre.partial_r), names),
        "partial_post.tsv": _matrix_tsv(_partial_z(comparison.post.partial_r), names),
        "networks.tsv": _tsv(network_stats_table(comparison)),
        "edges.tsv": _tsv(edge_table(comparison)),
        "qc.tsv": _tsv(qc_table(qc[0], qc[1], qc_fc(comparison, qc[0], qc[1]))),
        "named_edges.tsv": _tsv(edges),
        "rois.tsv": rois.to_csv(sep="\t", index=False, float_format="%.6f",
                                lineterminator="\n"),
    }
    summary = summary_dict(comparison, inputs)
    summary["outputs"] = [*contents, "summary.json"]
    contents["summary.json"] = json.dumps(summary, indent=2) + "\n"
    return [atomic_write_text(out / name, text) for name, text in contents.items()]
