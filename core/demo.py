"""A deterministic synthetic patient with a known change between sessions.

The demo is written as an fMRIPrep derivatives folder (``sub-demo``, sessions
``pre`` and ``post``, 3 mm MNI152NLin2009cAsym grid, confounds with motion,
framewise displacement and compcor, JSON sidecars) so that it exercises the
same code path as real data.

Generative model, per session
-----------------------------
* Seven latent network signals (Schaefer 7 networks), AR(1) with φ = 0.6,
  whose *sample* correlation is set exactly to the session's network
  correlation matrix.  Post differs from pre in two entries only (the injected
  change, :data:`INJECTED_CHANGE`): Default–Limbic weaker, Default–Cont stronger.
* Each Schaefer-100 parcel: 0.9 × its network signal (the network's *loading*,
  :data:`NETWORK_LOADING`) + 0.45 × its own AR(1) signal.
* Each voxel: 1000 + 10 × parcel signal + AR(1) thermal noise (SD 12)
  + a physiological global signal + head-motion artefacts; voxels outside the
  cortical parcels carry noise, global signal and motion only.
* Motion: six slow random-walk parameters with a few sudden jerks; the
  artefacts are linear in the parameters so the ``simple`` strategy removes them.

:func:`generate_demo_patient` also takes other latent correlations, loadings and
a subject label: :mod:`core.demo_reference` makes untreated repeat-scan
subjects with the same generator.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from core.io.inputs import PatientInputs, open_fmriprep

__all__ = [
    "DEMO_TR",
    "INJECTED_CHANGE",
    "NETWORKS",
    "NETWORK_LOADING",
    "DemoGroundTruth",
    "demo_cache_dir",
    "demo_ground_truth",
    "ensure_demo_patient",
    "generate_demo_patient",
    "open_demo_patient",
]

log = logging.getLogger(__name__)

DEMO_VERSION = 4
DEMO_TR = 2.0
DEMO_VOLUMES = 300
DEMO_SEED = 20261127
NETWORKS = ("Vis", "SomMot", "DorsAttn", "SalVentAttn", "Limbic", "Cont", "Default")
#: Latent network correlation in the pre session (symmetric; unlisted pairs 0.1).
PRE_NETWORK_CORRELATION = {
    ("Vis", "SomMot"): 0.35, ("DorsAttn", "Cont"): 0.4, ("SalVentAttn", "Cont"): 0.35,
    ("SalVentAttn", "DorsAttn"): 0.3, ("Default", "Limbic"): 0.5, ("Default", "Cont"): -0.1,
    ("Default", "SalVentAttn"): -0.2, ("Default", "DorsAttn"): -0.25,
}  # fmt: skip
#: Injected post − pre change of latent network correlation.
INJECTED_CHANGE = {("Default", "Limbic"): -0.6, ("Default", "Cont"): +0.6}
#: Weight of a network's latent signal in each of its parcels (the demo's, every network).
NETWORK_LOADING = 0.9
#: Fraction of the generation done when each session starts being simulated and written
#: (measured: geometry ~22 %, each session ~39 %, three quarters of it simulation).
_STEPS = ((0.22, 0.52), (0.61, 0.91))
_SPACE = "MNI152NLin2009cAsym"
_RES = "3"


@dataclass(frozen=True)
class DemoGroundTruth:
    """What the demo patient was built with.

    Attributes
    ----------
    changed_pairs : dict of (str, str) to float
        Network pairs whose latent correlation changed, and by how much (post − pre).
    pre_correlation, post_correlation : ndarray, shape (7, 7)
        Latent network correlations, networks in :data:`NETWORKS` order.
    networks : tuple of str
    tr : float
    n_volumes : int
    """

    changed_pairs: dict[tuple[str, str], float]
    pre_correlation: np.ndarray
    post_correlation: np.ndarray
    networks: tuple[str, ...]
    tr: float
    n_volumes: int


def demo_ground_truth() -> DemoGroundTruth:
    """Return the known structure and injected change of the demo patient.

    Returns
    -------
    DemoGroundTruth
    """
    pre = _network_correlation({})
    post = _network_correlation(INJECTED_CHANGE)
    return DemoGroundTruth(dict(INJECTED_CHANGE), pre, post, NETWORKS, DEMO_TR, DEMO_VOLUMES)


def _network_correlation(change: dict[tuple[str, str], float]) -> np.ndarray:
    c = np.full((len(NETWORKS), len(NETWORKS)), 0.1)
    for (a, b), value in PRE_NETWORK_CORRELATION.items():
        i, j = NETWORKS.index(a), NETWORKS.index(b)
        c[i, j] = c[j, i] = value + change.get((a, b), 0.0)
    np.fill_diagonal(c, 1.0)
    return c


def demo_cache_dir() -> Path:
    """Folder that holds the generated demo patient, outside the repository.

    ``$PREPOST_CACHE_DIR`` if set, else the platform's user cache folder.

    Returns
    -------
    Path
    """
    from core.resources import user_cache_dir

    return user_cache_dir()


def ensure_demo_patient(cache_dir: str | Path | None = None,
                        progress: Callable[[float, str], None] | None = None) -> Path:
    """Return the demo fMRIPrep folder, generating it once if needed.

    Generation writes into a temporary sibling folder that is renamed into
    place, so an interrupted run never leaves a half-written demo.

    Parameters
    ----------
    cache_dir : str or Path, optional
        Defaults to :func:`demo_cache_dir`.
    progress : callable, optional
        ``progress(fraction, message)`` while the demo is generated (not
        called when it exists); may raise to cancel.

    Returns
    -------
    Path
        The fMRIPrep derivatives root of the demo patient.
    """
    base = Path(cache_dir) if cache_dir is not None else demo_cache_dir()
    target = base / f"demo-v{DEMO_VERSION}"
    if (target / "dataset_description.json").is_file():
        return target
    base.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".demo-", dir=base))
    try:
        generate_demo_patient(staging, progress=_first_run(progress))
        try:
            staging.rename(target)
        except OSError:  # another process finished first
            if not (target / "dataset_description.json").is_file():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _first_run(progress: Callable[[float, str], None] | None):
    if progress is None:
        return None

    def report(fraction: float, message: str) -> None:
        progress(fraction, f"First run: generating the demo patient ({message})")

    return report


def open_demo_patient(cache_dir: str | Path | None = None,
                      progress: Callable[[float, str], None] | None = None) -> PatientInputs:
    """Open the demo patient (generating it on first use).

    Parameters
    ----------
    cache_dir : str or Path, optional
    progress : callable, optional
        ``progress(fraction, message)`` while the demo is generated (first use).

    Returns
    -------
    PatientInputs
    """
    inputs = open_fmriprep(ensure_demo_patient(cache_dir, progress))
    inputs.kind = "demo"
    return inputs


def generate_demo_patient(
    out_dir: str | Path,
    seed: int = DEMO_SEED,
    *,
    subject: str = "demo",
    correlations: tuple[np.ndarray, np.ndarray] | None = None,
    loadings: tuple[np.ndarray, np.ndarray] | None = None,
    ground_truth: dict[str, object] | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> Path:
    """Write the synthetic patient as an fMRIPrep derivatives folder.

    Without the keyword arguments this is the demo patient.

    Parameters
    ----------
    out_dir : str or Path
        Empty or new folder.
    seed : int
        Random seed; the same seed gives byte-identical data.
    subject : str, default="demo"
        Subject label (the folder is ``sub-<subject>``).
    correlations : (ndarray, ndarray), optional
        Latent network correlations of the pre and post sessions, shape (7, 7),
        positive definite, networks in :data:`NETWORKS` order; default the demo
        patient's (:func:`demo_ground_truth`).
    loadings : (ndarray, ndarray), optional
        Each network's loading in its parcels in the pre and post sessions,
        shape (7,); default :data:`NETWORK_LOADING` for every network.
    ground_truth : dict, optional
        Written as ``ground_truth.json`` instead of the demo patient's (which
        records the injected change).
    progress : callable, optional
        ``progress(fraction, message)`` at each step (geometry, then simulating and
        writing each session); may raise to cancel.

    Returns
    -------
    Path
        ``out_dir``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    report = progress or (lambda _fraction, _message: None)
    report(0.0, "brain mask and atlas")
    mask, affine, parcel_of_voxel, network_of_parcel, n_parcels = _geometry()
    if correlations is None:
        truth = demo_ground_truth()
        correlations = (truth.pre_correlation, truth.post_correlation)
    if loadings is None:
        loadings = (np.full(len(NETWORKS), NETWORK_LOADING),) * 2
    name = ("prepost-review synthetic demo patient (not real data)" if ground_truth is None
            else "prepost-review synthetic subject (not real data)")
    (out / "dataset_description.json").write_text(json.dumps({
        "Name": name, "BIDSVersion": "1.8.0", "DatasetType": "derivative",
        "GeneratedBy": [{"Name": "prepost-review demo generator", "Version": str(DEMO_VERSION)}],
    }, indent=2))
    if ground_truth is None:
        ground_truth = {
            "injected_change": {f"{a}-{b}": v for (a, b), v in INJECTED_CHANGE.items()},
            "seed": seed, "tr": DEMO_TR, "n_volumes": DEMO_VOLUMES,
        }
    (out / "ground_truth.json").write_text(json.dumps(ground_truth, indent=2))
    for k, (session, corr, loading) in enumerate(
        zip(("pre", "post"), correlations, loadings, strict=True)
    ):
        report(_STEPS[k][0], f"simulating ses-{session}")
        session_rng = np.random.default_rng([seed, k])
        func = out / f"sub-{subject}" / f"ses-{session}" / "func"
        func.mkdir(parents=True, exist_ok=True)
        stem = f"sub-{subject}_ses-{session}_task-rest"
        bold, confounds = _session_data(
            session_rng, np.asarray(corr, dtype=float), parcel_of_voxel,
            np.asarray(loading, dtype=float)[network_of_parcel], network_of_parcel, n_parcels
        )
        report(_STEPS[k][1], f"writing ses-{session}")
        # NIfTI stores voxels in Fortran order; core.signal.extract indexes them that way.
        volume = np.zeros((*mask.shape, DEMO_VOLUMES), dtype=np.float32, order="F")
        volume.reshape(-1, DEMO_VOLUMES, order="F")[np.flatnonzero(mask.ravel(order="F"))] = bold
        del bold
        img = nib.Nifti1Image(volume, affine)
        img.header.set_xyzt_units("mm", "sec")
        img.header["pixdim"][4] = DEMO_TR
        img.header.set_sform(affine, code=4)
        img.header.set_qform(affine, code=4)
        _save_gz(img, func / f"{stem}_space-{_SPACE}_res-{_RES}_desc-preproc_bold.nii.gz")
        del img, volume
        (func / f"{stem}_space-{_SPACE}_res-{_RES}_desc-preproc_bold.json").write_text(
            json.dumps({"RepetitionTime": DEMO_TR, "SkullStripped": False,
                        "TaskName": "rest"}, indent=2))
        _save_gz(nib.Nifti1Image(mask.astype(np.uint8), affine),
                 func / f"{stem}_space-{_SPACE}_res-{_RES}_desc-brain_mask.nii.gz")
        confounds.to_csv(func / f"{stem}_desc-confounds_timeseries.tsv", sep="\t",
                         index=False, na_rep="n/a", float_format="%.6g")
        (func / f"{stem}_desc-confounds_timeseries.json").write_text(
            json.dumps(_compcor_metadata(), indent=2))
    del rng
    report(1.0, "done")
    return out


@lru_cache(maxsize=1)
def _geometry() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Brain mask, affine, parcel of each mask voxel (-1: none), network of each parcel."""
    from nilearn.datasets import load_mni152_brain_mask

    from core.atlas.atlases import load_atlas
    from core.signal.extract import roi_weights

    mask_img = load_mni152_brain_mask(resolution=int(_RES))
    mask = np.asarray(mask_img.dataobj) > 0
    affine = mask_img.affine
    atlas = load_atlas("schaefer100")
    weights = roi_weights(atlas, mask, affine)
    parcel_of_voxel = np.full(int(mask.sum()), -1)
    member = weights.matrix.tocoo()
    parcel_of_voxel[member.col] = weights.kept[member.row]
    network_of_parcel = np.array([NETWORKS.index(n) for n in atlas.networks])
    for array in (mask, affine, parcel_of_voxel, network_of_parcel):
        array.flags.writeable = False
    return mask, affine, parcel_of_voxel, network_of_parcel, atlas.n_rois


def _save_gz(img: nib.Nifti1Image, path: Path) -> None:
    from isal import igzip

    path.write_bytes(igzip.compress(img.to_bytes(), compresslevel=1, mtime=0))


def _ar1(rng: np.random.Generator, shape: tuple[int, ...], phi: float) -> np.ndarray:
    from scipy.signal import lfilter

    white = rng.standard_normal(shape)
    return lfilter([np.sqrt(1 - phi**2)], [1.0, -phi], white, axis=-1)


def _slow(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Unit-variance signals band-limited to 0.01–0.08 Hz, like resting-state BOLD."""
    from scipy.signal import butter, sosfiltfilt

    sos = butter(3, [0.01, 0.08], btype="band", fs=1.0 / DEMO_TR, output="sos")
    series = sosfiltfilt(sos, rng.standard_normal(shape), axis=-1)
    return series / series.std(axis=-1, keepdims=True)


def _exact_correlation(x: np.ndarray, target: np.ndarray, nuisance: np.ndarray) -> np.ndarray:
    """Recolour rows of ``x`` so their sample correlation equals ``target`` exactly.

    The signals are first made orthogonal to the nuisance regressors, so that
    confound regression leaves their correlation unchanged.  The low-frequency
    band (0.01–0.1 Hz, the default analysis band) and the rest of the spectrum
    are recoloured separately, so the correlation also holds after band-pass
    filtering (up to the filter's roll-off).
    """
    basis, _ = np.linalg.qr(np.column_stack([np.ones(x.shape[1]), nuisance]))

    def orthogonal(a: np.ndarray) -> np.ndarray:
        return a - (a @ basis) @ basis.T

    spectrum = np.fft.rfft(orthogonal(x), axis=1)
    freqs = np.fft.rfftfreq(x.shape[1], d=DEMO_TR)
    in_band = (freqs >= 0.01) & (freqs <= 0.1)
    colour = np.linalg.cholesky(target)
    parts = []
    for keep in (in_band, ~in_band):
        part = orthogonal(np.fft.irfft(np.where(keep, spectrum, 0), n=x.shape[1], axis=1))
        whitening = np.linalg.inv(np.linalg.cholesky(np.cov(part)))
        parts.append(colour @ (whitening @ part) * np.sqrt(keep.mean()))
    return parts[0] + parts[1]


def _session_data(rng, corr, parcel_of_voxel, loading_of_parcel, network_of_parcel, n_parcels):
    t = DEMO_VOLUMES
    motion = np.cumsum(rng.normal(0, 1, (6, t)), axis=1) * np.array(
        [[0.02], [0.02], [0.03], [0.0004], [0.0003], [0.0003]])
    jerks = rng.choice(np.arange(10, t - 10), size=4, replace=False)
    for j in jerks:
        motion[:, j:] += rng.normal(0, 1, (6, 1)) * np.array(
            [[0.3], [0.3], [0.4], [0.004], [0.004], [0.004]])
    physio = _slow(rng, (t,))
    compcor = _compcor(rng, physio, motion)
    nuisance = np.column_stack(
        [np.nan_to_num(v) for name, values in
         [("m", m) for m in motion] + [("p", physio)]
         for v in _with_expansions(name, values).values()] + list(compcor)
    )
    networks = _exact_correlation(_ar1(rng, (len(NETWORKS), t), 0.5), corr, nuisance)
    own = _ar1(rng, (n_parcels, t), 0.5)
    parcels = loading_of_parcel[:, None] * networks[network_of_parcel] + 0.45 * own
    n_vox = parcel_of_voxel.size
    signal = 10.0 * np.where(
        (parcel_of_voxel >= 0)[:, None], parcels[np.maximum(parcel_of_voxel, 0)], 0.0
    )
    noise = 12.0 * _ar1(rng, (n_vox, t), 0.3)
    motion_weights = rng.normal(0, 1, (n_vox, 6)) * np.array([15, 15, 15, 800, 800, 800])
    artefact = motion_weights @ (motion - motion.mean(axis=1, keepdims=True))
    physio_weights = rng.uniform(3, 9, (n_vox, 1))
    bold = 1000.0 + signal + noise + artefact + physio_weights * physio
    return bold.astype(np.float32), _confounds_table(rng, bold, motion, physio, compcor)


def _compcor(rng: np.random.Generator, physio: np.ndarray, motion: np.ndarray) -> np.ndarray:
    """Five aCompCor-like components: mixtures of physiology, motion and white noise."""
    sources = np.vstack([physio, motion - motion.mean(axis=1, keepdims=True),
                         rng.standard_normal((3, physio.size))])
    mixed = rng.normal(0, 1, (5, sources.shape[0])) @ sources
    return (mixed - mixed.mean(axis=1, keepdims=True)) / mixed.std(axis=1, keepdims=True)


def _with_expansions(name: str, values: np.ndarray) -> dict[str, np.ndarray]:
    derivative = np.concatenate([[np.nan], np.diff(values)])
    return {name: values, f"{name}_derivative1": derivative, f"{name}_power2": values**2,
            f"{name}_derivative1_power2": derivative**2}


def _confounds_table(rng, bold, motion, physio, compcor) -> pd.DataFrame:
    columns: dict[str, np.ndarray] = {}
    global_signal = bold.mean(axis=0)
    columns.update(_with_expansions("global_signal", global_signal))
    columns.update(_with_expansions("csf", 900 + 8 * physio + rng.normal(0, 1, physio.size)))
    columns.update(_with_expansions(
        "white_matter", 700 + 5 * physio + rng.normal(0, 1, physio.size)))
    names = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")
    for name, values in zip(names, motion, strict=True):
        columns.update(_with_expansions(name, values))
    step = np.abs(np.diff(motion, axis=1))
    fd = step[:3].sum(axis=0) + 50.0 * step[3:].sum(axis=0)
    columns["framewise_displacement"] = np.concatenate([[np.nan], fd])
    dvars = np.sqrt(np.mean(np.diff(bold, axis=1) ** 2, axis=0))
    columns["dvars"] = np.concatenate([[np.nan], dvars])
    columns["std_dvars"] = np.concatenate([[np.nan], dvars / np.median(dvars)])
    for i in range(5):
        columns[f"a_comp_cor_{i:02d}"] = compcor[i]
    for i in range(3):
        columns[f"cosine{i:02d}"] = np.cos(np.pi * (i + 1) * (np.arange(DEMO_VOLUMES) + 0.5)
                                           / DEMO_VOLUMES)
    return pd.DataFrame(columns)


def _compcor_metadata() -> dict[str, dict[str, object]]:
    return {
        f"a_comp_cor_{i:02d}": {"Method": "aCompCor", "Mask": "combined", "Retained": True}
        for i in range(5)
    }
