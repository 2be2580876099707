"""Import the heavy scientific modules ahead of need, off the GUI thread.

Two groups, in the order a patient opened the moment the window appears needs
them: :data:`FIRST_VIEW_MODULES` (denoising, partial correlation, atlas
resampling: the first view needs them once its voxels are read, and the read
itself needs none of them) and :data:`LATER_MODULES` (statistics, seed maps,
fMRIPrep confounds).  While a patient is being opened
(:func:`hold_later_imports`), the later group waits, so it does not compete with
reading the voxels for the cores; the opening imports anything it needs itself.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time

__all__ = [
    "FIRST_VIEW_MODULES",
    "HEAVY_MODULES",
    "LATER_MODULES",
    "hold_later_imports",
    "release_later_imports",
    "warm_up_in_background",
]

log = logging.getLogger(__name__)

#: What the first view needs after the voxels are read.
FIRST_VIEW_MODULES = (
    "nilearn.signal", "scipy.signal", "nilearn.image", "nilearn.connectome", "scipy.sparse",
    "pandas", "core.pipeline", "core.maps.display",
)
#: What the statistics, the seed maps and inputs with confounds need.
LATER_MODULES = (
    "core.review", "nilearn.interfaces.fmriprep", "scipy.spatial", "core.maps.prepare",
    "core.maps.seedmaps", "nilearn.datasets",
)
#: Everything the first analysis needs; importing it takes ~2 s on a cold start.
HEAVY_MODULES = FIRST_VIEW_MODULES + LATER_MODULES

#: Set while the later group may be imported (cleared while a patient is being opened).
_LATER_ALLOWED = threading.Event()
_LATER_ALLOWED.set()
#: Longest wait for an opening to finish before importing the later group anyway.
_LONGEST_HOLD_S = 60.0


def hold_later_imports() -> None:
    """Keep the later group waiting (a patient is being opened)."""
    _LATER_ALLOWED.clear()


def release_later_imports() -> None:
    """Let the later group be imported."""
    _LATER_ALLOWED.set()


def warm_up_in_background() -> threading.Thread:
    """Start a daemon thread that imports :data:`HEAVY_MODULES`.

    The window appears first (start-up stays short); by the time a patient is
    chosen, opening it no longer pays for the imports.

    Returns
    -------
    threading.Thread
    """

    def run() -> None:
        start = time.perf_counter()
        _import(FIRST_VIEW_MODULES)
        _LATER_ALLOWED.wait(_LONGEST_HOLD_S)
        _import(LATER_MODULES)
        from core.atlas.templates import preload_templates

        preload_templates()
        log.info("scientific modules ready in %.2f s", time.perf_counter() - start)

    thread = threading.Thread(target=run, name="warm-up imports", daemon=True)
    thread.start()
    return thread


def _import(names: tuple[str, ...]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:  # pragma: no cover - reported when actually needed
            log.warning("could not pre-import %s", name)
