"""Saved reviews: round trip, changed or moved inputs, atomic writes, corrupted files."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest

import core.io.files
from core.errors import InputError
from core.io.inputs import open_fmriprep, open_timeseries_pair
from core.io.review_file import (
    REVIEW_VERSION,
    InputChangedError,
    ReviewExistsError,
    ReviewFileError,
    load_review,
    make_review,
    open_review_inputs,
    save_review,
)
from core.pipeline import run_comparison
from core.settings import AnalysisSettings, DenoiseSettings

VIEW = {"cursor_mm": [-6.0, -52.0, 26.0], "colormap": "viridis", "threshold": 25,
        "seed": {"overlay": "Seed map", "radius_mm": 8.0, "xyz_mm": [2.0, 38.0, -8.0]}}


@pytest.fixture(scope="module")
def copied_demo(demo_root, tmp_path_factory):
    """A private copy of the demo fMRIPrep folder and its comparison."""
    root = tmp_path_factory.mktemp("patient") / "fmriprep"
    shutil.copytree(demo_root, root)
    settings = AnalysisSettings(denoise=DenoiseSettings(strategy="simple", gsr=True))
    inputs = open_fmriprep(root)
    return root, inputs, settings, run_comparison(inputs, settings)


@pytest.fixture
def tables(tmp_path):
    rng = np.random.default_rng(7)
    names = [f"7Networks_LH_{net}_{i}" for net in ("Default", "Cont", "Limbic") for i in range(4)]
    for role in ("pre", "post"):
        pd.DataFrame(rng.standard_normal((80, len(names))), columns=names).to_csv(
            tmp_path / f"{role}.tsv", sep="\t", index=False)
    return tmp_path / "pre.tsv", tmp_path / "post.tsv"


def test_round_trip_recomputes_identical_numbers(copied_demo, tmp_path):
    _, inputs, settings, comparison = copied_demo
    path = save_review(tmp_path / "case.review.json", make_review(inputs, settings, VIEW))
    review = load_review(path)
    assert review.view == VIEW
    assert review.analysis_settings == settings
    again = run_comparison(open_review_inputs(review), review.analysis_settings)
    assert again.subject == comparison.subject
    for a, b in ((again.pre.z, comparison.pre.z), (again.post.z, comparison.post.z)):
        assert np.array_equal(a, b)
    pd.testing.assert_frame_equal(again.network_table(), comparison.network_table())


def test_round_trip_of_tables_with_tr_override(tables, tmp_path):
    inputs = open_timeseries_pair(*tables, tr=1.5)
    settings = AnalysisSettings(denoise=DenoiseSettings(strategy="none", band_pass=None),
                                tr=1.5)
    first = run_comparison(inputs, settings)
    save_review(tmp_path / "t.json", make_review(inputs, settings))
    review = load_review(tmp_path / "t.json")
    again = run_comparison(open_review_inputs(review), review.analysis_settings)
    assert np.array_equal(first.delta_z, again.delta_z)
    assert again.pre.tr == 1.5


def test_changed_input_is_named(copied_demo, tmp_path):
    _, inputs, settings, _ = copied_demo
    save_review(tmp_path / "r.json", make_review(inputs, settings))
    target = inputs.files["post_confounds"]
    original = target.read_bytes()
    try:
        changed = bytearray(original)
        changed[len(changed) // 2] ^= 0x01  # one byte
        target.write_bytes(bytes(changed))
        with pytest.raises(InputChangedError, match=rf"{re.escape(target.name)}.*has changed"):
            open_review_inputs(load_review(tmp_path / "r.json"))
    finally:
        target.write_bytes(original)
    open_review_inputs(load_review(tmp_path / "r.json"))  # restored: opens again


def test_moved_input_is_named(tables, tmp_path):
    inputs = open_timeseries_pair(*tables)
    save_review(tmp_path / "r.json", make_review(inputs, AnalysisSettings()))
    tables[1].rename(tables[1].with_name("elsewhere.tsv"))
    with pytest.raises(InputChangedError, match=r"post\.tsv.*moved or deleted") as info:
        open_review_inputs(load_review(tmp_path / "r.json"))
    assert isinstance(info.value, InputError)


def test_never_overwrites_without_permission(tables, tmp_path):
    review = make_review(open_timeseries_pair(*tables), AnalysisSettings())
    path = save_review(tmp_path / "r.json", review)
    before = path.read_bytes()
    review.view = {"cursor_mm": [1.0, 2.0, 3.0]}
    with pytest.raises(ReviewExistsError, match="exists"):
        save_review(path, review)
    assert path.read_bytes() == before
    save_review(path, review, overwrite=True)
    assert load_review(path).view == {"cursor_mm": [1.0, 2.0, 3.0]}


def test_interrupted_write_keeps_the_previous_file(tables, tmp_path, monkeypatch):
    review = make_review(open_timeseries_pair(*tables), AnalysisSettings())
    path = save_review(tmp_path / "r.json", review)
    before = path.read_bytes()

    def crash(*_args):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(core.io.files.os, "replace", crash)
    review.view = {"changed": True}
    with pytest.raises(OSError, match="simulated"):
        save_review(path, review, overwrite=True)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.suffix != ".tsv"] == ["r.json"]


@pytest.mark.parametrize("mutate, message", [
    (lambda text: text[: len(text) // 2], "truncated JSON"),
    (lambda text: text.replace(f'"version": {REVIEW_VERSION}', '"version": 99'),
     "expected review file version 1, found version 99"),
    (lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "settings"}),
     "missing settings"),
    (lambda text: json.dumps({**json.loads(text), "format": "other"}), "expected a prepost"),
    (lambda text: json.dumps({**json.loads(text), "settings": {"atlas": "x"}}),
     "expected valid analysis settings"),
])
def test_corrupted_review_file_gives_a_clear_error(tables, tmp_path, mutate, message):
    path = save_review(tmp_path / "r.json", make_review(open_timeseries_pair(*tables),
                                                        AnalysisSettings()))
    path.write_text(mutate(path.read_text()))
    with pytest.raises(ReviewFileError, match=message) as info:
        load_review(path)
    assert isinstance(info.value, InputError) and "r.json" in str(info.value)
