"""Confound selection and signal cleaning through nilearn, identical for both sessions."""

from __future__ import annotations

import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import ConfoundsError, InputError
from core.io.inputs import PatientInputs
from core.io.table_cells import read_confounds_table
from core.settings import AnalysisSettings, DenoiseSettings, check_band_pass

__all__ = [
    "CleanedSignals",
    "check_sampling",
    "clean_signals",
    "cleaning_operator",
    "resolve_strategy",
    "select_confounds",
]


@dataclass(eq=False)
class CleanedSignals:
    """Denoised signals of one session.

    Attributes
    ----------
    signals : ndarray, shape (n_kept, n_signals)
        Cleaned signals of the kept (not scrubbed) volumes.
    sample_mask : ndarray of int
        Indices of the kept volumes in the original series.
    n_volumes : int
        Number of volumes before scrubbing.
    label : str
        Session label.
    """

    signals: np.ndarray
    sample_mask: np.ndarray
    n_volumes: int
    label: str = ""

    @property
    def n_kept(self) -> int:
        """Number of volumes kept after scrubbing."""
        return int(self.sample_mask.size)


def select_confounds(
    confounds_path: Path | None,
    n_volumes: int,
    settings: DenoiseSettings,
    strategy: str,
) -> tuple[pd.DataFrame | None, np.ndarray | None]:
    """Select nuisance regressors with nilearn's ``load_confounds_strategy``.

    Parameters
    ----------
    confounds_path : Path or None
        fMRIPrep confounds table (``desc-confounds_timeseries.tsv`` or the older
        ``desc-confounds_regressors.tsv``) with its JSON when present.
    n_volumes : int
        Volumes in the BOLD series; the table must have one row per volume.
    settings : DenoiseSettings
        ``gsr`` and ``band_pass`` are honoured here.
    strategy : str
        The resolved preset (never ``None``).

    Returns
    -------
    confounds : DataFrame or None
        Regressors, or ``None`` for strategy ``none``.
    sample_mask : ndarray or None
        Kept volume indices when scrubbing removed volumes, else ``None``.

    Raises
    ------
    ConfoundsError
        Missing table, wrong number of rows, or columns the strategy needs.
    """
    if strategy == "none":
        return None, None
    if confounds_path is None:
        raise ConfoundsError(
            f"the '{strategy}' strategy needs an fMRIPrep confounds table "
            "(desc-confounds_timeseries.tsv); none was found or given. "
            "Give one, or choose the strategy 'none'"
        )
    from nilearn.interfaces.fmriprep import load_confounds_strategy

    read_confounds_table(confounds_path)  # every cell a number or n/a, or a clear message
    kwargs = {"global_signal": "basic"} if settings.gsr else {}
    with tempfile.TemporaryDirectory(prefix="prepost-confounds-") as staging:
        # nilearn finds the table by fMRIPrep file names next to the image; stage
        # copies under canonical names so any user-named table works too.
        stage = Path(staging)
        fake_bold = stage / "sub-x_task-rest_desc-preproc_bold.nii.gz"
        shutil.copyfile(confounds_path, stage / "sub-x_task-rest_desc-confounds_timeseries.tsv")
        sidecar = confounds_path.with_suffix(".json")
        if sidecar.is_file():
            shutil.copyfile(sidecar, stage / "sub-x_task-rest_desc-confounds_timeseries.json")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                confounds, sample_mask = load_confounds_strategy(
                    str(fake_bold), denoise_strategy=strategy, **kwargs
                )
        except (ValueError, KeyError) as exc:
            raise ConfoundsError(
                f"the '{strategy}' strategy cannot use this table: {exc}".replace("\n", " "),
                confounds_path,
            ) from exc
        except (OSError, pd.errors.ParserError) as exc:
            raise ConfoundsError(f"expected a readable TSV table ({exc})", confounds_path) from exc
    if len(confounds) != n_volumes:
        raise ConfoundsError(
            f"expected {n_volumes} rows (one per volume), found {len(confounds)}", confounds_path
        )
    if sample_mask is not None and len(sample_mask) < settings.min_volumes:
        raise ConfoundsError(
            f"expected at least {settings.min_volumes} volumes left after '{strategy}' "
            f"censoring of high-motion volumes, found {len(sample_mask)} of {n_volumes}; "
            "choose a strategy without scrubbing (e.g. 'simple') or lower --min-volumes",
            confounds_path,
        )
    if settings.band_pass is not None:
        # The Butterworth high-pass replaces fMRIPrep's discrete cosine regressors.
        confounds = confounds.loc[:, ~confounds.columns.str.startswith("cosine")]
    finite = np.isfinite(confounds.to_numpy(dtype=float))
    if not finite.all():
        bad = [str(c) for c in confounds.columns[~finite.all(axis=0)]]
        raise ConfoundsError(
            "expected finite confound values, found NaN or Inf in column(s) "
            + ", ".join(bad[:5]) + (" ..." if len(bad) > 5 else ""),
            confounds_path,
        )
    return confounds, sample_mask


def clean_signals(
    signals: np.ndarray,
    tr: float,
    confounds: pd.DataFrame | np.ndarray | None,
    sample_mask: np.ndarray | None,
    settings: DenoiseSettings,
    *,
    source: str = "",
) -> CleanedSignals:
    """Detrend, regress confounds, censor and band-pass with ``nilearn.signal.clean``.

    Parameters
    ----------
    signals : ndarray, shape (n_volumes, n_signals)
        Raw signals (ROI means or voxels).
    tr : float
        Repetition time in seconds.
    confounds : DataFrame, ndarray or None
        Nuisance regressors, one row per volume.
    sample_mask : ndarray or None
        Indices of volumes to keep.
    settings : DenoiseSettings
        Filtering, detrending and the minimum number of kept volumes.
    source : str
        Session name for error messages.

    Returns
    -------
    CleanedSignals

    Raises
    ------
    InputError
        Fewer volumes left than ``settings.min_volumes``, or a band-pass whose
        upper edge is not below the Nyquist frequency of ``tr``.
    """
    from nilearn import signal

    n_volumes = signals.shape[0]
    kept = np.arange(n_volumes) if sample_mask is None else np.asarray(sample_mask, dtype=int)
    if kept.size < settings.min_volumes:
        raise InputError(
            f"{source}: expected at least {settings.min_volumes} volumes after scrubbing, "
            f"found {kept.size} of {n_volumes}"
        )
    low_pass = high_pass = None
    if settings.band_pass is not None:
        try:
            check_band_pass(settings.band_pass, tr)
        except ValueError as exc:
            raise InputError(f"{source}: {exc}") from None
        high_pass, low_pass = settings.band_pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cleaned = _clean(signal, signals, confounds, sample_mask, kept, settings,
                             low_pass, high_pass, tr)
        except ValueError as exc:
            if "padlen" in str(exc):
                raise InputError(
                    f"{source}: band-pass filtering needs more volumes than the {kept.size} "
                    "kept; use no filter (--no-filter) or a longer scan"
                ) from exc
            raise InputError(f"{source}: signal cleaning failed: {exc}") from exc
    return CleanedSignals(signals=cleaned, sample_mask=kept, n_volumes=n_volumes)


def cleaning_operator(
    n_volumes: int,
    tr: float,
    confounds: pd.DataFrame | np.ndarray | None,
    sample_mask: np.ndarray | None,
    settings: DenoiseSettings,
    source: str = "",
) -> np.ndarray:
    """Return the linear map that :func:`clean_signals` applies to every signal.

    Detrending, confound regression, interpolation and removal of scrubbed
    volumes and Butterworth filtering are all linear in the signal (the
    confounds are fixed), so cleaning is ``cleaned = P @ raw``; ``P`` is
    obtained by cleaning the identity.  :mod:`core.stats.edge_variance` uses it to
    compute the variance of correlations after denoising exactly.

    Parameters
    ----------
    n_volumes : int
    tr, confounds, sample_mask, settings, source
        As for :func:`clean_signals`.

    Returns
    -------
    ndarray, shape (n_kept, n_volumes)
    """
    return clean_signals(np.eye(n_volumes), tr, confounds, sample_mask, settings,
                         source=source).signals


def _clean(signal, signals, confounds, sample_mask, kept, settings, low_pass, high_pass, tr):
    return signal.clean(
        signals,
        confounds=None if confounds is None else np.asarray(confounds, dtype=float),
        sample_mask=None if sample_mask is None else kept,
        detrend=settings.detrend,
        standardize=False,
        low_pass=low_pass,
        high_pass=high_pass,
        t_r=tr,
        # one vectorised sosfiltfilt over all columns instead of a loop per column
        # (same filter, same result; ~10x faster for the 300-column cleaning operator)
        butterworth__copy=True,
    )


def resolve_strategy(inputs: PatientInputs, settings: AnalysisSettings) -> tuple[str, list[str]]:
    """Return the denoising preset to apply and any warning about the choice.

    Parameters
    ----------
    inputs : PatientInputs
    settings : AnalysisSettings

    Returns
    -------
    strategy : str
    warnings : list of str
    """
    requested = settings.denoise.strategy
    if not inputs.is_image_based:
        if requested not in (None, "none"):
            raise InputError(
                f"expected --strategy none for pre-extracted time series (their confounds "
                f"are not available), got '{requested}'"
            )
        if settings.denoise.gsr:
            raise InputError("global signal regression needs voxel data, not ROI time series")
        return "none", []
    assert inputs.pre_scan is not None and inputs.post_scan is not None
    have = inputs.pre_scan.confounds is not None and inputs.post_scan.confounds is not None
    if requested is None:
        if have:
            return "simple", []
        return "none", ["no confounds tables: only detrending and filtering were applied "
                        "(strategy 'none'); motion is not regressed out"]
    return requested, []


def check_sampling(inputs: PatientInputs, settings: AnalysisSettings) -> None:
    """Refuse a filter or a TR pairing that the comparison cannot honour, before any reading.

    Parameters
    ----------
    inputs : PatientInputs
    settings : AnalysisSettings

    Raises
    ------
    InputError
        When the band-pass upper edge is not below the Nyquist frequency of a
        session's TR, or when pre and post differ in TR (by more than 1 %) and no
        band-pass is applied: unfiltered correlations then cover different
        frequency ranges (up to each session's Nyquist frequency), so their change
        would partly reflect the sampling, not the brain.  With the band-pass on,
        both sessions hold the same frequencies and each session's variance is
        modelled at its own TR, so the comparison stands (with a warning, made by
        :func:`core.io.inputs.open_nifti_pair`).
    """
    if inputs.is_image_based:
        assert inputs.pre_scan is not None and inputs.post_scan is not None
        trs = [(inputs.pre_scan.tr, inputs.pre_scan.path.name),
               (inputs.post_scan.tr, inputs.post_scan.path.name)]
    else:
        tr = inputs.table_tr or settings.tr
        trs = [] if tr is None else [(tr, "the time-series tables")]
    band = settings.denoise.band_pass
    for tr, name in trs:
        if band is not None:
            try:
                check_band_pass(band, tr)
            except ValueError as exc:
                raise InputError(f"{exc} ({name})") from None
    if len(trs) == 2 and band is None and abs(trs[0][0] - trs[1][0]) > 0.01 * trs[0][0]:
        raise InputError(
            f"expected the same TR for pre and post when no band-pass filter is applied, got "
            f"{trs[0][0]:g} s ({trs[0][1]}) and {trs[1][0]:g} s ({trs[1][1]}): unfiltered "
            "correlations would cover "
            "different frequencies; apply the band-pass filter (drop --no-filter)")
