"""The one accessor for persistent settings (QSettings; tests redirect it to a file)."""

from __future__ import annotations

import os

from PyQt6.QtCore import QSettings

from gui.strings import APP_NAME, ORG_NAME

__all__ = ["MAX_RECENT", "add_recent", "app_settings", "recent_patients"]

MAX_RECENT = 8


def app_settings() -> QSettings:
    """Return the application's QSettings.

    ``$PREPOST_SETTINGS_FILE`` (an INI path) overrides the platform store, so
    tests never touch the user's settings.
    """
    path = os.environ.get("PREPOST_SETTINGS_FILE")
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(ORG_NAME, APP_NAME)


def recent_patients() -> list[dict]:
    """Return recent patients, newest first, as ``{"kind", "paths"}`` dicts."""
    settings = app_settings()
    items = settings.value("recent", []) or []
    if isinstance(items, str):
        items = [items]
    out = []
    for item in items:
        kind, _, rest = str(item).partition("|")
        if kind and rest:
            out.append({"kind": kind, "paths": rest.split("|")})
    return out


def add_recent(kind: str, paths: list[str]) -> None:
    """Put a patient at the top of the recent list."""
    entry = "|".join([kind, *paths])
    current = ["|".join([r["kind"], *r["paths"]]) for r in recent_patients()]
    items = [entry] + [e for e in current if e != entry]
    app_settings().setValue("recent", items[:MAX_RECENT])
