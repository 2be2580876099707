"""What the report says, assembled without Qt, and its HTML version.

:func:`build_report_content` gathers everything a report needs from a
:class:`core.results.Comparison` and its :class:`core.io.inputs.PatientInputs`;
:func:`report_html` lays it out as one HTML page, and
:func:`write_report_html` writes it atomically with the figures embedded.
The PDF (``gui.report_pdf``) renders the same HTML with Qt, so both versions
always show the same numbers.

The patient label defaults to the BIDS subject ID.  Nothing is ever read from
image headers for it: no name and no birth date can reach a report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core import DISCLAIMER
from core.display_text import format_number
from core.errors import InputError
from core.io.inputs import PatientInputs
from core.maps.seeds import empty_named_edges
from core.measure_names import QC_MEASURE_NAMES
from core.qc.motion import motion_note
from core.report.analysis_files import software_versions
from core.results import Comparison
from core.review import compute_statistics
from core.review_state import ReviewState, reading_warnings

__all__ = [
    "FIGURES",
    "REPORT_MAP_DISPLAY",
    "ReportContent",
    "build_report_content",
    "check_report_path",
    "clean_patient_label",
    "report_content",
]


#: The report's own display of its brain map, whatever the window shows at the time
#: (its colour map, threshold and opacity sliders are not copied): pyqtgraph colour
#: map of pre and post, the fraction of each colour scale below which values are
#: hidden, and the opacity.
REPORT_MAP_DISPLAY = {"colormap": "inferno", "threshold": 0.1, "opacity": 1.0}
#: Figure keys, their captions, in report order.  The captions state the fixed display,
#: including the one filter the figures apply (the map's threshold).
FIGURES = {
    "matrices": "Connectivity matrices, ROIs grouped by network (Fisher z; Δ = post − pre). "
                "Every ROI pair is shown (no significance filter; the tests are in the "
                "tables); colour scales ±1.5 z for pre and post, ±99th percentile of |Δz| "
                "for Δ.",
    "slices": "Slices of the map through the cursor (neurological view: left on left). "
              f"Filter: values below {REPORT_MAP_DISPLAY['threshold']:.0%} of each colour "
              f"scale are hidden; colour map {REPORT_MAP_DISPLAY['colormap']} (pre, post) "
              f"and blue–red (Δ), opacity {REPORT_MAP_DISPLAY['opacity']:.0%}.",
}


_LABEL_MAX = 64




@dataclass
class ReportContent:
    """Everything a report shows, as plain data.

    Attributes
    ----------
    patient_label : str
        Editable label (default the BIDS subject ID); never a name or birth date.
    subject : str
        BIDS subject ID of the data.
    sessions : list of (str, str)
        ``(role, description)`` of pre and post (label, volumes kept, TR).
    parameters : list of (str, str)
        Atlas, denoising, band-pass, TR, volumes kept and so on.
    qc : DataFrame
        ``measure, pre, post, difference`` with readable measure names.
    motion_warning : str or None
    motion_note : str
        High-motion volumes per session and whether the strategy scrubbed them.
    networks : DataFrame
        Network Δ table with ``se, stat, p, q``.
    named_edges : DataFrame
    named_edges_note : str
    warnings : list of str
    software : dict of str to str
    inputs : list of (str, str, str)
        ``(role, file name, SHA-256)``.
    created : str
        Date and time (UTC) the report was made.
    reference : dict or None
        Provenance of the reference of repeat scans the verdict used; None
        when significance is judged against within-scan noise only.
    map_title : str
        What the slice figure shows.
    disclaimer : str
    """

    patient_label: str
    subject: str
    sessions: list[tuple[str, str]]
    parameters: list[tuple[str, str]]
    qc: pd.DataFrame
    motion_warning: str | None
    networks: pd.DataFrame
    named_edges: pd.DataFrame
    named_edges_note: str = ""
    warnings: list[str] = field(default_factory=list)
    software: dict[str, str] = field(default_factory=dict)
    inputs: list[tuple[str, str, str]] = field(default_factory=list)
    created: str = ""
    map_title: str = "ROI strength (mean Fisher z with all other ROIs)"
    disclaimer: str = DISCLAIMER
    reference: dict[str, Any] | None = None
    motion_note: str = ""


def clean_patient_label(label: str | None, default: str) -> str:
    """Return a one-line patient label of at most 64 characters (``default`` when empty).

    Parameters
    ----------
    label : str or None
    default : str

    Returns
    -------
    str
    """
    text = " ".join(str(label or "").split())[:_LABEL_MAX]
    return text or default


def _fmt(value: Any, pattern: str = "{:.3f}") -> str:
    if value is None:
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not np.isfinite(number):
        return "—"
    spec = re.fullmatch(r"\{:([^{}]*)\}", pattern)  # "{:+.2f}": never a negative zero
    return format_number(number, spec.group(1)) if spec else pattern.format(number)


def _parameters(comparison: Comparison) -> list[tuple[str, str]]:
    s = comparison.settings
    d = s.denoise
    atlas = comparison.atlas.title if comparison.atlas is not None else "ROI time-series tables"
    tr = comparison.pre.tr or comparison.post.tr
    band = "off" if d.band_pass is None else f"{d.band_pass[0]:g}–{d.band_pass[1]:g} Hz"
    quick = [("Preprocessing", comparison.provenance["preprocessing"])
             ] if comparison.provenance.get("preprocessing") else []
    return [
        *quick,
        ("Atlas", f"{atlas} ({len(comparison.rois)} ROIs)"),
        ("Denoising strategy", f"{comparison.strategy}"
         + (" (requested: automatic)" if d.strategy is None else "")),
        ("Global signal regression", "yes" if d.gsr else "no"),
        ("Band-pass", band),
        ("Linear detrending", "yes" if d.detrend else "no"),
        ("TR", f"{tr:g} s" if tr else "unknown"),
        ("Volumes kept", f"pre {comparison.pre.n_kept}/{comparison.pre.n_volumes}, "
                         f"post {comparison.post.n_kept}/{comparison.post.n_volumes}"),
        ("Minimum volumes", str(d.min_volumes)),
        ("Measure", "Pearson r, Fisher z (arctanh); Δ = post − pre"),
        ("Inference", "Δz / SE; SE from each session's autocorrelation and its denoising "
                      "(filter, confounds, scrubbing); q = Benjamini–Hochberg FDR"),
    ]


def _qc_frame(table: pd.DataFrame | None) -> pd.DataFrame:
    if table is None:
        return pd.DataFrame(columns=["measure", "pre", "post", "difference"])
    rows = []
    for row in table.itertuples(index=False):
        name, pattern = QC_MEASURE_NAMES.get(str(row.measure), (str(row.measure), "{:.3f}"))
        rows.append({"measure": name, "pre": _fmt(row.pre, pattern),
                     "post": _fmt(row.post, pattern),
                     "difference": _fmt(row.difference, pattern.replace("{:", "{:+")
                                        if "+" not in pattern else pattern)})
    return pd.DataFrame(rows)


def report_content(state: ReviewState, patient_label: str | None = None,
                   map_title: str | None = None) -> ReportContent:
    """Assemble the report of a computed review (nothing is computed again).

    Parameters
    ----------
    state : ReviewState
        With its statistics.
    patient_label : str, optional
        Shown as the patient; defaults to the BIDS subject ID.  One line, at
        most 64 characters.
    map_title : str, optional
        What the slice figure shows (default: ROI strength).

    Returns
    -------
    ReportContent
    """
    comparison, statistics = state.comparison, state.statistics
    if statistics is None:
        raise ValueError("expected a review state with its statistics computed, got one "
                         "without (core.review.compute_statistics)")
    edges = comparison.named_edges if comparison.named_edges is not None else (
        empty_named_edges())
    sessions = [
        (role, f"{s.label}: {s.n_kept} of {s.n_volumes} volumes kept"
               + (f", TR {s.tr:g} s" if s.tr else ""))
        for role, s in (("Pre", comparison.pre), ("Post", comparison.post))
    ]
    content = ReportContent(
        patient_label=clean_patient_label(patient_label, comparison.subject),
        subject=comparison.subject, sessions=sessions, parameters=_parameters(comparison),
        qc=_qc_frame(statistics.qc_table), motion_warning=statistics.motion_warning or None,
        networks=statistics.networks, named_edges=edges,
        named_edges_note=str(edges.attrs.get("note", "")),
        warnings=reading_warnings(state), software=software_versions(),
        inputs=[(f.role, f.path.name, f.sha256) for f in statistics.input_files],
        created=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        reference=statistics.reference,
    )
    if statistics.qc_pre is not None and statistics.qc_post is not None:
        content.motion_note = motion_note(statistics.qc_pre, statistics.qc_post,
                                          comparison.strategy)
    if map_title:
        content.map_title = map_title
    return content


def build_report_content(comparison: Comparison, inputs: PatientInputs,
                         patient_label: str | None = None,
                         map_title: str | None = None) -> ReportContent:
    """Compute the statistics of a comparison and assemble its report.

    For a notebook holding only a comparison; the program keeps a
    :class:`core.review_state.ReviewState` and calls :func:`report_content`.

    Parameters
    ----------
    comparison : Comparison
    inputs : PatientInputs
    patient_label : str, optional
    map_title : str, optional

    Returns
    -------
    ReportContent
    """
    state = ReviewState(inputs=inputs, comparison=comparison,
                        statistics=compute_statistics(comparison, inputs))
    return report_content(state, patient_label, map_title)


def check_report_path(path: str | Path, inputs: PatientInputs | None,
                      suffixes: tuple[str, ...] = (".pdf",)) -> Path:
    """Validate a report destination: right suffix, existing folder, not an input folder.

    Parameters
    ----------
    path : str or Path
    inputs : PatientInputs or None
    suffixes : tuple of str, default=(".pdf",)

    Returns
    -------
    Path
        The resolved path.

    Raises
    ------
    InputError
        Wrong suffix, missing folder, or a folder that holds or lies inside the inputs.
    """
    out = Path(path).expanduser().resolve()
    if out.suffix.lower() not in suffixes:
        raise InputError(f"expected a file name ending in {' or '.join(suffixes)}, "
                         f"got {out.name!r}", out)
    if not out.parent.is_dir():
        raise InputError("expected an existing folder for the report", out.parent)
    if inputs is not None:
        root = inputs.root.resolve() if inputs.root is not None else None
        if out.parent in inputs.input_folders() or (root is not None and root in out.parents):
            raise InputError("expected a report location outside the patient's input "
                             f"folders, got {out.parent}, which holds or lies inside the "
                             "inputs")
    return out
