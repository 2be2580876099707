"""An axis whose tick labels never overlap: when they would, the smaller groups give way.

Network labels beside a carpet plot or a connectivity matrix sit at the
centre of each network's rows; small networks lie close together, and at
1366×768 their labels ran into each other.  :class:`SparseLabelAxis` drops
the labels that would overlap one already drawn, keeping the labels of the
largest groups first; the dropped names stay in the axis tooltip.
"""

from __future__ import annotations

import pyqtgraph as pg

__all__ = ["SparseLabelAxis", "kept_labels"]


def kept_labels(spans: list[tuple[float, float]], weights: list[float],
                gap: float = 1.0) -> list[int]:
    """Return the indices of labels to draw so that none overlaps another.

    Parameters
    ----------
    spans : list of (start, end)
        Each label's extent along the axis, in pixels.
    weights : list of float
        Larger weights keep their labels first (e.g. the number of rows of a group).
    gap : float
        Pixels kept free between two labels.

    Returns
    -------
    list of int
        In the original order.
    """
    kept: list[int] = []
    for i in sorted(range(len(spans)), key=lambda k: (-weights[k], k)):
        a0, a1 = spans[i]
        if all(a1 + gap <= spans[j][0] or spans[j][1] + gap <= a0 for j in kept):
            kept.append(i)
    return sorted(kept)


class SparseLabelAxis(pg.AxisItem):
    """AxisItem that draws only the tick labels that fit without overlapping.

    ``set_labels(ticks, weights)`` sets the ticks (``[(position, text), ...]``)
    and how much each label matters.
    """

    def __init__(self, orientation: str = "left", **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self._weights: dict[str, float] = {}

    def set_labels(self, ticks: list[tuple[float, str]], weights: list[float]) -> None:
        """Set one level of ticks and the weight of each label."""
        self._weights = {text: float(w) for (_pos, text), w in zip(ticks, weights, strict=True)}
        self.setTicks([ticks])
        self.setToolTip(" · ".join(text for _pos, text in ticks))

    def generateDrawSpecs(self, p):
        specs = super().generateDrawSpecs(p)
        if specs is None:
            return None
        axis, ticks, texts = specs
        vertical = self.orientation in ("left", "right")
        spans = [(r.top(), r.bottom()) if vertical else (r.left(), r.right())
                 for r, _flags, _text in texts]
        weights = [self._weights.get(text, 0.0) for _r, _f, text in texts]
        return axis, ticks, [texts[i] for i in kept_labels(spans, weights)]
