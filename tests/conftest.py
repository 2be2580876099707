"""Shared test set-up: offscreen Qt, a demo cache outside the user's home, isolated settings."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if "PREPOST_CACHE_DIR" not in os.environ:
    os.environ["PREPOST_CACHE_DIR"] = tempfile.mkdtemp(prefix="prepost-cache-")
# The application log of the tests goes to a temporary folder, never the user's.
os.environ["PREPOST_LOG_DIR"] = tempfile.mkdtemp(prefix="prepost-logs-")

import pytest


@pytest.fixture
def isolated_settings(tmp_path, monkeypatch):
    """Point the application's QSettings at an INI file in tmp_path."""
    path = tmp_path / "settings.ini"
    monkeypatch.setenv("PREPOST_SETTINGS_FILE", str(path))
    return path


@pytest.fixture(scope="session")
def demo_root():
    """The demo patient's fMRIPrep folder, generated once per test session."""
    from core.demo import ensure_demo_patient

    return ensure_demo_patient()


@pytest.fixture(scope="session")
def demo_comparison(demo_root):
    """The demo patient's comparison with default settings, computed once per session."""
    from core.demo import open_demo_patient
    from core.pipeline import run_comparison

    return run_comparison(open_demo_patient())


@pytest.fixture(scope="session")
def review_stats(demo_comparison):
    """Statistics tables of the demo comparison, as the review panels show them."""
    from gui.stats_controller import compute_review_stats

    return compute_review_stats(demo_comparison)


@pytest.fixture
def window(qtbot, isolated_settings):
    """A shown main window with isolated settings; closing it must leave no thread running."""
    from PyQt6.QtCore import QThreadPool

    from gui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    assert QThreadPool.globalInstance().waitForDone(60000)
    assert QThreadPool.globalInstance().activeThreadCount() == 0
