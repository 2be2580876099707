"""Draw the application icon with QPainter and write PNG, ICO and ICNS files.

Run from the repository root (Qt runs offscreen; no display needed)::

    python3 packaging/make_icon.py

Writes ``resources/icons/prepost-review.png`` (512 px), ``prepost-review-256.png``,
``prepost-review.ico`` (16-256 px, via Pillow) and ``prepost-review.icns`` (via Pillow,
when its ICNS writer is available). The committed files are the output of this script.
The design: a rounded dark-blue tile with a connectivity triangle (three network nodes)
whose edges are unchanged, strengthened and weakened; the triangle doubles as a "Δ".
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

ICON_DIR = Path(__file__).resolve().parents[1] / "resources" / "icons"
NAME = "prepost-review"


def render(size: int):
    """Return a QImage of the icon at ``size`` × ``size`` pixels."""
    from PyQt6.QtCore import QPointF, QRectF, Qt
    from PyQt6.QtGui import QColor, QImage, QLinearGradient, QPainter, QPainterPath, QPen

    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 512.0
    tile = QRectF(24 * s, 24 * s, 464 * s, 464 * s)
    gradient = QLinearGradient(tile.topLeft(), tile.bottomRight())
    gradient.setColorAt(0.0, QColor("#1f4e79"))
    gradient.setColorAt(1.0, QColor("#0b2239"))
    path = QPainterPath()
    path.addRoundedRect(tile, 96 * s, 96 * s)
    p.fillPath(path, gradient)
    top = QPointF(256 * s, 118 * s)
    left, right = QPointF(120 * s, 372 * s), QPointF(392 * s, 372 * s)
    # Edges: an unchanged (grey), a strengthened (orange) and a weakened (blue) connection.
    pen = QPen(QColor("#9fb3c8"), 22 * s)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    p.drawLine(top, left)
    pen.setColor(QColor("#f28e2b"))
    p.setPen(pen)
    p.drawLine(top, right)
    pen.setColor(QColor("#4ea3e0"))
    p.setPen(pen)
    p.drawLine(left, right)
    p.setPen(Qt.PenStyle.NoPen)
    for centre, colour in ((top, "#ffffff"), (left, "#e15759"), (right, "#59a14f")):
        p.setBrush(QColor("#0b2239"))
        p.drawEllipse(centre, 58 * s, 58 * s)
        p.setBrush(QColor(colour))
        p.drawEllipse(centre, 44 * s, 44 * s)
    p.end()
    return image


def _to_pillow(image):
    from PIL import Image
    from PyQt6.QtCore import QBuffer, QIODevice

    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return Image.open(io.BytesIO(bytes(buffer.data()))).convert("RGBA")


def main() -> int:
    """Write the icon files; return 0."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841
    ICON_DIR.mkdir(parents=True, exist_ok=True)
    big = render(1024)
    render(512).save(str(ICON_DIR / f"{NAME}.png"))
    render(256).save(str(ICON_DIR / f"{NAME}-256.png"))
    pil = _to_pillow(big)
    pil.save(ICON_DIR / f"{NAME}.ico",
             sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
    try:
        pil.save(ICON_DIR / f"{NAME}.icns")
    except Exception as exc:  # Pillow without an ICNS writer: PyInstaller converts the PNG
        print(f"no .icns written ({exc}); PyInstaller can convert the PNG on macOS")
    for path in sorted(ICON_DIR.iterdir()):
        print(f"{path.relative_to(ICON_DIR.parents[1])}  {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
