"""The registration-check view: opening unaccepted quick derivatives shows it; accepting opens."""

from __future__ import annotations

import json

import pytest
from quick_testkit import fake_quick_derivatives

from core.io.preprocessing_route import ACCEPTANCE_FILE, read_quick_provenance


@pytest.fixture
def quick_demo(demo_root, tmp_path):
    from pathlib import Path

    from PyQt6.QtGui import QColor, QImage

    root = fake_quick_derivatives(Path(demo_root), tmp_path / "quick_demo")
    for image in read_quick_provenance(root).check_images:  # real PNGs the view can show
        picture = QImage(1170, 756, QImage.Format.Format_RGB32)
        picture.fill(QColor("black"))
        picture.save(str(image))
    return root


def test_view_shows_every_session_and_the_warnings(qtbot, quick_demo):
    from gui.registration_check_view import RegistrationCheckView

    view = RegistrationCheckView(read_quick_provenance(quick_demo))
    qtbot.addWidget(view)
    view.resize(1300, 850)
    view.show()
    assert [view.tabs.tabText(k) for k in range(view.tabs.count())] == ["ses-pre", "ses-post"]
    assert "a warning about this data" in view.warnings.text()
    assert not view.accept_button.isDefault() and not view.accept_button.autoDefault()
    with qtbot.waitSignal(view.accepted_by) as signal:
        view.reviewer.setText("  Dr   D ")
        view.accept_button.click()
    assert signal.args == ["Dr D"]


def test_opening_unaccepted_quick_data_asks_for_the_check_then_opens(window, qtbot, quick_demo):
    with qtbot.waitSignal(window.controller.registration_check_needed, timeout=60000):
        window.open_path(quick_demo)
    view = window.registration_check
    assert view.isVisible() and window.controller.state is None
    assert not (quick_demo / ACCEPTANCE_FILE).exists()
    view.reviewer.setText("Dr E")
    with qtbot.waitSignal(window.controller.comparison_ready, timeout=120000):
        view.accept_button.click()
    assert json.loads((quick_demo / ACCEPTANCE_FILE).read_text())["reviewer"] == "Dr E"
    assert "quick preprocessing" in window.header.text()
    assert window.controller.state.inputs.preprocessing.accepted


def test_not_now_opens_nothing(window, qtbot, quick_demo):
    with qtbot.waitSignal(window.controller.registration_check_needed, timeout=60000):
        window.open_path(quick_demo)
    window.registration_check.later_button.click()
    qtbot.wait(200)
    assert window.controller.state is None
    assert not (quick_demo / ACCEPTANCE_FILE).exists()
