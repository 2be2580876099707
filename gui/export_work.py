"""What the exports do in a worker thread: write files from a computed review state.

Each function takes a :class:`core.review_state.ReviewState` (immutable, with
its statistics) and plain values, computes nothing that the state already
holds, and returns what it wrote.  They never touch widgets; the report's
figures are rendered on the GUI thread beforehand and passed in as QImages.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.io.review_file import make_review, save_review
from core.maps.display import display_template, roi_map
from core.maps.export import save_map
from core.report.analysis_files import check_output_dir, write_review_outputs
from core.report.content import ReportContent, check_report_path, report_content
from core.report.html import write_report_html
from core.review_state import ReviewState
from gui.display_data import SliceData

__all__ = [
    "map_names",
    "map_volumes",
    "write_maps",
    "write_report",
    "write_report_html_part",
    "write_review",
    "write_tables",
]

Progress = Callable[[float, str], None]
MapVolumes = dict[str, tuple[np.ndarray, np.ndarray, str]]


def write_report_html_part(state: ReviewState, path: str | Path, label: str,
                           map_title: str | None, images: dict,
                           progress: Progress) -> tuple[Path, ReportContent, dict]:
    """Check the destination, assemble the report, encode its figures, write its HTML.

    ``images`` are the figures drawn on the GUI thread, as QImages (encoded to
    PNG here, off the GUI thread; a QImage is reentrant) or PNG bytes.  The PDF
    is painted afterwards (:func:`write_report`, in the same worker).

    Returns
    -------
    (Path, ReportContent, dict)
        The PDF's path, the content and the figures as given, for the PDF.
    """
    from gui.report_pdf import png_bytes

    out = check_report_path(path, state.inputs)
    progress(0.1, "Encoding the report's figures")
    encoded = {key: png_bytes(image) for key, image in images.items()}
    progress(0.6, "Writing the report")
    content = report_content(state, patient_label=label, map_title=map_title)
    write_report_html(out.with_suffix(".html"), content, encoded)
    return out, content, images


def write_report(state: ReviewState, path: str | Path, label: str, map_title: str | None,
                 images: dict, progress: Progress) -> Path:
    """Write the report's HTML (:func:`write_report_html_part`) and its PDF; return the PDF.

    The PDF is Qt text layout on a ``QPdfWriter``, which Qt allows outside the
    GUI thread (no widget, no pixmap); the window loads the fonts beforehand
    (:func:`gui.report_pdf.prepare_fonts`).  The figures are painted from the
    QImages drawn on the GUI thread, not decoded again.
    """
    from gui.report_pdf import write_pdf

    out, content, figures = write_report_html_part(state, path, label, map_title, images,
                                                   progress)
    progress(0.8, "Writing the PDF")
    write_pdf(out, content, images=figures)
    return out


def write_tables(state: ReviewState, folder: Path, progress: Progress) -> Path:
    """Write the analysis files (as ``analyze`` does) into ``folder``; return it."""
    progress(0.1, "Writing the matrices and tables")
    write_review_outputs(state, folder)
    return folder


def map_volumes(state: ReviewState, current: SliceData | None) -> MapVolumes:
    """Return the maps to export: ``{file stem: (volume, affine, description)}``.

    ROI strength (pre, post, Δ) on the MNI display grid, the current seed or
    GBC map when one is shown, and each session's tSNR on its own grid.
    """
    c = state.comparison
    maps: MapVolumes = {}
    if c.atlas is not None:
        affine = display_template().affine
        for key, values in (("pre", c.pre.strength), ("post", c.post.strength),
                            ("delta", c.delta_strength)):
            maps[f"strength_{key}"] = (roi_map(c, values), affine,
                                       f"ROI strength z {key} ({c.atlas.name})")
    if current is not None and "strength" not in current.title.lower():
        for key in ("pre", "post", "delta"):
            maps[f"current_map_{key}"] = (getattr(current, key), current.affine,
                                          f"{current.title} {key}")
    qc = state.statistics.qc if state.statistics is not None else None
    for session in qc or ():
        if session.tsnr_map is not None and session.affine is not None:
            maps[f"tsnr_{session.label}"] = (session.tsnr_map, session.affine,
                                             f"tSNR {session.label}")
    return maps


def map_names(state: ReviewState, current: SliceData | None) -> list[str]:
    """File names :func:`write_maps` will write (for the overwrite question)."""
    names = []
    if state.comparison.atlas is not None:
        names += [f"strength_{k}.nii.gz" for k in ("pre", "post", "delta")]
    if current is not None and "strength" not in current.title.lower():
        names += [f"current_map_{k}.nii.gz" for k in ("pre", "post", "delta")]
    qc = state.statistics.qc if state.statistics is not None else None
    names += [f"tsnr_{q.label}.nii.gz" for q in qc or () if q.tsnr_map is not None]
    return names


def write_maps(state: ReviewState, current: SliceData | None, folder: Path,
               progress: Progress) -> Path:
    """Write strength, current (seed/GBC) and tSNR maps as NIfTI into ``folder``."""
    out = check_output_dir(folder, state.inputs)
    maps = map_volumes(state, current)
    for i, (stem, (volume, affine, text)) in enumerate(maps.items()):
        progress(i / max(len(maps), 1), f"Writing {stem}.nii.gz")
        save_map(out / f"{stem}.nii.gz", volume, affine, description=text)
    return out


def write_review(state: ReviewState, path: str | Path, view: dict, overwrite: bool,
                 progress: Progress) -> Path:
    """Save the review (inputs and their known SHA-256s, parameters, view)."""
    progress(0.1, "Saving the review")
    hashes = ({f.role: f.sha256 for f in state.statistics.input_files}
              if state.statistics is not None else None)
    review = make_review(state.inputs, state.settings, view, hashes=hashes)
    return save_review(path, review, overwrite=overwrite)
