"""``python main.py accept-registration DERIV_DIR``: accept a quick path's registration check.

Prints the images to look at and the route's warnings, asks for a yes (or
takes ``--yes`` when no one is at a terminal), and records the acceptance
(:func:`core.io.preprocessing_route.accept_registration`).  ``analyze``
refuses quick derivatives until then.
"""

from __future__ import annotations

import argparse
import sys

from core.errors import InputError
from core.io.preprocessing_route import accept_registration, read_quick_provenance

__all__ = ["accept_command", "add_accept_command"]


def add_accept_command(commands: argparse._SubParsersAction) -> None:
    """Add the ``accept-registration`` command to the command line's parser.

    Parameters
    ----------
    commands : argparse._SubParsersAction
    """
    accept = commands.add_parser(
        "accept-registration", help="accept the registration check of quick-preprocessing "
                                    "derivatives, after looking at its images",
        description="Record that you looked at the registration-check images of a quick-"
                    "preprocessing derivatives folder (template edges over each session's mean "
                    "EPI) and found them good enough to analyse. Writes "
                    "registration_acceptance.json (who, when, SHA-256 of each image). Exit "
                    "codes: 0 accepted, 2 not accepted or not a quick-preprocessing folder.")
    accept.add_argument("derivatives", metavar="DERIV_DIR",
                        help="the folder written by the quick preprocessing")
    accept.add_argument("--reviewer", metavar="NAME",
                        help="who accepts (default: the login name)")
    accept.add_argument("--yes", action="store_true",
                        help="accept without asking (when no one is at a terminal)")


def accept_command(args: argparse.Namespace) -> int:
    """Run ``accept-registration``; return the exit code.

    Parameters
    ----------
    args : argparse.Namespace
        ``derivatives``, ``reviewer``, ``yes``.

    Returns
    -------
    int
        0 when accepted, 2 when declined.

    Raises
    ------
    InputError
        When the folder is not quick-preprocessing output.
    """
    provenance = read_quick_provenance(args.derivatives)
    if provenance is None:
        raise InputError("expected a quick-preprocessing derivatives folder, found another kind "
                         "of folder; only the quick path has a registration check",
                         args.derivatives)
    print("Look at these registration-check images before accepting:", file=sys.stderr)
    for image in provenance.check_images:
        print(f"  {image}", file=sys.stderr)
    for warning in provenance.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not args.yes:
        if not sys.stdin.isatty():
            raise InputError("expected --yes or an answer at a terminal, found neither; the "
                             "registration check was not accepted", args.derivatives)
        answer = input("Do the template edges follow the brain in every image? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("not accepted", file=sys.stderr)
            return 2
    path = accept_registration(args.derivatives, args.reviewer)
    print(f"accepted; recorded in {path}", file=sys.stderr)
    return 0
