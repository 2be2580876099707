"""The fast TSV text is byte for byte what pandas writes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.report.tsv import frame_tsv, matrix_tsv


def _pandas_matrix(matrix, names):
    frame = pd.DataFrame(matrix, index=names, columns=names)
    frame.index.name = "roi"
    return frame.to_csv(sep="\t", float_format="%.6f", lineterminator="\n")


def _pandas_frame(frame, float_format="%.6g"):
    return frame.to_csv(sep="\t", index=False, float_format=float_format, lineterminator="\n")


def test_matrices_with_nan_negative_zero_large_values_and_awkward_names():
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((6, 6)) * [1, 1e-9, 1e9, 1, 1, 1]
    matrix[2, 3], matrix[4, 4], matrix[5, 1] = np.nan, -0.0, np.inf
    names = ["a", "tab\there", 'quote"d', "carriage\rreturn", "ümlaut", "b"]
    assert matrix_tsv(matrix, names) == _pandas_matrix(matrix, names)
    assert matrix_tsv(np.zeros((0, 0)), []) == _pandas_matrix(np.zeros((0, 0)), [])


@pytest.mark.parametrize("float_format", ["%.6g", "%.6f"])
def test_tables_of_every_column_kind(float_format):
    frame = pd.DataFrame({
        "name": ["x", "y\tz", "line\nbreak"], "n": np.array([1, -2, 3], dtype=np.int64),
        "flag": [True, False, True], "value": [0.5, np.nan, -1e-12],
        "small": np.array([1.5, 2.25, 3.0], dtype=np.float32),
        "text": pd.array(["p", "q", "r"], dtype="string"),
    })
    assert frame_tsv(frame, float_format) == _pandas_frame(frame, float_format)
    empty = pd.DataFrame(columns=["measure", "pre", "post", "difference"])
    assert frame_tsv(empty) == _pandas_frame(empty)
    mixed = pd.DataFrame({"any": [1, "a", None]})  # left to pandas
    assert frame_tsv(mixed) == _pandas_frame(mixed)


def test_the_analysis_files_are_unchanged(demo_review, tmp_path):
    """Every table of a real review, written fast, equals pandas' text."""
    from core.report.analysis_files import write_review_outputs

    state = demo_review
    write_review_outputs(state, tmp_path)
    c, stats = state.comparison, state.statistics
    names = c.rois.names
    assert (tmp_path / "connectivity_delta.tsv").read_text() == _pandas_matrix(c.delta_z, names)
    edges = stats.edges.drop(columns=["index_a", "index_b"], errors="ignore")
    assert (tmp_path / "edges.tsv").read_text() == _pandas_frame(edges)
    assert (tmp_path / "networks.tsv").read_text() == _pandas_frame(stats.networks)
    assert (tmp_path / "qc.tsv").read_text() == _pandas_frame(stats.qc_table)
    assert (tmp_path / "named_edges.tsv").read_text() == _pandas_frame(c.named_edges)
