"""Files that appear whole or not at all, and their SHA-256.

The one place where results are written: a temporary file in the destination
folder, flushed to disk, then renamed over the destination.  A crash or a
cancel leaves the destination as it was, never half written.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import InputError

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "check_new_folder",
           "new_file_mode", "sha256_file"]


def _umask() -> int:
    """Return the process's umask, read without changing it where the system allows."""
    try:  # Linux >= 4.7: no window in which another thread sees a changed umask
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    """Permission bits of a new file as ``open()`` would create it (0o666 less the umask).

    Returns
    -------
    int
        For example ``0o644`` under the common umask ``022``.
    """
    return 0o666 & ~_umask()


@contextmanager
def atomic_path(path: str | Path, suffix: str = ".part") -> Iterator[Path]:
    """Give a temporary path to write; on success it replaces ``path`` atomically.

    Parameters
    ----------
    path : str or Path
        Destination; its folder must exist.
    suffix : str, default=".part"
        Suffix of the temporary file (writers such as nibabel choose the
        format from it, e.g. ``".nii.gz"``).

    Yields
    ------
    Path
        The temporary file, in the destination's folder.  It is synced to disk
        and renamed over ``path`` when the block ends without an exception,
        and deleted otherwise.  The file gets the permissions of any new file
        of the user (:func:`new_file_mode`), not the private ``0600`` of a
        temporary file.
    """
    path = Path(path)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        with temporary.open("rb+") as stream:
            os.fsync(stream.fileno())
        os.chmod(temporary, new_file_mode())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write a file so that it appears whole or not at all.

    Parameters
    ----------
    path : str or Path
        Destination; its folder must exist.
    data : bytes

    Returns
    -------
    Path
    """
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 text atomically; see :func:`atomic_write_bytes`.

    Parameters
    ----------
    path : str or Path
    text : str

    Returns
    -------
    Path
    """
    return atomic_write_bytes(path, text.encode("utf-8"))


#: Digests already computed, by (path, size, modification time): a file is hashed once
#: per version, however often a review of it is recomputed.
_DIGESTS: dict[tuple[str, int, int], str] = {}
_DIGESTS_LOCK = threading.Lock()


def sha256_file(path: str | Path) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB chunks.

    The digest of a file whose path, size and modification time are unchanged
    is remembered, not computed again.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    str
    """
    resolved = Path(path).resolve()
    info = resolved.stat()
    key = (str(resolved), int(info.st_size), int(info.st_mtime_ns))
    with _DIGESTS_LOCK:
        known = _DIGESTS.get(key)
    if known is not None:
        return known
    digest = hashlib.sha256()
    with resolved.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    hexdigest = digest.hexdigest()
    with _DIGESTS_LOCK:
        if len(_DIGESTS) > 256:
            _DIGESTS.clear()
        _DIGESTS[key] = hexdigest
    return hexdigest


def check_new_folder(folder: Path, what: str, error: type[InputError] = InputError) -> None:
    """Refuse a folder to be created that already holds files, is a file, or has no parent.

    Parameters
    ----------
    folder : Path
        Absolute path of the folder a command is about to create.
    what : str
        How the message names it (``"output folder"``, ``"derivatives folder"``).
    error : InputError subclass, default=InputError
        The exception raised.

    Raises
    ------
    InputError
        Saying what was expected, what was found and which folder.
    """
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise error(f"expected a new or empty {what}, found an existing "
                    f"{'folder with files' if folder.is_dir() else 'file'}; choose another "
                    f"{what}", folder)
    if not folder.parent.is_dir():
        raise error(f"the folder that should hold the {what} does not exist", folder.parent)
