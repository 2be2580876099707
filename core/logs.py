"""Application log file whose records carry no patient identifiers.

Paths can hold a patient's name (``/data/Jane_Doe_1961-04-02/...``) and BIDS
labels are identifiers, so every record written to the log file is redacted:
paths become ``<path …ext>``, ``sub-``/``ses-`` labels become ``sub-*``,
dates become ``<date>``.  Messages shown to the user on screen are not affected.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
from pathlib import Path

__all__ = ["RedactingFilter", "configure_file_logging", "log_file_path", "redact"]

# Folders may contain spaces (only the last component is taken to end at a space).
_PATH = re.compile(
    r"""(?:[A-Za-z]:)?"""  # Windows drive
    r"""(?:[\\/][^\\/\n'":,;()<>]*?(?=[\\/]))*"""  # folders, spaces allowed
    r"""[\\/][^\s'"\\/:,;()<>]*"""  # last component, ends at a space
)
_BIDS = re.compile(r"\b(sub|ses)-[A-Za-z0-9]+")
_DATE = re.compile(r"\b(?:19|20)\d\d[-_./]?(?:0[1-9]|1[0-2])[-_./]?(?:0[1-9]|[12]\d|3[01])\b")
_EXTENSIONS = (".nii.gz", ".nii", ".tsv", ".csv", ".json", ".pdf", ".html", ".png")


def _path_placeholder(match: re.Match) -> str:
    text = match.group(0)
    ext = next((e for e in _EXTENSIONS if text.lower().endswith(e)), "")
    return f"<path{' ' + ext if ext else ''}>"


def redact(text: str) -> str:
    """Remove paths, BIDS subject/session labels and dates from a log message.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
    """
    text = _PATH.sub(_path_placeholder, text)
    text = _BIDS.sub(lambda m: f"{m.group(1)}-*", text)
    return _DATE.sub("<date>", text)


class RedactingFilter(logging.Filter):
    """Logging filter that applies :func:`redact` to the formatted message and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: D102
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            formatter = logging.Formatter()
            record.exc_text = redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        return True


def log_file_path() -> Path:
    """Where the application writes its log (``$PREPOST_LOG_DIR`` overrides the folder).

    Returns
    -------
    Path
    """
    override = os.environ.get("PREPOST_LOG_DIR")
    if override:
        base = Path(override)
    elif sys.platform.startswith("win"):
        base = Path(os.environ.get("LOCALAPPDATA", Path.home())) / "prepost-review" / "logs"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Logs" / "prepost-review"
    else:
        state = os.environ.get("XDG_STATE_HOME", str(Path.home() / ".local" / "state"))
        base = Path(state) / "prepost-review"
    return base / "prepost-review.log"


def configure_file_logging(level: int = logging.INFO) -> Path | None:
    """Send log records, redacted, to a rotating file; return its path (None if impossible).

    Parameters
    ----------
    level : int, default=logging.INFO

    Returns
    -------
    Path or None
    """
    path = log_file_path()
    root = logging.getLogger()
    for existing in root.handlers:
        if isinstance(existing, logging.FileHandler) and Path(existing.baseFilename) == path:
            return path  # already configured (main() may run more than once in a process)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000,
                                                       backupCount=3, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(min(root.level or level, level))
    return path
