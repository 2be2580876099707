"""How names and numbers are printed for people: one function per kind, window and report alike.

Plain functions with no imports, so the window can load them at start-up.
"""

from __future__ import annotations

import math
import re

__all__ = ["format_number", "format_p", "roi_display_name"]

_SCHAEFER_PREFIX = re.compile(r"^\d+Networks_")


def roi_display_name(name: str) -> str:
    """Return an ROI's name as shown: without the Schaefer ``7Networks_`` prefix.

    Every ROI of a Schaefer atlas repeats the prefix (``7Networks_LH_Default_PFC_1``);
    the status bar, the tables, the time series and the report all show
    ``LH_Default_PFC_1``.  Other names are returned unchanged.

    Parameters
    ----------
    name : str

    Returns
    -------
    str
    """
    text = str(name)
    short = _SCHAEFER_PREFIX.sub("", text)
    return short or text


def format_number(value: float, spec: str = ".3f") -> str:
    """Format a number, never printing a negative zero ("-0.00" becomes "0.00").

    Parameters
    ----------
    value : float
    spec : str, default=".3f"
        A format specification such as ``"+.2f"``; with a ``+`` sign, zero prints
        as ``+0.00``.

    Returns
    -------
    str
        ``"—"`` for NaN or infinity.
    """
    number = float(value)
    if not math.isfinite(number):
        return "—"
    text = format(number, spec)
    mantissa = text.split("e")[0].split("E")[0]
    if text.startswith("-") and not any(c in "123456789" for c in mantissa):
        text = ("+" if "+" in spec else "") + text[1:]
    return text


def format_p(value: float) -> str:
    """Format a p or q value: three significant digits, scientific below 0.001.

    ``0.961``, ``0.0500``, ``0.00123``, ``8.70e-04``; the same in every table of
    the window and the report.

    Parameters
    ----------
    value : float

    Returns
    -------
    str
        ``""`` for NaN, infinity or no value at all, ``"0"`` for an exact zero.
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(number):
        return ""
    if number == 0.0:
        return "0"
    if number < 1e-3:
        return f"{number:.2e}"
    return f"{number:#.3g}"
