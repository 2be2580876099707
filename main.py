"""Entry point: ``python main.py`` opens the review window; ``analyze``/``atlases`` run headless."""

from __future__ import annotations

import sys

HEADLESS_COMMANDS = ("analyze", "atlases", "cohort", "import-dicom", "preprocess",
                     "accept-registration", "--version")


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the command line or the window; return the exit code."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in HEADLESS_COMMANDS:
        from core.cli import main as cli_main

        return cli_main(args, pdf_writer=_pdf_writer(args))
    from gui.app import main as gui_main

    return gui_main(args)


def _pdf_writer(args: list[str]):
    """Qt's PDF report writer, imported only when ``--report`` is asked for."""
    if not any(a == "--report" or a.startswith("--report=") for a in args):
        return None
    try:
        from gui.report_pdf import write_pdf
    except ImportError:  # no Qt: core.cli explains with exit code 2
        return None
    return write_pdf


if __name__ == "__main__":
    sys.exit(main())
