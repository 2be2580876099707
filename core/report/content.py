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

import base64
import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core import DISCLAIMER
from core.errors import InputError
from core.io.files import atomic_write_text, sha256_file
from core.io.inputs import PatientInputs
from core.report.analysis_files import software_versions
from core.results import Comparison

__all__ = [
    "FIGURES",
    "ReportContent",
    "build_report_content",
    "check_report_path",
    "report_html",
    "write_report_html",
]

#: Figure keys, their captions, in report order.
FIGURES = {
    "matrices": "Connectivity matrices, ROIs grouped by network (Fisher z; Δ = post − pre).",
    "slices": "Slices of the current map through the cursor (neurological view: left on left).",
}
_LABEL_MAX = 64
_QC_NAMES = {
    "n_volumes": ("Volumes", "{:.0f}"), "n_kept": ("Volumes kept", "{:.0f}"),
    "percent_scrubbed": ("Scrubbed (%)", "{:.1f}"), "mean_fd_mm": ("Mean FD (mm)", "{:.3f}"),
    "max_fd_mm": ("Max FD (mm)", "{:.2f}"), "mean_dvars": ("Mean DVARS", "{:.2f}"),
    "mean_std_dvars": ("Mean std. DVARS", "{:.3f}"),
    "mean_tsnr_gm": ("Mean tSNR (grey matter)", "{:.1f}"),
    "qcfc_delta_z_distance_r": ("QC-FC: r(Δz, distance)", "{:+.3f}"),
    "qcfc_abs_delta_z_distance_r": ("QC-FC: r(|Δz|, distance)", "{:+.3f}"),
}


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
    return pattern.format(number) if np.isfinite(number) else "—"


def _parameters(comparison: Comparison) -> list[tuple[str, str]]:
    s = comparison.settings
    d = s.denoise
    atlas = comparison.atlas.title if comparison.atlas is not None else "ROI time-series tables"
    tr = comparison.pre.tr or comparison.post.tr
    band = "off" if d.band_pass is None else f"{d.band_pass[0]:g}–{d.band_pass[1]:g} Hz"
    return [
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


def _qc_frame(comparison: Comparison, inputs: PatientInputs | None) -> tuple[pd.DataFrame,
                                                                              str | None]:
    from core.qc import comparison_qc, motion_warning, qc_fc, qc_table

    qc = comparison.complete_qc()
    if qc is None:
        if inputs is None:
            return pd.DataFrame(columns=["measure", "pre", "post", "difference"]), None
        qc = comparison_qc(comparison, inputs)
    table = qc_table(qc[0], qc[1], qc_fc(comparison, qc[0], qc[1]))
    rows = []
    for row in table.itertuples(index=False):
        name, pattern = _QC_NAMES.get(str(row.measure), (str(row.measure), "{:.3f}"))
        rows.append({"measure": name, "pre": _fmt(row.pre, pattern),
                     "post": _fmt(row.post, pattern),
                     "difference": _fmt(row.difference, pattern.replace("{:", "{:+")
                                        if "+" not in pattern else pattern)})
    return pd.DataFrame(rows), motion_warning(qc[0], qc[1])


def build_report_content(comparison: Comparison, inputs: PatientInputs | None = None,
                         patient_label: str | None = None, map_title: str | None = None,
                         hashes: dict[str, str] | None = None) -> ReportContent:
    """Assemble the report of one comparison.

    Parameters
    ----------
    comparison : Comparison
    inputs : PatientInputs, optional
        The inputs (for the SHA-256 list and, when the comparison has none, QC).
    patient_label : str, optional
        Shown as the patient; defaults to the BIDS subject ID.  One line, at
        most 64 characters.
    map_title : str, optional
        What the slice figure shows (default: ROI strength).
    hashes : dict of str to str, optional
        Already known SHA-256 by input role (skips re-hashing).

    Returns
    -------
    ReportContent
    """
    from core.maps.seeds import empty_named_edges
    from core.stats import network_stats_table

    qc, warning = _qc_frame(comparison, inputs)
    edges = comparison.named_edges if comparison.named_edges is not None else (
        empty_named_edges())
    files = []
    if inputs is not None:
        for role, path in sorted(inputs.files.items()):
            digest = (hashes or {}).get(role) or sha256_file(path)
            files.append((role, Path(path).name, digest))
    sessions = [
        (role, f"{s.label}: {s.n_kept} of {s.n_volumes} volumes kept"
               + (f", TR {s.tr:g} s" if s.tr else ""))
        for role, s in (("Pre", comparison.pre), ("Post", comparison.post))
    ]
    content = ReportContent(
        patient_label=clean_patient_label(patient_label, comparison.subject),
        subject=comparison.subject, sessions=sessions, parameters=_parameters(comparison),
        qc=qc, motion_warning=warning, networks=network_stats_table(comparison),
        named_edges=edges, named_edges_note=str(edges.attrs.get("note", "")),
        warnings=list(comparison.warnings), software=software_versions(), inputs=files,
        created=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )
    if map_title:
        content.map_title = map_title
    return content


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


# ---------------------------------------------------------------------- HTML
_CSS = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 8.5pt; color: #111; }
h1 { font-size: 14pt; margin: 0 0 2pt 0; }
h2 { font-size: 10pt; margin: 7pt 0 2pt 0; color: #1a3d6d; }
table.t { border-collapse: collapse; margin: 0; }
table.t th { background: #e4e9f1; text-align: left; font-size: 7.5pt; }
table.t td { font-size: 7.5pt; border-bottom: 1px solid #ddd; }
td.n { text-align: right; }
.sig { font-weight: bold; color: #8a1c00; }
.warn { background: #fff1c2; color: #5c3d00; padding: 3pt; font-weight: bold; }
.disc { background: #fde8e8; color: #6b0000; padding: 3pt; font-weight: bold; }
.small { font-size: 7pt; color: #333; }
.mono { font-family: 'DejaVu Sans Mono', monospace; font-size: 6.5pt; }
"""


def _e(text: Any) -> str:
    return html.escape(str(text))


def _table(header: list[str], rows: list[list[str]], numeric: set[int] | None = None,
           row_class: list[str] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for r, row in enumerate(rows):
        cls = f' class="{row_class[r]}"' if row_class and row_class[r] else ""
        cells = "".join(f'<td class="n">{_e(c)}</td>' if i in numeric else f"<td>{_e(c)}</td>"
                        for i, c in enumerate(row))
        body.append(f"<tr{cls}>{cells}</tr>")
    return (f'<table class="t" cellspacing="0" cellpadding="3"><tr>{head}</tr>'
            f'{"".join(body)}</table>')


def _short(name: str) -> str:
    return re.sub(r"^\d+Networks_", "", str(name))


def _network_rows(networks: pd.DataFrame) -> tuple[list[list[str]], list[str]]:
    rows, classes = [], []
    for r in networks.itertuples(index=False):
        q = float(r.q)  # type: ignore[arg-type]
        rows.append([f"{r.network_a or '(none)'} – {r.network_b or '(none)'}",  # type: ignore[str-bytes-safe]
                     f"{r.n_edges}",
                     _fmt(r.z_pre, "{:+.3f}"), _fmt(r.z_post, "{:+.3f}"),
                     _fmt(r.delta_z, "{:+.3f}"), _fmt(r.se, "{:.3f}"),
                     _fmt(r.stat, "{:+.2f}"), _fmt(r.p, "{:.2g}"), _fmt(q, "{:.2g}"),
                     "yes" if np.isfinite(q) and q < 0.05 else ""])
        classes.append("sig" if np.isfinite(q) and q < 0.05 else "")
    return rows, classes


def _figure(src: str, width: int, caption: str) -> str:
    return (f'<p align="center"><img src="{src}" width="{width}"></p>'
            f'<p class="small" align="center">{_e(caption)}</p>')


def report_html(content: ReportContent, images: dict[str, bytes] | None = None,
                embed: bool = True, page_width: int = 700) -> str:
    """Return the report as one HTML document.

    Parameters
    ----------
    content : ReportContent
    images : dict of str to bytes, optional
        PNG bytes by figure key (:data:`FIGURES`); missing figures are left out.
    embed : bool, default=True
        Embed images as ``data:`` URIs (a self-contained file).  When False the
        ``src`` is the figure key plus ``.png`` (for Qt's resource mechanism).
    page_width : int, default=700
        Width in pixels the figures are laid out at.

    Returns
    -------
    str
    """
    images = images or {}
    c = content

    def src(key: str) -> str:
        if not embed:
            return f"{key}.png"
        return "data:image/png;base64," + base64.b64encode(images[key]).decode("ascii")

    parts = [f"<html><head><meta charset='utf-8'><title>Connectivity review — "
             f"{_e(c.patient_label)}</title><style>{_CSS}</style></head><body>"]
    parts.append(f'<p class="disc">{_e(c.disclaimer)}</p>')
    parts.append(f"<h1>Pre/post connectivity review — {_e(c.patient_label)}</h1>")
    parts.append(f'<p class="small">Subject {_e(c.subject)} · sessions '
                 f"{_e(' → '.join(text.split(':')[0] for _, text in c.sessions))} · report "
                 f"created {_e(c.created)}</p>")
    rows = [[role, text] for role, text in c.sessions] + [[k, v] for k, v in c.parameters]
    left = "<h2>Sessions and parameters</h2>" + _table(["Item", "Value"], rows)
    right = "<h2>Quality control</h2>"
    if len(c.qc):
        right += _table(["Measure", "Pre", "Post", "Post − pre"],
                        c.qc[["measure", "pre", "post", "difference"]].astype(str)
                        .values.tolist(), numeric={1, 2, 3})
    else:
        right += '<p class="small">No quality-control data for these inputs.</p>'
    parts.append('<table width="100%" cellspacing="0" cellpadding="0"><tr>'
                 f'<td valign="top" width="55%">{left}</td><td width="2%"></td>'
                 f'<td valign="top">{right}</td></tr></table>')
    if c.motion_warning:
        parts.append(f'<p class="warn">⚠ Motion differs between sessions: '
                     f"{_e(c.motion_warning)}</p>")
    else:
        parts.append('<p class="small">No motion warning: mean FD and scrubbing are similar '
                     "in both sessions.</p>")
    for warning in c.warnings:
        parts.append(f'<p class="small">Warning: {_e(warning)}</p>')
    if "matrices" in images:
        parts.append("<h2>Connectivity matrices</h2>")
        parts.append(_figure(src("matrices"), page_width, FIGURES["matrices"]))
    if "slices" in images:
        parts.append(f"<h2>Brain map: {_e(c.map_title)}</h2>")
        parts.append(_figure(src("slices"), int(page_width * 0.78), FIGURES["slices"]))
    # page 2
    parts.append('<h2 style="page-break-before: always">Network Δ (mean Fisher z within and '
                 "between networks)</h2>")
    net_rows, classes = _network_rows(c.networks)
    parts.append(_table(["Networks", "Edges", "z pre", "z post", "Δz", "SE", "Z", "p", "q",
                         "q < 0.05"], net_rows, numeric=set(range(1, 9)), row_class=classes))
    parts.append('<p class="small">Z = Δz / SE; SE from the autocorrelation of each session '
                 "(delta method); q = Benjamini–Hochberg across network pairs. Bold rows: "
                 "q &lt; 0.05. Network blocks are more reliable than single edges for one "
                 "patient.</p>")
    parts.append("<h2>Named clinical edges (literature)</h2>")
    if len(c.named_edges):
        e = c.named_edges
        parts.append(_table(
            ["Edge", "Seeds", "Source", "r pre", "r post", "Δz"],
            [[str(r.edge), f"{r.seed_a} – {r.seed_b}", str(r.source), _fmt(r.r_pre, "{:+.3f}"),
              _fmt(r.r_post, "{:+.3f}"), _fmt(r.delta_z, "{:+.3f}")]
             for r in e.itertuples(index=False)], numeric={3, 4, 5}))
    if c.named_edges_note:
        parts.append(f'<p class="small">{_e(c.named_edges_note)}</p>')
    parts.append("<h2>Software and inputs</h2>")
    parts.append(f'<p class="small">{_e(" · ".join(f"{k} {v}" for k, v in c.software.items()))}'
                 "</p>")
    if c.inputs:
        parts.append(_table(["Input", "File", "SHA-256"],
                            [[role, name, digest] for role, name, digest in c.inputs]
                            ).replace("<td>", '<td class="mono">'))
    parts.append(f'<p class="disc">{_e(c.disclaimer)} The numbers describe this patient\'s '
                 "two scans; they are not a diagnosis.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report_html(path: str | Path, content: ReportContent,
                      images: dict[str, bytes] | None = None) -> Path:
    """Write the self-contained HTML report atomically (temporary file, then rename).

    Parameters
    ----------
    path : str or Path
    content : ReportContent
    images : dict of str to bytes, optional
        PNG bytes by figure key.

    Returns
    -------
    Path
    """
    return atomic_write_text(path, report_html(content, images, embed=True))
