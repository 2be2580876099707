"""Save a pyqtgraph view (matrix or slice panes) as PNG or SVG, atomically."""

from __future__ import annotations

import logging
from pathlib import Path

from core.errors import InputError
from core.io.files import atomic_path

__all__ = ["export_view"]

log = logging.getLogger(__name__)


def export_view(widget, path: str | Path, scale: float = 2.0) -> Path:
    """Save a pyqtgraph view (its whole scene) as PNG or SVG, atomically.

    Parameters
    ----------
    widget : pyqtgraph.GraphicsView
        E.g. ``MatrixView.graphics`` or a ``SliceGrid``.
    path : str or Path
        ``.png`` or ``.svg``.
    scale : float, default=2
        PNG size relative to the widget on screen.

    Returns
    -------
    Path
    """
    import pyqtgraph.exporters as exporters

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise InputError("expected a .png or .svg file name", path)
    with atomic_path(path, suffix) as temporary:
        temp = str(temporary)
        if suffix == ".png":
            exporter = exporters.ImageExporter(widget.scene())
            exporter.parameters()["width"] = max(int(widget.width() * scale), 400)
            if not exporter.export(temp):
                raise OSError(f"{path}: the image could not be written")
        else:
            try:
                exporters.SVGExporter(widget.scene()).export(temp)
            except ValueError:  # pyqtgraph 0.14 cannot parse some Qt 6 SVG paths
                log.info("pyqtgraph's SVG exporter failed; drawing the SVG with QtSvg")
                _qt_svg(widget, temp)
    return path


def _qt_svg(widget, target: str) -> None:
    """Draw a view into an SVG file with Qt's own QSvgGenerator."""
    from PyQt6.QtCore import QRect, QSize
    from PyQt6.QtGui import QPainter
    from PyQt6.QtSvg import QSvgGenerator

    generator = QSvgGenerator()
    generator.setFileName(target)
    generator.setSize(QSize(widget.width(), widget.height()))
    generator.setViewBox(QRect(0, 0, widget.width(), widget.height()))
    generator.setTitle("prepost-review view")
    painter = QPainter()
    if not painter.begin(generator):
        raise OSError(f"{target}: the SVG file cannot be written")
    try:
        widget.render(painter)
    finally:
        painter.end()
