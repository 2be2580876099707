"""File → Export report / tables / maps, Save and Open review, and view export (offscreen)."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from PyQt6.QtCore import Qt


@pytest.fixture
def window(window, qtbot):
    """The shared window (tests/conftest.py) with the demo patient open."""
    with qtbot.waitSignal(window.controller.comparison_ready, timeout=90000):
        window.open_demo()
    # exports read the statistics of the review state: they are enabled once those exist
    qtbot.waitUntil(lambda: window.exports.export_tables_action.isEnabled(), timeout=90000)
    return window


def _file_menu_texts(win) -> list[str]:
    return [a.text() for a in win.menuBar().actions()[0].menu().actions()]


def test_exports_from_the_window(window, tmp_path, qtbot):
    e = window.exports
    texts = _file_menu_texts(window)
    for text in ("Export report…", "Export matrices and tables (TSV)…", "Export maps (NIfTI)…",
                 "Save review…", "Open review…"):
        assert text in texts
    assert texts[-1] == "Quit"
    # report: PDF + HTML, label from the caller, never into an input folder
    pdf = tmp_path / "case.pdf"
    with qtbot.waitSignal(e.exported, timeout=60000):
        e.export_report(pdf, label="Bed 4")
    assert pdf.read_bytes().startswith(b"%PDF")
    assert "Bed 4" in pdf.with_suffix(".html").read_text(encoding="utf-8")
    inside = window.controller.inputs.files["pre_bold"].parent / "bad.pdf"
    with qtbot.waitSignal(window.error_shown, timeout=60000):
        e.export_report(inside, label="x")
    assert "outside the patient's input folders" in window.last_error
    assert not inside.exists()
    # tables with ROI names
    with qtbot.waitSignal(e.exported, timeout=60000):
        e.export_tables(tmp_path / "tables", overwrite=True)
    assert e.open_folder.isVisibleTo(window)  # the status bar offers to open the folder
    delta = pd.read_csv(tmp_path / "tables" / "connectivity_delta.tsv", sep="\t", index_col=0)
    assert list(delta.columns) == window.comparison.rois.names
    assert np.allclose(delta.to_numpy(), window.comparison.delta_z, atol=1e-5)
    # maps in MNI space
    with qtbot.waitSignal(e.exported, timeout=60000):
        e.export_maps(tmp_path / "maps", overwrite=True)
    names = {p.name for p in (tmp_path / "maps").iterdir()}
    assert {"strength_pre.nii.gz", "strength_delta.nii.gz", "tsnr_pre.nii.gz"} <= names
    img = nib.load(tmp_path / "maps" / "strength_delta.nii.gz")
    assert int(img.header["sform_code"]) == 4 and img.ndim == 3
    # views as PNG and SVG, and the right-click menu is installed
    for view in (window.matrices.graphics, window.slices):
        assert view.contextMenuPolicy() == Qt.ContextMenuPolicy.CustomContextMenu
    e.export_view(window.matrices.graphics, path=tmp_path / "m.png")
    e.export_view(window.slices, path=tmp_path / "s.svg")
    assert (tmp_path / "m.png").read_bytes().startswith(b"\x89PNG")
    assert "<svg" in (tmp_path / "s.svg").read_text(encoding="utf-8")[:2000]


def test_save_and_open_review_restores_view_and_numbers(window, tmp_path, qtbot):
    e = window.exports
    pre_z = window.comparison.pre.z.copy()
    qtbot.waitUntil(lambda: window.seeds.ready, timeout=90000)
    with qtbot.waitSignal(window.seeds.maps_ready, timeout=60000):
        window.seed_panel.seed_at((2.0, 38.0, -8.0))
    window.cursor.set_position((10.0, 20.0, 30.0))
    window.colormap.setCurrentText("viridis")
    window.threshold.setValue(33)
    path = tmp_path / "case.review.json"
    with qtbot.waitSignal(e.exported, timeout=60000):
        e.save_review(path)
    assert path.is_file()
    with qtbot.waitSignal(window.error_shown, timeout=60000):
        e.save_review(path)  # exists: refused, not overwritten
    assert "exists" in window.last_error
    window.cursor.set_position((0.0, 0.0, 0.0))
    window.colormap.setCurrentText("inferno")
    window.threshold.setValue(5)
    with qtbot.waitSignal(window.controller.comparison_ready, timeout=90000):
        e.open_review(path)
    assert np.array_equal(window.comparison.pre.z, pre_z)
    assert np.allclose(window.cursor.position, (10.0, 20.0, 30.0))
    assert window.colormap.currentText() == "viridis"
    assert window.threshold.value() == 33
    qtbot.waitUntil(lambda: window.seeds.current is not None
                    and window.seeds.current.kind == "seed", timeout=90000)
    assert np.allclose(window.seeds.current.xyz_mm, (2.0, 38.0, -8.0))
    assert np.allclose(window.cursor.position, (10.0, 20.0, 30.0))


def test_open_corrupted_review_shows_error(window, tmp_path):
    path = tmp_path / "bad.review.json"
    path.write_text('{"format": "prepost-review/review", "version": 1, "subj')
    window.exports.open_review(path)
    assert "truncated JSON" in window.last_error and "bad.review.json" in window.last_error


def _report_images(html_path) -> list[str]:
    import re

    return re.findall(r'src="data:image/png;base64,([^"]+)"', html_path.read_text("utf-8"))


def test_report_uses_its_own_display_not_the_views(window, tmp_path, qtbot):
    """Filter, blocks, opacity and colour map of the view leave the report unchanged."""
    from core.report.content import FIGURES

    e = window.exports
    with qtbot.waitSignal(e.exported, timeout=60000):
        e.export_report(tmp_path / "plain.pdf", label="x")
    window.controller.set_display(significant_only=True, opacity=0.15, colormap="viridis",
                                  threshold=0.6, network_blocks=True)
    assert window.matrices.significant_button.isChecked()
    assert np.isnan(window.matrices.shown_delta()).any()  # the view is filtered...
    with qtbot.waitSignal(e.exported, timeout=60000):
        e.export_report(tmp_path / "filtered.pdf", label="x")
    plain, filtered = (_report_images(tmp_path / f"{n}.html") for n in ("plain", "filtered"))
    assert len(plain) == 2 and plain == filtered  # ...the report is not
    text = (tmp_path / "filtered.html").read_text("utf-8")
    for caption in FIGURES.values():
        assert caption.replace("'", "&#x27;") in text
    assert "no significance filter" in FIGURES["matrices"]
    assert "values below 10% of each colour scale are hidden" in FIGURES["slices"]
