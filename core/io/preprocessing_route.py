"""Which preprocessing made a derivatives folder, and whether its registration check was accepted.

The quick path (:mod:`core.preprocess.quick`) writes derivatives in fMRIPrep's
layout with its own ``dataset_description.json`` (``GeneratedBy`` names
:data:`QUICK_PIPELINE`), a record (:data:`RECORD_FILE`) listing its warnings
and its registration-check images, and, once a person has looked at those
images and accepted them, :data:`ACCEPTANCE_FILE` with who, when and the
SHA-256 of each image.  This module reads all three, so every way of opening
data (the command line, cohorts, the window, saved reviews) labels quick
derivatives, refuses them until their check is accepted, and refuses a pre
and a post that come from different routes.
"""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from core.errors import InputError
from core.io.files import atomic_write_text, sha256_file

__all__ = [
    "ACCEPTANCE_FILE",
    "QUICK_LABEL",
    "QUICK_PIPELINE",
    "RECORD_FILE",
    "QuickProvenance",
    "RegistrationNotAccepted",
    "accept_registration",
    "check_same_route",
    "derivatives_root_of",
    "read_quick_provenance",
    "require_accepted",
    "route_of",
]

#: ``GeneratedBy[0].Name`` of the quick path's ``dataset_description.json``.
QUICK_PIPELINE = "prepost-review quick preprocessing"
#: How the window, the report and ``summary.json`` name the route.
QUICK_LABEL = "quick preprocessing"
RECORD_FILE = "quick_preprocessing.json"
ACCEPTANCE_FILE = "registration_acceptance.json"
_ACCEPT_HINT = ("look at the registration-check images ({images}) and accept them in the "
                "window, or with: python main.py accept-registration {root}")


class RegistrationNotAccepted(InputError):
    """Quick derivatives whose registration check nobody has accepted (yet, or since a rerun).

    Attributes
    ----------
    provenance : QuickProvenance
        The derivatives concerned, their images and warnings.
    """

    def __init__(self, message: str, provenance: QuickProvenance) -> None:
        self.provenance = provenance
        super().__init__(message, provenance.root)


@dataclass(frozen=True)
class QuickProvenance:
    """A quick-preprocessing derivatives folder, as its files describe it.

    Attributes
    ----------
    root : Path
        The derivatives folder (holding ``dataset_description.json``).
    version : str
        Version of prepost-review that wrote it.
    warnings : tuple of str
        The route's warnings (no distortion correction, expected error, ...)
        and those found on this data (coverage, disagreeing starts).
    check_images : tuple of Path
        Registration-check images, one per session.
    acceptance : dict or None
        Contents of the acceptance file when it matches the images, else None.
    stale_reason : str
        Why an existing acceptance no longer holds ("" when none or valid).
    """

    root: Path
    version: str
    warnings: tuple[str, ...]
    check_images: tuple[Path, ...]
    acceptance: dict[str, Any] | None
    stale_reason: str = ""

    @property
    def accepted(self) -> bool:
        """True when a person accepted these very images."""
        return self.acceptance is not None

    @property
    def label(self) -> str:
        """One line for the window header and the report."""
        text = f"{QUICK_LABEL} (prepost-review {self.version})"
        if self.acceptance is not None:
            text += (f"; registration accepted by {self.acceptance.get('reviewer', '?')} on "
                     f"{str(self.acceptance.get('accepted_at', '?'))[:10]}")
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description for ``summary.json``."""
        return {"route": QUICK_LABEL, "pipeline": QUICK_PIPELINE, "version": self.version,
                "derivatives": str(self.root), "warnings": list(self.warnings),
                "registration_check": self.acceptance}


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def route_of(root: str | Path) -> str:
    """Name the pipeline that made a derivatives folder, from its ``dataset_description.json``.

    Parameters
    ----------
    root : str or Path
        A derivatives folder.

    Returns
    -------
    str
        :data:`QUICK_LABEL` for the quick path, ``"fMRIPrep"`` for fMRIPrep,
        another pipeline's name, or ``""`` when no description says.
    """
    description = _read_json(Path(root) / "dataset_description.json") or {}
    generated = description.get("GeneratedBy") or description.get("PipelineDescription") or []
    if isinstance(generated, dict):
        generated = [generated]
    names = [str(g.get("Name", "")) for g in generated if isinstance(g, dict)]
    if QUICK_PIPELINE in names:
        return QUICK_LABEL
    if any(name.lower() == "fmriprep" for name in names):
        return "fMRIPrep"
    return names[0] if names else ""


def derivatives_root_of(bold: str | Path) -> Path | None:
    """Return the derivatives folder of a ``sub-*/[ses-*/]func/`` file, or None.

    Parameters
    ----------
    bold : str or Path

    Returns
    -------
    Path or None
        The nearest folder above ``bold`` (at most three levels) holding a
        ``dataset_description.json``.
    """
    for parent in list(Path(bold).resolve().parents)[:4]:
        if (parent / "dataset_description.json").is_file():
            return parent
    return None


def read_quick_provenance(root: str | Path) -> QuickProvenance | None:
    """Describe a quick-preprocessing derivatives folder; None for any other folder.

    Parameters
    ----------
    root : str or Path
        A derivatives folder.

    Returns
    -------
    QuickProvenance or None

    Raises
    ------
    InputError
        When the folder says it is quick preprocessing but its record is
        missing or unreadable.
    """
    root = Path(root)
    if route_of(root) != QUICK_LABEL:
        return None
    record = _read_json(root / RECORD_FILE)
    if record is None:
        raise InputError(f"expected the quick-preprocessing record {RECORD_FILE} beside "
                         "dataset_description.json, found none or an unreadable one; run "
                         "the quick preprocessing again", root)
    images = tuple(root / str(name) for name in record.get("check_images", []))
    acceptance, stale = _valid_acceptance(root, images)
    return QuickProvenance(root=root, version=str(record.get("version", "?")),
                           warnings=tuple(str(w) for w in record.get("warnings", [])),
                           check_images=images, acceptance=acceptance, stale_reason=stale)


def _image_hashes(root: Path, images: tuple[Path, ...]) -> dict[str, str]:
    return {path.relative_to(root).as_posix(): sha256_file(path) for path in images}


def _valid_acceptance(root: Path, images: tuple[Path, ...]) -> tuple[dict | None, str]:
    accepted = _read_json(root / ACCEPTANCE_FILE)
    if accepted is None:
        return None, ""
    missing = [p.name for p in images if not p.is_file()]
    if missing or not images:
        return None, f"registration-check image(s) missing: {', '.join(missing) or 'none listed'}"
    if accepted.get("images") != _image_hashes(root, images) or \
            accepted.get("record_sha256") != sha256_file(root / RECORD_FILE):
        return None, (f"the registration-check images or record changed after "
                      f"{accepted.get('reviewer')} accepted them on {accepted.get('accepted_at')}")
    return accepted, ""


def require_accepted(provenance: QuickProvenance) -> None:
    """Raise unless a person accepted the registration check of these derivatives.

    Parameters
    ----------
    provenance : QuickProvenance

    Raises
    ------
    RegistrationNotAccepted
        Saying how to accept.
    """
    if provenance.accepted:
        return
    images = ", ".join(p.relative_to(provenance.root).as_posix()
                       for p in provenance.check_images) or "none listed"
    why = (f"{provenance.stale_reason}; " if provenance.stale_reason
           else "the registration check of these quick-preprocessing derivatives has not "
                "been accepted; ")
    raise RegistrationNotAccepted(
        why + _ACCEPT_HINT.format(images=images, root=provenance.root), provenance)


def _user_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment
        return "unknown user"


def accept_registration(root: str | Path, reviewer: str | None = None) -> Path:
    """Record that a person looked at the registration-check images and accepted them.

    Parameters
    ----------
    root : str or Path
        Quick-preprocessing derivatives folder.
    reviewer : str, optional
        Who accepted (default: the operating-system user name).

    Returns
    -------
    Path
        The acceptance file, written atomically: reviewer, UTC time, and the
        SHA-256 of each image and of the record, so a rerun that changes the
        images voids it.

    Raises
    ------
    InputError
        When ``root`` is not quick-preprocessing output or an image is missing.
    """
    root = Path(root).expanduser()
    provenance = read_quick_provenance(root)
    if provenance is None:
        raise InputError("expected a quick-preprocessing derivatives folder (its "
                         f"dataset_description.json naming '{QUICK_PIPELINE}'), found another "
                         "kind of folder; only the quick path needs a registration check", root)
    missing = [p.name for p in provenance.check_images if not p.is_file()]
    if missing or not provenance.check_images:
        raise InputError(f"expected the registration-check images, found "
                         f"{'missing: ' + ', '.join(missing) if missing else 'none listed'}",
                         root)
    who = " ".join(str(reviewer or "").split()) or _user_name()
    record = {
        "accepted": True,
        "reviewer": who,
        "accepted_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "images": _image_hashes(root, provenance.check_images),
        "record_sha256": sha256_file(root / RECORD_FILE),
        "statement": "The reviewer looked at the template edges over each session's mean EPI "
                     "in three planes and judged the registration good enough to analyse.",
    }
    return atomic_write_text(root / ACCEPTANCE_FILE, json.dumps(record, indent=2) + "\n")


def check_same_route(pre_bold: str | Path, post_bold: str | Path) -> QuickProvenance | None:
    """Refuse a pre and a post from different routes; require an accepted check for quick ones.

    Parameters
    ----------
    pre_bold, post_bold : str or Path
        The two preprocessed BOLD files.

    Returns
    -------
    QuickProvenance or None
        The quick path's provenance (warnings of both folders when they
        differ), or None when neither file comes from the quick path.

    Raises
    ------
    InputError
        When one file comes from the quick path and the other does not.
    RegistrationNotAccepted
        When a quick folder's registration check is not accepted.
    """
    roots = [derivatives_root_of(path) for path in (pre_bold, post_bold)]
    routes = [route_of(root) if root is not None else "" for root in roots]
    quick = [route == QUICK_LABEL for route in routes]
    if quick[0] != quick[1]:
        named = [f"{route or 'an unnamed pipeline'} ({root or path})"
                 for route, root, path in zip(routes, roots, (pre_bold, post_bold), strict=True)]
        raise InputError(f"expected pre and post from the same preprocessing route, found pre "
                         f"from {named[0]} and post from {named[1]}; mixing quick-preprocessing "
                         "and fMRIPrep sessions is refused: preprocess both sessions the same way")
    if not quick[0]:
        return None
    found = [read_quick_provenance(root) for root in dict.fromkeys(roots) if root is not None]
    provenances = [p for p in found if p is not None]
    for provenance in provenances:
        require_accepted(provenance)
    warnings = dict.fromkeys(w for p in provenances for w in p.warnings)
    return replace(provenances[0], warnings=tuple(warnings))
