"""Faults: symlink loops, huge sparse files, unreadable paths, and fuzzed readers."""

from __future__ import annotations

import contextlib
import os

import nibabel as nib
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import InputError
from core.io.nifti import read_nifti
from core.io.scan import load_bold
from core.io.timeseries_table import read_timeseries_table

MNI_AFFINE = np.array([[-4.0, 0, 0, 90], [0, 4, 0, -126], [0, 0, 4, -72], [0, 0, 0, 1]])


def _header_bytes(shape, dtype=np.float32) -> bytes:
    header = nib.Nifti1Header()
    header.set_data_shape(shape)
    header.set_data_dtype(dtype)
    header.set_sform(MNI_AFFINE, code=4)
    header.set_xyzt_units("mm", "sec")
    header["pixdim"][4] = 2.0
    header.set_data_offset(352)
    return header.binaryblock + b"\x00" * 4


def test_symlink_loop_is_named(tmp_path):
    a, b = tmp_path / "a.nii.gz", tmp_path / "b.nii.gz"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(InputError, match="looping symbolic link") as error:
        read_nifti(a)
    assert "a.nii.gz" in str(error.value)


def test_huge_sparse_file_is_refused_before_reading(tmp_path):
    """A header promising ~150 GiB on a sparse file: refused from the header alone."""
    shape = (256, 256, 256, 2400)
    path = tmp_path / "huge_bold.nii"
    with path.open("wb") as stream:
        stream.write(_header_bytes(shape))
        stream.truncate(352 + int(np.prod(shape)) * 4)  # sparse: no blocks are written
    with pytest.raises(InputError, match=r"fits in memory|at most") as error:
        load_bold(path)
    assert "huge_bold.nii" in str(error.value)


def test_implausible_number_of_volumes_is_refused(tmp_path):
    path = tmp_path / "long_bold.nii"
    shape = (4, 4, 4, 30000)
    with path.open("wb") as stream:
        stream.write(_header_bytes(shape))
        stream.truncate(352 + int(np.prod(shape)) * 4)
    with pytest.raises(InputError, match="at most 20000 volumes"):
        load_bold(path)


def test_a_folder_named_like_an_image_is_refused(tmp_path):
    folder = tmp_path / "scan.nii.gz"
    folder.mkdir()
    with pytest.raises(InputError, match="found a folder"):
        read_nifti(folder)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file_is_named(tmp_path):
    path = tmp_path / "locked.nii"
    path.write_bytes(_header_bytes((4, 4, 4, 3)) + b"\x00" * 4 * 192)
    path.chmod(0)
    with pytest.raises(InputError, match="cannot be read"):
        read_nifti(path)


def test_unreadable_file_simulated(tmp_path, monkeypatch):
    """Whatever the user, an OSError while opening becomes a clear InputError."""
    from pathlib import Path

    path = tmp_path / "locked.nii"
    path.write_bytes(_header_bytes((4, 4, 4, 3)) + b"\x00" * 4 * 192)
    real_open = Path.open

    def deny(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)
    with pytest.raises(InputError, match=r"cannot be read.*Permission denied"):
        read_nifti(path)


FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.binary(min_size=0, max_size=2048), gz=st.booleans(), cut=st.integers(0, 600))
def test_fuzzed_nifti_bytes_give_only_clean_errors(tmp_path, data, gz, cut):
    from isal import igzip

    valid = _header_bytes((3, 4, 5, 6)) + np.zeros(360, np.float32).tobytes()
    payload = valid[:cut] + data  # a real header prefix followed by garbage
    path = tmp_path / ("fuzz.nii.gz" if gz else "fuzz.nii")
    path.write_bytes(igzip.compress(payload) if gz else payload)
    with contextlib.suppress(InputError):
        load_bold(path)


@FUZZ
@given(text=st.text(alphabet=st.sampled_from(list("ab1.-e\t,\n x\"nNaIf")), max_size=400))
def test_fuzzed_tables_give_only_clean_errors(tmp_path, text):
    path = tmp_path / "fuzz.tsv"
    path.write_text(text, encoding="utf-8")
    try:
        table = read_timeseries_table(path)
    except InputError:
        return
    assert np.isfinite(table.data).all() and table.data.shape[1] >= 2


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=5),
    max_leaves=20,
)


@FUZZ
@given(document=st.dictionaries(
    st.sampled_from(["format", "version", "inputs", "settings", "view", "source", "created",
                     "patient_label", "x"]), _JSON_VALUES, max_size=8),
    raw=st.binary(max_size=200), as_json=st.booleans())
def test_fuzzed_saved_reviews_give_only_clean_errors(tmp_path, document, raw, as_json):
    import json

    from core.io.review_file import load_review

    path = tmp_path / "fuzz.review.json"
    if as_json:
        path.write_text(json.dumps(document), encoding="utf-8")
    else:
        path.write_bytes(raw)
    with contextlib.suppress(InputError):
        load_review(path)
