"""Locate data files shipped with the application.

Bundled data (atlases, ...) lives in the repository's top-level ``resources/``
folder.  A PyInstaller build copies that folder next to the frozen code and
exposes its location as ``sys._MEIPASS``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["resource_path", "resources_root", "user_cache_dir"]


def resources_root() -> Path:
    """Return the folder holding the bundled resources.

    Returns
    -------
    Path
        ``<sys._MEIPASS>/resources`` when running from a PyInstaller bundle,
        otherwise ``<repository>/resources``.
    """
    bundle_dir = getattr(sys, "_MEIPASS", None)
    if bundle_dir is not None:
        return Path(bundle_dir) / "resources"
    return Path(__file__).resolve().parents[1] / "resources"


def resource_path(*parts: str) -> Path:
    """Return the path of a bundled resource.

    The path is not checked for existence.

    Parameters
    ----------
    *parts : str
        Path components relative to the resources folder, e.g.
        ``resource_path("atlases", "schaefer_2018", "README.md")``.

    Returns
    -------
    Path
        Absolute path under the resources folder (see :func:`resources_root`).

    Raises
    ------
    ValueError
        If a component is absolute or the result would leave the resources
        folder.
    """
    root = resources_root()
    path = root.joinpath(*parts)
    if any(Path(part).is_absolute() for part in parts) or ".." in Path(*parts).parts:
        raise ValueError(f"expected a path inside {root}, found {path}")
    return path


def user_cache_dir() -> Path:
    """Return the folder for data the application derives and keeps (not created here).

    Returns
    -------
    Path
        ``$PREPOST_CACHE_DIR`` if set, else the platform's user cache folder.
    """
    override = os.environ.get("PREPOST_CACHE_DIR")
    if override:
        return Path(override)
    if sys.platform.startswith("win"):
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "prepost-review"
