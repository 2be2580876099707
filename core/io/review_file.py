"""Saved reviews: a versioned JSON file that reopens the same patient, numbers and view.

A review records how the inputs were opened (kind, paths, sessions, task), the
SHA-256 of every input file, every analysis parameter and the view state
(cursor, seed, colour map, threshold ...).  Opening it checks that every input
is still where it was and unchanged, then recomputes with the same parameters,
so the numbers are identical.  Files are written atomically and never
overwritten unless the caller passes ``overwrite=True``.

Example
-------
>>> review = make_review(inputs, settings, view={"cursor_mm": [-6, -52, 26]})
>>> save_review("patient.review.json", review)
>>> review = load_review("patient.review.json")
>>> inputs = open_review_inputs(review)          # raises InputChangedError
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from core import __version__
from core.errors import InputError
from core.io.files import atomic_write_text, sha256_file
from core.io.inputs import PatientInputs
from core.settings import DEFAULT_MIN_VOLUMES, AnalysisSettings, DenoiseSettings

__all__ = [
    "REVIEW_FORMAT",
    "REVIEW_VERSION",
    "InputChangedError",
    "Review",
    "ReviewExistsError",
    "ReviewFileError",
    "check_review_inputs",
    "load_review",
    "make_review",
    "open_review_inputs",
    "save_review",
    "settings_from_dict",
]

REVIEW_FORMAT = "prepost-review/review"
REVIEW_VERSION = 1
_REQUIRED = ("format", "version", "subject", "source", "files", "settings", "view")


class ReviewFileError(InputError):
    """A review file is unreadable, truncated, of another version or lacks keys."""


class ReviewExistsError(InputError, FileExistsError):
    """The review file exists and the caller did not allow overwriting it."""


class InputChangedError(InputError):
    """An input file of a saved review has changed, moved or disappeared."""


@dataclass
class Review:
    """A saved review.

    Attributes
    ----------
    subject : str
    source : dict
        How to reopen the inputs: ``kind`` (``demo``, ``fmriprep``, ``nifti``,
        ``timeseries``) and its paths, sessions and task.
    files : dict of str to dict
        ``{role: {"path", "bytes", "sha256"}}``.
    settings : dict
        :meth:`AnalysisSettings.to_dict` of the settings actually used.
    view : dict
        Cursor, seed and display settings (JSON values).
    created, app_version : str
    """

    subject: str
    source: dict[str, Any]
    files: dict[str, dict[str, Any]]
    settings: dict[str, Any]
    view: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    app_version: str = __version__

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document (with ``format`` and ``version``)."""
        return {"format": REVIEW_FORMAT, "version": REVIEW_VERSION,
                "app_version": self.app_version, "created": self.created,
                "subject": self.subject, "source": self.source, "files": self.files,
                "settings": self.settings, "view": self.view}

    @property
    def analysis_settings(self) -> AnalysisSettings:
        """The saved parameters as :class:`AnalysisSettings`."""
        return settings_from_dict(self.settings)


def settings_from_dict(data: dict[str, Any]) -> AnalysisSettings:
    """Rebuild :class:`AnalysisSettings` from :meth:`AnalysisSettings.to_dict`.

    Parameters
    ----------
    data : dict

    Returns
    -------
    AnalysisSettings

    Raises
    ------
    ReviewFileError
        When a parameter is missing or invalid.
    """
    try:
        d = dict(data["denoise"])
        band = d.get("band_pass")
        denoise = DenoiseSettings(strategy=d.get("strategy"), gsr=bool(d.get("gsr", False)),
                                  band_pass=None if band is None else (float(band[0]),
                                                                       float(band[1])),
                                  detrend=bool(d.get("detrend", True)),
                                  min_volumes=int(d.get("min_volumes", DEFAULT_MIN_VOLUMES)))
        return AnalysisSettings(atlas=str(data["atlas"]), labels_table=data.get("labels_table"),
                                denoise=denoise, tr=data.get("tr"))
    except KeyError as exc:
        raise ReviewFileError(f"expected valid analysis settings, the key {exc} is missing"
                              ) from exc
    except (TypeError, ValueError, IndexError) as exc:
        raise ReviewFileError(f"expected valid analysis settings, found {data!r} ({exc})"
                              ) from exc


def _source(inputs: PatientInputs) -> dict[str, Any]:
    files = {role: str(Path(p).resolve()) for role, p in inputs.files.items()}
    if inputs.kind in ("demo", "fmriprep"):
        task = re.search(r"_task-([A-Za-z0-9]+)", Path(files.get("pre_bold", "")).name)
        return {"kind": inputs.kind,
                "root": str(inputs.root.resolve()) if inputs.root is not None else None,
                "subject": inputs.subject.removeprefix("sub-"),
                "sessions": list(inputs.sessions), "task": task.group(1) if task else None}
    if inputs.kind == "timeseries":
        return {"kind": "timeseries", "pre": files.get("pre_timeseries"),
                "post": files.get("post_timeseries"), "subject": inputs.subject}
    return {"kind": "nifti", "subject": inputs.subject,
            **{role: files.get(role) for role in (
                "pre_bold", "post_bold", "pre_confounds", "post_confounds", "pre_mask",
                "post_mask")}}


def make_review(inputs: PatientInputs, settings: AnalysisSettings,
                view: dict[str, Any] | None = None,
                hashes: dict[str, str] | None = None) -> Review:
    """Describe the open patient, its parameters and the view as a :class:`Review`.

    Parameters
    ----------
    inputs : PatientInputs
    settings : AnalysisSettings
        The settings the comparison was computed with.
    view : dict, optional
        JSON-serialisable view state.
    hashes : dict of str to str, optional
        Known SHA-256 by role (skips re-hashing).

    Returns
    -------
    Review
    """
    files = {}
    for role, path in sorted(inputs.files.items()):
        p = Path(path).resolve()
        files[role] = {"path": str(p), "bytes": p.stat().st_size,
                       "sha256": (hashes or {}).get(role) or sha256_file(p)}
    view = json.loads(json.dumps(view or {}))  # validates it is JSON and copies it
    return Review(subject=inputs.subject, source=_source(inputs), files=files,
                  settings=settings.to_dict(), view=view,
                  created=datetime.now(timezone.utc).isoformat(timespec="seconds"))


def save_review(path: str | Path, review: Review, overwrite: bool = False) -> Path:
    """Write a review file atomically (temporary file, then rename).

    Parameters
    ----------
    path : str or Path
    review : Review
    overwrite : bool, default=False
        Replace an existing file; without it an existing file is an error.

    Returns
    -------
    Path

    Raises
    ------
    ReviewExistsError
        When the file exists and ``overwrite`` is False.
    """
    path = Path(path).expanduser()
    if path.exists() and not overwrite:
        raise ReviewExistsError("a file of this name exists; choose another name or allow "
                                "overwriting it", path)
    if not path.parent.is_dir():
        raise InputError("expected an existing folder for the review file", path.parent)
    return atomic_write_text(path, json.dumps(review.to_dict(), indent=2) + "\n")


def load_review(path: str | Path) -> Review:
    """Read and validate a review file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Review

    Raises
    ------
    ReviewFileError
        Unreadable, not JSON (e.g. truncated), another format or version, or
        missing keys.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReviewFileError(f"expected a readable review file ({exc})", path) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReviewFileError(f"expected a JSON review file, found invalid or truncated JSON "
                              f"(line {exc.lineno}, column {exc.colno})", path) from exc
    if not isinstance(data, dict) or data.get("format") != REVIEW_FORMAT:
        raise ReviewFileError(f"expected a {REVIEW_FORMAT} file, found something else", path)
    if data.get("version") != REVIEW_VERSION:
        raise ReviewFileError(f"expected review file version {REVIEW_VERSION}, found version "
                              f"{data.get('version')!r}; it was written by another release",
                              path)
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        raise ReviewFileError(f"expected the keys {', '.join(_REQUIRED)}, missing "
                              f"{', '.join(missing)}", path)
    if not isinstance(data["files"], dict) or not isinstance(data["source"], dict) or \
            "kind" not in data["source"]:
        raise ReviewFileError("expected 'files' and 'source' (with 'kind') objects", path)
    for role, entry in data["files"].items():
        if not isinstance(entry, dict) or not {"path", "sha256"} <= set(entry):
            raise ReviewFileError(f"expected 'path' and 'sha256' for input {role!r}", path)
    review = Review(subject=str(data["subject"]), source=data["source"], files=data["files"],
                    settings=data["settings"], view=data["view"] or {},
                    created=str(data.get("created", "")),
                    app_version=str(data.get("app_version", "")))
    try:
        settings_from_dict(review.settings)  # validate now, not after an hour of work
    except ReviewFileError as exc:
        raise ReviewFileError(exc.reason, path) from exc
    return review


def check_review_inputs(review: Review) -> list[str]:
    """Return one message per input file that moved, disappeared or changed ([] if none).

    Parameters
    ----------
    review : Review

    Returns
    -------
    list of str
    """
    problems = []
    for role, entry in sorted(review.files.items()):
        path = Path(entry["path"])
        if not path.is_file():
            problems.append(f"{path}: the {role} input of this review was moved or deleted "
                            f"(expected it at {path})")
        elif sha256_file(path) != entry["sha256"]:
            problems.append(f"{path}: the {role} input has changed since the review was saved "
                            "(its SHA-256 differs)")
    return problems


def open_review_inputs(review: Review) -> PatientInputs:
    """Check the inputs of a review and open them as they were opened when it was saved.

    Parameters
    ----------
    review : Review

    Returns
    -------
    PatientInputs

    Raises
    ------
    InputChangedError
        When an input moved, disappeared or changed (the message names the files).
    """
    from core.io import inputs as sources

    problems = check_review_inputs(review)
    if problems:
        raise InputChangedError("; ".join(problems))
    s = review.source
    tr = review.settings.get("tr")
    kind = s["kind"]
    if kind in ("demo", "fmriprep"):
        sessions = s.get("sessions") or [None, None]
        opened = sources.open_fmriprep(s["root"], subject=s.get("subject"),
                                       pre_session=sessions[0], post_session=sessions[1],
                                       task=s.get("task"), tr=tr)
        opened.kind = kind
        return opened
    if kind == "timeseries":
        return sources.open_timeseries_pair(s["pre"], s["post"], tr=tr,
                                            subject=s.get("subject", "patient"))
    if kind == "nifti":
        return sources.open_nifti_pair(
            s["pre_bold"], s["post_bold"], confounds_pre=s.get("pre_confounds"),
            confounds_post=s.get("post_confounds"), mask_pre=s.get("pre_mask"),
            mask_post=s.get("post_mask"), tr=tr, subject=s.get("subject", "patient"))
    raise ReviewFileError(f"expected an input kind among demo, fmriprep, nifti, timeseries, "
                          f"found {kind!r}")
