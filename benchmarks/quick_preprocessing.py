"""Benchmark: the quick preprocessing path against known truth, its time, its size.

Run from the project root::

    python3 benchmarks/quick_preprocessing.py                    # everything (~20 min, 2 CPUs)
    python3 benchmarks/quick_preprocessing.py --only accuracy --subjects 2
    python3 benchmarks/quick_preprocessing.py --only time --volumes 300

What it measures
----------------
1. Registration error (``accuracy``): synthetic subjects made from the MNI152
   template itself (same anatomy; ``core.preprocess.quick_synthetic``): EPI-like
   contrast at 64 × 64 × 36 voxels of 3.5 × 3.5 × 4 mm, the head scaled by up
   to ±5 % per axis and placed in each session with a known rigid pose (±8°,
   ±10 mm), known smooth head motion (up to 1 mm and 1° per axis), 2 % noise;
   with and without a 1.5 mm T1w (in the first session; template T1 plus a
   scalp-like shell).  The full quick path runs on each;
   the error is the mean distance, over the template's brain voxels, between
   where the pipeline maps each MNI point in the run's reference volume and
   where the truth puts it.  Goals: ≤ 2 mm mean with a T1w, ≤ 3 mm without.
2. Motion-estimate error (same runs): the estimated rigid motion of each
   volume (from the confounds' six parameters) against the truth, as the mean
   displacement of brain points (mm) and the largest parameter errors.
3. Time (``time``): two sessions of N volumes (default 300) at 64 × 64 × 36,
   EPI-only route, with the product's defaults (2 worker processes): total
   seconds and seconds per volume, next to antspyx's own
   ``ants.motion_correction`` per volume on the same data in the same run (the
   reference).  Goal: ≤ 6 min for 2 × 300 volumes on 2 cores.
4. Installed size (``size``): the antspyx package on disk (what an installer
   would carry).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.preprocess.quick import QuickOptions, run_quick_preprocessing
from core.preprocess.quick_registration import template_images
from core.preprocess.quick_synthetic import rigid_matrix, write_synthetic_bids

SHAPE, VOXEL = (64, 64, 36), (3.5, 3.5, 4.0)


def _brain_points(resolution_mm: int = 2) -> np.ndarray:
    _, mask = template_images(resolution_mm)
    ijk = np.argwhere(np.asarray(mask.dataobj) > 0)
    return (mask.affine @ np.c_[ijk, np.ones(len(ijk))].T)


def _template_to_reference(registration: dict, out: Path, points: np.ndarray) -> np.ndarray:
    """Where the pipeline maps the template points in the reference volume (scanner mm)."""
    if "template_to_reference" in registration:
        return (np.asarray(registration["template_to_reference"]) @ points)[:3]
    import ants
    import pandas as pd

    files = [str(out / name) for name in registration["template_to_t1w"]]
    # ANTs' forward transforms of the template → T1w registration, as listed, move
    # template points (ITK's LPS) to the matching T1w points
    frame = pd.DataFrame((np.diag([-1, -1, 1, 1]) @ points)[:3].T, columns=["x", "y", "z"])
    moved = ants.apply_transforms_to_points(3, frame, files)
    in_t1w = np.diag([-1, -1, 1]) @ moved[["x", "y", "z"]].to_numpy().T
    t1w_to_reference = np.asarray(registration["t1w_to_reference"])
    return (t1w_to_reference @ np.r_[in_t1w, np.ones((1, in_t1w.shape[1]))])[:3]


def _motion_error(confounds: Path, truth: np.ndarray, reference: int, centre: np.ndarray,
                  points: np.ndarray) -> tuple[float, float, float]:
    import pandas as pd

    table = pd.read_csv(confounds, sep="\t", na_values="n/a")
    shifts = table[["trans_x", "trans_y", "trans_z"]].to_numpy()
    angles = np.degrees(table[["rot_x", "rot_y", "rot_z"]].to_numpy())
    true = truth @ np.linalg.inv(truth[reference])
    errors = []
    for t in range(len(table)):
        estimate = rigid_matrix(angles[t], shifts[t], centre)
        scanner = truth[reference] @ points  # the brain in the reference volume
        errors.append(np.linalg.norm(((estimate - true[t]) @ scanner)[:3], axis=0).mean())
    from scipy.spatial.transform import Rotation

    true_angles = np.degrees(Rotation.from_matrix(true[:, :3, :3]).as_euler("xyz"))
    return (float(np.mean(errors)), float(np.max(errors)),
            float(np.abs(true_angles - angles).max()))


def accuracy(n_subjects: int, n_volumes: int, work: Path) -> None:
    points = _brain_points()
    rows = []
    for with_t1w in (False, True):
        for seed in range(n_subjects):
            root = work / f"acc_{int(with_t1w)}_{seed}"
            truth = write_synthetic_bids(root / "bids", shape=SHAPE, voxel_mm=VOXEL,
                                         n_volumes=n_volumes, with_t1w=with_t1w, seed=seed)
            started = time.perf_counter()
            out = run_quick_preprocessing(root / "bids", root / "deriv", truth.subject)
            seconds = time.perf_counter() - started
            record = json.loads((out / "quick_preprocessing.json").read_text())
            for session, info in record["sessions"].items():
                poses = truth.poses[session]
                reference = info["reference_volume"]
                found = _template_to_reference(info["registration"], out, points)
                error = np.linalg.norm(found - (poses[reference] @ points)[:3], axis=0)
                grid = np.diag([*VOXEL, 1.0])
                grid[:3, 3] = -np.asarray(VOXEL) * (np.asarray(SHAPE) - 1) / 2.0
                centre = (grid @ np.r_[(np.asarray(SHAPE) - 1) / 2.0, 1.0])[:3]
                confounds = next(out.rglob(f"*ses-{session}_task-rest_desc-confounds_"
                                           "timeseries.tsv"))
                motion = _motion_error(confounds, poses, reference, centre, points)
                rows.append((with_t1w, seed, session, float(error.mean()),
                             float(np.percentile(error, 95)),
                             info["registration"].get("starts_differ_mm", float("nan")),
                             *motion, seconds))
            shutil.rmtree(root)
    print("\n## Registration and motion error on same-anatomy synthetic data\n")
    print("| T1w | subject | session | reg. error mean mm | 95th pct mm | starts differ mm | "
          "motion error mean mm | max mm | max rotation error ° | run s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| {} | {} | {} | {:.2f} | {:.2f} | {:.1f} | {:.3f} | {:.3f} | {:.3f} | {:.0f} |"
              .format("yes" if row[0] else "no", *row[1:]))
    for with_t1w, goal in ((True, 2.0), (False, 3.0)):
        mine = [r[3] for r in rows if r[0] == with_t1w]
        print(f"\n{'with' if with_t1w else 'without'} T1w: mean registration error "
              f"{np.mean(mine):.2f} mm (worst session {np.max(mine):.2f} mm; goal ≤ {goal} mm)")
    print(f"motion: mean displacement error {np.mean([r[6] for r in rows]):.3f} mm over "
          f"{len(rows)} sessions × {n_volumes} volumes")


def timing(n_volumes: int, work: Path) -> None:
    root = work / "time"
    truth = write_synthetic_bids(root / "bids", shape=SHAPE, voxel_mm=VOXEL,
                                 n_volumes=n_volumes, seed=11)
    started = time.perf_counter()
    stages: list[tuple[float, str, float]] = []

    def progress(fraction: float, message: str) -> None:
        if not stages or stages[-1][1].split(" (")[0] != message.split(" (")[0]:
            stages.append((fraction, message, time.perf_counter() - started))

    run_quick_preprocessing(root / "bids", root / "deriv", truth.subject, progress,
                            QuickOptions())
    total = time.perf_counter() - started
    reference = _ants_motion_correction_per_volume(root / "bids", 20)
    print(f"\n## Time, 2 × {n_volumes} volumes at {SHAPE}, EPI-only, 2 workers\n")
    print(f"total {total:.0f} s ({total / 60:.1f} min; goal ≤ 6 min for 2 × 300), "
          f"{total / (2 * n_volumes):.3f} s per volume")
    print(f"reference: ants.motion_correction alone, one process, "
          f"{reference:.3f} s per volume → whole quick path per volume / reference = "
          f"{total / (2 * n_volumes) / reference:.2f}")
    for (_fraction, message, at), following in zip(stages, [*stages[1:], None], strict=True):
        end = following[2] if following else total
        print(f"  {message.split(' (')[0]:45s} {end - at:6.1f} s")
    shutil.rmtree(root)


def _ants_motion_correction_per_volume(bids: Path, n: int) -> float:
    import os

    os.environ["ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS"] = "1"
    import ants
    import nibabel as nib

    img = nib.load(next(bids.rglob("*ses-pre_task-rest_bold.nii.gz")))
    data = np.asarray(img.dataobj, dtype=np.float32)[..., :n]
    image = ants.from_numpy(data, spacing=(*VOXEL, 2.0))
    with tempfile.TemporaryDirectory(prefix="prepost-bench-") as scratch:
        started = time.perf_counter()
        ants.motion_correction(image, outprefix=str(Path(scratch) / "mc"))
        return (time.perf_counter() - started) / n


def size() -> None:
    import importlib.util

    spec = importlib.util.find_spec("ants")
    folder = Path(next(iter(spec.submodule_search_locations)))  # type: ignore[union-attr]
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    libraries = sum(p.stat().st_size for p in folder.rglob("*.so*") if p.is_file())
    print(f"\n## Size\n\nantspyx installed: {total / 2**20:.0f} MiB "
          f"({libraries / 2**20:.0f} MiB compiled libraries) in {folder}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", choices=("accuracy", "time", "size"))
    parser.add_argument("--subjects", type=int, default=3)
    parser.add_argument("--accuracy-volumes", type=int, default=30)
    parser.add_argument("--volumes", type=int, default=300)
    args = parser.parse_args()
    parts = args.only or ["size", "accuracy", "time"]
    with tempfile.TemporaryDirectory(prefix="prepost-bench-") as work:
        if "size" in parts:
            size()
        if "accuracy" in parts:
            accuracy(args.subjects, args.accuracy_volumes, Path(work))
        if "time" in parts:
            timing(args.volumes, Path(work))


if __name__ == "__main__":
    main()
