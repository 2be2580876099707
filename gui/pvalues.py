"""How p and q values are written in the window (tables, hover read-outs)."""

from __future__ import annotations

import math

__all__ = ["format_p"]


def format_p(value) -> str:
    """Return ``1.23e-05`` below 0.001, else ``0.012``; "" for a missing value."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(number):
        return ""
    return f"{number:.2e}" if number < 1e-3 else f"{number:.3f}"
