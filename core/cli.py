"""Headless command line: ``python main.py analyze ...``, ``cohort ...`` and ``atlases``.

The flags, output file names and exit codes are a contract other tools rely
on: extend them, never rename them.  Exit codes: 0 success, 2 bad input (one
clear line on stderr), 1 unexpected internal error, 130 interrupted; ``cohort``
adds 3 (some pairs failed, listed in ``failures.tsv``; see :mod:`core.cohort`).
"""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from core import DISCLAIMER, __version__
from core.analysis_options import add_analysis_options, add_tr_option, settings_from_args
from core.cohort import run_cohort
from core.errors import AnalysisCancelled, InputError
from core.preprocess import cli_commands as preprocess_commands
from core.preprocess.registration_command import accept_command, add_accept_command
from core.report.analysis_files import check_output_dir, write_review_outputs
from core.report.content import check_report_path, report_content
from core.report.html import write_report_html
from core.review import review_patient
from core.review_state import ReviewState
from core.settings import AnalysisSettings

__all__ = ["build_parser", "main"]

log = logging.getLogger(__name__)

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class _OneLineParser(argparse.ArgumentParser):
    """Argument errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``analyze``, ``cohort`` and ``atlases`` commands.

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
    source.add_argument("--subject", metavar="ID",
                        help="subject ID (fMRIPrep; for other inputs the label of the outputs, "
                             "and how a reference leaves the patient's own pair out)")
    source.add_argument("--pre-session", metavar="S")
    source.add_argument("--post-session", metavar="S")
    source.add_argument("--task", metavar="T")
    source.add_argument("--timeseries-pre", metavar="TSV", help="ROI time series, pre")
    source.add_argument("--timeseries-post", metavar="TSV", help="ROI time series, post")
    source.add_argument("--demo", action="store_true", help="the built-in demo patient")
    add_tr_option(source)
    add_analysis_options(run)
    run.add_argument("--out", required=True, metavar="DIR", help="output folder")
    verdict = run.add_argument_group("verdict against normal session-to-session change")
    verdict.add_argument("--reference", metavar="FILE|demo",
                         help="reference of untreated repeat scans (reference.zip written by "
                              "`cohort`; 'demo': the demo's synthetic one): edges.tsv and "
                              "networks.tsv gain ref_n, ref_mean, ref_sd, t_ref, p_ref, q_ref")
    report = run.add_argument_group("report")
    report.add_argument("--report", metavar="FILE.pdf",
                        help="also write a PDF report (at most 2 A4 pages) and the same "
                             "report as FILE.html next to it (needs the Qt interface)")
    report.add_argument("--patient-label", metavar="TEXT",
                        help="patient label on the report (default: the BIDS subject ID)")
    _add_cohort_command(commands)
    preprocess_commands.add_commands(commands)  # import-dicom, preprocess
    add_accept_command(commands)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of workers >= 1, got {value}")
    return value


def _add_cohort_command(commands: argparse._SubParsersAction) -> None:
    cohort = commands.add_parser(
        "cohort", help="analyse every pre/post pair of a cohort table (Dask)",
        description="Run analyze on every row of COHORT.tsv (columns subject, pre, post, or "
                    "subject, fmriprep, pre_session, post_session; optional confounds_pre, "
                    "confounds_post, mask_pre, mask_post), one Dask task per pair. Writes "
                    "DIR/<subject>/, DIR/cohort_networks.tsv and DIR/failures.tsv; a rerun "
                    "skips pairs already done with the same inputs and options. Exit codes: "
                    "0 all done, 3 some pairs failed, 2 bad table or options, 1 internal "
                    "error, 130 interrupted.")
    cohort.add_argument("table", metavar="COHORT.tsv", help="the cohort table (TSV)")
    cohort.add_argument("--out", required=True, metavar="DIR", help="output folder")
    add_tr_option(add_analysis_options(cohort))
    where = cohort.add_argument_group("where to run (default: a local cluster, one "
                                      "single-threaded process per CPU)")
    choice = where.add_mutually_exclusive_group()
    choice.add_argument("--workers", type=_positive_int, metavar="N",
                        help="local worker processes")
    choice.add_argument("--scheduler", metavar="ADDRESS",
                        help="a running Dask scheduler, e.g. tcp://host:8786 (only connects)")


def _settings(args: argparse.Namespace) -> AnalysisSettings:
    return settings_from_args(args)


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
                                            tr=args.tr, subject=args.subject or "patient")
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
    from core.blas import use_single_threaded_blas

    use_single_threaded_blas()  # the sessions are computed side by side (core.blas)
    if args.report and pdf_writer is None:
        raise InputError("PDF reports need the Qt interface installed (PyQt6 and pyqtgraph); "
                         f"cannot write {args.report}")
    settings = _settings(args)
    inputs = _open_inputs(args)
    check_output_dir(args.out, inputs)
    report = None
    if args.report:
        report = check_report_path(args.report, inputs)
    verdict_for = _reference_verdict_for(args.reference) if args.reference else None
    state = review_patient(inputs, settings, progress=_progress, verdict_for=verdict_for)
    for warning in state.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    written = write_review_outputs(state, args.out)
    print(f"wrote {len(written)} files to {written[0].parent}", file=sys.stderr)
    if report is not None and pdf_writer is not None:
        _write_report(report, state, args.patient_label, pdf_writer)
    return EXIT_OK


def _reference_verdict_for(reference: str):
    """Read the reference before any work, so a bad file fails at once (exit 2)."""
    from core.io.reference_file import load_reference
    from core.reference_verdict import reference_verdict

    if reference == "demo":
        from core.demo_reference import ensure_demo_reference

        print("using the demo's reference of repeat scans (built once, about a minute)",
              file=sys.stderr)
        reference = str(ensure_demo_reference(progress=_progress))
    return functools.partial(reference_verdict, load_reference(reference))


def _cohort(args: argparse.Namespace) -> int:
    try:
        import distributed  # noqa: F401  (its import sets the level that is lowered here)
    except ImportError as exc:  # the installer leaves Dask out: cohorts run from Python
        raise InputError("the cohort command needs Dask distributed, which this installation "
                         "does not include; run it from a Python install "
                         "(pip install 'dask[distributed]')") from exc

    logging.getLogger("distributed").setLevel(logging.ERROR)  # the cluster's INFO chatter
    outcome = run_cohort(args.table, args.out, _settings(args), workers=args.workers,
                         scheduler=args.scheduler)
    failed = sum(r["status"] == "failed" for r in outcome.results)
    print(f"wrote {len(outcome.finished)} subject folders, cohort_networks.tsv and "
          f"failures.tsv ({failed} failed) to {outcome.out}", file=sys.stderr)
    if outcome.finished:
        _reference_step(outcome.out, outcome.finished)
    return outcome.exit_code


def _reference_step(out: Path, subject_folders: list[Path]) -> None:
    """Write ``OUT/reference.zip`` from the cohort's finished pairs (done or skipped)."""
    from core.reference_verdict import build_cohort_reference
    from core.report.analysis_files import software_versions

    try:
        path = build_cohort_reference(out, subject_folders, software_versions())
    except InputError as exc:  # the cohort itself succeeded: not an exit 2
        print(f"warning: no reference of repeat scans written: {' '.join(str(exc).split())}",
              file=sys.stderr)
        return
    if path is not None:
        print(f"wrote the reference of repeat scans {path}", file=sys.stderr)


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
        0 success, 2 bad input, 1 internal error, 130 interrupted; ``cohort``:
        3 when some pairs failed.
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        if args.command == "atlases":
            return _list_atlases()
        if args.command == "cohort":
            return _cohort(args)
        if args.command in preprocess_commands.COMMANDS:
            return preprocess_commands.run_command(args)
        if args.command == "accept-registration":
            return accept_command(args)
        return _analyze(args, pdf_writer)
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
