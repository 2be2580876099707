"""How an overlay is drawn over a slice: colour maps, threshold, opacity (FSLeyes style).

Kept apart from the data; :class:`gui.slice_view.SliceGrid` applies an
:class:`OverlayStyle` and draws each slice with :func:`overlay_rgba`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg

__all__ = ["OverlayStyle", "overlay_rgba"]


@dataclass
class OverlayStyle:
    """How overlays are shown, kept apart from the data (FSLeyes style).

    Attributes
    ----------
    colormap : str
        pyqtgraph colour map of Pre and Post for positive maps (ROI strength).
    diverging : str
        Colour map of Δ, and of Pre and Post for signed maps (seed maps, GBC).
    threshold : float
        Hide values whose magnitude is below this fraction (0..1) of the scale.
    opacity : float
        Overlay opacity, 0..1.
    """

    colormap: str = "inferno"
    diverging: str = "CET-D1"
    threshold: float = 0.1
    opacity: float = 0.85


_LUTS: dict[int, tuple[pg.ColorMap, np.ndarray]] = {}


def _lookup_table(cmap: pg.ColorMap) -> np.ndarray:
    """256-entry RGBA table of a colour map, computed once per map."""
    cached = _LUTS.get(id(cmap))
    if cached is None or cached[0] is not cmap:
        cached = (cmap, cmap.getLookupTable(0.0, 1.0, nPts=256, alpha=True, mode="byte"))
        _LUTS[id(cmap)] = cached
    return cached[1]


def overlay_rgba(values: np.ndarray, levels: tuple[float, float], cmap: pg.ColorMap,
                 threshold: float, opacity: float, symmetric: bool) -> np.ndarray:
    """Map a 2D slice to RGBA uint8; NaN and sub-threshold values are transparent."""
    lo, hi = levels
    span = max(hi - lo, 1e-12)
    norm = np.clip((np.nan_to_num(values, nan=lo) - lo) / span, 0.0, 1.0)
    lut = _lookup_table(cmap)
    rgba = lut[np.rint(norm * 255).astype(np.intp)].reshape(*values.shape, 4)
    magnitude = np.abs(values) if symmetric else values - max(lo, 0.0)
    cut = threshold * (max(abs(lo), abs(hi)) if symmetric else span)
    hidden = ~np.isfinite(values) | (np.nan_to_num(magnitude, nan=0.0) < cut)
    rgba[..., 3] = np.where(hidden, 0, round(255 * opacity))
    return rgba
