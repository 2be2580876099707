"""Statistics and quality-control result files: ``edges.tsv``, ``networks.tsv``, ``qc.tsv``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.outputs import atomic_write_text, check_output_dir
from core.qc import comparison_qc, motion_warning, qc_fc, qc_table
from core.results import Comparison
from core.stats import edge_table, network_stats_table

__all__ = ["network_table_with_stats", "write_stats_outputs"]


def _tsv(frame: pd.DataFrame) -> str:
    return frame.to_csv(sep="\t", index=False, float_format="%.6g", lineterminator="\n")


def network_table_with_stats(comparison: Comparison) -> pd.DataFrame:
    """Return the ``networks.tsv`` table extended with the single-patient test of Δz.

    Parameters
    ----------
    comparison : Comparison

    Returns
    -------
    DataFrame
        ``network_a, network_b, n_edges, z_pre, z_post, delta_z`` (as
        :meth:`Comparison.network_table`) plus ``se, stat, p, q``.
    """
    return network_stats_table(comparison)


def write_stats_outputs(comparison: Comparison, inputs, out_dir: str | Path,
                        include_networks: bool = True) -> list[Path]:
    """Write ``edges.tsv``, ``qc.tsv`` and (optionally) the extended ``networks.tsv``.

    Each file appears whole or not at all.  A motion-difference warning is
    appended to ``comparison.warnings`` when the sessions differ in motion.

    Parameters
    ----------
    comparison : Comparison
    inputs : PatientInputs
        The inputs of the comparison (QC reads the voxels again).
    out_dir : str or Path
    include_networks : bool, default=True
        Also (over)write ``networks.tsv`` with the ``se, stat, p, q`` columns.

    Returns
    -------
    list of Path
        The files written.
    """
    out = check_output_dir(out_dir, inputs)
    qc_pre, qc_post = comparison_qc(comparison, inputs)
    warning = motion_warning(qc_pre, qc_post)
    if warning and warning not in comparison.warnings:
        comparison.warnings.append(warning)
    contents = {
        "edges.tsv": _tsv(edge_table(comparison)),
        "qc.tsv": _tsv(qc_table(qc_pre, qc_post, qc_fc(comparison, qc_pre, qc_post))),
    }
    if include_networks:
        contents["networks.tsv"] = _tsv(network_table_with_stats(comparison))
    return [atomic_write_text(out / name, text) for name, text in contents.items()]
