"""Import the heavy scientific modules and load the MNI masks ahead of need, off the GUI thread."""

from __future__ import annotations

import importlib
import logging
import threading
import time

__all__ = ["HEAVY_MODULES", "warm_up_in_background"]

log = logging.getLogger(__name__)

#: Modules the first analysis needs; importing them takes ~2 s on a cold start.  In the
#: order a patient opened at once needs them after its voxels are read (which needs
#: only numpy, isal, nibabel and the brain mask, kept on disk by core.atlas.templates):
#: denoising, partial correlation; then what the statistics and seed maps need.
HEAVY_MODULES = (
    "nilearn.signal", "scipy.signal", "nilearn.image", "nilearn.connectome", "scipy.sparse",
    "pandas", "core.pipeline", "nilearn.datasets", "nilearn.interfaces.fmriprep",
    "scipy.spatial", "core.review", "core.maps.prepare", "core.maps.seedmaps",
)


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
        for name in HEAVY_MODULES:
            try:
                importlib.import_module(name)
            except ImportError:  # pragma: no cover - reported when actually needed
                log.warning("could not pre-import %s", name)
        from core.atlas.templates import preload_templates

        preload_templates()
        log.info("scientific modules ready in %.2f s", time.perf_counter() - start)

    thread = threading.Thread(target=run, name="warm-up imports", daemon=True)
    thread.start()
    return thread
