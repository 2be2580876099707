"""The PDF report, drawn with Qt itself (QTextDocument on a QPdfWriter), and its figures.

The text is the HTML of :func:`core.report.content.report_html`, so the PDF and
the HTML version show the same content.  Figures (Pre | Post | Δ matrices and
slices of the current map) are drawn offscreen by the window's own view
classes and exported with pyqtgraph's ImageExporter.  The PDF has at most two
A4 pages: when the content does not fit it is scaled down uniformly.  It is
written to a temporary file in the destination folder, then renamed.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, QSizeF, Qt, QUrl
from PyQt6.QtGui import (
    QFont,
    QFontDatabase,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextDocument,
)

from core.display_text import format_number
from core.io.files import atomic_path
from core.report.content import REPORT_MAP_DISPLAY, ReportContent
from core.report.html import report_html

__all__ = ["ensure_app", "png_bytes", "prepare_fonts", "render_matrices_png",
           "render_report_images", "render_slices_png", "report_style", "write_pdf"]

log = logging.getLogger(__name__)

MAX_PAGES = 2
RESOLUTION = 96  # PDF layout units per inch, like CSS pixels (images keep their pixels)
_SCALES = (1.0, 0.94, 0.88, 0.82, 0.76, 0.7, 0.64)
_APP: list = []


def ensure_app():
    """Return the running QApplication, creating an offscreen one for headless use."""
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) \
                and os.name != "nt":
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(["prepost-review"])
        _APP.append(app)  # keep the headless application alive
    return app


def _png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise OSError("the figure could not be encoded as PNG")
    buffer.close()
    return bytes(data.data())


def prepare_fonts() -> None:
    """Load the font database and lay out a line of text here, on the GUI thread.

    A report's PDF is then laid out in a worker without the font database being
    populated there for the first time.
    """
    doc = QTextDocument()
    doc.setHtml("<p>prepost-review <b>report</b> <i>Δz</i></p>")
    doc.size()  # lays it out
    QFontDatabase.families()


def png_bytes(image) -> bytes:
    """PNG bytes of a figure (a QImage, or bytes already), in any thread (QImage is reentrant)."""
    return image if isinstance(image, bytes) else _png_bytes(image)


def _export(widget, item, width_px: int, encode: bool = True):
    """Lay ``widget`` out offscreen and export ``item`` (a graphics item) as PNG bytes.

    With ``encode=False`` the QImage is returned; encoding it (~0.5 s for a
    2400 px figure) can then run in a worker (:func:`png_bytes`).
    """
    import pyqtgraph.exporters as exporters
    from PyQt6.QtWidgets import QApplication

    widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    widget.show()
    QApplication.processEvents()
    exporter = exporters.ImageExporter(item)
    exporter.parameters()["width"] = int(width_px)
    exporter.parameters()["antialias"] = True
    image = exporter.export(toBytes=True)
    widget.hide()
    widget.deleteLater()
    return _png_bytes(image) if encode else image


def _label_bars(bars, colour: str) -> None:
    """Give colour bars a large, labelled, unscaled axis."""
    for bar, text in bars:
        label_axis = bar.getAxis("left")
        label_axis.enableAutoSIPrefix(False)
        label_axis.setLabel(text, **{"font-size": "12pt", "color": colour})
        bar.axis.enableAutoSIPrefix(False)
        bar.axis.setStyle(tickFont=QFont("Sans", 10))
        bar.axis.setTextPen(colour)


def render_matrices_png(comparison, blocks: bool = False, width_px: int = 2400,
                        delta: np.ndarray | None = None, encode: bool = True):
    """Pre | Post | Δ matrices with labelled colour bars, as PNG bytes.

    Parameters
    ----------
    comparison : core.results.Comparison
    blocks : bool, default=False
        Network blocks instead of ROIs.
    width_px : int, default=2400
        Width of the exported image.
    delta : ndarray, optional
        Δ matrix as shown in the window (e.g. blanked where q ≥ 0.05).

    Returns
    -------
    bytes
    """
    from gui.matrix_view import MatrixData, MatrixView

    ensure_app()
    view = MatrixView(stacked=False)  # one row fits the page width
    data = MatrixData.from_comparison(comparison, blocks)
    if delta is not None and delta.shape == data.delta.shape:
        data = MatrixData(data.names, data.networks, data.pre, data.post, delta)
    view.set_data(data, blocks)
    for plot in view.plots:
        plot.setTitle(plot.titleLabel.text, size="13pt", bold=True, color="#111111")
        plot.getAxis("left").setStyle(tickFont=QFont("Sans", 10))
        plot.getAxis("left").setTextPen("#111111")
        plot.getAxis("left").setWidth(92)
    _label_bars(((view.bar, "Fisher z (pre and post)"), (view.delta_bar, "Δz (post − pre)")),
                "#111111")
    view.resize(1150, 400)
    return _export(view, view.graphics.ci, width_px, encode)


def render_slices_png(slice_data, cursor_mm, style=None, width_px: int = 2400,
                      encode: bool = True):
    """Pre | Post | Δ slices (axial, coronal, sagittal) through the cursor, as PNG bytes.

    Parameters
    ----------
    slice_data : gui.display_data.SliceData
    cursor_mm : array-like, shape (3,)
    style : gui.slice_view.OverlayStyle, optional
        Default :func:`report_style`, the report's fixed display.
    width_px : int, default=2400

    Returns
    -------
    bytes
    """
    from gui.cursor import CursorModel
    from gui.slice_view import SliceGrid

    ensure_app()
    cursor = CursorModel(cursor_mm)
    grid = SliceGrid(cursor)
    grid.set_data(slice_data)
    grid.apply_style(style or report_style())
    unit = getattr(slice_data, "unit", "z") or "z"
    _label_bars(((grid.bar, f"{unit} (pre and post)"), (grid.delta_bar, f"Δ{unit} (post − pre)")),
                "#eeeeee")
    x, y, z = (format_number(v, "+.0f") for v in np.asarray(cursor_mm, dtype=float))
    grid.title.setText(f"cursor MNI x {x}, y {y}, z {z} mm  ·  neurological "
                       "view (left on left)", size="12pt", color="#eeeeee")
    for pane in grid.panes.values():
        pane.setTitle(pane.titleLabel.text, size="11pt", color="#eeeeee")
    grid.resize(1000, 860)
    return _export(grid, grid.ci, width_px, encode)


def report_style():
    """Return the report's overlay display (:data:`core.report.content.REPORT_MAP_DISPLAY`)."""
    from gui.slice_view import OverlayStyle

    return OverlayStyle(**REPORT_MAP_DISPLAY)


def render_report_images(comparison, slice_data=None, cursor_mm=None, style=None,
                         blocks: bool = False, delta: np.ndarray | None = None,
                         encode: bool = True) -> dict:
    """All report figures as PNG bytes by key (``matrices``, ``slices``).

    Without ``slice_data`` the ROI strength map of the comparison is shown
    (none for ROI tables without an atlas).  The defaults are the report's
    fixed display, which its captions (:data:`core.report.content.FIGURES`)
    describe: ROI matrices with every cell, the map in :func:`report_style`.

    Parameters
    ----------
    comparison : core.results.Comparison
    slice_data : gui.display_data.SliceData, optional
    cursor_mm : array-like, optional
        Default: the PCC (-6, -52, 26).
    style : gui.slice_view.OverlayStyle, optional
    blocks : bool, default=False
    delta : ndarray, optional
    encode : bool, default=True
        False: QImages, to be encoded by :func:`png_bytes` off the GUI thread.

    Returns
    -------
    dict of str to bytes (or QImage)
    """
    images = {"matrices": render_matrices_png(comparison, blocks, delta=delta, encode=encode)}
    if slice_data is None and comparison.atlas is not None:
        slice_data = strength_slice_data(comparison)
    if slice_data is not None:
        images["slices"] = render_slices_png(
            slice_data, cursor_mm if cursor_mm is not None else (-6.0, -52.0, 26.0), style,
            encode=encode)
    return images


def strength_slice_data(comparison):
    """SliceData of the ROI strength map (what the window shows first)."""
    from core.maps.display import display_template, roi_map
    from gui.display_data import SliceData
    from gui.strings import STRENGTH_MAP

    template = display_template()
    pre = roi_map(comparison, comparison.pre.strength)
    post = roi_map(comparison, comparison.post.strength)
    return SliceData(template=template.get_fdata(dtype="float32"), affine=template.affine,
                     pre=pre, post=post, delta=post - pre, title=STRENGTH_MAP)


def _document(content: ReportContent, images: dict[str, bytes], writer: QPdfWriter,
              width: float, height: float) -> QTextDocument:
    doc = QTextDocument()
    doc.documentLayout().setPaintDevice(writer)
    doc.setDocumentMargin(0)
    for key, png in images.items():
        image = QImage.fromData(png) if isinstance(png, bytes) else png
        doc.addResource(QTextDocument.ResourceType.ImageResource.value, QUrl(f"{key}.png"),
                        image)
    doc.setHtml(report_html(content, images, embed=False, page_width=int(width * 0.97)))
    doc.setPageSize(QSizeF(width, height))
    return doc


def write_pdf(path: str | Path, content: ReportContent, comparison=None,
              images: dict[str, bytes] | None = None, **figure_options) -> dict[str, bytes]:
    """Write the report as a PDF of at most two A4 pages, atomically.

    Parameters
    ----------
    path : str or Path
        Destination ``.pdf``; its folder must exist.
    content : ReportContent
    comparison : Comparison, optional
        Used to draw the figures when ``images`` is not given.
    images : dict of str to bytes, optional
        PNG figures by key (see :func:`render_report_images`).
    **figure_options
        Passed to :func:`render_report_images`.

    Returns
    -------
    dict of str to bytes
        The figures used (so the HTML version can embed the same images).

    Raises
    ------
    OSError
        When the file cannot be written.
    """
    ensure_app()
    path = Path(path)
    if images is None:
        images = render_report_images(comparison, **figure_options) if comparison else {}
    with atomic_path(path) as temporary:
        _paint_pdf(str(temporary), content, images)
    return images


def _paint_pdf(target: str, content: ReportContent, images: dict[str, bytes]) -> None:
    writer = QPdfWriter(target)
    writer.setResolution(RESOLUTION)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(12, 10, 12, 10), QPageLayout.Unit.Millimeter)
    writer.setTitle(f"Connectivity review — {content.patient_label}")
    writer.setCreator("prepost-review")
    width, height = float(writer.width()), float(writer.height())
    footer = RESOLUTION * 0.22  # inches reserved for the footer line
    scale, doc = 1.0, None
    for scale in _SCALES:
        doc = _document(content, images, writer, width / scale, (height - footer) / scale)
        if doc.pageCount() <= MAX_PAGES:
            break
    assert doc is not None
    pages = doc.pageCount()
    if pages > MAX_PAGES:
        log.warning("report content needs %d pages at the smallest scale", pages)
    page_h = doc.pageSize().height()
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(f"{target}: the PDF file cannot be written")
    try:
        for page in range(pages):
            if page:
                writer.newPage()
            painter.save()
            painter.scale(scale, scale)
            painter.translate(0, -page * page_h)
            doc.drawContents(painter, QRectF(0, page * page_h, doc.pageSize().width(), page_h))
            painter.restore()
            font = QFont("Sans")
            font.setPointSizeF(7)
            painter.setFont(font)
            painter.setPen(Qt.GlobalColor.darkGray)
            painter.drawText(QRectF(0, height - footer * 0.8, width, footer * 0.8),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             f"{content.patient_label} · {content.created} · "
                             f"{content.disclaimer}")
            painter.drawText(QRectF(0, height - footer * 0.8, width, footer * 0.8),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             f"page {page + 1} of {pages}")
    finally:
        painter.end()
