"""Time-series tables: gzipped files, networks from a labels table by name, Schaefer names.

Includes the real retest cohort (``/work/shared/data/retest_cohort``): Schaefer 400
names without the ``7Networks_`` prefix and 19 ``Subcortical_NN`` columns.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cohort_testkit import ARGV, write_series

from core.cli import main
from core.errors import AtlasError, InputFileError
from core.io.timeseries_table import (
    network_from_roi_name,
    read_roi_labels,
    read_timeseries_table,
    roi_networks,
)

RETEST = Path("/work/shared/data/retest_cohort")
SCHAEFER_7 = {"Vis", "SomMot", "DorsAttn", "SalVentAttn", "Limbic", "Cont", "Default"}


@pytest.mark.parametrize(("name", "network"), [
    ("7Networks_LH_Default_PFC_1", "Default"),
    ("LH_Vis_1", "Vis"),
    ("RH_Default_PFCdPFCm_3", "Default"),
    ("RH_SalVentAttn_Med_2", "SalVentAttn"),
    ("17Networks_LH_VisCent_ExStr_1", "VisCent"),
    ("LH_TempPar_4", "TempPar"),
    ("Subcortical_01", ""),
    ("XH_Vis_1", ""),
    ("LH_Visual_1", ""),
    ("custom_roi", ""),
])
def test_network_from_roi_name_with_and_without_prefix(name, network):
    assert network_from_roi_name(name) == network


def test_gzipped_tables_read_as_plain_ones(tmp_path):
    names = ["LH_Vis_1", "RH_Default_PFCdPFCm_3", "Subcortical_01"]
    rng = np.random.default_rng(1)
    write_series(tmp_path / "a.tsv", names, 12, rng)
    (tmp_path / "a.tsv.gz").write_bytes(gzip.compress((tmp_path / "a.tsv").read_bytes()))
    frame = pd.read_csv(tmp_path / "a.tsv", sep="\t")
    frame.to_csv(tmp_path / "a.csv.gz", index=False, float_format="%.5f")
    plain = read_timeseries_table(tmp_path / "a.tsv")
    for name in ("a.tsv.gz", "a.csv.gz"):
        table = read_timeseries_table(tmp_path / name)
        assert table.roi_names == names and np.array_equal(table.data, plain.data)
    (tmp_path / "broken.tsv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(InputFileError, match="expected a gzipped text table") as info:
        read_timeseries_table(tmp_path / "broken.tsv.gz")
    assert "broken.tsv.gz" in str(info.value)


def test_labels_assign_networks_by_name_and_warn_about_unmatched_columns(tmp_path):
    labels = tmp_path / "rois.tsv"
    labels.write_text("index\tname\tnetwork\n1\tLH_Vis_1\tVis\n2\tSubcortical_01\tSubcortical\n"
                      "3\tRH_Default_PFCdPFCm_3\tn/a\n")
    names = ["LH_Vis_1", "RH_Default_PFCdPFCm_3", "Subcortical_01", "LH_Cont_Par_2", "mine"]
    networks, warnings = roi_networks(names, labels)
    assert networks == ["Vis", "Default", "Subcortical", "Cont", ""]
    assert len(warnings) == 1
    assert "2 of 5 time-series columns are not in the labels table rois.tsv" in warnings[0]
    assert "LH_Cont_Par_2, mine" in warnings[0]
    assert roi_networks(names[:3], labels)[1] == []
    assert roi_networks(names) == (["Vis", "Default", "", "Cont", ""], [])


@pytest.mark.parametrize(("text", "message"), [
    ("index\tlabel\tnetwork\n1\tLH_Vis_1\tVis\n", "missing name"),
    ("index\tname\n1\tLH_Vis_1\n", "missing network"),
    ("index\tname\tnetwork\n1\tA\tVis\n2\tA\tCont\n", "expected each ROI name once, found "
                                                       "repeats of A"),
])
def test_bad_labels_tables_name_the_file(tmp_path, text, message):
    path = tmp_path / "labels.tsv"
    path.write_text(text)
    with pytest.raises(AtlasError, match=message) as info:
        read_roi_labels(path)
    assert str(path) in str(info.value)


def test_cohort_of_gzipped_tables_with_labels(tmp_path, capsys):
    names = ["LH_Vis_1", "LH_Vis_2", "RH_Default_PFCdPFCm_3", "RH_Default_pCunPCC_1",
             "Subcortical_01", "Subcortical_02"]
    rng = np.random.default_rng(7)
    data = tmp_path / "in"
    data.mkdir()
    for session in ("pre", "post"):
        write_series(data / f"s1_{session}.tsv.gz", names, 60, rng)
    (data / "cohort.tsv").write_text("subject\tpre\tpost\ns1\ts1_pre.tsv.gz\ts1_post.tsv.gz\n")
    labels = data / "rois.tsv"
    labels.write_text("index\tname\tnetwork\n" + "".join(
        f"{i}\t{n}\tSubcortical\n" for i, n in enumerate(names[4:], 1)))
    out = tmp_path / "out"
    assert main(["cohort", str(data / "cohort.tsv"), "--out", str(out), "--labels",
                 str(labels), "--workers", "1", "--min-volumes", "20", *ARGV]) == 0
    rois = pd.read_csv(out / "s1" / "rois.tsv", sep="\t")
    assert list(rois["network"]) == ["Vis", "Vis", "Default", "Default", "Subcortical",
                                     "Subcortical"]
    warnings = " ".join(pd.read_json(out / "s1" / "summary.json", typ="series")["warnings"])
    assert "4 of 6 time-series columns are not in the labels table rois.tsv" in warnings


def test_analyze_reports_a_bad_labels_table_in_one_line(tmp_path, capsys):
    names = ["LH_Vis_1", "LH_Vis_2", "RH_Default_PFCdPFCm_3"]
    rng = np.random.default_rng(2)
    for session in ("pre", "post"):
        write_series(tmp_path / f"{session}.tsv.gz", names, 30, rng)
    labels = tmp_path / "labels.tsv"
    labels.write_text("index\tlabel\n1\tLH_Vis_1\n")
    code = main(["analyze", "--timeseries-pre", str(tmp_path / "pre.tsv.gz"),
                 "--timeseries-post", str(tmp_path / "post.tsv.gz"), "--labels", str(labels),
                 "--min-volumes", "20", "--out", str(tmp_path / "out"), *ARGV])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()  # before any work: no progress
    assert len(err) == 1 and str(labels) in err[0] and "missing name" in err[0]


def test_real_cohort_names_give_schaefer_networks_and_labels_add_subcortical():
    with gzip.open(RETEST / "timeseries" / "sub-002_ses-1_timeseries.tsv.gz", "rt") as stream:
        header = stream.readline().rstrip("\n").split("\t")
    networks, _ = roi_networks(header)
    assert set(networks[:400]) == SCHAEFER_7 and set(networks[400:]) == {""}
    networks, warnings = roi_networks(header, RETEST / "rois.tsv")
    assert set(networks) == SCHAEFER_7 | {"Subcortical"} and warnings == []


@pytest.mark.slow
def test_real_cohort_subjects_get_the_seven_networks_and_subcortical(tmp_path):
    rows = (RETEST / "cohort.tsv").read_text().splitlines()[1:3]
    table = tmp_path / "cohort.tsv"
    table.write_text("subject\tpre\tpost\n" + "".join(
        "\t".join([s, *(str(RETEST / p) for p in paths)]) + "\n"
        for s, *paths in (row.split("\t") for row in rows)))
    out = tmp_path / "out"
    assert main(["cohort", str(table), "--out", str(out), "--labels", str(RETEST / "rois.tsv"),
                 "--workers", "2", *ARGV]) == 0
    networks = pd.read_csv(out / "cohort_networks.tsv", sep="\t")
    assert networks["subject"].nunique() == 2
    assert set(networks["network_a"]) | set(networks["network_b"]) == SCHAEFER_7 | {
        "Subcortical"}
    assert len(networks) == 2 * 8 * 9 // 2
    rois = pd.read_csv(out / "sub-002" / "rois.tsv", sep="\t")
    assert len(rois) == 419 and rois["network"].notna().all()
