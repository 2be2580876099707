"""The quick path's steps over all sessions at once, so both CPUs work on both sessions.

Called by :func:`core.preprocess.quick.run_quick_preprocessing`: each step
sends its tasks (chunks of volumes, one registration per session) to the
worker pool, and the caller's process only moves arrays between steps
(memory-mapped ``.npy`` files in the private scratch folder) and writes the
small outputs.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

from core.io.nifti import read_nifti
from core.preprocess.quick_derivatives import (
    SPACE,
    bids_stem,
    confounds_table,
    roi_coverage,
    tissue_masks,
    write_json,
    write_nifti,
)
from core.preprocess.quick_inputs import QuickSession
from core.preprocess.quick_motion import choose_reference, estimate_motion, motion_table
from core.preprocess.quick_pool import Task, WorkerPool
from core.preprocess.quick_registration import (
    register_epi_to_mni,
    register_epi_to_t1,
    register_t1_to_mni,
    template_images,
)
from core.preprocess.quick_resample import field_of_view, resample_volumes
from core.preprocess.registration_check import draw_check_image

__all__ = ["DISAGREEMENT_MM", "process_sessions"]

#: Two registration starts farther apart than this (mean mm over the brain) are reported.
DISAGREEMENT_MM = 3.0
_EXTREME_MM, _EXTREME_DEG = 5.0, 5.0


@dataclass
class _Run:
    session: QuickSession
    npy: str
    affine: np.ndarray
    shape: tuple[int, int, int]
    reference: int
    motion: np.ndarray = field(default_factory=lambda: np.empty((0, 4, 4)))
    mean: np.ndarray | None = None
    link: list[str] = field(default_factory=list)
    base: np.ndarray = field(default_factory=lambda: np.eye(4))
    registration: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"ses-{self.session.session}"


def _chunks(n: int, size: int) -> list[list[int]]:
    return [list(range(start, min(start + size, n))) for start in range(0, n, size)]


def _prepare(session: QuickSession, scratch: Path) -> _Run:
    img = read_nifti(session.bold)
    data = np.asarray(img.dataobj, dtype=np.float32)
    warnings = list(session.warnings)
    if not np.isfinite(data).all():
        warnings.append(f"ses-{session.session}: non-finite voxel values set to 0")
        data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)
    volumes = np.ascontiguousarray(data.T)  # (t, z, y, x): one volume is one block
    path = scratch / f"ses-{session.session}_bold.npy"
    np.save(path, volumes)
    run = _Run(session=session, npy=str(path), affine=img.affine, shape=data.shape[:3],
               reference=choose_reference(volumes), warnings=warnings)
    del data, volumes
    return run


def process_sessions(pool: WorkerPool, sessions: list[QuickSession], subject: str,
                     staging: Path, scratch: Path, options: Any, report: Any
                     ) -> list[dict[str, Any]]:
    """Run the quick path's steps on every session; write each session's files into ``staging``.

    Parameters
    ----------
    pool : WorkerPool
    sessions : list of QuickSession
    subject : str
        Label without ``sub-``.
    staging : Path
        The output being built.
    scratch : Path
        Private temporary folder.
    options : core.preprocess.quick.QuickOptions
    report : callable
        ``progress(fraction, message)``.

    Returns
    -------
    list of dict
        Per session: ``session``, ``summary``, ``warnings``, ``check_image``.
    """
    report(0.01, "Reading the BOLD runs")
    runs = [_prepare(s, scratch) for s in sessions]
    _motion(pool, runs, scratch, options, report)
    _register(pool, runs, scratch, options, report)
    _keep_t1w_transforms(runs, subject, staging)
    return _resample_and_write(pool, runs, subject, staging, scratch, options, report)


def _keep_t1w_transforms(runs: list[_Run], subject: str, staging: Path) -> None:
    """Copy the template → T1w transforms (ANTs files) into ``sub-<ID>/anat/``, as fMRIPrep does."""
    anat = staging / f"sub-{subject}" / "anat"
    copied: dict[str, list[str]] = {}
    for run in runs:
        if not run.link:
            continue
        key = "|".join(run.link)
        if key not in copied:
            anat.mkdir(parents=True, exist_ok=True)
            stem = f"sub-{subject}_from-T1w_to-{SPACE}_mode-image"
            if copied:
                stem += f"_run-{len(copied) + 1}"
            names = []
            for source in run.link:
                kind, suffix = ("warp", ".nii.gz") if source.endswith(".nii.gz") else (
                    "affine", ".mat")
                target = anat / f"{stem}_desc-{kind}_xfm{suffix}"
                shutil.copyfile(source, target)
                names.append(target.relative_to(staging).as_posix())
            copied[key] = names
        run.registration["template_to_t1w"] = copied[key]


def _motion(pool: WorkerPool, runs: list[_Run], scratch: Path, options: Any, report: Any
            ) -> None:
    tasks: list[Task] = []
    owners: list[_Run] = []
    for run in runs:
        for chunk in _chunks(run.session.n_volumes, options.chunk):
            tasks.append((estimate_motion, (run.npy, run.affine, run.reference, chunk,
                                            str(scratch), run.name)))
            owners.append(run)
    results = pool.run(tasks, report, 0.02, 0.55, "Motion correction")
    for run in runs:
        mine = [r for r, owner in zip(results, owners, strict=True) if owner is run]
        run.motion = np.concatenate([m for m, _ in mine])
        run.mean = (sum(s for _, s in mine) / run.session.n_volumes).astype(np.float32)


def _register(pool: WorkerPool, runs: list[_Run], scratch: Path, options: Any, report: Any
              ) -> None:
    res = options.resolution_mm
    t1ws = list(dict.fromkeys(str(r.session.t1w) for r in runs if r.session.t1w is not None))
    tasks: list[Task] = [(register_t1_to_mni, (t1, res, str(scratch), f"t1w{k}",
                                               tuple(options.syn_iterations)))
                         for k, t1 in enumerate(t1ws)]
    for run in runs:
        s = run.session
        if s.t1w is not None:
            same = s.t1w_session == s.session
            tasks.append((register_epi_to_t1, (run.mean, run.affine, str(s.t1w), same,
                                               str(scratch), run.name)))
        else:
            tasks.append((register_epi_to_mni, (run.mean, run.affine, res, str(scratch),
                                                run.name)))
    results = pool.run(tasks, report, 0.55, 0.65, "Registration to MNI")
    links = dict(zip(t1ws, results[: len(t1ws)], strict=True))
    for run, result in zip(runs, results[len(t1ws):], strict=True):
        s = run.session
        if s.t1w is not None:
            run.link, run.base = links[str(s.t1w)], result
            run.registration = {"route": "EPI → T1w rigid, T1w → MNI affine + SyN",
                                "t1w": s.t1w.name, "t1w_session": s.t1w_session,
                                "t1w_to_reference": np.round(result, 6).tolist()}
            if s.t1w_session != s.session:
                run.warnings.append(f"{run.name}: registered through the T1w of "
                                    f"{'ses-' + s.t1w_session if s.t1w_session else 'sub-*/anat'}")
            continue
        run.base = result.matrix
        run.registration = {"route": "mean EPI → MNI affine, two starts",
                            "template_to_reference": np.round(result.matrix, 6).tolist(),
                            "chosen_start": result.chosen,
                            "start_scores": {k: round(v, 4) for k, v in result.scores.items()},
                            "starts_differ_mm": round(result.disagreement_mm, 2),
                            "consistent": result.disagreement_mm <= DISAGREEMENT_MM}
        if result.disagreement_mm > DISAGREEMENT_MM:
            run.warnings.append(
                f"{run.name}: the registration to MNI is uncertain: its two starts (scanner "
                f"coordinates, centre of mass) end {result.disagreement_mm:.1f} mm apart "
                f"(more than {DISAGREEMENT_MM:g} mm); the {result.chosen} start matched "
                "better and was kept; check the overlay closely")


def _resample_and_write(pool: WorkerPool, runs: list[_Run], subject: str, staging: Path,
                        scratch: Path, options: Any, report: Any) -> list[dict[str, Any]]:
    res = options.resolution_mm
    template, brain_img = template_images(res)
    grid_shape, grid_affine = template.shape[:3], template.affine
    edges = _template_edges(brain_img, scratch)
    tasks: list[Task] = []
    outs = {}
    for run in runs:
        out_npy = str(scratch / f"{run.name}_mni.npy")
        np.lib.format.open_memmap(out_npy, mode="w+", dtype=np.float32,
                                  shape=(run.session.n_volumes, *grid_shape[::-1])).flush()
        outs[run.name] = out_npy
        matrices = run.motion @ run.base
        tasks.append((field_of_view, (run.shape, run.affine, run.link, matrices[run.reference],
                                      res, str(scratch), run.name)))
        for chunk in _chunks(run.session.n_volumes, options.chunk):
            tasks.append((resample_volumes, (run.npy, run.affine, out_npy, chunk, run.link,
                                             matrices[chunk], res, str(scratch), run.name)))
    results = pool.run(tasks, report, 0.65, 0.85, f"Resampling to MNI {res} mm")
    fovs = [r for r in results if isinstance(r, np.ndarray)]
    brain = np.asarray(brain_img.dataobj) > 0
    written, tasks = [], []
    for run, fov in zip(runs, fovs, strict=True):
        report(0.86, f"Confounds and masks of {run.name}")
        summary, task_list = _write_session(run, subject, staging, outs[run.name], brain & fov,
                                            brain, grid_affine, edges, options)
        written.append(summary)
        tasks.extend(task_list)
    pool.run(tasks, report, 0.88, 0.99, "Writing the derivatives and check images")
    return written


def _write_session(run: _Run, subject: str, staging: Path, out_npy: str, mask: np.ndarray,
                   brain: np.ndarray, affine: np.ndarray, edges: list[str], options: Any
                   ) -> tuple[dict[str, Any], list[Task]]:
    from core.qc import dvars

    s = run.session
    stem = bids_stem(subject, s.session, options.resolution_mm)
    func = staging / f"sub-{subject}" / f"ses-{s.session}" / "func"
    figures = staging / f"sub-{subject}" / "figures"
    func.mkdir(parents=True, exist_ok=True)
    figures.mkdir(parents=True, exist_ok=True)
    volumes = np.load(out_npy, mmap_mode="r")
    masks = {k: m.T for k, m in tissue_masks(mask, mask.shape, affine).items()}
    signals: dict[str, list[float]] = {k: [] for k in masks}
    total = np.zeros(volumes.shape[1:], dtype=np.float64)
    for volume in volumes:
        total += volume
        for name, m in masks.items():
            signals[name].append(float(volume[m].mean()))
    mean = (total / len(volumes)).astype(np.float32).T
    table = confounds_table(_motion_frame(run), {k: np.asarray(v) for k, v in signals.items()},
                            dvars(volumes[:, mask.T].T), s.tr)
    table.to_csv(func / f"{bids_stem(subject, s.session)}_desc-confounds_timeseries.tsv",
                 sep="\t", index=False, na_rep="n/a", float_format="%.6g")
    nib.save(_mni_image(mask.astype(np.uint8), affine), func / f"{stem}_desc-brain_mask.nii.gz")
    nib.save(_mni_image(mean, affine), func / f"{stem}_boldref.nii.gz")
    coverage = roi_coverage(mask, affine, options.atlas)
    run.warnings.extend(_coverage_warnings(run, mask, brain, coverage, options.atlas))
    run.warnings.extend(_motion_warnings(run))
    motion = _motion_frame(run)
    summary = {
        "bold_source": s.bold.name, "n_volumes": s.n_volumes, "tr": s.tr,
        "slice_timing": list(s.slice_timing) if s.slice_timing else None,
        "reference_volume": run.reference, "registration": run.registration,
        "brain_covered": round(float(mask.sum() / max(brain.sum(), 1)), 4),
        "coverage": dict(zip(coverage["roi"], coverage["coverage"].round(3), strict=True)),
        "mean_fd_mm": round(float(np.nanmean(motion["framewise_displacement"])), 4),
        "max_fd_mm": round(float(np.nanmax(motion["framewise_displacement"])), 4),
    }
    write_json(func / f"{stem}_desc-preproc_bold.json", {
        "RepetitionTime": s.tr, "TaskName": "rest", "SkullStripped": False,
        "SliceTimingCorrected": False, "DistortionCorrected": False,
        "SliceTiming": summary["slice_timing"], "Sources": [s.bold.name],
        "GeneratedBy": "prepost-review quick preprocessing", "Warnings": run.warnings,
    })
    image = figures / f"sub-{subject}_ses-{s.session}_task-rest_desc-registrationcheck_bold.png"
    title = f"sub-{subject} ses-{s.session} · quick preprocessing · {run.registration['route']}"
    tasks: list[Task] = [
        (write_nifti, (out_npy, affine, str(func / f"{stem}_desc-preproc_bold.nii.gz"), s.tr)),
        (draw_check_image, (mean, affine, edges, title, run.warnings, str(image))),
    ]
    return {"session": s.session, "summary": summary, "warnings": run.warnings,
            "check_image": image.relative_to(staging).as_posix(),
            "coverage": coverage}, tasks


def _template_edges(brain_img: nib.Nifti1Image, scratch: Path) -> list[str]:
    """Write the template's brain mask and white matter (0–1) for the check images' contours."""
    from nilearn import datasets
    from nilearn.image import resample_to_img

    white = resample_to_img(datasets.load_mni152_wm_template(resolution=2), brain_img,
                            force_resample=True, copy_header=True)
    paths = [str(scratch / "edges_brain.nii.gz"), str(scratch / "edges_white_matter.nii.gz")]
    nib.save(nib.Nifti1Image((np.asarray(brain_img.dataobj) > 0).astype(np.float32),
                             brain_img.affine), paths[0])
    nib.save(nib.Nifti1Image(white.get_fdata(dtype=np.float32), brain_img.affine), paths[1])
    return paths


def _mni_image(data: np.ndarray, affine: np.ndarray) -> nib.Nifti1Image:
    img = nib.Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm", "sec")
    img.set_qform(affine, code=4)
    img.set_sform(affine, code=4)
    return img


def _motion_frame(run: _Run):
    centre = (run.affine @ np.r_[(np.asarray(run.shape) - 1) / 2.0, 1.0])[:3]
    return motion_table(run.motion, centre)


def _coverage_warnings(run: _Run, mask: np.ndarray, brain: np.ndarray, coverage: Any,
                       atlas: str) -> list[str]:
    share = mask.sum() / max(brain.sum(), 1)
    poor = int((coverage["coverage"] < 0.5).sum())
    if share >= 0.9 and poor == 0:
        return []
    return [f"{run.name}: the EPI covers {share:.0%} of the template brain; {poor} of "
            f"{len(coverage)} {atlas} ROIs are less than half covered (roi_coverage.tsv)"]


def _motion_warnings(run: _Run) -> list[str]:
    motion = _motion_frame(run)
    shift = float(np.abs(motion[["trans_x", "trans_y", "trans_z"]].to_numpy()).max())
    turn = float(np.degrees(np.abs(motion[["rot_x", "rot_y", "rot_z"]].to_numpy()).max()))
    if shift <= _EXTREME_MM and turn <= _EXTREME_DEG:
        return []
    return [f"{run.name}: extreme head motion (up to {shift:.1f} mm and {turn:.1f}° from the "
            "reference volume); volumes that far apart are poorly aligned by rigid motion "
            "correction"]
