"""One patient's pre and post inputs, from any of the supported sources."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.io.fmriprep import discover_fmriprep, select_pre_post
from core.io.preprocessing_route import QuickProvenance, check_same_route
from core.io.scan import BoldScan, load_bold, same_grid
from core.io.timeseries_table import TimeseriesTable, read_timeseries_table

__all__ = [
    "PatientInputs",
    "open_fmriprep",
    "open_nifti_pair",
    "open_timeseries_pair",
]

log = logging.getLogger(__name__)


@dataclass(eq=False)
class PatientInputs:
    """Pre and post data of one patient, validated and ready for analysis.

    Exactly one of the pairs (``pre_scan``, ``post_scan``) or (``pre_table``,
    ``post_table``) is set.

    Attributes
    ----------
    kind : str
        ``"nifti"``, ``"fmriprep"``, ``"timeseries"`` or ``"demo"``.
    subject : str
        Label shown in the window and the report (a BIDS subject ID, never a name).
    sessions : tuple of str
        Pre and post session labels.
    files : dict of str to Path
        Every input file by role (``pre_bold``, ``post_confounds`` ...), for hashing.
    root : Path or None
        The input folder (fMRIPrep root), which outputs must never be written into.
    preprocessing : QuickProvenance or None
        Set when the images come from the quick path (:mod:`core.preprocess`):
        its label and warnings follow the data into the window, report and
        ``summary.json``.
    """

    kind: str
    subject: str
    sessions: tuple[str, str]
    pre_scan: BoldScan | None = None
    post_scan: BoldScan | None = None
    pre_table: TimeseriesTable | None = None
    post_table: TimeseriesTable | None = None
    table_tr: float | None = None
    files: dict[str, Path] = field(default_factory=dict)
    root: Path | None = None
    warnings: list[str] = field(default_factory=list)
    preprocessing: QuickProvenance | None = None

    @property
    def is_image_based(self) -> bool:
        """True when voxel data are available (not pre-extracted tables)."""
        return self.pre_scan is not None

    def input_folders(self) -> list[Path]:
        """Folders that hold inputs; nothing may be written into them."""
        folders = {p.resolve().parent for p in self.files.values()}
        if self.root is not None:
            folders.add(self.root.resolve())
        return sorted(folders)


def _grid_text(scan: BoldScan) -> str:
    sizes = np.round(np.abs(np.diag(scan.affine)[:3]), 2).tolist()
    return f"{scan.grid_shape} voxels of {sizes} mm ({scan.path.name})"


def _check_pair(pre: BoldScan, post: BoldScan, warnings: list[str]) -> None:
    if not same_grid(pre.img, post.img):
        from nilearn.image import resample_to_img

        message = (
            f"pre and post are on different grids: pre {_grid_text(pre)}, post "
            f"{_grid_text(post)}; post was resampled to the pre grid (linear interpolation)"
        )
        log.warning(message)
        post.img = resample_to_img(post.img, pre.img, interpolation="continuous",
                                   force_resample=True, copy_header=True)
        warnings.append(message)
    if abs(pre.tr - post.tr) > 1e-3:
        warnings.append(
            f"pre and post differ in TR ({pre.tr:g} s and {post.tr:g} s): both are band-passed "
            "to the same frequencies and each session's variance is modelled at its own TR, "
            "but a change in sampling can still shift correlations; compare with care")
    warnings.extend(pre.warnings + post.warnings)


def open_nifti_pair(
    pre: str | Path,
    post: str | Path,
    *,
    confounds_pre: str | Path | None = None,
    confounds_post: str | Path | None = None,
    mask_pre: str | Path | None = None,
    mask_post: str | Path | None = None,
    tr: float | None = None,
    subject: str = "patient",
) -> PatientInputs:
    """Open two 4D NIfTI files (pre, post) in MNI space.

    Parameters
    ----------
    pre, post : str or Path
        Preprocessed BOLD images.
    confounds_pre, confounds_post : str or Path, optional
        fMRIPrep-style confounds tables.
    mask_pre, mask_post : str or Path, optional
        Brain masks on the same grid.
    tr : float, optional
        Repetition time override in seconds.
    subject : str, default="patient"
        Label for displays and reports.

    Returns
    -------
    PatientInputs

    Raises
    ------
    InputError
        Any problem with either file, pre and post on different grids, or from
        different preprocessing routes (quick path and fMRIPrep).
    RegistrationNotAccepted
        Quick-preprocessing images whose registration check nobody accepted.
    """
    scans = []
    files: dict[str, Path] = {}
    for role, bold, conf, mask in (
        ("pre", pre, confounds_pre, mask_pre),
        ("post", post, confounds_post, mask_post),
    ):
        scan = load_bold(bold, tr=tr, confounds=conf, mask=mask)
        scans.append(scan)
        files[f"{role}_bold"] = scan.path
        for name, path in (("sidecar", scan.sidecar), ("confounds", scan.confounds),
                           ("mask", scan.mask)):
            if path is not None:
                if not path.is_file():
                    raise InputError(f"expected a {name} file, found nothing there", path)
                files[f"{role}_{name}"] = path
    quick = check_same_route(scans[0].path, scans[1].path)
    warnings: list[str] = list(quick.warnings) if quick is not None else []
    _check_pair(scans[0], scans[1], warnings)
    return PatientInputs(
        kind="nifti", subject=subject, sessions=("pre", "post"),
        pre_scan=scans[0], post_scan=scans[1], files=files, warnings=warnings,
        preprocessing=quick,
    )


def open_fmriprep(
    root: str | Path,
    *,
    subject: str | None = None,
    pre_session: str | None = None,
    post_session: str | None = None,
    task: str | None = None,
    tr: float | None = None,
) -> PatientInputs:
    """Open one patient's pre and post runs from an fMRIPrep derivatives folder.

    Parameters
    ----------
    root : str or Path
        fMRIPrep output folder (or a folder containing ``derivatives/fmriprep``).
    subject, pre_session, post_session, task : str, optional
        Overrides of the automatic choice (see :func:`core.io.fmriprep.select_pre_post`).
    tr : float, optional
        Repetition time override in seconds.

    Returns
    -------
    PatientInputs
    """
    dataset = discover_fmriprep(root)
    pre_run, post_run = select_pre_post(
        dataset, subject=subject, pre_session=pre_session,
        post_session=post_session, task=task,
    )
    inputs = open_nifti_pair(
        pre_run.bold, post_run.bold,
        confounds_pre=pre_run.confounds, confounds_post=post_run.confounds,
        mask_pre=pre_run.mask, mask_post=post_run.mask, tr=tr,
        subject=f"sub-{pre_run.subject}",
    )
    inputs.kind = "fmriprep"
    inputs.root = dataset.root
    inputs.sessions = (pre_run.session or "pre", post_run.session or "post")
    return inputs


def open_timeseries_pair(
    pre: str | Path,
    post: str | Path,
    *,
    tr: float | None = None,
    subject: str = "patient",
    min_volumes: int = 3,
) -> PatientInputs:
    """Open parcellated ROI time series (one column per ROI) for pre and post.

    Parameters
    ----------
    pre, post : str or Path
        TSV/CSV tables, optionally gzipped (``.tsv.gz``, ``.csv.gz``), with
        identical ROI columns.  Their networks are assigned by the analysis
        (the settings' labels table, matched by column name, or Schaefer-style
        names; see :func:`core.io.timeseries_table.roi_networks`).
    tr : float, optional
        Repetition time in seconds; needed for band-pass filtering.
    subject : str, default="patient"
    min_volumes : int, default=3

    Returns
    -------
    PatientInputs

    Raises
    ------
    InputError
        When the tables do not list the same ROIs in the same order.
    """
    tables = [read_timeseries_table(p, min_volumes=min_volumes) for p in (pre, post)]
    if tables[0].roi_names != tables[1].roi_names:
        missing = sorted(set(tables[0].roi_names) ^ set(tables[1].roi_names))
        detail = f"differing columns: {', '.join(missing[:5])}" if missing else "order differs"
        raise InputError(
            f"expected the same ROI columns in pre and post, found {detail}", tables[1].path
        )
    return PatientInputs(
        kind="timeseries", subject=subject, sessions=("pre", "post"),
        pre_table=tables[0], post_table=tables[1], table_tr=tr,
        files={"pre_timeseries": tables[0].path, "post_timeseries": tables[1].path},
    )
