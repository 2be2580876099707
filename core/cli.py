"""Headless command line: ``python main.py analyze ...`` and ``python main.py atlases``.

The flags, output file names and exit codes are a contract other tools rely
on: extend them, never rename them.  Exit codes: 0 success, 2 bad input (one
clear line on stderr), 1 unexpected internal error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from core import DISCLAIMER, __version__
from core.errors import AnalysisCancelled, InputError
from core.report.analysis_files import check_output_dir, write_review_outputs
from core.report.content import check_report_path, report_content
from core.report.html import write_report_html
from core.review import review_patient
from core.review_state import ReviewState
from core.settings import STRATEGIES, AnalysisSettings, DenoiseSettings

__all__ = ["build_parser", "main"]

log = logging.getLogger(__name__)

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class _OneLineParser(argparse.ArgumentParser):
    """Argument errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``analyze`` and ``atlases`` commands.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = _OneLineParser(
        prog="prepost-review", description=f"Pre/post fMRI connectivity review. {DISCLAIMER}"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    commands.add_parser("atlases", help="list the bundled atlases")
    run = commands.add_parser("analyze", help="compute pre, post and delta connectivity")
    source = run.add_argument_group("inputs (choose one; none = the demo patient)")
    source.add_argument("--pre", metavar="NII", help="pre-treatment 4D NIfTI (MNI space)")
    source.add_argument("--post", metavar="NII", help="post-treatment 4D NIfTI (MNI space)")
    source.add_argument("--confounds-pre", metavar="TSV", help="fMRIPrep confounds of --pre")
    source.add_argument("--confounds-post", metavar="TSV", help="fMRIPrep confounds of --post")
    source.add_argument("--mask-pre", metavar="NII", help="brain mask of --pre")
    source.add_argument("--mask-post", metavar="NII", help="brain mask of --post")
    source.add_argument("--fmriprep", metavar="DIR", help="fMRIPrep derivatives folder")
    source.add_argument("--subject", metavar="ID")
    source.add_argument("--pre-session", metavar="S")
    source.add_argument("--post-session", metavar="S")
    source.add_argument("--task", metavar="T")
    source.add_argument("--timeseries-pre", metavar="TSV", help="ROI time series, pre")
    source.add_argument("--timeseries-post", metavar="TSV", help="ROI time series, post")
    source.add_argument("--demo", action="store_true", help="the built-in demo patient")
    source.add_argument("--tr", type=float, metavar="S", help="repetition time override (s)")
    analysis = run.add_argument_group("analysis")
    analysis.add_argument("--atlas", default="schaefer100", metavar="NAME|PATH")
    analysis.add_argument("--labels", metavar="TSV", help="label table of a user atlas")
    analysis.add_argument("--strategy", choices=STRATEGIES, default=None,
                          help="denoising preset (default: simple when confounds exist)")
    analysis.add_argument("--gsr", action="store_true", help="global signal regression")
    band = analysis.add_mutually_exclusive_group()
    band.add_argument("--band-pass", nargs=2, type=float, metavar=("LOW", "HIGH"),
                      default=(0.01, 0.1), help="band-pass in Hz (default 0.01 0.1)")
    band.add_argument("--no-filter", action="store_true", help="no band-pass filtering")
    analysis.add_argument("--min-volumes", type=int, default=50, metavar="N",
                          help="fewest volumes a session may keep after scrubbing (default 50)")
    run.add_argument("--out", required=True, metavar="DIR", help="output folder")
    report = run.add_argument_group("report")
    report.add_argument("--report", metavar="FILE.pdf",
                        help="also write a PDF report (at most 2 A4 pages) and the same "
                             "report as FILE.html next to it (needs the Qt interface)")
    report.add_argument("--patient-label", metavar="TEXT",
                        help="patient label on the report (default: the BIDS subject ID)")
    return parser


def _settings(args: argparse.Namespace) -> AnalysisSettings:
    try:
        denoise = DenoiseSettings(
            strategy=args.strategy, gsr=args.gsr,
            band_pass=None if args.no_filter else tuple(args.band_pass),
            min_volumes=args.min_volumes,
        )
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    return AnalysisSettings(atlas=args.atlas, labels_table=args.labels, denoise=denoise,
                            tr=args.tr)


def _open_inputs(args: argparse.Namespace):
    from core.io import inputs as sources

    chosen = [name for name, given in (
        ("--pre/--post", args.pre or args.post), ("--fmriprep", args.fmriprep),
        ("--timeseries-pre/--timeseries-post", args.timeseries_pre or args.timeseries_post),
        ("--demo", args.demo)) if given]
    if len(chosen) > 1:
        raise InputError(f"expected one kind of input, got {' and '.join(chosen)}")
    if args.pre or args.post:
        if not (args.pre and args.post):
            raise InputError("expected both --pre and --post")
        return sources.open_nifti_pair(
            args.pre, args.post, confounds_pre=args.confounds_pre,
            confounds_post=args.confounds_post, mask_pre=args.mask_pre,
            mask_post=args.mask_post, tr=args.tr)
    if args.fmriprep:
        return sources.open_fmriprep(
            args.fmriprep, subject=args.subject, pre_session=args.pre_session,
            post_session=args.post_session, task=args.task, tr=args.tr)
    if args.timeseries_pre or args.timeseries_post:
        if not (args.timeseries_pre and args.timeseries_post):
            raise InputError("expected both --timeseries-pre and --timeseries-post")
        return sources.open_timeseries_pair(args.timeseries_pre, args.timeseries_post,
                                            tr=args.tr)
    from core.demo import open_demo_patient

    if not args.demo:
        print("no input given: analysing the built-in demo patient", file=sys.stderr)
    return open_demo_patient()


def _progress(fraction: float, message: str) -> None:
    print(f"[{100 * fraction:3.0f}%] {message}", file=sys.stderr, flush=True)


def _list_atlases() -> int:
    from core.atlas.atlases import list_atlases

    for info in list_atlases():
        print(f"{info.name}\t{info.kind}\t{info.n_rois}\t{info.title}")
    return EXIT_OK


PdfWriter = Callable[..., dict]


def _analyze(args: argparse.Namespace, pdf_writer: PdfWriter | None = None) -> int:

    if args.report and pdf_writer is None:
        raise InputError("PDF reports need the Qt interface installed (PyQt6 and pyqtgraph); "
                         f"cannot write {args.report}")
    settings = _settings(args)
    inputs = _open_inputs(args)
    check_output_dir(args.out, inputs)
    report = None
    if args.report:
        report = check_report_path(args.report, inputs)
    state = review_patient(inputs, settings, progress=_progress)
    for warning in state.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    written = write_review_outputs(state, args.out)
    print(f"wrote {len(written)} files to {written[0].parent}", file=sys.stderr)
    if report is not None and pdf_writer is not None:
        _write_report(report, state, args.patient_label, pdf_writer)
    return EXIT_OK


def _write_report(path: Path, state: ReviewState, label: str | None,
                  pdf_writer: PdfWriter) -> None:
    content = report_content(state, patient_label=label)
    images = pdf_writer(path, content, state.comparison)
    html = write_report_html(path.with_suffix(".html"), content, images)
    print(f"wrote the report {path} and {html.name}", file=sys.stderr)


def main(argv: Sequence[str] | None = None, pdf_writer: PdfWriter | None = None) -> int:
    """Run the command line; return the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments after the program name (default ``sys.argv[1:]``).
    pdf_writer : callable, optional
        ``pdf_writer(path, content, comparison) -> dict of PNG bytes`` that draws
        the PDF report (``gui.report_pdf.write_pdf``); ``core`` does not import
        Qt, so ``main.py`` injects it.  Without it ``--report`` exits with 2.

    Returns
    -------
    int
        0 success, 2 bad input, 1 internal error, 130 interrupted.
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return _list_atlases() if args.command == "atlases" else _analyze(args, pdf_writer)
    except InputError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (KeyboardInterrupt, AnalysisCancelled):
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception:
        log.exception("internal error")
        return EXIT_INTERNAL
