"""Which converted series is the resting-state BOLD, which the T1w, which a localiser.

Decided from dcm2niix's sidecar (ImageType, ScanningSequence, SeriesDescription,
its own ``BidsGuess``) and the image's dimensions; a series number given by the
user overrides the choice, but a localiser or a 3D image is never taken as BOLD.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import DicomImportError
from core.preprocess.series_convert import ConvertedImage, ConvertedSeries

__all__ = ["MIN_BOLD_VOLUMES", "Choice", "choose_bold", "choose_t1w", "describe", "kind_of"]

#: Fewest volumes of a BOLD time series (the analysis itself needs more: 50 by default).
MIN_BOLD_VOLUMES = 5
_LOCALISER_WORDS = re.compile(r"(locali[sz]er|\bloc\b|scout|survey|3[-_ ]?plane|aahead|"
                              r"\bcal\b|calibration)", re.I)
_T1_WORDS = re.compile(r"(t1|mprage|mp-rage|spgr|bravo|tfl3d|tfe|mp2rage.*uni)", re.I)


@dataclass(frozen=True)
class Choice:
    """The image chosen for one role, and why."""

    series: ConvertedSeries
    image: ConvertedImage
    note: str | None = None


def _words(image: ConvertedImage, key: str) -> str:
    value = image.sidecar.get(key, "")
    return " ".join(value) if isinstance(value, list) else str(value)


def _text(image: ConvertedImage, series: ConvertedSeries) -> str:
    return " ".join((series.source.description, _words(image, "SeriesDescription"),
                     _words(image, "ProtocolName")))


def kind_of(image: ConvertedImage, series: ConvertedSeries) -> str:
    """``"localiser"``, ``"bold"``, ``"t1w"``, ``"derived"``, ``"dwi"``, ``"3d"`` or ``"other"``.

    Parameters
    ----------
    image : ConvertedImage
    series : ConvertedSeries

    Returns
    -------
    str
    """
    image_type = _words(image, "ImageType").upper().split()
    guess = [str(g) for g in image.sidecar.get("BidsGuess", [])]
    text = _text(image, series)
    if any(t in image_type for t in ("LOCALIZER", "LOCALISER", "SCOUT")) or \
            _LOCALISER_WORDS.search(text) or image.shape[2:3] in ((1,), (2,), (3,)):
        return "localiser"
    if any(t in image_type for t in ("DERIVED", "MOCO", "PHASE", "P")):
        return "derived"
    if image.has_bval or "DIFFUSION" in image_type or (guess and guess[0] == "dwi"):
        return "dwi"
    if len(image.shape) > 3 and image.n_volumes > 1:
        epi = ("EP" in _words(image, "ScanningSequence").upper()
               or "EPI" in image_type
               or "EPI" in _words(image, "PulseSequenceType").upper()
               or (guess[:1] == ["func"]))
        return "bold" if epi and image.n_volumes >= MIN_BOLD_VOLUMES else "other"
    if _T1_WORDS.search(text) or any("T1w" in g for g in guess[1:]):
        return "t1w"
    return "3d"


def describe(series: ConvertedSeries) -> str:
    """One line naming a series and what it is, for messages (no patient data)."""
    if series.error:
        return f"{series.source.label} (not convertible: {series.error})"
    parts = []
    for image in series.images:
        kind = kind_of(image, series)
        what = {"3d": "a single 3D image", "localiser": "a localiser", "bold": "a BOLD series",
                "t1w": "a T1w image", "derived": "derived images", "dwi": "diffusion",
                "other": "a 4D series that is not EPI BOLD"}[kind]
        parts.append(f"{what}, {image.dims_text}")
    return f"{series.source.label} ({'; '.join(parts)})"


def _by_number(converted: list[ConvertedSeries], number: int, role: str,
               folder: str) -> ConvertedSeries:
    matches = [s for s in converted if s.source.number == number]
    if not matches:
        numbers = ", ".join(str(s.source.number) for s in converted)
        raise DicomImportError(f"expected a series number {number} for the {role}, found "
                               f"series {numbers}", folder)
    if matches[0].error:
        raise DicomImportError(f"the {role} {describe(matches[0])} could not be converted",
                               folder)
    return matches[0]


def choose_bold(converted: list[ConvertedSeries], folder: str,
                number: int | None = None) -> Choice:
    """Choose the BOLD series of a visit: the one given, else the longest EPI series.

    Parameters
    ----------
    converted : list of ConvertedSeries
    folder : str
        The visit folder (for messages).
    number : int, optional
        SeriesNumber chosen by the user.

    Returns
    -------
    Choice

    Raises
    ------
    DicomImportError
        No BOLD series, two equally long ones, or the given series is not a time series.
    """
    if number is not None:
        series = _by_number(converted, number, "BOLD series", folder)
        four_d = [im for im in series.images if im.n_volumes >= 2
                  and kind_of(im, series) not in ("localiser", "dwi")]
        if not four_d:
            raise DicomImportError(f"expected a BOLD time series as series {number}, found "
                                   f"{describe(series)}", folder)
        return Choice(series, max(four_d, key=lambda im: im.n_volumes),
                      f"BOLD series {number} chosen by the user")
    candidates = [(s, im) for s in converted for im in s.images if kind_of(im, s) == "bold"]
    if not candidates:
        found = "; ".join(describe(s) for s in converted)
        raise DicomImportError(
            f"expected a BOLD time series (4D EPI, at least {MIN_BOLD_VOLUMES} volumes), found "
            f"{found or 'no series'}; if one of them is the resting-state scan, name it "
            "with --bold-series", folder)
    candidates.sort(key=lambda c: -c[1].n_volumes)
    best = candidates[0]
    ties = [c for c in candidates[1:] if c[1].n_volumes == best[1].n_volumes]
    if ties:
        names = ", ".join(c[0].source.label for c in [best, *ties])
        raise DicomImportError(f"expected one BOLD series, found {len(ties) + 1} of "
                               f"{best[1].n_volumes} volumes ({names}); choose one with "
                               "--bold-series", folder)
    note = None
    if len(candidates) > 1:
        others = ", ".join(f"{c[0].source.label} ({c[1].n_volumes} volumes)"
                           for c in candidates[1:])
        note = (f"took the longest BOLD series, {best[0].source.label} ({best[1].n_volumes} "
                f"volumes), over {others}; --bold-series chooses another")
    return Choice(best[0], best[1], note)


def choose_t1w(converted: list[ConvertedSeries], folder: str,
               number: int | None = None) -> Choice | None:
    """Choose the T1w image of a visit, if any: the one given, else the largest.

    Parameters
    ----------
    converted : list of ConvertedSeries
    folder : str
    number : int, optional

    Returns
    -------
    Choice or None
    """
    if number is not None:
        series = _by_number(converted, number, "T1w series", folder)
        volumes = [im for im in series.images if im.n_volumes == 1
                   and kind_of(im, series) != "localiser"]
        if not volumes:
            raise DicomImportError(f"expected a 3D T1w image as series {number}, found "
                                   f"{describe(series)}", folder)
        return Choice(series, volumes[0], f"T1w series {number} chosen by the user")
    candidates = [(s, im) for s in converted for im in s.images if kind_of(im, s) == "t1w"]
    if not candidates:
        return None
    candidates.sort(key=lambda c: (-_n_voxels(c[1]), c[0].source.number or 0))
    best = candidates[0]
    note = None
    if len(candidates) > 1:
        others = ", ".join(c[0].source.label for c in candidates[1:])
        note = (f"took {best[0].source.label} as the T1w image over {others}; --t1w-series "
                "chooses another")
    return Choice(best[0], best[1], note)


def _n_voxels(image: ConvertedImage) -> int:
    total = 1
    for n in image.shape[:3]:
        total *= n
    return total
