"""Application entry point: ``main([PATH] [--demo | --empty] [--screenshot FILE.png])``.

With no PATH the demo patient opens, so a first start shows a working review.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from pathlib import Path

__all__ = ["install_excepthook", "main"]

log = logging.getLogger(__name__)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="prepost-review", description="Review window.")
    parser.add_argument("path", nargs="*", help="fMRIPrep folder, or pre and post files")
    parser.add_argument("--demo", action="store_true", help="open the demo patient")
    parser.add_argument("--empty", action="store_true",
                        help="start with no patient (default: the demo patient when no PATH)")
    parser.add_argument("--screenshot", metavar="FILE.png",
                        help="compute, save a picture of the window and exit")
    return parser.parse_args(argv)


def install_excepthook() -> None:
    """Log uncaught exceptions and show a dialog instead of dying."""

    def hook(kind, value, tb) -> None:
        text = "".join(traceback.format_exception(kind, value, tb))
        log.critical("uncaught exception:\n%s", text)
        from PyQt6.QtWidgets import QApplication, QMessageBox

        from gui.strings import APP_NAME, UNEXPECTED

        if QApplication.instance() is not None:
            box = QMessageBox(QMessageBox.Icon.Critical, APP_NAME,
                              UNEXPECTED.format(kind=kind.__name__))
            box.open()

    sys.excepthook = hook


def main(argv: list[str] | None = None) -> int:
    """Run the review window.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments without the program name.

    Returns
    -------
    int
        Exit status: 0, or 1 when a ``--screenshot`` run could not compute.
    """
    args = _parse(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    from gui.main_window import MainWindow
    from gui.strings import APP_NAME, ORG_NAME

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else APP_NAME])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    install_excepthook()
    window = MainWindow()
    window.show()
    status = {"code": 0}
    if args.screenshot:
        target = Path(args.screenshot)

        def save(ok: bool) -> None:
            def grab() -> None:
                app.processEvents()
                window.grab().save(str(target))
                log.info("screenshot saved to %s", target)
                status["code"] = 0 if ok else 1
                window.close()
                app.quit()

            QTimer.singleShot(300, grab)  # let the views lay out and paint first

        window.controller.comparison_ready.connect(lambda _c: save(True))
        window.controller.error_occurred.connect(lambda _m: save(False))
        window.controller.cancelled.connect(lambda: save(False))
        if args.empty:
            QTimer.singleShot(300, lambda: save(True))
    if args.demo or not (args.path or args.empty):
        window.open_demo()
    elif args.path:
        window.open_path(*args.path[:2])
    app.exec()
    if not args.screenshot:
        window.controller.shutdown()
    return status["code"]
