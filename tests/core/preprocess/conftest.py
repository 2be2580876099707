"""Fixtures: DICOM visits built at test time from the real series (see dicom_testkit)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dicom_testkit import SLICES, as_localiser, as_t1w, real_files, write_visit


@pytest.fixture(scope="session")
def visits(tmp_path_factory) -> dict[str, Path]:
    """``pre``: the real series as is; ``post``: the same data as a second acquisition."""
    files = real_files()
    base = tmp_path_factory.mktemp("visits")
    pre = base / "pre"
    pre.mkdir()
    for path in files:
        shutil.copyfile(path, pre / path.name)
    return {"pre": pre, "post": write_visit(base / "post", files, "post")}


@pytest.fixture(scope="session")
def visits_with_t1w(tmp_path_factory) -> dict[str, Path]:
    """Two visits, each with the BOLD series, a T1w series and a localiser."""
    files = real_files()
    base = tmp_path_factory.mktemp("visits_t1w")
    out = {}
    for name in ("pre", "post"):
        folder = base / name
        write_visit(folder / "bold", files, f"{name}-bold")
        write_visit(folder / "t1", files[:SLICES], f"{name}-t1", as_t1w)
        write_visit(folder / "loc", files[:3], f"{name}-loc", as_localiser)
        out[name] = folder
    return out
