"""The ``import-dicom`` and ``preprocess`` commands (registered by :mod:`core.cli`).

Exit codes as for every command: 0 done, 2 bad input or an engine that is not
available (one ``error:`` line), 130 interrupted (a rerun of ``preprocess`` resumes).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.preprocess.dicom_import import DEFAULT_SUBJECT, import_dicom
from core.preprocess.engines import ENGINES, plan_preprocessing, run_preprocessing
from core.preprocess.fmriprep_setup import IMAGE_ENV, OUTPUT_SPACE

__all__ = ["COMMANDS", "add_commands", "run_command"]

COMMANDS = ("import-dicom", "preprocess")


def _series_number(text: str) -> int | tuple[int, int]:
    """``N`` (both visits) or ``PRE,POST``."""
    try:
        numbers = [int(part) for part in text.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) == 1 and numbers[0] >= 0:
        return numbers[0]
    if len(numbers) == 2 and min(numbers) >= 0:
        return numbers[0], numbers[1]
    raise argparse.ArgumentTypeError(f"expected a series number N or PRE,POST, got {text!r}")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {text!r}")
    return int(text)


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``import-dicom`` and ``preprocess`` to the command line's subcommands.

    Parameters
    ----------
    commands : argparse subparsers
    """
    dicom = commands.add_parser(
        "import-dicom", help="convert two DICOM visit folders into an anonymised BIDS dataset",
        description="Convert the pre and post visits (one folder each, as the scanner exports "
                    "them) with dcm2niix into a new BIDS dataset: sub-ID/ses-pre and "
                    "sub-ID/ses-post, each with func/..._task-rest_bold.nii.gz and its JSON "
                    "sidecar, and anat/..._T1w.nii.gz when the visit has one. Patient names, "
                    "IDs and birth dates stay in the DICOM.")
    dicom.add_argument("pre_dir", metavar="PRE_DIR", help="DICOM folder of the visit before "
                       "treatment")
    dicom.add_argument("post_dir", metavar="POST_DIR", help="DICOM folder of the visit after "
                       "treatment")
    dicom.add_argument("--out", required=True, metavar="BIDS_DIR",
                       help="the BIDS dataset to create (new or empty folder)")
    dicom.add_argument("--subject", metavar="ID", default=None,
                       help=f"BIDS subject label (letters and digits; default {DEFAULT_SUBJECT}; "
                            "never the patient's name or hospital ID)")
    dicom.add_argument("--bold-series", metavar="N|PRE,POST", type=_series_number,
                       help="SeriesNumber of the resting-state BOLD series (default: the "
                            "longest EPI time series of each visit)")
    dicom.add_argument("--t1w-series", metavar="N|PRE,POST", type=_series_number,
                       help="SeriesNumber of the T1w series (default: found from the "
                            "series description)")
    prep = commands.add_parser(
        "preprocess", help="preprocess a BIDS dataset into MNI-space derivatives",
        description=f"Run fMRIPrep (output space {OUTPUT_SPACE}, both sessions, confounds, "
                    "--fs-no-reconall) when it is available here, else the labelled quick "
                    "path. The derivatives folder appears only when the run succeeded; an "
                    "interrupted fMRIPrep run resumes from its work folder when the same "
                    "command is run again.")
    prep.add_argument("bids_dir", metavar="BIDS_DIR", help="BIDS dataset (from import-dicom)")
    prep.add_argument("--out", required=True, metavar="DERIV_DIR",
                      help="the derivatives folder to create (new or empty)")
    prep.add_argument("--engine", choices=ENGINES, default="auto",
                      help="auto: fMRIPrep when available and a T1w exists, else quick")
    prep.add_argument("--subject", metavar="ID", help="subject label (when several)")
    prep.add_argument("--fmriprep-image", metavar="IMAGE",
                      help="container image: docker:NAME[:TAG] or apptainer:FILE.sif (default "
                           f"${IMAGE_ENV})")
    prep.add_argument("--fs-license", metavar="FILE",
                      help="FreeSurfer licence file (default $FS_LICENSE or "
                           "$FREESURFER_HOME/license.txt)")
    prep.add_argument("--work-dir", metavar="DIR",
                      help="fMRIPrep's work folder, kept for resuming (default DERIV_DIR_work)")
    prep.add_argument("--nprocs", metavar="N", type=_positive, help="fMRIPrep's --nprocs")
    prep.add_argument("--dry-run", action="store_true",
                      help="print the engine and the exact command, run nothing")


def _program() -> str:
    """How the user started this program: ``python main.py`` or the installed executable."""
    name = Path(sys.argv[0]).name
    return "python main.py" if not name or name.endswith(".py") or "pytest" in name else name


class _Printer:
    """Progress lines on stderr, each shown once."""

    def __init__(self) -> None:
        self.last = ""

    def __call__(self, fraction: float, message: str) -> None:
        line = f"[{100 * fraction:3.0f}%] {message}"
        if line != self.last:
            print(line, file=sys.stderr, flush=True)
            self.last = line


def _import_dicom(args: argparse.Namespace) -> int:
    result = import_dicom(args.pre_dir, args.post_dir, args.out, subject=args.subject,
                          bold_series=args.bold_series, t1w_series=args.t1w_series,
                          progress=_Printer())
    for session in result.sessions:
        timing = "with SliceTiming" if session.has_slice_timing else "no SliceTiming"
        print(f"ses-{session.label}: BOLD {session.bold_series}, "
              f"{'×'.join(map(str, session.shape))}, TR {session.tr:g} s, {timing}; T1w "
              f"{session.t1w_series or 'none'}", file=sys.stderr)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote the BIDS dataset {result.bids_dir} (sub-{result.subject}, "
          f"{len(result.files)} files)\nnext: {_program()} preprocess {result.bids_dir} "
          f"--out {result.bids_dir}_derivatives", file=sys.stderr)
    return 0


def _preprocess(args: argparse.Namespace) -> int:
    plan = plan_preprocessing(args.bids_dir, args.out, engine=args.engine,
                              subject=args.subject, fmriprep_image=args.fmriprep_image,
                              fs_license=args.fs_license, work_dir=args.work_dir,
                              nprocs=args.nprocs)
    for note in plan.notes:
        print(f"note: {note}", file=sys.stderr)
    if plan.command:
        print(f"fMRIPrep command: {plan.command}", file=sys.stderr, flush=True)
    if args.dry_run:
        return 0
    try:
        result = run_preprocessing(plan, _Printer())
    except KeyboardInterrupt:
        if plan.fmriprep is not None:
            print(f"fMRIPrep stopped; its work folder {plan.fmriprep.work_dir} is kept: run the "
                  "same command again to resume", file=sys.stderr)
        raise
    if result.engine == "quick":  # its warnings, and the check to look at before analysis
        from core.preprocess.quick import summary_lines

        for line in summary_lines(result.derivatives)[1:]:
            print(line, file=sys.stderr)
        print(f"after looking at the images: {_program()} accept-registration "
              f"{result.derivatives}", file=sys.stderr)
    print(f"wrote the derivatives {result.derivatives} ({result.engine}); open them with: "
          f"{_program()} {result.derivatives}", file=sys.stderr)
    return 0


def run_command(args: argparse.Namespace) -> int:
    """Run ``import-dicom`` or ``preprocess``; errors propagate to :func:`core.cli.main`.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    int
        0 when done.
    """
    if args.command == "import-dicom":
        return _import_dicom(args)
    return _preprocess(args)
