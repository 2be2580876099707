"""The cohort table: kinds of row, relative paths, and errors that name file, line and column."""

from __future__ import annotations

import pytest

from core.cohort.table import read_cohort_table
from core.errors import InputError


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_resolve_relative_paths_against_the_tables_folder(tmp_path):
    table = _write(tmp_path / "c.tsv",
                   "subject\tpre\tpost\tfmriprep\tpre_session\tpost_session\tmask_pre\n"
                   "sub-01\ta/pre.nii.gz\ta/post.nii.gz\t\t\t\ta/mask.nii.gz\n"
                   "\n"  # blank lines are ignored
                   "sub-02\t\t\tderiv\tses-1\t2\n"
                   f"sub-03\t{tmp_path}/x/pre.tsv.gz\t../y/post.csv\n")
    rows = read_cohort_table(table)
    assert [r.kind for r in rows] == ["nifti", "fmriprep", "timeseries"]
    assert rows[0].pre == str(tmp_path / "a/pre.nii.gz")
    assert rows[0].mask_pre == str(tmp_path / "a/mask.nii.gz") and rows[0].fmriprep is None
    assert rows[1].fmriprep == str(tmp_path / "deriv") and rows[1].pre_session == "ses-1"
    assert rows[2].pre == str(tmp_path / "x/pre.tsv.gz")
    assert rows[2].post == str(tmp_path.parent / "y/post.csv")


def test_relative_paths_do_not_depend_on_the_working_folder(tmp_path, monkeypatch):
    (tmp_path / "t").mkdir()
    _write(tmp_path / "t" / "c.tsv", "subject\tpre\tpost\ns1\tp.tsv\tq.tsv\n")
    monkeypatch.chdir(tmp_path)
    assert read_cohort_table("t/c.tsv")[0].pre == str(tmp_path / "t" / "p.tsv")


@pytest.mark.parametrize(("text", "message"), [
    ("subject\tpre\tpost\n", "found only the header"),
    ("", "found nothing"),
    ("subject\tpre\tpost\tconfound_pre\ns\ta.tsv\tb.tsv\tc\n", "confound_pre"),
    ("subject,pre,post\ns,a.tsv,b.tsv\n", "expected tab-separated, unique columns"),
    ("pre\tpost\na.tsv\tb.tsv\n", "including subject"),
    ("subject\tpre\tpre\ns\ta.tsv\tb.tsv\n", "unique columns"),
    ("subject\tpre\tpost\ns1\ta.tsv\tb.tsv\ns1\tc.tsv\td.tsv\n",
     "line 3: subject s1 repeats s1 of line 2"),
    ("subject\tpre\tpost\nsub-A\ta.tsv\tb.tsv\nSUB-a\tc.tsv\td.tsv\n",
     "line 3: subject SUB-a repeats sub-A of line 2"),
    ("subject\tpre\tpost\ns1\ta.tsv\t\n", "line 2 (s1), column post: expected a value"),
    ("subject\tpre\tpost\ns1\ta.tsv\n", "line 2 (s1), column post: expected a value"),
    ("subject\tpre\n s1\ta.tsv\n", "line 2 (s1), column post: expected a value"),
    ("subject\tpre\tpost\ns1\ta.tsv\tb.tsv\tc\n",
     "line 2: expected 3 tab-separated cells, found 4"),
    ("subject\tfmriprep\tpre_session\ns1\td\t1\n", "line 2 (s1), column post_session"),
    ("subject\tpre\tpost\tfmriprep\ns1\ta.tsv\tb.tsv\td\n", "pre/post or fmriprep, not both"),
    ("subject\tpost\tfmriprep\tpre_session\tpost_session\ns1\tb.tsv\td\t1\t2\n",
     "pre/post or fmriprep, not both"),
    ("subject\tpre\tpost\ns1\ta.nii.gz\tb.tsv\n", "both NIfTI (.nii, .nii.gz) or both"),
    ("subject\tpre\tpost\ns1\ta.txt\tb.txt\n", "found a.txt and b.txt"),
    ("subject\tpre\tpost\tconfounds_pre\ns1\ta.tsv\tb.tsv\tc.tsv\n",
     "confounds_pre only with NIfTI pre/post, found them with timeseries input"),
])
def test_table_errors_name_the_file_line_and_column(tmp_path, text, message):
    table = _write(tmp_path / "cohort.tsv", text)
    with pytest.raises(InputError) as info:
        read_cohort_table(table)
    assert message in str(info.value)
    assert str(table) in str(info.value)


@pytest.mark.parametrize("subject", ["../x", "a/b", ".hidden", "sub 01", "sub-01.", "x" * 65,
                                     "CON", "nul.sub", "sub:1", "é"])
def test_unsafe_subject_ids_are_refused(tmp_path, subject):
    table = _write(tmp_path / "cohort.tsv", f"subject\tpre\tpost\n{subject}\ta.tsv\tb.tsv\n")
    with pytest.raises(InputError, match="column subject: expected a folder-safe ID"):
        read_cohort_table(table)


def test_missing_table_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="readable, tab-separated cohort table") as info:
        read_cohort_table(tmp_path / "none.tsv")
    assert "none.tsv" in str(info.value)
