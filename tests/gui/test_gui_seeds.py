"""Seeds & GBC tab (offscreen, demo patient): seed mode, presets, GBC, export, named edges."""

from __future__ import annotations

import time

import nibabel as nib
import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QPointF, Qt, QThreadPool

from core.display_text import format_p
from core.maps.seedmaps import seed_maps, to_volume
from core.maps.seeds import load_clinical_seeds
from gui import strings
from gui.main_window import MainWindow


@pytest.fixture(scope="module")
def window(qapp, request, tmp_path_factory):
    """One window with the demo open and its voxel data prepared (shared: ~10 s to build)."""
    import os

    os.environ["PREPOST_SETTINGS_FILE"] = str(tmp_path_factory.mktemp("s") / "settings.ini")
    from pytestqt.qtbot import QtBot

    win = MainWindow()
    qtbot = QtBot(request)
    win.show()
    qtbot.waitExposed(win)
    with qtbot.waitSignal(win.controller.comparison_ready, timeout=120000):
        win.open_demo()
    # preparation starts right after the first view is painted
    qtbot.waitUntil(lambda: win.seeds.state != "idle", timeout=5000)
    assert win.seeds.state == "preparing"
    assert win.seed_panel.status.text() == strings.SEED_PREPARING
    qtbot.waitUntil(lambda: win.seeds.ready, timeout=120000)
    win.tabs.setCurrentWidget(win.seed_panel)
    yield win
    win.close()
    assert QThreadPool.globalInstance().activeThreadCount() == 0, "a worker was left running"
    os.environ.pop("PREPOST_SETTINGS_FILE", None)


def _pane_point(win, column: str, plane: str, h: float, v: float) -> QPoint:
    pane = win.slices.pane(column, plane)
    scene = pane.view_box.mapViewToScene(QPointF(h, v))
    return win.slices.mapFromScene(scene)


def test_ctrl_click_seeds_and_changes_all_three_maps(qtbot, window):
    strength = window.seed_panel.strength_maps
    window.slices.set_data(strength)
    window.cursor.set_position((0.0, 0.0, 0.0))
    point = _pane_point(window, "Pre", "axial", -6.0, -52.0)  # left PCC, axial z = 0 slice
    viewport = window.slices.viewport()
    with qtbot.waitSignal(window.seed_panel.map_shown, timeout=30000) as blocker:
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.ControlModifier, point)
    shown = blocker.args[0]
    assert window.slices.data is shown
    assert shown.title.startswith("Seed map: Fisher z with a 6 mm sphere at (")
    assert window.seed_panel.overlay.currentText() == strings.OVERLAY_SEED
    seed = window.seeds.current.xyz_mm
    assert np.allclose(seed[:2], (-6.0, -52.0), atol=3.0) and seed[2] == 0.0
    brain = np.isfinite(shown.pre) & np.isfinite(strength.pre)
    for a, b in ((shown.pre, strength.pre), (shown.post, strength.post),
                 (shown.delta, strength.delta), (shown.pre, shown.post),
                 (shown.pre, shown.delta), (shown.post, shown.delta)):
        assert not np.allclose(a[brain], b[brain])
    # the nine panes show the new maps, and the seed sphere is outlined in the axial panes
    assert window.slices.pane("Δ", "axial").overlay.image is not None
    assert window.seed_panel.marker.items[("Pre", "axial")].isVisible()
    assert "seed z pre" in window.readout.text()


def test_seed_mode_drag_latest_position_wins(qtbot, window):
    panel = window.seed_panel
    panel.seed_mode.setChecked(True)
    qtbot.waitUntil(lambda: not window.seeds._seed_running and window.seeds._pending is None,
                    timeout=30000)
    shown = []
    panel.map_shown.connect(shown.append)
    path = [(x, -40.0, 20.0) for x in np.arange(-30.0, 31.0, 3.0)]
    for xyz in path:  # a fast drag: many requests while one map is computed
        window.cursor.set_position(xyz)
    qtbot.waitUntil(lambda: bool(shown) and window.seeds.current.xyz_mm == path[-1],
                    timeout=30000)
    qtbot.waitUntil(lambda: not window.seeds._seed_running, timeout=30000)
    panel.map_shown.disconnect(shown.append)
    assert 1 <= len(shown) < len(path)
    assert window.seeds.current.xyz_mm == path[-1]
    panel.seed_mode.setChecked(False)


def test_preset_jump_computes_map_at_preset_equal_to_core(qtbot, window):
    preset = next(s for s in load_clinical_seeds() if s.name == "sgACC")
    with qtbot.waitSignal(window.seed_panel.map_shown, timeout=30000) as blocker:
        item = window.seed_panel.seed_list.item(
            [s.name for s in window.seed_panel.presets].index("sgACC"))
        window.seed_panel.seed_list.itemClicked.emit(item)
    assert np.allclose(window.cursor.position, preset.xyz_mm)
    maps = window.seeds.current
    assert maps.xyz_mm == tuple(preset.xyz_mm)
    x, y, z = preset.xyz_mm
    assert blocker.args[0].title == (f"Seed map: Fisher z with a 6 mm sphere at "
                                      f"({x:.0f}, {y:.0f}, {z:.0f})")
    pre, post = window.seeds.prepared
    reference = seed_maps(pre, post, preset.xyz_mm, 6.0)
    for got, want in zip((maps.pre, maps.post, maps.delta), reference, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-6)
    # the displayed volumes are the core maps at the nearest data voxel of each display voxel
    shown = blocker.args[0]
    want = to_volume(reference[2], pre.mask)
    rng = np.random.default_rng(1)
    finite = np.argwhere(np.isfinite(shown.delta))
    for ijk in finite[rng.integers(0, len(finite), 200)]:
        xyz = shown.affine[:3, :3] @ ijk + shown.affine[:3, 3]
        data_ijk = np.rint(np.linalg.solve(pre.affine, np.r_[xyz, 1.0])[:3]).astype(int)
        assert shown.delta[tuple(ijk)] == pytest.approx(want[tuple(data_ijk)], abs=1e-6)
    # a larger radius recomputes the same seed
    with qtbot.waitSignal(window.seed_panel.map_shown, timeout=30000):
        window.seed_panel.radius.setValue(10.0)
    assert window.seeds.current.radius_mm == 10.0
    np.testing.assert_allclose(window.seeds.current.pre,
                               seed_maps(pre, post, preset.xyz_mm, 10.0)[0], atol=1e-6)
    with qtbot.waitSignal(window.seed_panel.map_shown, timeout=30000):
        window.seed_panel.radius.setValue(6.0)


def test_seed_timings_are_reported(qtbot, window):
    """Not a timed assertion: prints request -> painted latency on the 3 mm demo."""
    panel, seeds = window.seed_panel, window.seeds
    latencies, cores, paints = [], [], []
    for xyz in load_clinical_seeds():
        start = time.perf_counter()
        with qtbot.waitSignal(panel.map_shown, timeout=30000):
            panel.seed_at(xyz.xyz_mm)
        window.slices.viewport().repaint()  # the nine panes painted now
        latencies.append(1e3 * (time.perf_counter() - start))
        cores.append(seeds.last_core_ms)
        paints.append(panel.last_paint_ms)
        qtbot.waitUntil(lambda: not seeds._seed_running, timeout=30000)
    print(f"\nseed request -> nine panes painted: median {np.median(latencies):.0f} ms "
          f"(max {np.max(latencies):.0f}); core seed_maps median {np.median(cores):.1f} ms; "
          f"set_data median {np.median(paints):.1f} ms "
          f"({seeds.prepared[0].n_voxels} voxels × {seeds.prepared[0].n_kept} volumes)")
    assert all(np.isfinite(latencies))


def test_gbc_finishes_then_can_be_cancelled(qtbot, window):
    seeds, panel = window.seeds, window.seed_panel
    seeds.interactive_stride = 4  # keep the test light; the app uses 2 on ≤ 3 mm grids
    seeds._gbc_cache.clear()
    with qtbot.waitSignal(panel.map_shown, timeout=120000) as blocker:
        panel.overlay.setCurrentText(strings.OVERLAY_GBC)
    assert seeds.current.kind == "gbc" and seeds.current.stride == 4
    assert blocker.args[0].title.startswith(strings.GBC_TITLE)
    assert "one voxel in 4 per axis" in blocker.args[0].title
    qtbot.waitUntil(lambda: not seeds.busy, timeout=10000)
    assert not window.progress.isVisible()
    # GBC with GSR: cancel while it runs, through the status bar's Cancel button
    with qtbot.waitSignal(seeds.cancelled, timeout=60000):
        panel.overlay.setCurrentText(strings.OVERLAY_GBC_GSR)
        assert seeds.busy and window.cancel_button.isVisible()
        window.cancel_button.click()
    qtbot.waitUntil(lambda: not seeds.busy, timeout=10000)
    QThreadPool.globalInstance().waitForDone(10000)
    assert QThreadPool.globalInstance().activeThreadCount() == 0
    assert seeds.current.kind == "gbc"  # the cancelled job left the previous map
    assert (True, 4) not in seeds._gbc_cache
    seeds.interactive_stride = 2


def test_export_writes_three_niftis_and_refuses_input_folder(qtbot, window, tmp_path):
    with qtbot.waitSignal(window.seed_panel.map_shown, timeout=30000):
        window.seed_panel.jump_to_preset("PCC")
    with qtbot.waitSignal(window.seed_panel.export_done, timeout=10000) as blocker:
        window.seed_panel.export_to(tmp_path / "maps")
    paths = blocker.args[0]
    assert [p.name.rsplit("_", 1)[1] for p in paths] == ["pre.nii.gz", "post.nii.gz",
                                                         "delta.nii.gz"]
    pre = window.seeds.prepared[0]
    for path, values in zip(paths, (window.seeds.current.pre, window.seeds.current.post,
                                    window.seeds.current.delta), strict=True):
        img = nib.load(path)
        np.testing.assert_allclose(img.affine, pre.affine)
        assert img.shape == pre.mask.shape
        assert int(img.header["sform_code"]) == 4
        np.testing.assert_allclose(np.asarray(img.dataobj)[pre.mask],
                                   to_volume(values, pre.mask)[pre.mask], atol=1e-6)
    input_folder = window.controller.inputs.input_folders()[-1]
    before = set(input_folder.iterdir())
    with qtbot.waitSignal(window.error_shown, timeout=10000) as error:
        assert window.seed_panel.export_to(input_folder) == []
    assert "outside the patient's input folders" in error.args[0]
    assert set(input_folder.iterdir()) == before


def test_named_edges_table_has_six_rows(window):
    table = window.seed_panel.edges
    assert table.rowCount() == 6
    edges = window.comparison.named_edges
    assert table.item(0, 0).text() == edges["edge"].iloc[0]
    assert table.item(0, 5).text() == f"{edges['delta_z'].iloc[0]:+.3f}"
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers[6:8] == ["p", "q"]
    for row in range(6):
        assert table.item(row, 6).text() == format_p(edges["p"].iloc[row]) != ""
        assert table.item(row, 7).text() == format_p(edges["q"].iloc[row]) != ""
    assert "Gärtner" in table.item(0, 8).text()


def test_timeseries_inputs_say_seed_maps_need_voxels(qtbot, isolated_settings):
    from gui.cursor import CursorModel
    from gui.seed_controller import SeedController
    from gui.seed_panel import SeedPanel
    from gui.slice_view import SliceGrid

    class TableInputs:
        is_image_based = False

    cursor = CursorModel()
    grid = SliceGrid(cursor)
    qtbot.addWidget(grid)
    seeds = SeedController()
    panel = SeedPanel(seeds, grid, cursor)
    qtbot.addWidget(panel)
    seeds.prepare(TableInputs(), None)
    assert seeds.state == "no_voxels"
    assert panel.status.text() == strings.SEED_NO_VOXELS
    assert not panel.seed_mode.isEnabled()
