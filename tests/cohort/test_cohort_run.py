"""``cohort`` end to end on a local cluster: outputs, failures, exit codes, resumption."""

from __future__ import annotations

import io
import json
import os

import pandas as pd
import pytest
from cohort_testkit import ARGV, OUTPUT_FILES, SETTINGS, synthetic_cohort

from core import cli
from core.cli import main
from core.cohort import run_cohort
from core.cohort.summary_files import Progress
from core.errors import InputError


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"},
                      ) as cluster, Client(cluster) as c:
        yield c


def _with_bad_rows(folder):
    table = synthetic_cohort(folder, 3)
    bad = (folder / "data/sub-00_pre.tsv").read_text().splitlines()
    bad[5] = "\t".join(["nan"] * len(bad[0].split("\t")))
    (folder / "data/bad_pre.tsv").write_text("\n".join(bad) + "\n")
    with table.open("a") as stream:
        stream.write("sub-missing\tdata/nothing.tsv\tdata/sub-00_post.tsv\n")
        stream.write("sub-nan\tdata/bad_pre.tsv\tdata/sub-00_post.tsv\n")
    return table


def _hidden(out):
    return [p.name for p in out.glob(".*") if p.name != ".cohort.lock"]


@pytest.fixture
def reference_step(monkeypatch):
    """Record what the cohort hands to the CLI's reference-of-repeat-scans step."""
    calls = []
    monkeypatch.setattr(cli, "_reference_step", lambda out, folders: calls.append((out, folders)))
    return calls


def test_cli_cohort_writes_outputs_failures_and_exits_3(tmp_path, capsys, reference_step):
    table = _with_bad_rows(tmp_path / "in")
    out = tmp_path / "out"
    code = main(["cohort", str(table), "--out", str(out), "--workers", "2", *ARGV])
    assert code == 3
    assert reference_step == [(out, [out / "sub-00", out / "sub-01", out / "sub-02"])]
    err = capsys.readouterr().err
    assert "cohort: 3 done, 0 skipped, 2 failed, 0 remaining, time left 0 s" in err
    assert "distributed" not in err  # no cluster chatter
    failures = pd.read_csv(out / "failures.tsv", sep="\t").set_index("subject")["error"]
    assert sorted(failures.index) == ["sub-missing", "sub-nan"]
    assert "nothing.tsv" in failures["sub-missing"]
    assert "NaN" in failures["sub-nan"] and "bad_pre.tsv" in failures["sub-nan"]
    for subject in ("sub-00", "sub-01", "sub-02"):
        assert {p.name for p in (out / subject).iterdir()} == OUTPUT_FILES
        assert json.loads((out / subject / "summary.json").read_text())["subject"] == subject
    assert not (out / "sub-missing").exists() and not _hidden(out)
    networks = pd.read_csv(out / "cohort_networks.tsv", sep="\t")
    assert list(networks.columns[:7]) == ["subject", "network_a", "network_b", "n_edges",
                                          "z_pre", "z_post", "delta_z"]
    assert list(networks["subject"].drop_duplicates()) == ["sub-00", "sub-01", "sub-02"]
    assert len(networks) == 3 * 28  # 7 networks: 28 blocks per subject
    own = (out / "sub-01" / "networks.tsv").read_text().splitlines()
    block = [line.split("\t", 1)[1] for line in
             (out / "cohort_networks.tsv").read_text().splitlines() if line.startswith("sub-01")]
    assert block == own[1:]  # the very same text


def test_cohort_pair_equals_analyze_byte_for_byte(tmp_path):
    table = synthetic_cohort(tmp_path / "in", 1)
    assert main(["cohort", str(table), "--out", str(tmp_path / "out"), "--workers", "1",
                 *ARGV]) == 0
    data = tmp_path / "in" / "data"
    assert main(["analyze", "--timeseries-pre", str(data / "sub-00_pre.tsv"),
                 "--timeseries-post", str(data / "sub-00_post.tsv"), "--out",
                 str(tmp_path / "ref"), *ARGV]) == 0
    ours, theirs = tmp_path / "out" / "sub-00", tmp_path / "ref"
    cohort_only = {"cohort.json", "reference_pair.npz"}  # the resume stamp; the reference's part
    assert {p.name for p in theirs.iterdir()} | cohort_only == OUTPUT_FILES
    for name in OUTPUT_FILES - {"summary.json"} - cohort_only:
        assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name
    summary, reference = (json.loads((f / "summary.json").read_text()) for f in (ours, theirs))
    for key in ("created", "subject"):
        summary.pop(key), reference.pop(key)
    assert summary == reference


def test_resume_skips_unchanged_pairs_and_redoes_changed_ones(tmp_path, client):
    table = synthetic_cohort(tmp_path / "in", 3)
    out = tmp_path / "out"
    assert run_cohort(table, out, SETTINGS, client=client).exit_code == 0
    before = {s: (out / s / "networks.tsv").stat().st_mtime_ns
              for s in ("sub-00", "sub-01", "sub-02")}
    outcome = run_cohort(table, out, SETTINGS, client=client)
    assert outcome.exit_code == 0 and {r["status"] for r in outcome.results} == {"skipped"}
    assert outcome.finished == [out / "sub-00", out / "sub-01", out / "sub-02"]
    changed = tmp_path / "in" / "data" / "sub-02_post.tsv"
    changed.write_text(changed.read_text().replace("0", "1", 5))  # same size, new bytes
    status = {r["subject"]: r["status"]
              for r in run_cohort(table, out, SETTINGS, client=client).results}
    assert status == {"sub-00": "skipped", "sub-01": "skipped", "sub-02": "done"}
    assert (out / "sub-00" / "networks.tsv").stat().st_mtime_ns == before["sub-00"]
    assert (out / "sub-02" / "networks.tsv").stat().st_mtime_ns != before["sub-02"]
    other = SETTINGS.__class__(denoise=SETTINGS.denoise.__class__(
        strategy="none", band_pass=None, min_volumes=40), tr=2.0)  # other options: redo all
    outcome = run_cohort(table, out, other, client=client)
    assert {r["status"] for r in outcome.results} == {"done"} and not _hidden(out)


def test_every_pair_bad_exits_2_and_a_foreign_folder_is_kept(tmp_path, client, capsys):
    (tmp_path / "c.tsv").write_text("subject\tpre\tpost\ns1\tno1.tsv\tno2.tsv\n")
    out = tmp_path / "out"
    (out / "s2").mkdir(parents=True)
    (out / "s2" / "mine.txt").write_text("not ours")
    (tmp_path / "c2.tsv").write_text("subject\tpre\tpost\ns2\tno1.tsv\tno2.tsv\n")
    assert run_cohort(tmp_path / "c.tsv", out, SETTINGS, client=client).exit_code == 2
    outcome = run_cohort(tmp_path / "c2.tsv", out, SETTINGS, client=client)
    assert outcome.exit_code == 2 and outcome.finished == []
    assert (out / "s2" / "mine.txt").read_text() == "not ours"
    assert pd.read_csv(out / "failures.tsv", sep="\t")["subject"].tolist() == ["s2"]


def test_refuses_an_output_folder_holding_inputs(tmp_path, client):
    table = synthetic_cohort(tmp_path / "in", 1)
    for out in (tmp_path / "in", tmp_path / "in" / "data", tmp_path):
        with pytest.raises(InputError, match="outside the cohort's inputs"):
            run_cohort(table, out, SETTINGS, client=client)
    assert sorted(os.listdir(tmp_path / "in")) == ["cohort.tsv", "data"]


def test_cli_refuses_analyze_only_options_and_a_bad_table(tmp_path, capsys):
    table = synthetic_cohort(tmp_path, 1)
    for extra in (["--pre", "x.nii"], ["--report", "r.pdf"], ["--workers", "0"],
                  ["--workers", "1", "--scheduler", "tcp://127.0.0.1:1"]):
        with pytest.raises(SystemExit) as info:
            main(["cohort", str(table), "--out", str(tmp_path / "o"), *extra])
        assert info.value.code == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1
    out = str(tmp_path / "o")
    for args, name in (([str(tmp_path / "none.tsv"), "--out", out], "none.tsv"),
                       ([str(table), "--out", out, "--labels", str(tmp_path / "no.tsv")],
                        "no.tsv")):
        assert main(["cohort", *args]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error:") and name in err[0]
    assert not (tmp_path / "o").exists()
    assert main(["cohort", str(table), "--out", str(tmp_path / "o"), "--band-pass", "0.1",
                 "0.01"]) == 2
    assert "LOW < HIGH" in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_redraws_one_line_on_a_terminal_and_writes_lines_elsewhere():
    for stream, expected in ((_Terminal(), "\r"), (io.StringIO(), "\n")):
        progress = Progress(3, stream)
        for status in ("skipped", "done", "failed"):
            progress.update(status)
        text = stream.getvalue()
        assert text.count(expected) == 3 and text.endswith("time left 0 s" + (
            "\x1b[K\n" if expected == "\r" else "\n"))
        assert "cohort: 1 done, 1 skipped, 1 failed, 0 remaining" in text
