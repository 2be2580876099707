"""Exceptions raised by :mod:`core`.

Every message says what was expected, what was found and, where a file is
involved, which file.  The interface shows ``str(error)`` to the clinician and
the command line prints it as one line, so messages are single sentences
without tracebacks.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AnalysisCancelled",
    "AtlasError",
    "ConfoundsError",
    "DicomImportError",
    "FmriprepLayoutError",
    "InputError",
    "InputFileError",
    "PreprocessingError",
    "TimeseriesTableError",
]


class InputError(ValueError):
    """The input data cannot be analysed as given.

    Parameters
    ----------
    message : str
        What was expected and what was found.
    path : str or Path, optional
        The file or folder concerned; it is prefixed to the message.
    """

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.reason = message
        text = f"{self.path}: {message}" if self.path is not None else message
        super().__init__(text)


class InputFileError(InputError, OSError):
    """A file or folder is missing, unreadable or not of the expected format."""


class FmriprepLayoutError(InputError):
    """An fMRIPrep derivatives folder lacks what the analysis needs."""


class ConfoundsError(InputError):
    """A confounds table does not fit the scan or the denoising strategy."""


class TimeseriesTableError(InputError):
    """A parcellated time-series table (TSV/CSV) is malformed."""


class AtlasError(InputError):
    """An atlas, label image or label table is unusable."""


class DicomImportError(InputError):
    """DICOM folders cannot be turned into a BIDS dataset as asked (see core.preprocess)."""


class PreprocessingError(InputError):
    """A preprocessing engine is unavailable for this dataset, or it stopped with an error."""


class AnalysisCancelled(Exception):
    """Raised inside a running analysis when the caller asked it to stop."""
