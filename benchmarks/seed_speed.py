"""Benchmark: live seed-map updates at 2 mm, and global brain connectivity (GBC).

Run from the project root::

    PREPOST_CACHE_DIR=/tmp/democache python3 benchmarks/seed_speed.py
    python3 benchmarks/seed_speed.py --clicks 200 --reference-clicks 5 --no-gbc

What it measures
----------------
1. Seed update: two synthetic sessions on nilearn's 2 mm MNI152 brain-mask grid
   (~230k voxels) × 300 volumes of random float32 data are prepared (standardised)
   once; then ``core.maps.seedmaps.seed_maps`` (sphere look-up, both sessions' seed
   maps and Δ) is timed over random clicks inside the brain: median and p95 in ms.
   The same with the three maps scattered back into 3D volumes (``to_volume``),
   which is what a view needs.
2. Reference: the nilearn route per click and session — ``NiftiSpheresMasker``
   on the 4D image for the seed, then ``np.dot`` with the ``NiftiMasker``-masked,
   z-scored voxels (masked once, not timed) — for both sessions; and the ratio.
3. GBC on the 3 mm demo patient (both sessions, default denoising), without and
   with GSR, and on a stride-2 target lattice; extrapolated to 2 mm as
   ``t × (V_2mm / V_3mm)²`` (the cost is O(V² T) at equal T).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.maps.prepare import PreparedSession, prepare_from_array
from core.maps.seedmaps import seed_maps, to_volume


def _synthetic_session(mask, affine, n_time, rng, label):
    n_voxels = int(mask.sum())
    raw = rng.standard_normal((n_voxels, n_time), dtype=np.float32)
    prepared = prepare_from_array(raw, mask, affine, label=label)
    prepared.build_index()
    return raw, prepared


def _stats(times_s):
    ms = np.asarray(times_s) * 1e3
    return float(np.median(ms)), float(np.percentile(ms, 95))


def bench_seed(n_clicks: int, n_reference: int, n_time: int = 300) -> None:
    """Time seed updates on a synthetic 2 mm brain and the nilearn reference."""
    from nilearn.datasets import load_mni152_brain_mask

    mask_img = load_mni152_brain_mask(resolution=2)
    mask = np.asarray(mask_img.dataobj) > 0
    affine = mask_img.affine
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    raw_pre, pre = _synthetic_session(mask, affine, n_time, rng, "pre")
    _, post = _synthetic_session(mask, affine, n_time, rng, "post")
    print(f"grid {mask.shape}, {pre.n_voxels} brain voxels × {n_time} volumes; "
          f"prepared both sessions in {time.perf_counter() - t0:.1f} s")
    clicks = pre.xyz_mm[rng.integers(0, pre.n_voxels, n_clicks)]
    seed_maps(pre, post, clicks[0], 6.0)  # warm-up
    times, times_3d = [], []
    for xyz in clicks:
        t = time.perf_counter()
        maps = seed_maps(pre, post, xyz, 6.0)
        times.append(time.perf_counter() - t)
        [to_volume(m, mask) for m in maps]
        times_3d.append(time.perf_counter() - t)
    median, p95 = _stats(times)
    median_3d, p95_3d = _stats(times_3d)
    print(f"seed update (pre + post + Δ), {n_clicks} clicks: median {median:.1f} ms, "
          f"p95 {p95:.1f} ms (target ≤ 30 ms)")
    print(f"  + three 3D volumes for display:           median {median_3d:.1f} ms, "
          f"p95 {p95_3d:.1f} ms")
    reference = _nilearn_reference(raw_pre, pre, mask_img, mask, clicks[:n_reference], n_time)
    print(f"nilearn reference (NiftiSpheresMasker seed + np.dot on NiftiMasker data), both "
          f"sessions: median {reference:.0f} ms over {n_reference} clicks")
    print(f"ratio reference / ours: {reference / median:.0f}×")


def _nilearn_reference(raw, prepared: PreparedSession, mask_img, mask, clicks, n_time) -> float:
    import nibabel as nib
    from nilearn.maskers import NiftiMasker, NiftiSpheresMasker

    index = np.flatnonzero(mask.ravel(order="F"))
    volume = np.zeros((*mask.shape, n_time), dtype=np.float32, order="F")
    flat = volume.reshape(-1, n_time, order="F")
    flat[index] = raw
    img = nib.Nifti1Image(volume, mask_img.affine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        voxels = NiftiMasker(mask_img).fit_transform(img)  # (n_time, n_voxels), not timed
        voxels -= voxels.mean(axis=0)
        voxels /= np.linalg.norm(voxels, axis=0)
        times = []
        for xyz in clicks:
            t = time.perf_counter()
            for _ in range(2):  # both sessions (same image: same cost)
                seed = NiftiSpheresMasker([xyz], radius=6.0, mask_img=mask_img).fit_transform(
                    img)[:, 0]
                seed = (seed - seed.mean()) / np.linalg.norm(seed - seed.mean())
                np.arctanh(np.clip(np.dot(seed, voxels), -0.9999999, 0.9999999))
            times.append(time.perf_counter() - t)
    return _stats(times)[0]


def bench_gbc() -> None:
    """Time GBC on the 3 mm demo and extrapolate to a 2 mm brain."""
    from nilearn.datasets import load_mni152_brain_mask

    from core.demo import open_demo_patient
    from core.maps.gbc import gbc_map, gbc_maps
    from core.maps.prepare import prepare_patient

    inputs = open_demo_patient()
    t = time.perf_counter()
    pre, post = prepare_patient(inputs)
    print(f"demo 3 mm: prepared both sessions ({pre.n_voxels} voxels × {pre.n_kept} volumes) "
          f"in {time.perf_counter() - t:.1f} s (read + denoise + standardise)")
    v2 = int((np.asarray(load_mni152_brain_mask(resolution=2).dataobj) > 0).sum())
    factor = (v2 / pre.n_voxels) ** 2
    for text, call in (
        ("GBC pre + post + Δ", lambda: gbc_maps(pre, post)),
        ("GBC with GSR, one session", lambda: gbc_map(pre, gsr=True)),
        ("GBC stride 2 (4 mm-like targets), pre + post + Δ",
         lambda: gbc_maps(pre, post, stride=2)),
    ):
        t = time.perf_counter()
        call()
        elapsed = time.perf_counter() - t
        print(f"{text}: {elapsed:.1f} s at 3 mm; ≈ {elapsed * factor / 60:.1f} min "
              f"extrapolated to 2 mm ({v2} voxels, ×{factor:.1f})")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=200)
    parser.add_argument("--reference-clicks", type=int, default=5)
    parser.add_argument("--no-gbc", action="store_true")
    parser.add_argument("--no-seed", action="store_true")
    args = parser.parse_args(argv)
    if not args.no_seed:
        bench_seed(args.clicks, args.reference_clicks)
    if not args.no_gbc:
        bench_gbc()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
