"""Benchmark: seed request -> new maps painted in the nine slice panes (offscreen window).

Run from the project root::

    PREPOST_CACHE_DIR=/tmp/democache python3 benchmarks/seed_gui_latency.py

Opens the demo patient (or ``--pair PRE POST``), waits for the voxel preparation, then
for each clinical preset seed calls ``SeedController.request_seed`` (no cursor move)
and times: the core part (``core.maps.seedmaps.seed_maps``), the worker (core + display
volumes), ``SliceGrid.set_data`` and a forced repaint of the panes. Optionally saves a
screenshot (``--screenshot FILE``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", metavar="FILE.png")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pair", nargs=2, metavar=("PRE", "POST"),
                        help="two NIfTI files instead of the demo (e.g. the 2 mm data that "
                             "benchmarks/run.py writes to benchmarks/_data/)")
    args = parser.parse_args(argv)
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from core.maps.seeds import load_clinical_seeds
    from gui.main_window import MainWindow

    window = MainWindow()
    window.resize(1600, 1000)
    window.show()
    if args.pair:
        window.open_path(*args.pair)
    else:
        window.open_demo()
    while not window.seeds.ready:
        app.processEvents()
        time.sleep(0.01)
    window.tabs.setCurrentWidget(window.seed_panel)
    seeds, panel = window.seeds, window.seed_panel
    shown: list[float] = []
    panel.map_shown.connect(lambda _d: shown.append(time.perf_counter()))
    total, core, paint, repaint = [], [], [], []
    points = [s.xyz_mm for s in load_clinical_seeds()] * args.rounds
    for xyz in points:
        panel._select_overlay("Seed map")
        shown.clear()
        start = time.perf_counter()
        seeds.request_seed(xyz)
        while not shown:
            app.processEvents()
        window.slices.viewport().repaint()
        end = time.perf_counter()
        total.append(1e3 * (end - start))
        core.append(seeds.last_core_ms)
        paint.append(panel.last_paint_ms)
        repaint.append(1e3 * (end - shown[0]))
        while seeds._seed_running:
            app.processEvents()
    pre = seeds.prepared[0]
    print(f"{pre.n_voxels} brain voxels × {pre.n_kept} volumes ({seeds.voxel_mm:g} mm); "
          f"{len(points)} seed requests")
    for name, values in (("request -> nine panes painted", total), ("core seed_maps", core),
                         ("SliceGrid.set_data", paint), ("repaint of the panes", repaint)):
        print(f"  {name:32s} median {np.median(values):6.1f} ms   p95 "
              f"{np.percentile(values, 95):6.1f} ms")
    if args.screenshot:
        window.threshold.setValue(20)  # hide |z| < 0.24 so the seed network stands out
        panel.jump_to_preset("PCC")
        shown.clear()
        while not shown or seeds._seed_running:
            app.processEvents()
        app.processEvents()
        window.grab().save(args.screenshot)
        print(f"screenshot saved to {args.screenshot}")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
