"""The analysis options shared by ``analyze`` and ``cohort``, and the settings they give.

Both commands must analyse a pair identically, so they declare these options
through one function and turn them into :class:`core.settings.AnalysisSettings`
through another.  Imports no core package (see the import-linter contracts).
"""

from __future__ import annotations

import argparse

from core.errors import InputError
from core.settings import (
    DEFAULT_ATLAS,
    DEFAULT_BAND_PASS,
    DEFAULT_MIN_VOLUMES,
    MAX_MIN_VOLUMES,
    STRATEGIES,
    TR_RANGE_S,
    AnalysisSettings,
    DenoiseSettings,
    check_repetition_time,
)

__all__ = ["add_analysis_options", "add_tr_option", "settings_from_args"]


def add_analysis_options(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """Add the "analysis" option group: atlas, labels, denoising, band-pass, volumes.

    Parameters
    ----------
    parser : argparse.ArgumentParser

    Returns
    -------
    argparse._ArgumentGroup
        The group, to which a command may add more options (``--tr``).
    """
    analysis = parser.add_argument_group("analysis")
    analysis.add_argument("--atlas", default=DEFAULT_ATLAS, metavar="NAME|PATH",
                          help=f"atlas name (see `atlases`; default {DEFAULT_ATLAS}) or a label "
                               "image in MNI space with --labels")
    analysis.add_argument("--labels", metavar="TSV",
                          help="label table of a user atlas, or the networks of time-series "
                               "columns by name (columns name, network)")
    analysis.add_argument("--strategy", choices=STRATEGIES, default=None,
                          help="denoising preset (default: simple when confounds exist)")
    analysis.add_argument("--gsr", action="store_true", help="global signal regression")
    band = analysis.add_mutually_exclusive_group()
    low, high = DEFAULT_BAND_PASS
    band.add_argument("--band-pass", nargs=2, type=float, metavar=("LOW", "HIGH"),
                      default=DEFAULT_BAND_PASS,
                      help=f"band-pass in Hz (default {low:g} {high:g})")
    band.add_argument("--no-filter", action="store_true", help="no band-pass filtering")
    analysis.add_argument("--no-detrend", action="store_true",
                          help="no linear detrending (for series another tool already cleaned; "
                               "with --strategy none --no-filter the matrices are the plain "
                               "Pearson correlations of the ROI means)")
    analysis.add_argument("--min-volumes", type=_min_volumes, default=DEFAULT_MIN_VOLUMES,
                          metavar="N", help="fewest volumes a session may keep after scrubbing "
                               f"(default {DEFAULT_MIN_VOLUMES})")
    return analysis


def add_tr_option(group: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add ``--tr S``, the repetition time override.

    Parameters
    ----------
    group : argparse.ArgumentParser or argument group
    """
    low, high = TR_RANGE_S
    group.add_argument("--tr", type=_repetition_time, metavar="S",
                       help=f"repetition time override in seconds ({low:g}-{high:g})")


def _repetition_time(text: str) -> float:
    try:
        return check_repetition_time(float(text), "a repetition time")
    except ValueError as exc:
        if "expected" in str(exc):
            raise argparse.ArgumentTypeError(str(exc)) from None
        raise argparse.ArgumentTypeError(
            f"expected a repetition time in seconds, got {text!r}") from None


def _min_volumes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of volumes, got {text!r}") from None
    if not 3 <= value <= MAX_MIN_VOLUMES:
        raise argparse.ArgumentTypeError(
            f"expected a number of volumes between 3 and {MAX_MIN_VOLUMES}, got {value}")
    return value


def settings_from_args(args: argparse.Namespace) -> AnalysisSettings:
    """Turn parsed analysis options into settings.

    Parameters
    ----------
    args : argparse.Namespace
        From a parser given :func:`add_analysis_options` and :func:`add_tr_option`.

    Returns
    -------
    AnalysisSettings

    Raises
    ------
    InputError
        When the options are inconsistent (band-pass not ``0 < LOW < HIGH``, a TR
        outside 0.1-10 s, too few volumes).
    """
    try:
        denoise = DenoiseSettings(
            strategy=args.strategy, gsr=args.gsr,
            band_pass=None if args.no_filter else tuple(args.band_pass),
            detrend=not args.no_detrend, min_volumes=args.min_volumes,
        )
        return AnalysisSettings(atlas=args.atlas, labels_table=args.labels, denoise=denoise,
                                tr=args.tr)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
