"""File dialogs that open in the last folder used, remembered across sessions (QSettings).

Every dialog of the window goes through these functions: it starts in the
folder of the last file or folder chosen in any of them (or opened by a drop
or the recent list), and what the user chooses becomes the new last folder.
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtWidgets import QFileDialog, QWidget

from gui.settings_store import app_settings

__all__ = ["ask_existing_folder", "ask_open_file", "ask_open_files", "ask_save_file",
           "last_folder", "remember_folder"]

_KEY = "last_folder"


def last_folder() -> str:
    """Return the folder the next dialog starts in (the home folder at first)."""
    folder = str(app_settings().value(_KEY, "") or "")
    return folder if folder and Path(folder).is_dir() else str(Path.home())


def remember_folder(folder: str | Path) -> None:
    """Make ``folder`` the one the next dialog starts in."""
    app_settings().setValue(_KEY, str(Path(folder)))


def ask_open_file(parent: QWidget | None, title: str, pattern: str = "",
                  start: str = "") -> str:
    """Ask for one existing file (from ``start``, else the last folder); return it or ""."""
    path, _ = QFileDialog.getOpenFileName(parent, title, start or last_folder(), pattern)
    if path:
        remember_folder(Path(path).parent)
    return path


def ask_open_files(parent: QWidget | None, title: str, pattern: str = "") -> list[str]:
    """Ask for several existing files; return their paths (empty when cancelled)."""
    paths, _ = QFileDialog.getOpenFileNames(parent, title, last_folder(), pattern)
    if paths:
        remember_folder(Path(paths[0]).parent)
    return list(paths)


def ask_save_file(parent: QWidget | None, title: str, name: str, pattern: str = "") -> str:
    """Ask where to save a file named ``name`` by default; return the path or ""."""
    path, _ = QFileDialog.getSaveFileName(parent, title, str(Path(last_folder()) / name),
                                          pattern)
    if path:
        remember_folder(Path(path).parent)
    return path


def ask_existing_folder(parent: QWidget | None, title: str, remember_parent: bool = False,
                        start: str = "") -> str:
    """Ask for a folder (from ``start``, else the last folder); return it or "".

    ``remember_parent``: start the next dialog beside the folder, not inside
    it (for a patient's folder, opened once; an export folder is remembered
    itself, to export there again).
    """
    folder = QFileDialog.getExistingDirectory(parent, title, start or last_folder())
    if folder:
        remember_folder(Path(folder).parent if remember_parent else folder)
    return folder
