"""Entry point: ``python main.py`` opens the review window; ``analyze``/``atlases`` run headless."""

from __future__ import annotations

import sys

HEADLESS_COMMANDS = ("analyze", "atlases", "--version")


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the command line or the window; return the exit code."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in HEADLESS_COMMANDS:
        from core.cli import main as cli_main

        return cli_main(args)
    from gui.app import main as gui_main

    return gui_main(args)


if __name__ == "__main__":
    sys.exit(main())
