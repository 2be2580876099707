"""Can the window open here? One clear line instead of Qt's abort when it cannot.

Qt aborts the whole process when its platform plugin fails to load (on Linux
usually because an X11 library of the ``xcb`` plugin is not installed), after
printing a message that often names the wrong library.  So before the
QApplication is created, :func:`startup_problem` looks at the environment and
at the shared libraries the ``xcb`` plugin needs (``ldd``), and returns one line
that names what is missing and the system package to install, or None.

Nothing here creates a QApplication; only QtCore is imported, to find the plugin.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["PACKAGES", "missing_libraries", "missing_library_message", "no_display_message",
           "startup_problem", "xcb_plugin_path"]

#: Shared library of the xcb plugin -> (Debian/Ubuntu package, Fedora package).
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
}

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$", re.M)


def missing_libraries(ldd_output: str) -> list[str]:
    """Library names that ``ldd`` reports as "not found", each once, in order.

    Parameters
    ----------
    ldd_output : str
        What ``ldd FILE`` printed.

    Returns
    -------
    list of str
    """
    return list(dict.fromkeys(_NOT_FOUND.findall(ldd_output)))


def missing_library_message(missing: list[str]) -> str:
    """One line: which libraries the window needs and how to install them.

    Parameters
    ----------
    missing : list of str
        Library file names, e.g. ``["libxcb-icccm.so.4"]``.

    Returns
    -------
    str
    """
    debian = list(dict.fromkeys(PACKAGES.get(m, (m, m))[0] for m in missing))
    fedora = list(dict.fromkeys(PACKAGES.get(m, (m, m))[1] for m in missing))
    return (f"error: the window cannot open: Qt's X11 plugin (xcb) needs {', '.join(missing)}, "
            f"which {'is' if len(missing) == 1 else 'are'} not installed. Install "
            f"{'it' if len(missing) == 1 else 'them'}: sudo apt install {' '.join(debian)} "
            f"(Debian/Ubuntu) or sudo dnf install {' '.join(fedora)} (Fedora); the headless "
            "commands (analyze, cohort, atlases) work without them.")


def no_display_message() -> str:
    """One line for a start without any display (no ``DISPLAY`` or ``WAYLAND_DISPLAY``)."""
    program = "prepost-review" if getattr(sys, "frozen", False) else "python3 main.py"
    return ("error: no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set). "
            f"Run it in a desktop session or under xvfb-run (xvfb-run {program}), render "
            f"it offscreen ({program} --demo --screenshot window.png), or use the "
            f"headless commands ({program} analyze --help).")


def xcb_plugin_path() -> Path | None:
    """Return the xcb platform plugin of the Qt in use (None when it cannot be found)."""
    try:
        from PyQt6.QtCore import QLibraryInfo
    except ImportError:
        return None
    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    path = plugins / "platforms" / "libqxcb.so"
    return path if path.is_file() else None


def _ldd(path: Path) -> str | None:
    ldd = shutil.which("ldd")
    if ldd is None:
        return None
    try:
        done = subprocess.run([ldd, str(path)], capture_output=True, text=True, timeout=20,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout


def startup_problem(env: Mapping[str, str] | None = None, platform: str = sys.platform,
                    plugin: Path | None = None, ldd=_ldd) -> str | None:
    """Why the window cannot open here, as one line, or None when it can (or cannot tell).

    Checked only on Linux and other X11 systems, when Qt would choose the
    platform itself or was told to use ``xcb``.

    Parameters
    ----------
    env : mapping, optional
        Environment variables (default ``os.environ``).
    platform : str, default=sys.platform
    plugin : Path, optional
        The xcb plugin (default :func:`xcb_plugin_path`).
    ldd : callable, optional
        ``ldd(path) -> str or None`` (tests replace it).

    Returns
    -------
    str or None
    """
    env = os.environ if env is None else env
    if platform.startswith(("win", "darwin")):
        return None
    requested = env.get("QT_QPA_PLATFORM", "").strip()
    if requested and not requested.startswith("xcb"):
        return None  # offscreen, wayland, vnc...: the user chose; Qt explains its own
    if not requested and env.get("WAYLAND_DISPLAY"):
        return None  # Qt tries its wayland plugin first
    if not env.get("DISPLAY"):
        return no_display_message()
    plugin = plugin if plugin is not None else xcb_plugin_path()
    if plugin is None:
        return None
    output = ldd(plugin)
    missing = missing_libraries(output) if output else []
    return missing_library_message(missing) if missing else None
