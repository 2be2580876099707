"""Written files get the user's usual permissions (0o666 less the umask), not 0600."""

from __future__ import annotations

import os
import stat
import sys

import numpy as np
import pytest

from core.io.files import atomic_path, atomic_write_text, new_file_mode

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")


@pytest.fixture(params=[0o022, 0o027, 0o077])
def umask(request):
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_file_mode_follows_the_umask(umask, tmp_path):
    assert new_file_mode() == 0o666 & ~umask
    plain = tmp_path / "plain.txt"
    plain.write_text("x")  # what open() gives a new file under this umask
    assert new_file_mode() == _mode(plain)


def test_atomic_writes_get_the_users_mode(umask, tmp_path):
    text = atomic_write_text(tmp_path / "table.tsv", "a\tb\n")
    assert _mode(text) == 0o666 & ~umask
    with atomic_path(tmp_path / "image.nii.gz", ".nii.gz") as temporary:
        temporary.write_bytes(b"data")  # writers like nibabel open the temporary file again
    assert _mode(tmp_path / "image.nii.gz") == 0o666 & ~umask
    # no temporary file is left beside the results
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image.nii.gz", "table.tsv"]


def test_exported_maps_are_readable_by_the_group(tmp_path):
    """The export path a user takes (NIfTI maps), under the common umask 022: 0644."""
    import nibabel as nib

    from core.maps.export import save_map

    previous = os.umask(0o022)
    try:
        path = save_map(tmp_path / "map.nii.gz", np.zeros((3, 4, 5), np.float32), np.eye(4))
    finally:
        os.umask(previous)
    assert _mode(path) == 0o644
    assert nib.load(path).shape == (3, 4, 5)
