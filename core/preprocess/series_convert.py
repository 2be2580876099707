"""Convert one DICOM series with dcm2niix: compressed NIfTI, BIDS sidecar, anonymised.

Each series is converted on its own (its files linked into a private folder), so a
failure is attributed to the series it belongs to and unrelated files never reach
dcm2niix.  The binary comes from the PyPI ``dcm2niix`` package.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import DicomImportError
from core.preprocess.dicom_scan import DicomSeries

__all__ = ["DCM2NIIX_FLAGS", "ConvertedImage", "ConvertedSeries", "convert_series",
           "dcm2niix_executable", "dcm2niix_version"]

#: gzip-compressed NIfTI, BIDS sidecar, anonymised sidecar, quiet.
DCM2NIIX_FLAGS = ("-z", "y", "-b", "y", "-ba", "y", "-v", "0")
_TIMEOUT_S = 1800


@dataclass(frozen=True)
class ConvertedImage:
    """One NIfTI file dcm2niix wrote, with its sidecar and header geometry."""

    nifti: Path
    sidecar: dict
    shape: tuple[int, ...]
    zooms: tuple[float, ...]
    has_bval: bool = False

    @property
    def n_volumes(self) -> int:
        """Volumes along the fourth axis (1 for a 3D image)."""
        return int(self.shape[3]) if len(self.shape) > 3 else 1

    @property
    def dims_text(self) -> str:
        """``64×64×15×10``."""
        return "×".join(str(n) for n in self.shape)


@dataclass(frozen=True)
class ConvertedSeries:
    """A DICOM series and what dcm2niix made of it (``error`` when it could not)."""

    source: DicomSeries
    images: tuple[ConvertedImage, ...] = field(default_factory=tuple)
    error: str | None = None


def dcm2niix_executable() -> Path:
    """Locate dcm2niix: the ``dcm2niix`` package's binary, else the one on PATH.

    Returns
    -------
    Path

    Raises
    ------
    DicomImportError
        dcm2niix is not installed.
    """
    try:
        import dcm2niix

        shipped = Path(dcm2niix.bin)
        if shipped.is_file():
            return shipped
    except ImportError:
        pass
    found = shutil.which("dcm2niix")
    if found:
        return Path(found)
    raise DicomImportError("DICOM import needs dcm2niix, which is not installed "
                           "(python3 -m pip install dcm2niix)")


def dcm2niix_version() -> str:
    """Version string of the dcm2niix binary, e.g. ``v1.0.20260724``."""
    result = subprocess.run([str(dcm2niix_executable()), "-v"], capture_output=True,
                            text=True, timeout=60, check=False)
    for token in (result.stdout + result.stderr).split():
        if token.startswith("v1.") or token.startswith("v2."):
            return token
    return "unknown"


def _link_files(files: tuple[Path, ...], folder: Path) -> None:
    """Symbolic links to the series' files (copies where links are not allowed)."""
    folder.mkdir(parents=True)
    for index, source in enumerate(files):
        target = folder / f"{index:06d}.dcm"
        try:
            os.symlink(source.resolve(), target)
        except OSError:  # e.g. Windows without the right to create links
            shutil.copyfile(source, target)


def _problem_line(output: str) -> str:
    """dcm2niix's most telling line: missing images, else an error, else a warning."""
    lines = [" ".join(line.split()) for line in output.splitlines() if line.strip()]
    for prefix in ("DICOM images may be missing", "Error", "Warning", "Unable"):
        found = [line for line in lines if line.startswith(prefix)]
        if found:
            return found[0]
    return lines[-1] if lines else "no output"


def _read_outputs(folder: Path) -> tuple[ConvertedImage, ...]:
    import nibabel as nib

    images = []
    for nifti in sorted(folder.glob("*.nii.gz")):
        stem = nifti.name[: -len(".nii.gz")]
        sidecar_path = folder / f"{stem}.json"
        sidecar = json.loads(sidecar_path.read_text()) if sidecar_path.is_file() else {}
        header = nib.Nifti1Image.from_filename(nifti).header
        images.append(ConvertedImage(
            nifti=nifti, sidecar=sidecar, shape=tuple(int(n) for n in header.get_data_shape()),
            zooms=tuple(float(z) for z in header.get_zooms()),
            has_bval=(folder / f"{stem}.bval").is_file()))
    return tuple(images)


def convert_series(series: DicomSeries, work: Path,
                   own_folder: Path | None = None) -> ConvertedSeries:
    """Convert one series into ``work/nifti``.

    Parameters
    ----------
    series : DicomSeries
    work : Path
        A new folder for this series, inside the import's staging folder.
    own_folder : Path, optional
        A folder that holds this series' images and no other series' (read as it is,
        without its sub-folders); otherwise links to the files go to ``work/dicom``.

    Returns
    -------
    ConvertedSeries
        With ``error`` set (and no images) when dcm2niix failed or wrote no image.
    """
    out = work / "nifti"
    if own_folder is None:
        source = work / "dicom"
        _link_files(series.files, source)
    else:
        source = own_folder
    out.mkdir(parents=True)
    depth = ["-d", "0"] if own_folder is not None else []  # that folder only, no sub-folders
    command = [str(dcm2niix_executable()), *DCM2NIIX_FLAGS, *depth, "-f", "s%s", "-o",
               str(out), str(source)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT_S,
                            check=False)
    output = result.stdout + "\n" + result.stderr
    images = _read_outputs(out) if result.returncode == 0 else ()
    if result.returncode != 0 or not images:
        return ConvertedSeries(series, (), f"dcm2niix: {_problem_line(output)}")
    return ConvertedSeries(series, images)
