"""Reading NIfTI files safely: clear messages for truncated, mislabelled or implausible files."""

from __future__ import annotations

import logging
import os
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np

from core.errors import InputError, InputFileError

log = logging.getLogger(__name__)

__all__ = ["MAX_GRID_VOXELS", "MAX_VOLUMES", "read_nifti"]


def read_nifti(path: str | Path) -> nib.Nifti1Image:
    """Open a NIfTI-1/2 file lazily after checking that it is whole.

    Parameters
    ----------
    path : str or Path
        A ``.nii`` or ``.nii.gz`` file.

    Returns
    -------
    nibabel.Nifti1Image or nibabel.Nifti2Image
        Only the header is read.  ``.nii`` files are memory-mapped; the voxels
        of ``.nii.gz`` files are streamed by :func:`core.signal.extract.masked_voxels`.

    Raises
    ------
    InputFileError
        When the file is missing, unreadable, truncated or not NIfTI, or its
        voxel sizes are zero or not finite.
    """
    path = Path(path)
    if not path.exists():
        if path.is_symlink():
            raise InputFileError(
                "expected a NIfTI file, found a broken or looping symbolic link", path)
        raise InputFileError("file not found", path)
    if path.is_dir():
        raise InputFileError("expected a NIfTI file (.nii or .nii.gz), found a folder", path)
    try:
        with path.open("rb") as handle:
            prefix = handle.read(540)
        compressed = prefix[:2] == b"\x1f\x8b"
        header = _gunzip_prefix(path, 540) if compressed else prefix
    except OSError as exc:
        raise InputFileError(f"cannot be read ({exc.strerror or exc})", path) from exc
    version = _nifti_version(header)
    if version == 0:
        found = (
            "a file too short to hold a NIfTI header"
            if len(header) < 348
            else "a file without the NIfTI magic string"
        )
        raise InputFileError(f"expected a NIfTI-1/2 image (.nii or .nii.gz), found {found}", path)
    _check_voxel_sizes(header, version, path)
    try:
        klass = nib.Nifti2Image if version == 2 else nib.Nifti1Image
        img = klass.from_filename(str(path), mmap=not compressed)
        expected = int(np.prod(img.shape)) * img.get_data_dtype().itemsize
        expected += int(img.dataobj.offset)  # type: ignore[attr-defined]
    except Exception as exc:  # nibabel raises many types for corrupt headers
        raise InputFileError(f"expected a readable NIfTI image, nibabel said: {exc}", path) from exc
    available = _uncompressed_size(path, expected) if compressed else path.stat().st_size
    if available < 0:
        raise InputFileError(
            f"the compressed image is truncated or damaged: its header promises {expected} "
            "bytes, the gzip stream ends before that", path)
    if available < expected:
        raise InputFileError(
            f"the image is truncated: its header promises {expected} bytes, "
            f"the file holds {max(available, 0)}",
            path,
        )
    return img  # type: ignore[return-value]


def _check_voxel_sizes(header: bytes, version: int, path: Path) -> None:
    """Refuse zero or non-finite voxel sizes, which nibabel silently mends to 1 mm.

    The raw header is checked before nibabel reads it; the orientation codes,
    which nibabel keeps, are checked by :func:`core.io.scan.check_spatial_header`.
    """
    klass = nib.Nifti2Header if version == 2 else nib.Nifti1Header
    try:
        raw = klass(header[: klass.sizeof_hdr], check=False)
        dims = int(raw["dim"][0])
        sizes = np.asarray(raw["pixdim"][1:4], dtype=float)
    except Exception:  # a damaged header is reported by nibabel's own reading below
        return
    if dims >= 3 and not (np.isfinite(sizes).all() and (sizes > 0).all()):
        found = " x ".join(f"{v:g}" for v in sizes)
        raise InputFileError(
            f"expected voxel sizes above 0 mm, found {found} mm in the header (pixdim)", path)


def _gunzip_prefix(path: Path, n: int) -> bytes:
    from isal import igzip

    try:
        with igzip.open(path, "rb") as stream:
            return stream.read(n)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise InputFileError(f"the gzip stream is damaged ({exc})", path) from exc


def _uncompressed_size(path: Path, expected: int) -> int:
    """Size of a gzip file's content: from its trailer when consistent, else by streaming.

    Returns -1 when the stream is damaged or ends early.
    """
    with path.open("rb") as handle:
        handle.seek(-4, os.SEEK_END)
        trailer = int.from_bytes(handle.read(4), "little")
    if trailer == expected % (1 << 32):
        return expected
    from isal import igzip

    total = 0
    try:
        with igzip.open(path, "rb") as stream:
            while chunk := stream.read(1 << 24):
                total += len(chunk)
    except (OSError, EOFError, zlib.error, ValueError):
        return -1  # the stream ends early or is corrupt
    return total


def _nifti_version(header: bytes) -> int:
    if len(header) >= 540 and header[4:8] in (b"n+2\x00", b"ni2\x00"):
        return 2
    if len(header) >= 348 and header[344:348] in (b"n+1\x00", b"ni1\x00"):
        return 1
    return 0


#: Largest plausible BOLD series: grid voxels and volumes (refused before any data are read).
MAX_GRID_VOXELS = 512**3


MAX_VOLUMES = 20000


def _check_plausible_size(img: nib.Nifti1Image, path: Path) -> None:
    """Refuse images whose header promises more data than a BOLD run or this machine holds."""
    grid = int(np.prod(img.shape[:3]))
    n_volumes = int(img.shape[3])
    if grid > MAX_GRID_VOXELS or n_volumes > MAX_VOLUMES:
        raise InputError(
            f"expected a BOLD series of at most {MAX_VOLUMES} volumes on a grid of at most "
            f"512 x 512 x 512 voxels, found {img.shape}", path)
    # Brain voxels are about a quarter of an MNI grid; two sessions are held as float32.
    needed = 2 * 0.3 * grid * n_volumes * 4
    available = _physical_memory()
    if available and needed > 0.8 * available:
        raise InputError(
            f"expected a series that fits in memory, found {img.shape}: about "
            f"{needed / 2**30:.1f} GiB would be needed, this computer has "
            f"{available / 2**30:.1f} GiB", path)


def _physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # not available on this platform
        return 0
