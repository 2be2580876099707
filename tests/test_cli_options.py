"""Every numeric option is checked on entry; --no-detrend gives plain Pearson correlations.

The property-based test at the end throws random combinations of flags, values and
small corrupted tables at ``analyze``: each run must end in exit 0, or exit 2 with
one ``error:`` line, never in a traceback or exit 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.cli import main

RETEST = Path("/work/shared/data/retest_cohort")
NAMES = ["LH_Default_PFC_1", "LH_Default_PCC_1", "LH_Cont_Par_1", "RH_Limbic_OFC_1"]


def _tables(folder: Path, n_volumes: int = 120, seed: int = 0) -> list[Path]:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for session in ("pre", "post"):
        data = rng.standard_normal((n_volumes, len(NAMES))) + np.linspace(0, 3, n_volumes)[:, None]
        path = folder / f"{session}.tsv"
        pd.DataFrame(data, columns=NAMES).to_csv(path, sep="\t", index=False)
        paths.append(path)
    return paths


def _analyze(paths: list[Path], out: Path, *options: str) -> int:
    try:
        return main(["analyze", "--timeseries-pre", str(paths[0]), "--timeseries-post",
                     str(paths[1]), "--out", str(out), *options])
    except SystemExit as exit_:  # argparse's own errors
        return int(exit_.code or 0)


def _one_error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 1, lines
    assert "Traceback" not in "\n".join(lines)
    return errors[0]


@pytest.mark.parametrize(("options", "message"), [
    (["--tr", "0"], "--tr: expected a repetition time in seconds between 0.1 and 10, got 0"),
    (["--tr", "-2"], "expected a repetition time in seconds between 0.1 and 10, got -2"),
    (["--tr", "2000"], "got 2000 (milliseconds?)"),
    (["--tr", "nan"], "got nan"),
    (["--tr", "two"], "--tr: expected a repetition time in seconds, got 'two'"),
    (["--tr", "2", "--band-pass", "0.01", "0.6"],
     "expected a band-pass HIGH below the Nyquist frequency 0.25 Hz of TR 2 s, got 0.6 Hz"),
    (["--tr", "2", "--band-pass", "0", "0.1"], "expected a band-pass 0 < LOW < HIGH"),
    (["--tr", "2", "--band-pass", "0.1", "0.01"], "expected a band-pass 0 < LOW < HIGH"),
    (["--tr", "2", "--band-pass", "0.01", "inf"], "expected a band-pass 0 < LOW < HIGH"),
    (["--tr", "2", "--min-volumes", "2"],
     "--min-volumes: expected a number of volumes between 3 and 20000, got 2"),
    (["--tr", "2", "--min-volumes", "1e9"], "expected a whole number of volumes, got '1e9'"),
])
def test_impossible_numbers_are_refused_with_expected_and_got(tmp_path, capsys, options,
                                                              message):
    out = tmp_path / "out"
    code = _analyze(_tables(tmp_path / "in"), out, "--strategy", "none", *options)
    assert code == 2
    assert message in _one_error_line(capsys)
    assert not out.exists() or not any(out.iterdir())


def test_no_detrend_gives_plain_pearson_of_real_cleaned_series(tmp_path):
    """XCP-D-cleaned real series: with nothing applied, z = arctanh(np.corrcoef)."""
    pre = RETEST / "timeseries" / "sub-002_ses-1_timeseries.tsv.gz"
    post = RETEST / "timeseries" / "sub-002_ses-2_timeseries.tsv.gz"
    out = tmp_path / "plain"
    code = main(["analyze", "--timeseries-pre", str(pre), "--timeseries-post", str(post),
                 "--strategy", "none", "--no-filter", "--no-detrend", "--min-volumes", "10",
                 "--out", str(out)])
    assert code == 0
    ours = pd.read_csv(out / "connectivity_pre.tsv", sep="\t", index_col=0)
    raw = pd.read_csv(pre, sep="\t")[list(ours.columns)].to_numpy()
    reference = np.arctanh(np.clip(np.corrcoef(raw, rowvar=False), -1 + 1e-12, 1 - 1e-12))
    np.fill_diagonal(reference, 0)
    assert np.abs(ours.to_numpy() - reference).max() < 1e-6
    summary = json.loads((out / "summary.json").read_text())
    assert summary["parameters"]["denoise"]["detrend"] is False


def test_detrending_is_what_differs_without_no_detrend(tmp_path):
    """The same tables with detrending on differ from plain Pearson (trends are in the data)."""
    paths = _tables(tmp_path / "in")
    plain, detrended = tmp_path / "plain", tmp_path / "detrended"
    common = ["--strategy", "none", "--no-filter", "--min-volumes", "10"]
    assert _analyze(paths, plain, *common, "--no-detrend") == 0
    assert _analyze(paths, detrended, *common) == 0
    z_plain = pd.read_csv(plain / "connectivity_pre.tsv", sep="\t", index_col=0).to_numpy()
    z_detrended = pd.read_csv(detrended / "connectivity_pre.tsv", sep="\t",
                              index_col=0).to_numpy()
    raw = pd.read_csv(paths[0], sep="\t").to_numpy()
    assert np.abs(z_plain - np.arctanh(np.clip(np.corrcoef(raw, rowvar=False), -1, 1 - 1e-12))
                  * (1 - np.eye(len(NAMES)))).max() < 1e-6
    assert np.abs(z_plain - z_detrended).max() > 0.1


# ---------------------------------------------------------------------------
# property-based: random options and corrupted tables never end in a traceback
# ---------------------------------------------------------------------------

_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32).map(lambda v: f"{v:g}"),
    st.sampled_from(["0", "-1", "1e9", "abc", "", "2", "0.01", "0.1", "0.6", "3"]),
)
_OPTION = st.one_of(
    st.tuples(st.just("--tr"), _NUMBERS),
    st.tuples(st.just("--band-pass"), _NUMBERS, _NUMBERS),
    st.tuples(st.just("--min-volumes"), _NUMBERS),
    st.tuples(st.just("--strategy"), st.sampled_from(["none", "simple", "compcor", "x"])),
    st.tuples(st.sampled_from(["--no-filter", "--no-detrend", "--gsr"])),
    st.tuples(st.just("--atlas"), st.sampled_from(["schaefer100", "nonexistent"])),
)
_CORRUPTION = st.sampled_from(["none", "text", "empty", "nan", "n/a", "short", "ragged",
                               "header_only", "one_column", "duplicate_names"])


def _corrupt(path: Path, how: str, row: int) -> None:
    lines = path.read_text().splitlines()
    body = [line.split("\t") for line in lines[1:]]
    row = row % len(body)
    if how in ("text", "empty", "nan", "n/a"):
        body[row][1] = {"text": "high", "empty": "", "nan": "nan", "n/a": "n/a"}[how]
    elif how == "short":
        body = body[:2]
    elif how == "ragged":
        body[row] = body[row][:-1]
    elif how == "header_only":
        body = []
    elif how == "one_column":
        lines[0] = lines[0].split("\t")[0]
        body = [b[:1] for b in body]
    elif how == "duplicate_names":
        lines[0] = "\t".join([lines[0].split("\t")[0]] * len(NAMES))
    path.write_text("\n".join([lines[0], *("\t".join(b) for b in body)]) + "\n")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(options=st.lists(_OPTION, max_size=4), corruption=_CORRUPTION,
       row=st.integers(0, 200))
def test_random_options_and_tables_end_in_exit_0_or_one_error_line(
        tmp_path_factory, capsys, options, corruption, row):
    folder = tmp_path_factory.mktemp("case")
    paths = _tables(folder / "in", n_volumes=60)
    _corrupt(paths[0], corruption, row)
    argv = [part for option in options for part in option]
    code = _analyze(paths, folder / "out", *argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert code in (0, 2), (argv, corruption, captured.err)
    if code == 2:
        assert len([line for line in captured.err.splitlines() if "error:" in line]) == 1, (
            argv, corruption, captured.err)
