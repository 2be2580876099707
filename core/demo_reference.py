"""A synthetic reference of untreated repeat scans for the demo patient.

:func:`ensure_demo_reference` returns ``reference.zip`` in the demo cache
folder (``<cache>/demo-reference/reference.zip``), building it once: the
reference verdict of the demo patient can then be shown without real data.

Generative model
----------------
:data:`N_SUBJECTS` untreated subjects ``sub-ref01`` ... each scanned twice
(``ses-pre``, ``ses-post``) by the demo patient's generator
(:func:`core.demo.generate_demo_patient`: same grid, 300 volumes, TR 2 s,
noise, motion and confounds; another seed per subject).  Nothing is injected.
What changes between sessions is what changes in untreated people:

* each subject has their own latent network correlations, the demo patient's
  pre-session matrix plus a stable subject offset (SD :data:`SUBJECT_SD` in r
  per network pair), and their own network loadings (SD
  :data:`SUBJECT_LOADING_SD` around :data:`core.demo.NETWORK_LOADING`);
* each session adds independent session-to-session variability to both:
  SD :data:`SESSION_SD` in latent r per network pair and
  :data:`SESSION_LOADING_SD` per network loading (which moves the
  within-network blocks too).  Matrices are redrawn until positive definite.

The demo generator sets each session's latent correlation *exactly*
(``_exact_correlation``), which removes the sampling variability of the
latent signals: without session variability, untreated block Δz would vary
*less* than the within-scan SE says (SD ≈ 0.09 against SE ≈ 0.12).  The
session variability above stands in for that sampling variability and for
real state changes.  With these values, over the ten subjects, the
between-session SD of block Δz is 0.132 against a within-scan SE of 0.118
(ratio 1.12; edges 0.175 against 0.164), and the test-retest ICC of edge z is
0.29 (blocks 0.34), as on real repeat scans (Noble et al. 2019).  It cannot be
much larger: the demo patient's injected change (block Δz −0.61 and +0.44) is
meant to stand out against it, and above a ratio of about 1.2 the smaller one
would no longer reach q < .05 among 28 network pairs.

Each subject is analysed exactly as the demo patient is by default
(:func:`core.review.review_patient` with default
:class:`core.settings.AnalysisSettings`, through the real pipeline on real
files), turned into a pair (:func:`core.reference_verdict.pair_from_review`)
and its NIfTI folder (137 MB) deleted; only the zip is kept (0.34 MB).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from core import __version__
from core.demo import (
    DEMO_VERSION,
    NETWORK_LOADING,
    NETWORKS,
    demo_cache_dir,
    demo_ground_truth,
    generate_demo_patient,
)
from core.io.inputs import open_fmriprep
from core.io.reference_file import REFERENCE_FILE, build_reference
from core.io.reference_pair import ReferencePair
from core.reference_verdict import analysis_record, pair_from_review
from core.report.analysis_files import software_versions
from core.review import review_patient
from core.settings import AnalysisSettings

__all__ = [
    "DEMO_REFERENCE_VERSION",
    "N_SUBJECTS",
    "SESSION_LOADING_SD",
    "SESSION_SD",
    "SUBJECT_LOADING_SD",
    "SUBJECT_SD",
    "build_demo_reference",
    "demo_reference_path",
    "ensure_demo_reference",
    "is_current",
    "reference_subject_truth",
]

log = logging.getLogger(__name__)

#: Bump when the reference subjects or their analysis change: the cache is rebuilt.
DEMO_REFERENCE_VERSION = 1
#: Untreated subjects.  Ten pairs give the Crawford–Howell test 9 degrees of
#: freedom per item (before moderation) at about 6 s per subject on two cores;
#: fewer make the reference's SD itself too uncertain, more cost time for little.
N_SUBJECTS = 10
#: SD of a subject's stable offset of latent network correlation (r) per network pair.
SUBJECT_SD = 0.10
#: SD of each session's own deviation of latent network correlation (r) per network pair.
SESSION_SD = 0.12
#: SD of a subject's stable offset of each network's loading.
SUBJECT_LOADING_SD = 0.03
#: SD of each session's own deviation of each network's loading.
SESSION_LOADING_SD = 0.07
#: Seed of the reference subjects' matrices; subject ``k`` (from 1) is generated
#: with seed ``REFERENCE_SEED + k``.
REFERENCE_SEED = 20261200
#: Latent correlations are kept within ±this, and their smallest eigenvalue above
#: :data:`_MIN_EIGENVALUE`.
_MAX_R = 0.85
_MIN_EIGENVALUE = 0.05
_FOLDER = "demo-reference"
_STAMP_GENERATOR = "prepost-review demo generator"
_STAMP_REFERENCE = "prepost-review demo reference"
#: Staging folders of builds older than this (seconds) were abandoned: removed.
_ABANDONED_AFTER = 3600.0

ProgressCallback = Callable[[float, str], None]


def _no_progress(fraction: float, message: str) -> None:
    log.debug("%3.0f%% %s", 100 * fraction, message)


def _perturbed(rng: np.random.Generator, base: np.ndarray, sd: float) -> np.ndarray:
    """Add symmetric N(0, sd²) off-diagonal noise to ``base``, redrawn until positive definite."""
    n = base.shape[0]
    upper = np.triu_indices(n, k=1)
    for _ in range(1000):
        out = base.copy()
        out[upper] = np.clip(base[upper] + rng.normal(0.0, sd, upper[0].size), -_MAX_R, _MAX_R)
        out.T[upper] = out[upper]
        if np.linalg.eigvalsh(out).min() > _MIN_EIGENVALUE:
            return out
    raise RuntimeError("could not draw a positive definite network correlation")  # not reached


def reference_subject_truth(k: int) -> dict[str, Any]:
    """Latent correlations and loadings of reference subject ``k`` (1-based).

    Parameters
    ----------
    k : int

    Returns
    -------
    dict
        ``subject`` (``ref01`` ...), ``seed``, ``correlations`` and
        ``loadings`` (pre, post), as :func:`core.demo.generate_demo_patient` takes them.
    """
    rng = np.random.default_rng([REFERENCE_SEED, k])
    subject = _perturbed(rng, demo_ground_truth().pre_correlation, SUBJECT_SD)
    loading = NETWORK_LOADING + rng.normal(0.0, SUBJECT_LOADING_SD, len(NETWORKS))
    correlations = tuple(_perturbed(rng, subject, SESSION_SD) for _ in range(2))
    loadings = tuple(loading + rng.normal(0.0, SESSION_LOADING_SD, len(NETWORKS))
                     for _ in range(2))
    return {"subject": f"ref{k:02d}", "seed": REFERENCE_SEED + k,
            "correlations": correlations, "loadings": loadings}


def demo_reference_path(cache_dir: str | Path | None = None) -> Path:
    """Where the demo reference is cached (it may not exist yet).

    Parameters
    ----------
    cache_dir : str or Path, optional
        Defaults to :func:`core.demo.demo_cache_dir`.

    Returns
    -------
    Path
    """
    base = Path(cache_dir) if cache_dir is not None else demo_cache_dir()
    return base / _FOLDER / REFERENCE_FILE


def _stamp() -> dict[str, str]:
    return {_STAMP_GENERATOR: str(DEMO_VERSION), _STAMP_REFERENCE: str(DEMO_REFERENCE_VERSION)}


def _default_settings_record() -> Any:
    record = analysis_record(AnalysisSettings().to_dict(), "", None)["settings"]
    return json.loads(json.dumps(record))


def is_current(path: str | Path) -> bool:
    """Whether ``path`` is a demo reference made by this version with today's defaults.

    Only ``metadata.json`` is read: the versions of the demo generator, of this
    reference and of prepost-review, and the analysis settings.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    bool
    """
    try:
        with zipfile.ZipFile(path) as archive:
            metadata = json.loads(archive.read("metadata.json").decode("utf-8"))
        software = metadata["software"]
        return (all(software.get(k) == v for k, v in _stamp().items())
                and software.get("prepost-review") == __version__
                and metadata["analysis"]["settings"] == _default_settings_record())
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile):
        return False


def _remove_abandoned(folder: Path) -> None:
    """Remove what builds killed more than an hour ago left: staging folders, partial zips."""
    now = time.time()
    for leftover in [*folder.glob(".build-*"), *folder.glob(f".{REFERENCE_FILE}.*.part")]:
        try:
            if now - leftover.stat().st_mtime <= _ABANDONED_AFTER:
                continue
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink()
        except OSError:
            pass


def build_demo_reference(out_path: str | Path, progress: ProgressCallback | None = None,
                         work_dir: str | Path | None = None) -> Path:
    """Generate and analyse the reference subjects and write ``reference.zip``.

    Parameters
    ----------
    out_path : str or Path
        Written whole or not at all; its folder must exist.
    progress : callable, optional
        ``progress(fraction, message)``; may raise
        :class:`core.errors.AnalysisCancelled`, which leaves ``out_path`` as it was.
    work_dir : str or Path, optional
        Folder for one subject's files at a time (deleted after use); default a
        temporary folder.

    Returns
    -------
    Path
        ``out_path``.
    """
    forward = progress or _no_progress
    reached = [0.0]

    def report(fraction: float, message: str) -> None:
        # the pipeline reports both sessions over the same range: never step back
        reached[0] = max(reached[0], fraction)
        forward(reached[0], message)

    started = time.perf_counter()
    settings = AnalysisSettings()
    pairs: list[ReferencePair] = []
    with tempfile.TemporaryDirectory(prefix=".build-", dir=work_dir) as scratch:
        for k in range(1, N_SUBJECTS + 1):
            truth = reference_subject_truth(k)
            done = (k - 1) / N_SUBJECTS
            share = 0.98 / N_SUBJECTS

            def generating(fraction: float, message: str, done: float = done,
                           share: float = share, subject: str = truth["subject"]) -> None:
                report(done + share * 0.6 * fraction, f"Generating sub-{subject}: {message}")

            def analysing(fraction: float, message: str, done: float = done,
                          share: float = share, subject: str = truth["subject"]) -> None:
                report(done + share * (0.6 + 0.4 * fraction), f"sub-{subject}: {message}")

            folder = Path(scratch) / f"sub-{truth['subject']}"
            try:
                generate_demo_patient(
                    folder, truth["seed"], subject=truth["subject"],
                    correlations=truth["correlations"], loadings=truth["loadings"],
                    ground_truth={"untreated_reference_subject": True, "seed": truth["seed"],
                                  "reference_version": DEMO_REFERENCE_VERSION},
                    progress=generating)
                state = review_patient(open_fmriprep(folder), settings, analysing)
                pairs.append(pair_from_review(state))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
    report(0.98, "Writing the reference")
    out = build_reference(pairs, out_path, {**software_versions(), **_stamp()})
    log.info("demo reference of %d subjects built in %.1f s: %s (%d bytes)", len(pairs),
             time.perf_counter() - started, out, out.stat().st_size)
    report(1.0, "Reference of repeat scans ready")
    return out


def ensure_demo_reference(cache_dir: str | Path | None = None,
                          progress: ProgressCallback | None = None) -> Path:
    """Return the demo reference of untreated repeat scans, building it when needed.

    Built when missing or made by another version (:func:`is_current`); about a
    minute on two cores.  The subjects' files live in a temporary folder beside
    the reference and are deleted; the zip appears whole or not at all, so a
    killed or cancelled build leaves the cache as it was, and concurrent
    callers each write a complete file.

    Parameters
    ----------
    cache_dir : str or Path, optional
        Defaults to :func:`core.demo.demo_cache_dir` (``$PREPOST_CACHE_DIR``).
    progress : callable, optional
        ``progress(fraction, message)``; may raise
        :class:`core.errors.AnalysisCancelled`.

    Returns
    -------
    Path
        ``<cache>/demo-reference/reference.zip``; load it with
        :func:`core.io.reference_file.load_reference`.
    """
    target = demo_reference_path(cache_dir)
    if is_current(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(target.parent)
    log.info("building the demo reference of repeat scans in %s", target.parent)
    try:
        build_demo_reference(target, progress, work_dir=target.parent)
    except PermissionError:  # Windows: another process holds the file it just wrote
        if not is_current(target):
            raise
    return target
