"""The report as one self-contained HTML page (the PDF renders the same HTML with Qt)."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.display_text import format_p
from core.io.files import atomic_write_text
from core.report.content import FIGURES, ReportContent, _fmt

__all__ = ["report_html", "write_report_html"]


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
ul.warn { font-weight: normal; margin-top: 0; }
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


def _p(value: Any) -> str:
    """Return a p or q value as every table prints it (``format_p``); "—" if none."""
    try:
        return format_p(float(value)) or "—"
    except (TypeError, ValueError):
        return "—"


def _network_rows(networks: pd.DataFrame) -> tuple[list[list[str]], list[str]]:
    rows, classes = [], []
    for r in networks.itertuples(index=False):
        q = float(r.q)  # type: ignore[arg-type]
        rows.append([f"{r.network_a or '(none)'} – {r.network_b or '(none)'}",  # type: ignore[str-bytes-safe]
                     f"{r.n_edges}",
                     _fmt(r.z_pre, "{:+.3f}"), _fmt(r.z_post, "{:+.3f}"),
                     _fmt(r.delta_z, "{:+.3f}"), _fmt(r.se, "{:.3f}"),
                     _fmt(r.stat, "{:+.2f}"), _p(r.p), _p(q),
                     "yes" if np.isfinite(q) and q < 0.05 else ""])
        classes.append("sig" if np.isfinite(q) and q < 0.05 else "")
    return rows, classes


def _reference_rows(networks: pd.DataFrame) -> tuple[list[list[str]], list[str]]:
    """Network rows judged against the reference of repeat scans (its verdict leads)."""
    rows, classes = [], []
    for r in networks.itertuples(index=False):
        q_ref = float(r.q_ref)  # type: ignore[arg-type]
        low = float(r.ref_mean) - 1.96 * float(r.ref_sd)  # type: ignore[arg-type]
        high = float(r.ref_mean) + 1.96 * float(r.ref_sd)  # type: ignore[arg-type]
        beyond = np.isfinite(q_ref) and q_ref < 0.05
        rows.append([f"{r.network_a or '(none)'} – {r.network_b or '(none)'}",  # type: ignore[str-bytes-safe]
                     f"{r.n_edges}", _fmt(r.delta_z, "{:+.3f}"), _fmt(r.se, "{:.3f}"),
                     _p(r.q),
                     f"{_fmt(low, '{:+.2f}')} to {_fmt(high, '{:+.2f}')}",
                     _fmt(r.t_ref, "{:+.2f}"), _p(r.p_ref), _p(q_ref),
                     "yes" if beyond else ""])
        classes.append("sig" if beyond else "")
    return rows, classes


def _network_section(c: ReportContent) -> list[str]:
    """Return the network Δ table: against the reference if there is one, else within-scan."""
    if c.reference is not None and "q_ref" in c.networks.columns:
        rows, classes = _reference_rows(c.networks)
        n = c.reference.get("n_pairs", "?")
        return [
            _table(["Networks", "Edges", "Δz", "SE", "q within", "normal range of Δz",
                    "t ref", "p ref", "q ref", "beyond normal"], rows,
                   numeric={1, 2, 3, 4, 6, 7, 8}, row_class=classes),
            f'<p class="small">Verdict against a reference of {_e(n)} untreated repeat-scan '
            "pairs (Crawford–Howell test with this patient's own within-scan noise; "
            "normal range = reference mean ± 1.96 SD; q = Benjamini–Hochberg across network "
            "pairs). Bold rows change more than happens anyway between two scans of an "
            "untreated person. q within: the change against within-scan noise only.</p>",
        ]
    rows, classes = _network_rows(c.networks)
    return [
        _table(["Networks", "Edges", "z pre", "z post", "Δz", "SE", "Z", "p", "q",
                "q < 0.05"], rows, numeric=set(range(1, 9)), row_class=classes),
        '<p class="small">Z = Δz / SE; SE from the autocorrelation of each session '
        "(delta method); q = Benjamini–Hochberg across network pairs. Bold rows: "
        "q &lt; 0.05. Network blocks are more reliable than single edges for one "
        "patient.</p>",
        '<p class="small"><b>Significance is judged against within-scan noise only:</b> no '
        "reference of untreated repeat scans was used. Two scans of an untreated person "
        "differ by more than within-scan noise, so a significant change here is not "
        "evidence of a treatment effect.</p>",
    ]


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
    if c.warnings:  # what changes how the numbers below should be read comes first
        parts.append('<p class="warn">⚠ Read these results with care:</p><ul class="warn">'
                     + "".join(f"<li>{_e(w)}</li>" for w in c.warnings) + "</ul>")
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
        parts.append('<p class="small">No motion warning: mean FD, scrubbing and the share of '
                     "high-motion volumes are similar in both sessions.</p>")
    if c.motion_note:
        parts.append(f'<p class="small">High-motion volumes: {_e(c.motion_note)}</p>')
    if "matrices" in images:
        parts.append("<h2>Connectivity matrices</h2>")
        parts.append(_figure(src("matrices"), page_width, FIGURES["matrices"]))
    if "slices" in images:
        parts.append(f"<h2>Brain map: {_e(c.map_title)}</h2>")
        parts.append(_figure(src("slices"), int(page_width * 0.7), FIGURES["slices"]))
    # page 2
    parts.append('<h2 style="page-break-before: always">Network Δ (mean Fisher z within and '
                 "between networks)</h2>")
    parts.extend(_network_section(c))
    parts.append("<h2>Named clinical edges (literature)</h2>")
    if len(c.named_edges):
        e = c.named_edges
        parts.append(_table(
            ["Edge", "Seeds", "Source", "r pre", "r post", "Δz", "p", "q"],
            [[str(r.edge), f"{r.seed_a} – {r.seed_b}", str(r.source), _fmt(r.r_pre, "{:+.3f}"),
              _fmt(r.r_post, "{:+.3f}"), _fmt(r.delta_z, "{:+.3f}"),
              _fmt(getattr(r, "p", None), "{:.2g}"), _fmt(getattr(r, "q", None), "{:.2g}")]
             for r in e.itertuples(index=False)], numeric={3, 4, 5, 6, 7}))
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
