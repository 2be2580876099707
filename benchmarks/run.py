"""Speed and memory benchmark: each figure beside its reference, measured in the same run.

Run from the repository root::

    python3 benchmarks/run.py            # full size: 2 mm MNI grid, 300 volumes, two sessions
    python3 benchmarks/run.py --quick    # 3 mm, 150 volumes (a smoke run)
    python3 benchmarks/run.py --json figures.json   # also write the figures of issue 17

Synthetic inputs are written once to ``benchmarks/_data/`` (git-ignored). The table
prints each measurement, its reference on the same input in the same run, and the
ratio. Speed is never asserted by unit tests; the tests check that every fast path
gives the reference numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "benchmarks" / "_data"
ROWS: list[tuple[str, float, str, float, str]] = []
#: The machine-readable figures of this run (``--json``), seconds unless named otherwise.
FIGURES: dict[str, object] = {}


def row(name: str, value: float, reference_name: str, reference: float, goal: str) -> None:
    ROWS.append((name, value, reference_name, reference, goal))
    ratio = reference / value if value else float("inf")
    print(f"  {name}: {value:.3f}  |  {reference_name}: {reference:.3f}  |  "
          f"ratio {ratio:.2f}  ({goal})", flush=True)


def print_stages(stages: list[tuple[str, float]], total: float) -> None:
    """Print how long each stage took; a progress message starts its stage."""
    ends = [at for _, at in stages[1:]] + [total]
    for (message, begin), end in zip(stages, ends, strict=True):
        print(f"    {end - begin:6.2f} s  {message}")
    print(f"    {total:6.2f} s  total")


def timed(function, *args, repeat: int = 1, **kwargs):
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = function(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best, result


def make_inputs(resolution: int, n_volumes: int) -> tuple[Path, Path]:
    """Two realistic-size sessions (zeros outside the brain), written with isal level 1."""
    from isal import igzip
    from nilearn.datasets import load_mni152_brain_mask

    DATA.mkdir(parents=True, exist_ok=True)
    paths = tuple(DATA / f"bench_{resolution}mm_{n_volumes}_{s}_space-MNI152NLin2009cAsym_"
                  "desc-preproc_bold.nii.gz" for s in ("pre", "post"))
    if all(p.is_file() for p in paths):
        return paths  # type: ignore[return-value]
    mask_img = load_mni152_brain_mask(resolution=resolution)
    mask = np.asarray(mask_img.dataobj) > 0
    index = np.flatnonzero(mask.ravel(order="F"))
    rng = np.random.default_rng(0)
    for k, path in enumerate(paths):
        volume = np.zeros((*mask.shape, n_volumes), dtype=np.float32, order="F")
        flat = volume.reshape(-1, n_volumes, order="F")
        shared = rng.standard_normal((16, n_volumes)).astype(np.float32)
        loadings = rng.standard_normal((index.size, 16)).astype(np.float32)
        flat[index] = 1000 + loadings @ shared * 5 + rng.standard_normal(
            (index.size, n_volumes), dtype=np.float32) * 20
        img = nib.Nifti1Image(volume, mask_img.affine)
        img.header.set_xyzt_units("mm", "sec")
        img.header["pixdim"][4] = 2.0
        path.write_bytes(igzip.compress(img.to_bytes(), compresslevel=1, mtime=k))
        del volume, flat, img
        gc.collect()
    return paths  # type: ignore[return-value]


def decompress_reference(paths) -> tuple[float, str]:
    """Fastest available gzip decompression of both files (the physical floor)."""
    from isal import igzip

    def run():
        for p in paths:
            with igzip.open(p, "rb") as stream:
                while stream.read(1 << 24):
                    pass
    seconds, _ = timed(run, repeat=2)
    start = time.process_time()
    run()
    FIGURES["cpu_decompress_s"] = time.process_time() - start
    return seconds, "isal"


def bench_extraction(paths) -> None:
    from nilearn.maskers import NiftiLabelsMasker, NiftiSpheresMasker

    from core.atlas.atlases import load_atlas
    from core.signal.extract import brain_mask_for, roi_weights

    print("ROI extraction of both sessions from in-memory images (s)", flush=True)
    images = [nib.Nifti1Image(np.asarray(nib.load(p).dataobj), nib.load(p).affine)
              for p in paths]
    mask = brain_mask_for(images[0])
    mask_img = nib.Nifti1Image(mask.astype(np.uint8), images[0].affine)
    for atlas_name, reference in (("dosenbach160", "spheres"), ("schaefer400", "labels"),
                                  ("aal3", "labels")):
        atlas = load_atlas(atlas_name)
        prep, weights = timed(roi_weights, atlas, mask, images[0].affine)

        seconds, ours_ts = timed(_extract_ours, images, mask, weights, repeat=2)
        if reference == "spheres":
            masker = NiftiSpheresMasker([tuple(c) for c in atlas.coords_mm[weights.kept]],
                                        radius=5.0, mask_img=mask_img, allow_overlap=True)
        else:
            masker = NiftiLabelsMasker(atlas.labels_img, mask_img=mask_img)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref_seconds, ref_ts = timed(_extract_nilearn, images, masker)
        diff = max(float(np.abs(a - b).max() / np.abs(b).max())
                   for a, b in zip(ours_ts, ref_ts, strict=True))
        kind = "NiftiSpheresMasker" if reference == "spheres" else "NiftiLabelsMasker"
        row(f"extract {atlas_name} (+{prep:.2f} s weights once per grid)", seconds,
            kind, ref_seconds, f"goal ≥ {20 if reference == 'spheres' else 5}x; "
            f"max relative diff {diff:.1e}")


def _extract_ours(images, mask, weights):
    from core.signal.extract import roi_signals

    return [roi_signals(img, mask, [weights])[0] for img in images]


def _extract_nilearn(images, masker):
    return [masker.fit_transform(img) for img in images]


def bench_open(paths) -> None:
    floor, library = decompress_reference(paths)
    print(f"Opening a patient (two .nii.gz) to connectivity + maps, vs {library} "
          "decompression of both files (s)", flush=True)
    code = (
        "import sys, time, json, resource; sys.path.insert(0, %r)\n"
        "t0 = time.perf_counter()\n"
        "from core.warmup import HEAVY_MODULES\n"
        "import importlib\n"
        "for m in HEAVY_MODULES: importlib.import_module(m)\n"
        "from core.atlas.templates import preload_templates; preload_templates()\n"
        "from core.io.inputs import open_nifti_pair\n"
        "from core.pipeline import run_comparison\n"
        "from core.maps.display import roi_map\n"
        "from core.settings import AnalysisSettings, DenoiseSettings\n"
        "imports = time.perf_counter() - t0\n"
        "def peak_mb():\n"
        "    # VmHWM belongs to this process image; ru_maxrss survives exec and would report\n"
        "    # the benchmark parent's peak\n"
        "    try:\n"
        "        for line in open('/proc/self/status'):\n"
        "            if line.startswith('VmHWM:'): return int(line.split()[1]) / 1024\n"
        "    except OSError: pass\n"
        "    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "t = time.perf_counter()\n"
        "stages = []\n"
        "inputs = open_nifti_pair(%r, %r)\n"
        "c = run_comparison(inputs, AnalysisSettings(denoise=DenoiseSettings(strategy='none')),"
        " progress=lambda f, m: stages.append((m, time.perf_counter() - t)), defer_qc=True)\n"
        "roi_map(c, c.pre.strength); roi_map(c, c.post.strength)\n"
        "first = time.perf_counter() - t\n"
        "stages.append(('Brain maps painted: first view ready', first))\n"
        "c.quality_control()\n"
        "stages.append(('Quality control (after the first view)', time.perf_counter() - t))\n"
        "print(json.dumps({'seconds': first, 'stages': stages, "
        "'imports': imports, 'qc_done': time.perf_counter() - t, "
        "'peak_mb': peak_mb()}))\n"
    ) % (str(ROOT), str(paths[0]), str(paths[1]))
    result = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                       text=True, check=True).stdout)
    row("open + compute + maps (imports warmed, as the app does at start)", result["seconds"],
        f"{library} decompress", floor, "goal: time ≤ 1.3x reference, i.e. ratio ≥ 0.77; "
        f"cold imports add {result['imports']:.2f} s; QC complete at {result['qc_done']:.2f} s")
    print_stages([("Importing and opening headers", 0.0), *result["stages"]],
                 result["qc_done"])
    FIGURES.update(decompress_s=floor, pipeline_first_view_s=result["seconds"],
                   pipeline_qc_done_s=result["qc_done"], pipeline_peak_rss_mb=result["peak_mb"])
    bench_open_window(paths, floor, library)
    bench_cold_open(paths, FIGURES["first_view_s"])  # type: ignore[arg-type]
    bench_cli(paths, floor)
    masked_mb = _masked_mb(paths)
    budget = 1.5 * masked_mb + 500
    row("peak memory (MB)", result["peak_mb"], "budget 1.5 x masked + 500 MB", budget,
        f"goal ratio ≥ 1; two masked float32 arrays = {masked_mb:.0f} MB")


def bench_open_window(paths, floor: float, library: str) -> None:
    """The same, as a user sees it: window open, imports warmed, until the maps are drawn.

    Then, in the same window: another atlas (Schaefer 400), the TSV export of its
    400 ROIs and the report export, each timed until its result is drawn or written.
    """
    out = DATA / "bench_exports"
    line = _window_script(
        "import importlib, json, dataclasses, resource\n"
        "from core.warmup import HEAVY_MODULES\n"
        "for m in HEAVY_MODULES: importlib.import_module(m)\n"
        "from core.atlas.templates import preload_templates; preload_templates()\n"
        "def peak():\n"
        "    return [int(l.split()[1]) / 1024 for l in open('/proc/self/status') "
        "if l.startswith('VmHWM:')][0]\n"
        "def cpu():\n"
        "    r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime + r.ru_stime\n"
        "shown, stats, written = [], [], []\n"
        "w.controller.comparison_ready.connect(lambda c: shown.append(c))\n"
        "w.review.stats_controller.stats_ready.connect(lambda s: stats.append(s))\n"
        "w.exports.exported.connect(lambda p: written.append(p))\n"
        "def wait(flag, step=0.002):\n"
        "    while not flag(): app.processEvents(); time.sleep(step)\n"
        "t, c0 = time.perf_counter(), cpu()\n"
        "w.controller.open_nifti_pair(%r, %r)\n"
        "wait(lambda: shown)\n"
        "app.processEvents(); w.repaint(); app.processEvents()\n"
        "first, cpu_first = time.perf_counter() - t, cpu() - c0\n"
        "wait(lambda: stats)\n"
        "qc = time.perf_counter() - t\n"
        "wait(lambda: w.seeds.ready and not w.seeds.busy)\n"
        "seeds, cpu_seeds = time.perf_counter() - t, cpu() - c0\n"
        "peak_ready = peak()\n"
        "n = len(shown)\n"
        "s400 = dataclasses.replace(w.controller.settings, atlas='schaefer400')\n"
        "t = time.perf_counter()\n"
        "w.controller.recompute(s400)\n"
        "wait(lambda: len(shown) > n)\n"
        "app.processEvents(); w.repaint(); app.processEvents()\n"
        "atlas_view = time.perf_counter() - t\n"
        "wait(lambda: w.controller.state.ready)\n"
        "atlas_stats = time.perf_counter() - t\n"
        "wait(lambda: w.seeds.ready and not w.seeds.busy)\n"
        "atlas_all = time.perf_counter() - t\n"
        "t = time.perf_counter()\n"
        "w.exports.export_tables(%r, overwrite=True)\n"
        "wait(lambda: written)\n"
        "tsv = time.perf_counter() - t\n"
        "written.clear()\n"
        "t = time.perf_counter()\n"
        "w.exports.export_report(%r, label='benchmark')\n"
        "wait(lambda: written)\n"
        "report = time.perf_counter() - t\n"
        "print(json.dumps(dict(first=first, stats=qc, seeds=seeds, peak_ready=peak_ready, "
        "cpu_first=cpu_first, cpu_seeds=cpu_seeds, "
        "atlas_view=atlas_view, atlas_stats=atlas_stats, atlas_all=atlas_all, tsv=tsv, "
        "report=report, n_rois=len(w.controller.comparison.rois), peak_end=peak())))\n"
        "w.close(); app.processEvents()\n" % (str(paths[0]), str(paths[1]),
                                               str(out / "tables"), str(out / "report.pdf")))
    r = json.loads(line)
    row("in the window: open to first full view drawn", r["first"], f"{library} decompress",
        floor, f"goal ratio ≥ 0.77; then QC, motion banner and statistics at {r['stats']:.2f} s, "
        f"seed maps ready at {r['seeds']:.2f} s; CPU time used: {r['cpu_first']:.2f} s to the "
        f"first view, {r['cpu_seeds']:.2f} s to seed maps ready")
    masked_mb = _masked_mb(paths)
    budget = 1.5 * masked_mb + 500
    row("peak memory of the window, seed maps ready (MB)", r["peak_ready"],
        "budget 1.5 x masked + 500 MB", budget, "goal ratio ≥ 1")
    row("in the window: another atlas (Schaefer 400) to its view drawn", r["atlas_view"],
        "goal", 1.0, f"statistics at {r['atlas_stats']:.2f} s, seed maps ready at "
        f"{r['atlas_all']:.2f} s")
    row(f"in the window: TSV export of {r['n_rois']} ROIs", r["tsv"], "goal", 1.0, "")
    row("in the window: Export report (PDF + HTML)", r["report"], "goal", 2.0,
        f"peak memory at the end {r['peak_end']:.0f} MB")
    FIGURES.update(
        first_view_s=r["first"], stats_ready_s=r["stats"], review_ready_s=r["seeds"],
        recompute_atlas_s=r["atlas_view"], recompute_atlas_stats_s=r["atlas_stats"],
        recompute_atlas_seeds_s=r["atlas_all"], tsv_export_s=r["tsv"],
        cpu_first_view_s=r["cpu_first"], cpu_review_ready_s=r["cpu_seeds"],
        tsv_export_rois=r["n_rois"], report_export_s=r["report"],
        peak_rss_mb=r["peak_ready"], peak_rss_end_mb=r["peak_end"],
        memory_budget_mb=budget)


def bench_cold_open(paths, warm_first: float) -> None:
    """A patient opened the moment the window appears: the warm-up has only just started."""
    line = _window_script(
        "from core.warmup import warm_up_in_background\n"
        "warming = warm_up_in_background()  # as gui.app does after the first paint\n"
        "shown = []\n"
        "w.controller.comparison_ready.connect(lambda c: shown.append(c))\n"
        "t = time.perf_counter()\n"
        "w.controller.open_nifti_pair(%r, %r)\n"
        "while not shown: app.processEvents(); time.sleep(0.002)\n"
        "app.processEvents(); w.repaint(); app.processEvents()\n"
        "print(time.perf_counter() - t)\n"
        "w.close(); app.processEvents()\n"
        "warming.join()  # a daemon thread still importing at exit can crash the interpreter\n"
        % (str(paths[0]), str(paths[1])))
    cold = float(line)
    row("cold start: patient opened as the window appears, extra time to first view", cold
        - warm_first, "goal", 0.5, f"first view {cold:.2f} s cold vs {warm_first:.2f} s warmed")
    FIGURES.update(cold_import_s=cold - warm_first, cold_first_view_s=cold)


def bench_cli(paths, floor: float) -> None:
    """``main.py analyze`` on the same pair, every output (QC included), start to exit."""
    out = DATA / "bench_cli"
    command = [sys.executable, str(ROOT / "main.py"), "analyze", "--pre", str(paths[0]),
               "--post", str(paths[1]), "--out", str(out)]
    env = {**os.environ, "PREPOST_SETTINGS_FILE": str(DATA / "bench_settings.ini")}
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    seconds = time.perf_counter() - start
    imports = float(subprocess.run(
        [sys.executable, "-c", "import time; t = time.perf_counter(); import sys; "
         f"sys.path.insert(0, {str(ROOT)!r}); import core.cli, core.pipeline, core.review; "
         "print(time.perf_counter() - t)"], capture_output=True, text=True, check=True,
        env=env).stdout)
    row("CLI analyze, every output (QC included), interpreter start to exit", seconds,
        "isal decompress", floor, f"goal ratio ≥ 0.67 (≤ 1.5x); of which imports ~{imports:.2f} s")
    FIGURES.update(cli_analyze_s=seconds, cli_imports_s=imports)


def bench_gbc(paths, seconds_per_variant: float = 20.0) -> None:
    """GBC at full resolution (stride 1) on one prepared session, against numpy's matmul peak.

    The GFLOP/s count the multiply-adds of the products actually computed
    (2 flops each) over the elapsed time of the blocks done; the run stops
    after ``seconds_per_variant`` and extrapolates the whole map from the
    fraction done (progress reports the fraction of the work).
    """
    from core.errors import AnalysisCancelled
    from core.io.inputs import open_nifti_pair
    from core.maps import gbc
    from core.maps.prepare import prepare_patient
    from core.settings import AnalysisSettings, DenoiseSettings

    print("Global brain connectivity at full resolution, one session", flush=True)
    n = 4096
    square = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    np.matmul(square, square)
    peak_s, _ = timed(np.matmul, square, square, repeat=3)
    peak = 2 * n**3 / peak_s / 1e9
    del square
    inputs = open_nifti_pair(*paths)
    pre, post = prepare_patient(inputs, AnalysisSettings(denoise=DenoiseSettings(
        strategy="none")))
    del post
    n_vox, n_kept = pre.n_voxels, pre.n_kept
    rank = getattr(pre, "rank", n_kept)
    variants = getattr(gbc, "GBC_MEASURES", ("mean_z",))
    for measure in variants:
        done: list[tuple[float, float]] = []
        start = time.perf_counter()

        def progress(fraction, _message, done=done, start=start):
            done.append((fraction, time.perf_counter() - start))
            if done[-1][1] > seconds_per_variant:
                raise AnalysisCancelled("enough for the rate")

        kwargs = {} if measure == "mean_z" else {"measure": measure}
        with contextlib.suppress(AnalysisCancelled):
            gbc.gbc_map(pre, progress=progress, **kwargs)
        fraction, elapsed = done[-1] if done else (1.0, time.perf_counter() - start)
        whole = elapsed / fraction
        flops = getattr(gbc, "gbc_flops", lambda v, t, m, **_: 2.0 * v * v * t)(
            n_vox, rank, measure, n_volumes=n_kept)
        gflops = flops * fraction / elapsed / 1e9
        naive = 2.0 * n_vox * n_vox * n_kept / whole / 1e9  # the full N x N product over T
        FIGURES[f"gbc_{measure}_s"] = whole
        if measure == "mean_r":  # closed form: two passes over the voxels, no N x N product
            row("GBC mean_r at full resolution, one session (s)", whole,
                "GBC mean_z, same session (s)", FIGURES.get("gbc_mean_z_s", float("nan")),
                "closed form, no N x N product; tested against the brute-force matrix")
            continue
        row(f"numpy float32 matmul peak (GFLOP/s) vs GBC {measure}", peak,
            f"GBC {measure} at full resolution (GFLOP/s)", gflops,
            f"goal ratio ≥ 0.7; {n_vox} voxels x {n_kept} volumes (rank {rank}), one "
            f"session in {whole:.1f} s" + ("" if fraction >= 1 else
                                           f" (extrapolated from the {100 * fraction:.0f}% "
                                           "done)") + f"; {naive:.0f} GFLOP/s of the naive "
            "N x N x T product")
        FIGURES[f"gbc_{measure}_gflops"] = gflops
    FIGURES.update(matmul_peak_gflops=peak, gbc_full_gflops=FIGURES["gbc_mean_z_gflops"],
                   gbc_voxels=n_vox)


#: Start of every window benchmark script: an offscreen main window, shown.
_WINDOW_PRELUDE = (
    "import os, sys, time; sys.path.insert(0, %r)\n"
    "os.environ.setdefault('QT_QPA_PLATFORM', 'offscreen')\n"
    "from PyQt6.QtWidgets import QApplication\n"
    "app = QApplication([])\n"
    "from gui.main_window import MainWindow\n"
    "w = MainWindow(); w.resize(1600, 1000); w.show(); app.processEvents()\n"
) % str(ROOT)


def _window_script(body: str) -> str:
    """Run the prelude plus ``body`` in a fresh interpreter; return its last output line."""
    env = {**os.environ, "PREPOST_SETTINGS_FILE": str(DATA / "bench_settings.ini")}
    # the figures are printed: leave without tearing Qt down (PyQt can crash at exit)
    end = "sys.stdout.flush(); os._exit(0)\n"
    return subprocess.run([sys.executable, "-c", _WINDOW_PRELUDE + body + end],
                          capture_output=True, text=True, check=True,
                          env=env).stdout.strip().splitlines()[-1]


def _masked_mb(paths) -> float:
    """Size of both sessions' brain voxels as float32 arrays, in MB."""
    from core.signal.extract import brain_mask_for

    img = nib.load(paths[0])
    return 2 * int(brain_mask_for(img).sum()) * img.shape[3] * 4 / 2**20


def bench_startup() -> None:
    print("Start to visible window (s)", flush=True)
    code = (
        "import time; t = time.perf_counter()\n"
        "import sys; sys.path.insert(0, %r)\n"
        "import os; os.environ.setdefault('QT_QPA_PLATFORM', 'offscreen')\n"
        "from PyQt6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from gui.main_window import MainWindow\n"
        "w = MainWindow(); w.show(); app.processEvents()\n"
        "print(time.perf_counter() - t)\n"
        "mods = [m for m in ('nilearn', 'scipy', 'pandas', 'sklearn') if m in sys.modules]\n"
        "print(','.join(mods))\n"
    ) % str(ROOT)
    env = {**os.environ, "PREPOST_SETTINGS_FILE": str(DATA / "bench_settings.ini")}
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout.split("\n")
    total = time.perf_counter() - start
    row("interpreter start to shown window", total, "goal", 1.5,
        f"in-process part {float(out[0]):.2f} s; heavy modules loaded: {out[1] or 'none'}")


def bench_cursor(n_moves: int = 120) -> None:
    print("Cursor redraw of the nine slice panes (frames per second, offscreen)", flush=True)
    line = _window_script(
        "done = []\n"
        "w.controller.comparison_ready.connect(lambda c: done.append(c))\n"
        "w.open_demo()\n"
        "while not done: app.processEvents(); time.sleep(0.01)\n"
        "while not w.seeds.ready: app.processEvents(); time.sleep(0.01)\n"
        "app.processEvents()\n"
        "def fps(move):\n"
        "    t = time.perf_counter()\n"
        "    for i in range(%d):\n"
        "        w.cursor.set_position(move(i))\n"
        "        w.slices.repaint(); app.processEvents()\n"
        "    return %d / (time.perf_counter() - t)\n"
        "every = fps(lambda i: (-40 + (i %% 80), -50 + (i %% 60), -20 + (i %% 50)))\n"
        "drag = fps(lambda i: (-40 + (i %% 80), -52, 26))\n"
        "print(every, drag)\n" % (n_moves, n_moves))
    every, drag = (float(v) for v in line.split())
    row("s per frame, all three slices change", 1 / every, "30 fps budget", 1 / 30,
        f"{every:.0f} fps; goal ≥ 30 fps")
    row("s per frame, drag along x (sagittal slices change)", 1 / drag, "30 fps budget",
        1 / 30, f"{drag:.0f} fps; goal ≥ 30 fps")


def bench_demo_pipeline() -> None:
    print("Whole demo pipeline, per stage (s)", flush=True)
    from core.demo import ensure_demo_patient, open_demo_patient
    from core.pipeline import run_comparison

    ensure_demo_patient()
    stages: list[tuple[str, float]] = []
    start = time.perf_counter()
    inputs = open_demo_patient()
    stages.append(("open", time.perf_counter() - start))
    run_comparison(inputs, progress=lambda f, m: stages.append((m, time.perf_counter() - start)))
    print_stages([("Opening (discovery + headers)", 0.0), *stages[1:]],
                 time.perf_counter() - start)


BENCHES = {
    "extraction": bench_extraction,
    "open": bench_open,
    "startup": bench_startup,
    "cursor": bench_cursor,
    "demo": bench_demo_pipeline,
    "gbc": bench_gbc,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 mm, 150 volumes")
    parser.add_argument("--only", choices=sorted(BENCHES), action="append",
                        help="run only these parts (repeatable)")
    parser.add_argument("--json", metavar="FILE",
                        help="also write this run's figures as one JSON object")
    args = parser.parse_args()
    resolution, n_volumes = (3, 150) if args.quick else (2, 300)
    print(f"Synthetic inputs: {resolution} mm MNI grid, {n_volumes} volumes, two sessions")
    paths = make_inputs(resolution, n_volumes)
    FIGURES.update(started=time.strftime("%Y-%m-%d %H:%M:%S"), load_average=_load(),
                   resolution_mm=resolution, n_volumes=n_volumes, cpus=os.cpu_count())
    for name in args.only or BENCHES:
        bench = BENCHES[name]
        bench(paths) if name in ("extraction", "open", "gbc") else bench()
    FIGURES["load_average_end"] = _load()
    print(f"load average (1, 5, 15 min): {FIGURES['load_average']} at the start, "
          f"{FIGURES['load_average_end']} at the end")
    if args.json:
        Path(args.json).write_text(json.dumps(FIGURES, indent=2) + "\n")
        print(f"figures written to {args.json}")


def _load() -> list[float]:
    """The machine's load average (1, 5, 15 min): other work shares the cores."""
    return [round(v, 2) for v in os.getloadavg()]


if __name__ == "__main__":
    main()
