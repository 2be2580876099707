"""Application entry point: ``main([PATH] [--demo | --empty] [--screenshot FILE.png])``.

With no PATH the demo patient opens, so a first start shows a working review.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from pathlib import Path

__all__ = ["install_excepthook", "main", "self_test"]

log = logging.getLogger(__name__)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="prepost-review", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Review window for one patient's pre/post resting-state fMRI.",
        epilog="headless commands (each has its own --help):\n"
               "  prepost-review analyze ...   compute pre, post and delta connectivity\n"
               "  prepost-review cohort ...    the same for every pair of a table, on Dask\n"
               "  prepost-review import-dicom  two DICOM visit folders -> a BIDS dataset\n"
               "  prepost-review preprocess    a BIDS dataset -> MNI derivatives (fMRIPrep)\n"
               "  prepost-review accept-registration  accept a quick path's registration check\n"
               "  prepost-review atlases       list the bundled atlases")
    parser.add_argument("path", nargs="*", help="fMRIPrep folder, or pre and post files")
    parser.add_argument("--demo", action="store_true", help="open the demo patient")
    parser.add_argument("--empty", action="store_true",
                        help="start with no patient (default: the demo patient when no PATH)")
    parser.add_argument("--screenshot", metavar="FILE.png",
                        help="compute, save a picture of the window and exit")
    parser.add_argument("--self-test", action="store_true",
                        help="offscreen: analyse the demo patient, check the result against "
                             "its ground truth, render the window once, and exit (0 = passed)")
    parser.add_argument("--startup-probe", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


_OPEN_DIALOGS: list = []


def install_excepthook() -> None:
    """Log uncaught exceptions and show a dialog instead of dying."""

    def hook(kind, value, tb) -> None:
        text = "".join(traceback.format_exception(kind, value, tb))
        log.critical("uncaught exception:\n%s", text)
        from PyQt6.QtWidgets import QApplication, QMessageBox

        from gui.strings import APP_NAME, UNEXPECTED

        if QApplication.instance() is not None:
            box = QMessageBox(QMessageBox.Icon.Critical, APP_NAME,
                              UNEXPECTED.format(kind=kind.__name__),
                              QMessageBox.StandardButton.Ok, QApplication.activeWindow())
            # Keep the dialog alive: a local, parentless QMessageBox is collected at once.
            _OPEN_DIALOGS.append(box)
            box.finished.connect(lambda _result, b=box: _OPEN_DIALOGS.remove(b))
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
        Exit status: 0, or 1 when a ``--screenshot`` run could not compute or the window
        cannot open here (one line on stderr says why: no display, or a missing X11
        library and the package that has it).
    """
    args = _parse(sys.argv[1:] if argv is None else argv)
    if args.self_test:
        return self_test()
    problem = _platform_problem(args)
    if problem:
        print(problem, file=sys.stderr, flush=True)
        return 1
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from core.logs import configure_file_logging

    configure_file_logging()  # redacted: no paths, subject/session labels or dates
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    from gui.main_window import MainWindow
    from gui.strings import APP_NAME, ORG_NAME

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else APP_NAME])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    _set_window_icon(app)
    install_excepthook()
    window = MainWindow()
    window.show()
    from core.warmup import warm_up_in_background

    QTimer.singleShot(0, warm_up_in_background)  # after the first paint
    status = {"code": 0}
    if args.startup_probe:  # packaging/build.py times the start-up of the built app with this
        def visible() -> None:
            status["code"] = 0 if window.isVisible() else 1
            print(f"startup-probe: window visible={window.isVisible()}", flush=True)
            app.quit()

        QTimer.singleShot(0, visible)  # runs once the event loop has shown the window
        app.exec()
        window.controller.shutdown()
        return status["code"]
    if args.screenshot:
        from PyQt6.QtCore import QEventLoop

        target = Path(args.screenshot)
        loop = QEventLoop()

        def save(ok: bool) -> None:
            def grab() -> None:
                window.resize(1600, 1000)  # offscreen screens are small; render full size
                app.processEvents()
                window.grab().save(str(target))
                log.info("screenshot saved to %s", target)
                status["code"] = 0 if ok else 1
                window.close()
                loop.quit()

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
    if args.screenshot:
        # A local loop, not app.exec()/app.quit(): quitting the application would make
        # every later event loop of a host process (e.g. a test session) return at once.
        loop.exec()
    else:
        app.exec()
        window.controller.shutdown()
    return status["code"]


def _platform_problem(args: argparse.Namespace) -> str | None:
    """One line when the window cannot open here (checked before Qt can abort), else None.

    A ``--screenshot`` run without any display renders offscreen by itself.
    """
    import os

    from gui.platform_check import startup_problem

    if args.screenshot and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtWidgets import QApplication

    if QApplication.instance() is not None:
        return None  # a host process (a test) has already opened Qt's platform
    return startup_problem()


def _set_window_icon(app) -> bool:
    """Set the application icon from ``resources/icons``; return False when it is missing."""
    from PyQt6.QtGui import QIcon

    from core.resources import resource_path

    icon = QIcon()
    for name in ("prepost-review-256.png", "prepost-review.png"):
        path = resource_path("icons", name)
        if path.is_file():
            icon.addFile(str(path))
    if icon.isNull():
        return False
    app.setWindowIcon(icon)
    return True


def self_test() -> int:
    """Run the installation self-test offscreen and print a short summary.

    The Qt-free checks (demo patient, atlases, pipeline, ground truth, outputs)
    are :func:`core.selftest.run_self_test`; this adds the window: icon, main
    window shown and rendered once offscreen (proves the Qt platform plugins).
    The demo patient goes into a temporary cache unless ``$PREPOST_CACHE_DIR``
    is set, and settings into a temporary INI file unless
    ``$PREPOST_SETTINGS_FILE`` is set; the temporary folder is removed when
    every check passed.

    Returns
    -------
    int
        0 when every check passed, 1 otherwise (with a one-line message on stderr).
    """
    import os
    import shutil
    import tempfile
    import time

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    start = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="prepost-selftest-"))
    os.environ.setdefault("PREPOST_CACHE_DIR", str(tmp / "cache"))
    os.environ.setdefault("PREPOST_SETTINGS_FILE", str(tmp / "settings.ini"))  # user's untouched
    from core import __version__
    from core.selftest import CheckResult, format_results, run_self_test, self_test_passed

    state: dict = {}
    results = run_self_test(tmp, state=state)
    t0 = time.perf_counter()
    try:
        from PyQt6.QtWidgets import QApplication

        from gui.main_window import MainWindow
        from gui.strings import APP_NAME, ORG_NAME

        app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else APP_NAME])
        app.setApplicationName(APP_NAME)
        app.setOrganizationName(ORG_NAME)
        has_icon = _set_window_icon(app)
        window = MainWindow()
        window.show()
        app.processEvents()
        picture = window.grab()
        shot = tmp / "window.png"
        saved = not picture.isNull() and picture.save(str(shot))
        window.close()
        window.controller.shutdown()
        if not saved:
            raise RuntimeError("the main window could not be rendered")
        if not has_icon:
            raise RuntimeError("the application icon is missing from resources/icons")
        results.append(CheckResult(
            "window", "pass", f"platform {app.platformName()}, rendered "
            f"{picture.width()}x{picture.height()} px, icon set", time.perf_counter() - t0))
    except Exception as exc:  # report, never raise: this is a diagnostic
        message = " ".join(str(exc).split()) or type(exc).__name__
        results.append(CheckResult("window", "fail", f"{type(exc).__name__}: {message}",
                                   time.perf_counter() - t0))
    results.append(_self_test_pdf(state, tmp / "report"))
    passed = self_test_passed(results)
    print(format_results(results), flush=True)
    total = time.perf_counter() - start
    if passed:
        print(f"self-test passed: prepost-review {__version__}, {total:.1f} s", flush=True)
        shutil.rmtree(tmp, ignore_errors=True)
        return 0
    failed = next(r for r in results if not r.ok)
    print(f"self-test FAILED: {failed.name}: {failed.detail} (files kept in {tmp})",
          file=sys.stderr, flush=True)
    return 1


def _self_test_pdf(state: dict, out_dir: Path):
    """Self-test check ``pdf``: the report with its figures, rendered by Qt into a PDF."""
    import importlib.util
    import time

    from core.selftest import CheckResult

    t0 = time.perf_counter()
    if "comparison" not in state:
        return CheckResult("pdf", "skip", "no comparison (an earlier check failed)")
    if importlib.util.find_spec("gui.report_pdf") is None:
        return CheckResult("pdf", "skip", "gui.report_pdf does not exist yet; no PDF written")
    try:
        from core.report.content import report_content
        from gui.report_pdf import write_pdf

        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "report.pdf"
        write_pdf(path, report_content(state["review"]), state["comparison"])
        if not path.is_file() or path.stat().st_size == 0:
            raise RuntimeError(f"no PDF written to {path}")
        return CheckResult("pdf", "pass", f"PDF report {path.stat().st_size // 1024} kB",
                           time.perf_counter() - t0)
    except Exception as exc:  # report, never raise: this is a diagnostic
        message = " ".join(str(exc).split()) or type(exc).__name__
        return CheckResult("pdf", "fail", f"{type(exc).__name__}: {message}",
                           time.perf_counter() - t0)
