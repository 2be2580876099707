"""Benchmark: import-dicom on the real GE EPI series against plain dcm2niix.

Run from the project root::

    python3 benchmarks/dicom_import.py [--repeats 5]

What it measures
----------------
The pre visit is ``../shared/data/dicom/ge_epi_fmri`` (150 files, 15 slices x 10
volumes); the post visit is a copy with new UIDs (written once, not timed).

1. Reference: ``dcm2niix -z y -b y -ba y`` on each visit folder, as one would run it
   by hand (no checks, no BIDS).
2. ``core.preprocess.dicom_import.import_dicom`` on both visits: every file read once
   with pydicom (truncation and patient checks), each series converted on its own,
   the BIDS dataset written and moved into place; with its stages.

Medians over the repeats; the ratio is import-dicom / plain dcm2niix.  The header
reading cost per file gives the expected time of a larger exam (linear in files).
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "core" / "preprocess"))

from dicom_testkit import REAL_SERIES, real_files, write_visit  # noqa: E402

from core.preprocess.dicom_import import import_dicom  # noqa: E402
from core.preprocess.series_convert import dcm2niix_executable  # noqa: E402


def plain_dcm2niix(folders: list[Path], out: Path) -> float:
    start = time.perf_counter()
    for index, folder in enumerate(folders):
        target = out / str(index)
        target.mkdir(parents=True)
        subprocess.run([str(dcm2niix_executable()), "-z", "y", "-b", "y", "-ba", "y", "-o",
                        str(target), str(folder)], check=True, capture_output=True)
    return time.perf_counter() - start


def ours(pre: Path, post: Path, out: Path) -> tuple[float, dict[str, float]]:
    marks: list[tuple[float, str]] = []
    start = time.perf_counter()
    import_dicom(pre, post, out, progress=lambda f, m: marks.append((time.perf_counter(), m)))
    total = time.perf_counter() - start
    stages = {"read headers (pydicom)": 0.0, "convert (dcm2niix)": 0.0, "write BIDS": 0.0}
    for (t0, message), (t1, _) in itertools.pairwise(marks):
        key = ("read headers (pydicom)" if "DICOM headers" in message
               else "convert (dcm2niix)" if "Converting" in message
               else "write BIDS" if "Writing" in message else None)
        if key:
            stages[key] += t1 - t0
    return total, stages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    files = real_files()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        post = write_visit(base / "post", files, "post")
        import_dicom(REAL_SERIES, post, base / "warm-up")  # imports and caches, not timed
        reference = [plain_dcm2niix([REAL_SERIES, post], base / f"plain{k}")
                     for k in range(args.repeats)]
        runs = [ours(REAL_SERIES, post, base / f"ours{k}") for k in range(args.repeats)]
    ref = float(np.median(reference))
    total = float(np.median([r[0] for r in runs]))
    print(f"real GE EPI series, 2 visits x {len(files)} files, {args.repeats} repeats "
          f"(medians)")
    print(f"  plain dcm2niix on both folders : {ref:6.3f} s")
    print(f"  import-dicom (both visits)     : {total:6.3f} s   ratio {total / ref:4.1f}x")
    for key in runs[0][1]:
        value = float(np.median([r[1][key] for r in runs]))
        print(f"    {key:<28s}: {value:6.3f} s")
    per_file = float(np.median([r[1]["read headers (pydicom)"] for r in runs])) / \
        (2 * len(files))
    exam = 2 * 300 * 36
    print(f"  header reading: {1e3 * per_file:.2f} ms per file -> about "
          f"{per_file * exam:.0f} s for 2 x 300 volumes x 36 slices ({exam} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
