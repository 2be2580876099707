"""A monkey drives random sequences of user actions: no crash, no error, no leaked thread."""

from __future__ import annotations

import random

import pytest
from PyQt6.QtCore import QThreadPool

ACTIONS = ("open_demo", "change_atlas", "click", "seed", "cancel", "export", "blocks", "style")


@pytest.fixture
def window(qtbot, isolated_settings):
    from gui.main_window import MainWindow

    win = MainWindow()
    win.resize(1366, 768)
    win.show()
    qtbot.addWidget(win)
    errors: list[str] = []
    win.controller.error_occurred.connect(errors.append)
    win.errors = errors
    with qtbot.waitSignal(win.controller.comparison_ready, timeout=120000):
        win.open_demo()
    yield win
    win.close()


def _step(win, qtbot, rng: random.Random, action: str, tmp_path) -> None:
    if action == "open_demo":
        win.open_demo()
    elif action == "change_atlas":
        name = rng.choice(["schaefer100", "dosenbach160", "aal3", "schaefer100_17"])
        win.actions_.atlases[name].setChecked(True)
        win.actions_.recompute.trigger()
    elif action == "click":
        win.cursor.set_position((rng.uniform(-70, 70), rng.uniform(-100, 60),
                                 rng.uniform(-40, 70)))
    elif action == "seed":
        win.seeds.request_seed((rng.uniform(-50, 50), rng.uniform(-80, 50),
                                rng.uniform(-20, 60)))
    elif action == "cancel":
        win.controller.cancel()
        win.seeds.cancel()
    elif action == "export":
        win.exports.export_tables(tmp_path / f"export-{rng.randrange(10**6)}")
    elif action == "blocks":
        win.matrices.block_button.setChecked(not win.matrices.block_button.isChecked())
    elif action == "style":
        win.threshold.setValue(rng.randrange(0, 90))
        win.opacity.setValue(rng.randrange(10, 100))
    qtbot.wait(rng.choice([0, 5, 50, 200]))


@pytest.mark.parametrize("seed", [1, 2])
def test_random_user_actions(qtbot, window, tmp_path, seed):
    rng = random.Random(seed)
    for _ in range(25):
        _step(window, qtbot, rng, rng.choice(ACTIONS), tmp_path)
    # let everything settle, then the window must still work end to end
    qtbot.waitUntil(lambda: not window.controller.busy and not window.seeds.busy,
                    timeout=180000)
    with qtbot.waitSignal(window.controller.comparison_ready, timeout=120000):
        window.open_demo()
    unexpected = [e for e in window.errors if "unexpected" in e.lower()]
    assert not unexpected, unexpected
    window.close()
    assert QThreadPool.globalInstance().waitForDone(60000)
    assert QThreadPool.globalInstance().activeThreadCount() == 0
