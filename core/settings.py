"""Analysis parameters, identical for the pre and the post session."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_ATLAS",
    "DEFAULT_BAND_PASS",
    "DEFAULT_MIN_VOLUMES",
    "STRATEGIES",
    "AnalysisSettings",
    "DenoiseSettings",
]

#: Denoising presets: ``none`` or one of nilearn's ``load_confounds_strategy`` presets.
STRATEGIES = ("none", "simple", "scrubbing", "compcor")
#: The defaults, in one place: the command line, the window and saved reviews use these.
DEFAULT_ATLAS = "schaefer100"
DEFAULT_BAND_PASS = (0.01, 0.1)
DEFAULT_MIN_VOLUMES = 50


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
            low, high = self.band_pass
            if not (0 <= low < high):
                raise ValueError(
                    f"expected a band-pass LOW < HIGH in Hz, got {low:g} and {high:g}"
                )
        if self.min_volumes < 3:
            raise ValueError(f"expected a minimum of at least 3 volumes, got {self.min_volumes}")


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
        Repetition time override in seconds.
    """

    atlas: str = DEFAULT_ATLAS
    labels_table: str | None = None
    denoise: DenoiseSettings = field(default_factory=DenoiseSettings)
    tr: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary of every parameter."""
        return asdict(self)
