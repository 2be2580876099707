"""Fixtures: DICOM visits built at test time from the real series (see dicom_testkit); tiny
synthetic BIDS subjects and one shared quick-preprocessing run (see quick_testkit)."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from dicom_testkit import SLICES, as_localiser, as_t1w, real_files, write_visit
from quick_testkit import TINY, fake_quick_derivatives, temporary_entries, tiny_options


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


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """One EPI-only quick run on a tiny synthetic subject (pre, post)."""
    from core.preprocess.quick import run_quick_preprocessing
    from core.preprocess.quick_synthetic import write_synthetic_bids

    root = tmp_path_factory.mktemp("quick")
    truth = write_synthetic_bids(root / "bids", seed=3, **TINY)
    before = temporary_entries()
    messages: list[tuple[float, str]] = []
    out = run_quick_preprocessing(root / "bids", root / "deriv", "synth",
                                  lambda f, m: messages.append((f, m)), tiny_options())
    return SimpleNamespace(root=root, bids=root / "bids", out=out, truth=truth,
                           messages=messages, temporary_before=before,
                           temporary_after=temporary_entries())


@pytest.fixture
def quick_copy(quick_run, tmp_path):
    """A private copy of the shared run's derivatives (tests may accept or alter it)."""
    return Path(shutil.copytree(quick_run.out, tmp_path / "deriv"))


@pytest.fixture
def quick_demo(demo_root, tmp_path):
    """The demo patient as unaccepted quick-preprocessing derivatives."""
    return fake_quick_derivatives(Path(demo_root), tmp_path / "quick_demo")
