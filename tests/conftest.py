"""Shared test set-up: offscreen Qt, a demo cache outside the user's home, isolated settings."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if "PREPOST_CACHE_DIR" not in os.environ:
    os.environ["PREPOST_CACHE_DIR"] = tempfile.mkdtemp(prefix="prepost-cache-")
# The window builds the demo's reference of repeat scans (~1 min) only where a test asks.
os.environ.setdefault("PREPOST_NO_DEMO_REFERENCE", "1")
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
def demo_review(demo_comparison):
    """The demo patient's review state with its statistics, computed once per session."""
    from core.demo import open_demo_patient
    from core.review import compute_statistics
    from core.review_state import ReviewState

    inputs = open_demo_patient()
    return ReviewState(inputs=inputs, comparison=demo_comparison,
                       statistics=compute_statistics(demo_comparison, inputs))


@pytest.fixture(scope="session")
def review_stats(demo_review):
    """Statistics tables of the demo comparison, as the review panels show them."""
    return demo_review.statistics


@pytest.fixture(scope="session")
def demo_reference(demo_review, tmp_path_factory):
    """A reference of 8 'untreated pairs' shaped like the demo (its ROIs, blocks, noise)."""
    import dataclasses

    import numpy as np

    from core.io.reference_file import build_reference
    from core.reference_verdict import pair_from_review
    from core.report.analysis_files import software_versions

    base = pair_from_review(demo_review)
    rng = np.random.default_rng(5)
    pairs = []
    for k in range(8):
        # untreated repeat scans: no change on average; each Δz varies by the within-scan
        # noise of such a scan plus a between-session SD of 0.1 (edges), 0.05 (blocks)
        edge_sd = np.sqrt(base.edge_within_var + 0.1**2)
        block_sd = np.sqrt(base.block_within_var + 0.05**2)
        pairs.append(dataclasses.replace(
            base, subject=f"ref{k:02d}",
            edge_delta=rng.normal(0, edge_sd).astype(np.float32),
            block_delta=rng.normal(0, block_sd).astype(np.float32)))
    path = tmp_path_factory.mktemp("reference") / "reference.zip"
    return build_reference(pairs, path, software_versions())


@pytest.fixture(scope="session")
def show_comparison(demo_root):
    """``show(window, comparison)``: publish a comparison as a new review state, as opening does."""
    from core.demo import open_demo_patient
    from core.review_state import ReviewState

    def show(window, comparison, inputs=None) -> None:
        window.controller.publish(ReviewState(inputs=inputs or open_demo_patient(),
                                              comparison=comparison))
        window.controller.comparison_ready.emit(comparison)

    return show


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


def pytest_collection_modifyitems(config, items):
    """Mark every test of a window, view or controller ``gui`` (they need Qt, offscreen)."""
    for item in items:
        if "gui" in item.path.parts or item.path.name.startswith("test_gui_"):
            item.add_marker(pytest.mark.gui)
