"""The quick path: a labelled, reduced preprocessing for sites without fMRIPrep.

``run_quick_preprocessing`` takes one subject of a BIDS dataset (two or more
sessions with a BOLD run, optional T1w) to MNI-space derivatives in
fMRIPrep's layout, which :mod:`core.io.fmriprep` then opens like any other:

1. rigid motion correction of every volume to a reference volume
   (:mod:`core.preprocess.quick_motion`);
2. with a T1w: EPI → T1w rigid, T1w → MNI affine + SyN; otherwise mean EPI →
   MNI affine from two starts, with a warning when they differ by more than
   3 mm (:mod:`core.preprocess.quick_registration`);
3. one resampling of each volume to the template's 2 mm grid, transforms
   composed (:mod:`core.preprocess.quick_resample`), the brain mask (template
   brain within the field of view) and each ROI's coverage;
4. confounds with fMRIPrep's names, the registration-check images, a record
   and a ``dataset_description.json`` that names the pipeline.

It does no distortion or slice-timing correction, and its outputs are not
comparable with fMRIPrep's; every output says so, and no analysis starts
before a person accepts the registration check.  ANTs runs in worker
processes (:mod:`core.preprocess.quick_pool`), single-threaded and seeded,
so two runs write identical files.  Everything is built in a staging folder
beside ``out_dir`` and renamed into place at the end; ANTs' files live in a
private temporary folder that is always deleted.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core import __version__
from core.errors import InputError
from core.io.preprocessing_route import QUICK_LABEL, RECORD_FILE, route_of
from core.preprocess import quick_session
from core.preprocess.quick_derivatives import dataset_description, write_json
from core.preprocess.quick_inputs import find_quick_inputs
from core.preprocess.quick_pool import WorkerPool, default_workers

__all__ = ["QUICK_WARNINGS", "QuickOptions", "quick_path_missing", "run_quick_preprocessing"]

#: The route's own warnings, carried by every output it makes.
QUICK_WARNINGS = (
    "quick preprocessing: no susceptibility distortion correction",
    "quick preprocessing: no slice-timing correction",
    "quick preprocessing: registration error 0.2–0.6 mm on synthetic data whose anatomy is "
    "the template's (benchmarks/quick_preprocessing.py); expect several millimetres on real "
    "brains, which differ from the template, more without a T1w",
    "quick preprocessing: not comparable with fMRIPrep outputs",
)


@dataclass(frozen=True)
class QuickOptions:
    """Settings of the quick path (the defaults are the product's).

    Attributes
    ----------
    resolution_mm : int, default=2
        Template resolution of the outputs.
    workers : int or None
        Worker processes (default: the CPUs available, at most 2).
    seed : int, default=20240611
        ANTs' random seed.
    chunk : int, default=25
        Volumes per task (progress and cancel happen between tasks).
    syn_iterations : tuple of int, default=(40, 20, 0)
        SyN iterations of the T1w → MNI registration.
    atlas : str, default="schaefer100"
        Atlas whose ROI coverage is reported.
    """

    resolution_mm: int = 2
    workers: int | None = None
    seed: int = 20240611
    chunk: int = 25
    syn_iterations: tuple[int, ...] = (40, 20, 0)
    atlas: str = "schaefer100"


def _no_progress(_fraction: float, _message: str) -> None:
    return None


def quick_path_missing() -> str:
    """Say what this installation lacks for the quick path ("" when nothing is missing).

    Returns
    -------
    str
        The installer leaves antspyx (ANTs, ~90 MB) and matplotlib out, so the
        quick path runs from a Python install; the window and ``analyze``
        still open its outputs.
    """
    import importlib.util

    packages = {"ants": "antspyx", "matplotlib": "matplotlib"}  # module: package to install
    missing = [package for module, package in packages.items()
               if importlib.util.find_spec(module) is None]
    if not missing:
        return ""
    return (f"the quick preprocessing needs {' and '.join(missing)}, which this installation "
            "does not include; run it from a Python install (pip install antspyx matplotlib); "
            "this installation still opens and analyses its outputs")


def _check_out_dir(out_dir: Path, bids_dir: Path) -> Path:
    out, bids = out_dir.expanduser().resolve(), bids_dir.expanduser().resolve()
    inside = out == bids or bids in out.parents
    if inside and (bids / "derivatives") not in (out, *out.parents):
        raise InputError("expected an output folder outside the BIDS input (or under its "
                         "derivatives/ folder), found one inside it; the quick path never "
                         "writes into its input", out)
    if out.exists() and not out.is_dir():
        raise InputError("expected an output folder, found a file", out)
    if out.is_dir() and any(out.iterdir()) and route_of(out) != QUICK_LABEL:
        raise InputError("expected a new or empty output folder (or an earlier quick-"
                         "preprocessing output, which is replaced), found other files", out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def run_quick_preprocessing(bids_dir: str | Path, out_dir: str | Path, subject: str,
                            progress: Callable[[float, str], None] | None = None,
                            options: QuickOptions | None = None) -> Path:
    """Preprocess one subject's BOLD runs with the quick path.

    Parameters
    ----------
    bids_dir : str or Path
        BIDS dataset: ``sub-<ID>/ses-<S>/func/sub-<ID>_ses-<S>_task-rest_bold.nii.gz``
        with a JSON sidecar (``RepetitionTime``, ``SliceTiming``), and optional
        ``anat/*_T1w.nii.gz``.
    out_dir : str or Path
        Derivatives folder to create (or an earlier quick output to replace).
    subject : str
        Subject ID, with or without ``sub-``.
    progress : callable, optional
        ``progress(fraction, message)``; it may raise (e.g.
        :class:`core.errors.AnalysisCancelled`) to cancel: the worker
        processes stop, and nothing is left in ``out_dir`` or the temporary
        folder.
    options : QuickOptions, optional

    Returns
    -------
    Path
        The derivatives folder, in fMRIPrep's layout, with
        ``dataset_description.json``, :data:`~core.io.preprocessing_route.RECORD_FILE`,
        ``roi_coverage.tsv`` and the registration-check images
        (``sub-<ID>/figures/``).  Its registration check still has to be
        accepted before analysis.

    Raises
    ------
    InputError
        Bad input (no subject, fewer than two sessions, not 4D, no TR), an
        output folder that would overwrite something else, or an installation
        without antspyx (:func:`quick_path_missing`).
    """
    missing = quick_path_missing()
    if missing:
        raise InputError(missing)
    options = options or QuickOptions()
    report = progress or _no_progress
    bids = Path(bids_dir)
    label = subject[4:] if subject.startswith("sub-") else subject
    sessions = find_quick_inputs(bids, label)
    out = _check_out_dir(Path(out_dir), bids)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    scratch = Path(tempfile.mkdtemp(prefix="prepost-quick-"))
    try:
        started = time.perf_counter()
        workers = options.workers or default_workers()
        report(0.0, f"Starting {workers} worker process(es)")
        with WorkerPool(workers, options.seed, str(scratch)) as pool:
            results = quick_session.process_sessions(
                pool, sessions, label, staging, scratch, options, report)
        _write_coverage(staging / "roi_coverage.tsv", results)
        record = _record(bids, label, sessions, results, options, workers,
                         time.perf_counter() - started)
        write_json(staging / "dataset_description.json",
                   dataset_description(bids, record["warnings"]))
        write_json(staging / RECORD_FILE, record)
        _move_into_place(staging, out)
        report(1.0, "Quick preprocessing done: accept the registration check before analysis")
        return out
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)


def _record(bids: Path, subject: str, sessions: list, results: list[dict[str, Any]],
            options: QuickOptions, workers: int, seconds: float) -> dict[str, Any]:
    warnings = list(QUICK_WARNINGS)
    for result in results:
        warnings.extend(result["warnings"])
    n_volumes = sum(s.n_volumes for s in sessions)
    return {
        "pipeline": "prepost-review quick preprocessing",
        "version": __version__,
        "label": QUICK_LABEL,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "source": str(bids.resolve()),
        "subject": subject,
        "options": {**asdict(options), "workers": workers},
        "method": {
            "motion": "antspyx rigid registration of each volume to a reference volume "
                      "(mean squares; reference: the volume closest to the run's median)",
            "registration_with_t1w": "EPI → T1w rigid (Mattes MI); T1w → MNI affine + SyN",
            "registration_without_t1w": "mean EPI → MNI affine (Mattes MI) from scanner "
                                        "coordinates and from centres of mass; the better "
                                        "correlation inside the template brain is kept",
            "template": "nilearn MNI152 ICBM 2009a nonlinear symmetric (skull-stripped)",
            "resampling": "one linear interpolation per volume, transforms composed",
            "slice_timing_corrected": False,
            "distortion_corrected": False,
            "reproducibility": "ITK single-threaded per worker, fixed ANTs random seed",
        },
        "sessions": {r["session"]: r["summary"] for r in results},
        "check_images": [r["check_image"] for r in results],
        "warnings": list(dict.fromkeys(warnings)),
        "seconds": round(seconds, 1),
        "seconds_per_volume": round(seconds / max(n_volumes, 1), 3),
    }


def _write_coverage(path: Path, results: list[dict[str, Any]]) -> None:
    """One row per ROI: its network and the share of its voxels covered in each session."""
    table = results[0]["coverage"][["roi", "network"]].copy()
    for result in results:
        table[f"coverage_{result['session']}"] = result["coverage"]["coverage"].to_numpy()
    table.to_csv(path, sep="\t", index=False, float_format="%.4f")


def _move_into_place(staging: Path, out: Path) -> None:
    """Rename the finished staging folder to ``out`` (replacing an earlier quick output)."""
    old = None
    if out.exists():
        if any(out.iterdir()):
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            out.rename(old / out.name)
        else:
            out.rmdir()
    staging.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def summary_lines(out: Path) -> list[str]:
    """Lines for a terminal: what was written and what to check.

    Parameters
    ----------
    out : Path
        A quick-preprocessing derivatives folder.

    Returns
    -------
    list of str
    """
    import json

    record = json.loads((out / RECORD_FILE).read_text(encoding="utf-8"))
    lines = [f"wrote quick-preprocessing derivatives to {out} ({record['seconds']:.0f} s)"]
    lines += [f"warning: {w}" for w in record["warnings"]]
    lines += [f"registration check: {out / name}" for name in record["check_images"]]
    return lines
