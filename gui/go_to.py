"""What the "Go to" box understands: an MNI coordinate ("0, -52, 26") or an ROI name.

Plain Python (no Qt), so it is tested on its own; :mod:`gui.slice_tools`
puts it behind the box above the slice views.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.display_text import format_number, roi_display_name

__all__ = ["GoToResult", "find_roi", "go_to", "parse_mni"]

_NUMBER = r"[-+−]?(?:\d+\.?\d*|\.\d+)"
_AXIS_PREFIX = re.compile(r"\b[xyz]\s*[=:]\s*", re.IGNORECASE)


@dataclass(frozen=True)
class GoToResult:
    """Where the typed text leads.

    Attributes
    ----------
    xyz_mm : tuple of float, or None
        The MNI point to go to; None when nothing matched (see ``message``).
    message : str
        What was found ("ROI LH_Default_PCC_1, centre (-6, -52, 26) mm"), or why
        nothing was.
    roi : int or None
        Index of the ROI gone to.
    """

    xyz_mm: tuple[float, float, float] | None
    message: str
    roi: int | None = None

    @property
    def found(self) -> bool:
        """True when there is a point to go to."""
        return self.xyz_mm is not None


def parse_mni(text: str) -> tuple[float, float, float] | None:
    """Read three MNI coordinates in mm, or return None when ``text`` is not numbers.

    Accepts ``0, -52, 26``, ``0 -52 26``, ``(0; -52; 26)``, ``x=0 y=-52 z=26``
    and ``0, -52, 26 mm``.

    Raises
    ------
    ValueError
        The text is numbers, but not three of them.
    """
    cleaned = _AXIS_PREFIX.sub(" ", text.strip())
    cleaned = re.sub(r"\s*mm\s*$", "", cleaned, flags=re.IGNORECASE)
    cleaned = cleaned.strip().strip("()[]{}").strip()
    tokens = [t for t in re.split(r"[,;\s]+", cleaned) if t]
    if not tokens or not all(re.fullmatch(_NUMBER, t) for t in tokens):
        return None
    if len(tokens) != 3:
        raise ValueError(f"expected three numbers x, y, z in mm, got {len(tokens)}: {text!r}")
    x, y, z = (float(t.replace("−", "-")) for t in tokens)
    return x, y, z


def find_roi(text: str, names: Sequence[str]) -> list[int]:
    """Return the ROIs whose name matches ``text``, best first, ignoring case.

    An exact name comes first, then names that start with the text, names
    with it as one part (``PCC`` in ``Subcortical_PCC``), names that contain
    it, and last names that contain every word of it
    (``"default pcc"`` finds ``LH_Default_pCunPCC_1``).  Names are compared
    as shown (without the ``7Networks_`` prefix) and in full.
    """
    query = " ".join(text.lower().split())
    if not query:
        return []
    words = query.replace("_", " ").split()
    shown = [roi_display_name(n).lower() for n in names]
    full = [str(n).lower() for n in names]
    ranks: dict[int, int] = {}
    for i, (a, b) in enumerate(zip(shown, full, strict=True)):
        if query in (a, b):
            ranks[i] = 0
        elif a.startswith(query) or b.startswith(query):
            ranks[i] = 1
        elif query in a.split("_"):
            ranks[i] = 2
        elif query in a or query in b:
            ranks[i] = 3
        elif all(w in a for w in words):
            ranks[i] = 4
    return sorted(ranks, key=lambda i: (ranks[i], i))


def go_to(text: str, names: Sequence[str] = (), coords_mm: np.ndarray | None = None
          ) -> GoToResult:
    """Resolve the Go-to text: a coordinate, else the best-matching ROI's centre.

    Parameters
    ----------
    text : str
    names : sequence of str
        ROI names of the shown analysis (the atlas labels).
    coords_mm : ndarray, shape (n_rois, 3), optional
        ROI centres in MNI mm (None: the inputs have no coordinates).

    Returns
    -------
    GoToResult
    """
    text = text.strip()
    if not text:
        return GoToResult(None, "Type MNI coordinates (x, y, z in mm) or part of an ROI name.")
    try:
        xyz = parse_mni(text)
    except ValueError as exc:
        return GoToResult(None, str(exc))
    if xyz is not None:
        shown = ", ".join(format_number(v, ".0f") for v in xyz)
        return GoToResult(xyz, f"MNI ({shown}) mm")
    matches = find_roi(text, names)
    if not matches:
        return GoToResult(None, f"no ROI name contains {text!r}, and it is not three "
                                "coordinates (x, y, z in mm)")
    best = matches[0]
    name = roi_display_name(names[best])
    if coords_mm is None or not np.all(np.isfinite(coords_mm[best])):
        return GoToResult(None, f"ROI {name} has no position: these inputs are ROI tables "
                                "without an atlas image")
    xyz = tuple(float(v) for v in coords_mm[best])
    shown = ", ".join(format_number(v, ".0f") for v in xyz)
    message = f"ROI {name}, centre ({shown}) mm"
    if len(matches) > 1:
        others = ", ".join(roi_display_name(names[i]) for i in matches[1:4])
        more = f" and {len(matches) - 4} more" if len(matches) > 4 else ""
        message += f" · {len(matches) - 1} other matches: {others}{more}"
    return GoToResult((xyz[0], xyz[1], xyz[2]), message, best)
