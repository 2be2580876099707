"""Analysis parameters, identical for the pre and the post session."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_ATLAS",
    "DEFAULT_BAND_PASS",
    "DEFAULT_MIN_VOLUMES",
    "MAX_MIN_VOLUMES",
    "SEED_RADIUS_RANGE_MM",
    "STRATEGIES",
    "TR_RANGE_S",
    "AnalysisSettings",
    "DenoiseSettings",
    "check_band_pass",
    "check_repetition_time",
    "check_seed_radius",
]

#: Denoising presets: ``none`` or one of nilearn's ``load_confounds_strategy`` presets.
STRATEGIES = ("none", "simple", "scrubbing", "compcor")
#: The defaults, in one place: the command line, the window and saved reviews use these.
DEFAULT_ATLAS = "schaefer100"
DEFAULT_BAND_PASS = (0.01, 0.1)
DEFAULT_MIN_VOLUMES = 50
#: Plausible repetition times of a BOLD series, in seconds (inclusive).
TR_RANGE_S = (0.1, 10.0)
#: Seed-sphere radii the seed maps accept, in millimetres (inclusive).
SEED_RADIUS_RANGE_MM = (2.0, 20.0)
#: Largest ``min_volumes`` accepted: no BOLD run the product reads is longer.
MAX_MIN_VOLUMES = 20000


def check_repetition_time(value: float, source: str = "the repetition time") -> float:
    """Return ``value`` when it is a plausible TR in seconds, else raise.

    Parameters
    ----------
    value : float
        Repetition time in seconds.
    source : str
        What the value was read from, for the message (``"--tr"``, a file).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        When ``value`` is not finite or lies outside :data:`TR_RANGE_S`; the
        message says what was expected and what was found.
    """
    low, high = TR_RANGE_S
    value = float(value)
    if not (math.isfinite(value) and low <= value <= high):
        hint = " (milliseconds?)" if math.isfinite(value) and value > high else ""
        raise ValueError(
            f"expected {source} in seconds between {low:g} and {high:g}, got {value:g}{hint}"
        )
    return value


def check_seed_radius(radius_mm: float) -> float:
    """Return ``radius_mm`` when it lies in :data:`SEED_RADIUS_RANGE_MM`, else raise.

    Parameters
    ----------
    radius_mm : float

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Saying what was expected and what was found.
    """
    low, high = SEED_RADIUS_RANGE_MM
    radius_mm = float(radius_mm)
    if not (math.isfinite(radius_mm) and low <= radius_mm <= high):
        raise ValueError(
            f"expected a seed radius between {low:g} and {high:g} mm, got {radius_mm:g}")
    return radius_mm


def check_band_pass(band_pass: tuple[float, float], tr: float | None = None) -> None:
    """Check ``0 < LOW < HIGH`` and, when the TR is known, ``HIGH < Nyquist``.

    Parameters
    ----------
    band_pass : tuple of float
        High-pass and low-pass edges in Hz.
    tr : float, optional
        Repetition time in seconds; the Nyquist frequency is ``0.5 / tr``.

    Raises
    ------
    ValueError
        With a message that says what was expected and what was found.
    """
    low, high = (float(v) for v in band_pass)
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low < high):
        raise ValueError(
            f"expected a band-pass 0 < LOW < HIGH in Hz, got LOW {low:g} and HIGH {high:g}"
        )
    if tr is not None and high >= 0.5 / tr:
        raise ValueError(
            f"expected a band-pass HIGH below the Nyquist frequency {0.5 / tr:.3g} Hz of "
            f"TR {tr:g} s, got {high:g} Hz; lower HIGH or turn filtering off (--no-filter)"
        )


@dataclass(frozen=True)
class DenoiseSettings:
    """How both sessions are cleaned before connectivity is computed.

    Parameters
    ----------
    strategy : {"none", "simple", "scrubbing", "compcor"} or None, default=None
        nilearn ``load_confounds_strategy`` preset. ``None`` means "simple"
        when both sessions have a confounds table, else "none" (with a warning).
    gsr : bool, default=False
        Add global signal regression.
    band_pass : tuple of float or None, default=(0.01, 0.1)
        High- and low-pass cut-offs in Hz (Butterworth, nilearn
        ``signal.clean``); ``None`` disables filtering.
    detrend : bool, default=True
        Remove linear trends.
    min_volumes : int, default=50
        Fewest volumes a session may keep after scrubbing.
    """

    strategy: str | None = None
    gsr: bool = False
    band_pass: tuple[float, float] | None = DEFAULT_BAND_PASS
    detrend: bool = True
    min_volumes: int = DEFAULT_MIN_VOLUMES

    def __post_init__(self) -> None:
        if self.strategy is not None and self.strategy not in STRATEGIES:
            raise ValueError(
                f"expected a denoising strategy among {', '.join(STRATEGIES)}, "
                f"got {self.strategy!r}"
            )
        if self.band_pass is not None:
            check_band_pass(self.band_pass)
        if not 3 <= self.min_volumes <= MAX_MIN_VOLUMES:
            raise ValueError(f"expected a minimum number of volumes between 3 and "
                             f"{MAX_MIN_VOLUMES}, got {self.min_volumes}")


@dataclass(frozen=True)
class AnalysisSettings:
    """Everything that defines one pre/post comparison besides the input files.

    Parameters
    ----------
    atlas : str, default="schaefer100"
        Registry name (see :func:`core.atlas.atlases.list_atlases`) or a label image path.
    labels_table : str or None
        Label table (``index``, ``name``, optional ``network``) for a user atlas.
    denoise : DenoiseSettings
        Denoising parameters.
    tr : float or None
        Repetition time override in seconds, within :data:`TR_RANGE_S`.
    """

    atlas: str = DEFAULT_ATLAS
    labels_table: str | None = None
    denoise: DenoiseSettings = field(default_factory=DenoiseSettings)
    tr: float | None = None

    def __post_init__(self) -> None:
        if self.tr is not None:
            check_repetition_time(self.tr, "a repetition time override")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary of every parameter."""
        return asdict(self)
