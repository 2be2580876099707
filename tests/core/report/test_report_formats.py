"""The report prints p and q as the window's tables do, and never a negative zero."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core.display_text import format_p
from core.report.content import _fmt
from core.report.html import _network_rows, _p


def test_report_network_rows_print_p_and_q_with_the_shared_format():
    networks = pd.DataFrame({
        "network_a": ["Limbic", "Cont", "Vis"], "network_b": ["Default"] * 3,
        "n_edges": [120, 312, 408], "z_pre": [0.1, -0.0001, 0.2], "z_post": [0.2, 0.1, 0.3],
        "delta_z": [-0.606, 0.437, -0.0004], "se": [0.1, 0.1, 0.1],
        "stat": [-4.469, 3.687, -0.001], "p": [7.87e-6, 2.27e-4, 0.5],
        "q": [2.2e-4, 0.00317, np.nan]})
    rows, classes = _network_rows(networks)
    assert [r[7] for r in rows] == ["7.87e-06", "2.27e-04", "0.500"]
    assert [r[8] for r in rows] == ["2.20e-04", "0.00317", "—"]
    assert [r[8] for r in rows][:2] == [format_p(q) for q in networks["q"][:2]]
    assert classes == ["sig", "sig", ""]
    text = " ".join(" ".join(r) for r in rows)
    assert not re.search(r"-0\.0+(?![0-9])", text)  # -0.000 never printed
    assert "+0.000" in text and "-0.00" not in text


def test_report_number_helpers():
    assert _fmt(-0.0004, "{:+.3f}") == "+0.000"
    assert _fmt(-0.0004, "{:.2f}") == "0.00"
    assert _fmt(float("nan")) == "—"
    assert _p(None) == "—" and _p("x") == "—" and _p(0.04) == "0.0400"
