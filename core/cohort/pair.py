"""One cohort task: one pair through the single-patient analysis, written whole or not at all.

A task gets plain data (the row as a dict, the settings, the stamp, the output
folder) and reads its own files, so it runs on any Dask worker that sees them.
Its outputs go to ``OUT/.<subject>.partial-<random>``, which is renamed to
``OUT/<subject>`` once complete.  ``OUT/<subject>/cohort.json`` (the stamp: row,
settings, option-file hashes, version) and the input SHA-256s of
``summary.json`` decide whether a later run may skip the pair.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.cohort.table import CohortRow
from core.errors import InputError
from core.io.files import atomic_write_text, sha256_file
from core.io.inputs import PatientInputs, open_fmriprep, open_nifti_pair, open_timeseries_pair
from core.io.reference_pair import REFERENCE_PAIR_FILE, save_reference_pair
from core.reference_verdict import pair_from_review
from core.report.analysis_files import check_output_dir, write_review_outputs
from core.review import review_patient
from core.settings import AnalysisSettings

__all__ = ["STAMP", "PairFunction", "analyze_pair", "is_up_to_date", "open_row_inputs",
           "run_pair"]

log = logging.getLogger(__name__)

#: The file that marks a subject folder as a complete cohort output.
STAMP = "cohort.json"
#: ``f(row, settings, folder) -> dict``: writes one pair's files into ``folder``.
PairFunction = Callable[[dict[str, Any], AnalysisSettings, str], dict[str, Any]]


def open_row_inputs(row: CohortRow, settings: AnalysisSettings) -> PatientInputs:
    """Open a row's inputs as ``analyze`` opens the same files given as options.

    Parameters
    ----------
    row : CohortRow
    settings : AnalysisSettings
        Its ``tr`` overrides the repetition time, as ``--tr`` does.

    Returns
    -------
    PatientInputs
        Labelled with the row's subject.

    Raises
    ------
    InputError
        Any problem with the row's files.
    """
    if row.kind == "fmriprep":
        return open_fmriprep(str(row.fmriprep), subject=row.subject,
                             pre_session=row.pre_session, post_session=row.post_session,
                             tr=settings.tr)
    if row.kind == "nifti":
        return open_nifti_pair(str(row.pre), str(row.post), confounds_pre=row.confounds_pre,
                               confounds_post=row.confounds_post, mask_pre=row.mask_pre,
                               mask_post=row.mask_post, tr=settings.tr, subject=row.subject)
    return open_timeseries_pair(str(row.pre), str(row.post), tr=settings.tr,
                                subject=row.subject)


def analyze_pair(row: dict[str, Any], settings: AnalysisSettings, folder: str
                 ) -> dict[str, Any]:
    """Run the ``analyze`` pipeline on one row and write its files into ``folder``.

    Parameters
    ----------
    row : dict
        A :class:`CohortRow` as a dict.
    settings : AnalysisSettings
    folder : str
        Created; receives the files ``analyze --out`` writes and the pair's
        part of the reference of repeat scans (``reference_pair.npz``).

    Returns
    -------
    dict
        ``n_rois`` and ``warnings``.

    Raises
    ------
    InputError
        When the pair cannot be analysed.
    """
    inputs = open_row_inputs(CohortRow(**row), settings)
    check_output_dir(folder, inputs)
    state = review_patient(inputs, settings)
    write_review_outputs(state, folder)
    # this pair's part of the cohort's reference of repeat scans (core.reference_verdict)
    save_reference_pair(Path(folder) / REFERENCE_PAIR_FILE, pair_from_review(state))
    return {"n_rois": len(state.comparison.rois), "warnings": list(state.warnings)}


def is_up_to_date(folder: Path, stamp: dict[str, Any]) -> bool:
    """Whether ``folder`` holds complete outputs of this stamp and of unchanged inputs.

    Parameters
    ----------
    folder : Path
        ``OUT/<subject>``.
    stamp : dict
        JSON-ready: row, settings, option-file hashes, version.

    Returns
    -------
    bool
        True when its ``cohort.json`` equals ``stamp``, every file listed in
        its ``summary.json`` and its ``reference_pair.npz`` exist, and every
        input still has its SHA-256.
    """
    try:
        if json.loads((folder / STAMP).read_text(encoding="utf-8")) != stamp:
            return False
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        if not all((folder / name).is_file()
                   for name in [*summary["outputs"], REFERENCE_PAIR_FILE]):
            return False
        return all(Path(f["path"]).stat().st_size == f["bytes"]
                   and sha256_file(f["path"]) == f["sha256"]
                   for f in summary["inputs"].values())
    except (OSError, ValueError, KeyError, TypeError):
        return False


def run_pair(row: dict[str, Any], settings: AnalysisSettings, stamp: dict[str, Any],
             out: str, pair_function: PairFunction = analyze_pair) -> dict[str, Any]:
    """Dask task: skip an up-to-date pair, or analyse it into ``out/<subject>`` atomically.

    Bad input (:class:`core.errors.InputError`) gives ``status="failed"``;
    any other exception propagates so that Dask's ``retries`` apply.

    Parameters
    ----------
    row : dict
        A :class:`CohortRow` as a dict.
    settings : AnalysisSettings
    stamp : dict
        Written as ``cohort.json``; see :func:`is_up_to_date`.
    out : str
        The cohort output folder.
    pair_function : callable, default=analyze_pair
        A top-level function (Dask pickles it by reference).

    Returns
    -------
    dict
        ``subject``, ``status`` (``"done"``, ``"skipped"`` or ``"failed"``),
        ``error``, ``seconds``, ``pid``, and what ``pair_function`` returned.
    """
    start, subject = time.perf_counter(), row["subject"]
    final = Path(out) / subject
    result: dict[str, Any] = {"subject": subject, "status": "skipped", "error": "",
                              "pid": os.getpid()}
    if is_up_to_date(final, stamp):
        return {**result, "seconds": time.perf_counter() - start}
    partial = Path(out) / f".{subject}.partial-{uuid.uuid4().hex[:8]}"
    try:
        if final.exists() and not (final / STAMP).is_file():
            raise InputError("expected no folder or an earlier cohort output here, found "
                             "another folder; it is left as it is", final)
        result.update(pair_function(row, settings, str(partial)), status="done")
        atomic_write_text(partial / STAMP, json.dumps(stamp, indent=1) + "\n")
        _replace_folder(partial, final)
    except InputError as exc:
        result.update(status="failed", error=" ".join(str(exc).split()))
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    log.info("%s: %s in %.1f s %s", subject, result["status"], time.perf_counter() - start,
             result["error"])
    return {**result, "seconds": time.perf_counter() - start}


def _replace_folder(new: Path, final: Path) -> None:
    """Rename ``new`` to ``final``, moving an earlier ``final`` aside first."""
    old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
    if final.exists():
        os.rename(final, old)
    os.rename(new, final)
    shutil.rmtree(old, ignore_errors=True)
