"""The quick path's outputs in fMRIPrep's layout: names, confounds, masks, coverage, description.

Files follow fMRIPrep's names (``sub-<ID>/ses-<S>/func/…_space-<T>_res-<R>_
desc-preproc_bold.nii.gz``, ``…_desc-brain_mask.nii.gz``, ``…_boldref.nii.gz``,
``…_desc-confounds_timeseries.tsv``) so :mod:`core.io.fmriprep` finds them;
the space is named for the template really used, nilearn's MNI152 2009a
symmetric (``MNI152NLin2009aSym``), not fMRIPrep's default 2009c asymmetric.
The confounds table has fMRIPrep's column names: motion (with derivatives and
squares), framewise displacement, global, white-matter and CSF signals
(template tissue masks), DVARS and cosine regressors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core import __version__
from core.io.preprocessing_route import QUICK_PIPELINE, RECORD_FILE

__all__ = [
    "SPACE",
    "bids_stem",
    "confounds_table",
    "dataset_description",
    "roi_coverage",
    "tissue_masks",
]

#: TemplateFlow name of nilearn's MNI152 template (ICBM 2009a nonlinear symmetric).
SPACE = "MNI152NLin2009aSym"
_HIGH_PASS_S = 128.0  # fMRIPrep's cosine regressors


def bids_stem(subject: str, session: str, resolution_mm: int | None = None,
              task: str = "rest") -> str:
    """File-name stem of one run's output, with the space when a resolution is given.

    Parameters
    ----------
    subject, session : str
        Labels without ``sub-``/``ses-``.
    resolution_mm : int, optional
    task : str, default="rest"

    Returns
    -------
    str
        e.g. ``sub-01_ses-pre_task-rest_space-MNI152NLin2009aSym_res-2``.
    """
    stem = f"sub-{subject}_ses-{session}_task-{task}"
    return f"{stem}_space-{SPACE}_res-{resolution_mm}" if resolution_mm else stem


def _expansions(name: str, values: np.ndarray) -> dict[str, np.ndarray]:
    derivative = np.concatenate([[np.nan], np.diff(values)])
    return {name: values, f"{name}_derivative1": derivative, f"{name}_power2": values**2,
            f"{name}_derivative1_power2": derivative**2}


def _cosines(n_volumes: int, tr: float) -> dict[str, np.ndarray]:
    """Discrete cosine basis of a 1/128 Hz high-pass, as fMRIPrep writes it."""
    order = int(np.floor(2 * n_volumes * tr / _HIGH_PASS_S))
    times = (np.arange(n_volumes) + 0.5) / n_volumes
    return {f"cosine{k - 1:02d}": np.sqrt(2.0 / n_volumes) * np.cos(np.pi * k * times)
            for k in range(1, order + 1)}


def confounds_table(motion: pd.DataFrame, signals: dict[str, np.ndarray],
                    dvars: tuple[np.ndarray, np.ndarray], tr: float) -> pd.DataFrame:
    """Assemble the confounds table with fMRIPrep's column names.

    Parameters
    ----------
    motion : DataFrame
        :func:`core.preprocess.quick_motion.motion_table`.
    signals : dict of str to ndarray
        ``global_signal``, ``white_matter``, ``csf`` mean signals.
    dvars : tuple of ndarray
        DVARS and standardised DVARS (:func:`core.qc.dvars`; NaN at volume 0).
    tr : float

    Returns
    -------
    DataFrame
        One row per volume; NaN where fMRIPrep writes ``n/a`` (first derivative).
    """
    columns: dict[str, np.ndarray] = {}
    for name in ("global_signal", "csf", "white_matter"):
        columns.update(_expansions(name, np.asarray(signals[name], dtype=float)))
    for name in motion.columns[:6]:
        columns.update(_expansions(name, motion[name].to_numpy(dtype=float)))
    columns["framewise_displacement"] = motion["framewise_displacement"].to_numpy(dtype=float)
    columns["dvars"], columns["std_dvars"] = dvars
    columns.update(_cosines(len(motion), tr))
    return pd.DataFrame(columns)


def tissue_masks(brain: np.ndarray, shape: tuple[int, ...], affine: np.ndarray
                 ) -> dict[str, np.ndarray]:
    """Masks of the confound signals on the output grid, from nilearn's tissue templates.

    Parameters
    ----------
    brain : ndarray of bool
        The output brain mask (template brain within the field of view).
    shape : tuple of int
    affine : ndarray, shape (4, 4)

    Returns
    -------
    dict of str to ndarray of bool
        ``global_signal`` (the brain mask), ``white_matter`` (white-matter
        probability > 0.9) and ``csf`` (brain, grey and white matter both
        below 0.1), each within ``brain``; an empty tissue mask falls back to
        the brain mask.
    """
    from nilearn import datasets
    from nilearn.image import resample_img

    def probability(loader: str) -> np.ndarray:
        img = getattr(datasets, loader)(resolution=2)
        return np.asarray(resample_img(img, target_affine=affine, target_shape=shape[:3],
                                       force_resample=True, copy_header=True).dataobj)

    grey, white = probability("load_mni152_gm_template"), probability("load_mni152_wm_template")
    masks = {"global_signal": brain, "white_matter": brain & (white > 0.9),
             "csf": brain & (grey < 0.1) & (white < 0.1)}
    return {name: mask if mask.any() else brain for name, mask in masks.items()}


def roi_coverage(mask: np.ndarray, affine: np.ndarray, atlas_name: str = "schaefer100"
                 ) -> pd.DataFrame:
    """Share of each atlas ROI inside a brain mask.

    Parameters
    ----------
    mask : ndarray of bool
        Output brain mask (template brain within the run's field of view).
    affine : ndarray, shape (4, 4)
    atlas_name : str, default="schaefer100"

    Returns
    -------
    DataFrame
        ``roi``, ``network``, ``coverage`` (0–1 of the ROI's voxels).
    """
    import nibabel as nib
    from nilearn.image import resample_to_img

    from core.atlas.atlases import load_atlas
    from core.maps.display import display_template, roi_index_volume

    atlas = load_atlas(atlas_name)
    index = roi_index_volume(atlas)
    grid = display_template()
    inside = np.asarray(resample_to_img(nib.Nifti1Image(mask.astype(np.uint8), affine), grid,
                                        interpolation="nearest", force_resample=True,
                                        copy_header=True).dataobj) > 0
    total = np.bincount(index[index >= 0], minlength=atlas.n_rois)
    covered = np.bincount(index[(index >= 0) & inside], minlength=atlas.n_rois)
    share = np.divide(covered, total, out=np.zeros(atlas.n_rois), where=total > 0)
    return pd.DataFrame({"roi": atlas.roi_names, "network": atlas.networks, "coverage": share})


def dataset_description(source: Path, warnings: list[str]) -> dict[str, Any]:
    """Describe the derivatives (``dataset_description.json``), naming the quick pipeline.

    Parameters
    ----------
    source : Path
        The BIDS dataset preprocessed.
    warnings : list of str
        The route's warnings, repeated in the description.

    Returns
    -------
    dict
    """
    return {
        "Name": "quick preprocessing (prepost-review)",
        "BIDSVersion": "1.9.0",
        "DatasetType": "derivative",
        "GeneratedBy": [{
            "Name": QUICK_PIPELINE, "Version": __version__,
            "Description": "Rigid motion correction and registration to nilearn's MNI152 "
                           "template with antspyx, one resampling to the template grid. "
                           "Not fMRIPrep and not comparable with fMRIPrep outputs. See "
                           f"{RECORD_FILE}.",
        }],
        "SourceDatasets": [{"URL": source.resolve().as_uri()}],
        "Warnings": warnings,
    }


def write_json(path: Path, data: dict[str, Any]) -> Path:
    """Write JSON (the staging folder is renamed whole at the end, so no atomic write here).

    Parameters
    ----------
    path : Path
    data : dict

    Returns
    -------
    Path
    """
    path.write_text(json.dumps(data, indent=2, default=_plain) + "\n", encoding="utf-8")
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value)}")


def write_nifti(volumes_npy: str, affine: np.ndarray, path: str, tr: float | None = None,
                dtype: str = "float32") -> str:
    """Write a ``(n, z, y, x)`` or ``(z, y, x)`` ``.npy`` as NIfTI (run in a worker).

    Parameters
    ----------
    volumes_npy : str
        Memory-mapped, so a 4D run is streamed to the compressor, not copied.
    affine : ndarray, shape (4, 4)
    path : str
        ``.nii.gz`` destination (in the staging folder); gzip level 1 (isal).
    tr : float, optional
        Repetition time of a 4D image, in seconds.
    dtype : str, default="float32"

    Returns
    -------
    str
        ``path``.
    """
    import nibabel as nib

    data = np.load(volumes_npy, mmap_mode="r").T  # (x, y, z[, n]), Fortran order
    img = nib.Nifti1Image(data, affine)
    img.header.set_data_dtype(np.dtype(dtype))
    img.header.set_xyzt_units("mm", "sec")
    if tr is not None and data.ndim == 4:
        img.header.set_zooms((*img.header.get_zooms()[:3], float(tr)))
    img.set_qform(affine, code=4)  # MNI
    img.set_sform(affine, code=4)
    from isal import igzip

    # isal's gzip, streamed, is several times faster than nibabel's zlib on a 1 GB run
    with igzip.IGzipFile(path, "wb", compresslevel=1, mtime=0) as stream:
        img.to_file_map({"image": nib.FileHolder(fileobj=stream)})
    return path
