"""The report: Qt-free content and HTML, the two-page PDF drawn with Qt, and `--report`."""

from __future__ import annotations

import html
import re
import shutil
import subprocess

import pandas as pd
import pytest

from core.cli import main
from core.errors import InputError
from core.io.files import sha256_file
from core.report.content import (
    build_report_content,
    check_report_path,
    clean_patient_label,
)
from core.report.html import report_html, write_report_html

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture(scope="module")
def demo(demo_root):
    from core.io.inputs import open_fmriprep
    from core.pipeline import run_comparison

    inputs = open_fmriprep(demo_root)
    return inputs, run_comparison(inputs)


def _pages(pdf) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))


def test_content_has_everything_the_report_needs(demo):
    inputs, comparison = demo
    content = build_report_content(comparison, inputs)
    assert content.patient_label == comparison.subject == "sub-demo"
    assert "not a diagnostic device" in content.disclaimer
    params = dict(content.parameters)
    assert {"Atlas", "Denoising strategy", "Band-pass", "TR", "Volumes kept"} <= set(params)
    assert params["TR"] == "2 s"
    assert {"Mean FD (mm)", "Volumes FD > 0.5 mm"} <= set(content.qc["measure"])
    high = content.qc.set_index("measure").loc["Volumes FD > 0.5 mm"]
    pre_qc, post_qc = comparison.qc
    assert (high.pre, high.post) == (str(pre_qc.n_fd_over_threshold),
                                     str(post_qc.n_fd_over_threshold))
    assert content.motion_note.startswith(f"{pre_qc.n_fd_over_threshold} of 300 volumes (pre)")
    assert "the 'simple' strategy does not scrub" in content.motion_note
    assert f"High-motion volumes: {html.escape(content.motion_note)}" in report_html(content)
    assert {"delta_z", "se", "stat", "p", "q"} <= set(content.networks.columns)
    assert len(content.networks) == 28 and len(content.named_edges) == 6
    roles = {role: digest for role, _name, digest in content.inputs}
    assert roles["pre_bold"] == sha256_file(inputs.files["pre_bold"])
    assert {"numpy", "nilearn", "prepost-review"} <= set(content.software)
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", content.created)


def test_patient_label_is_one_short_line_defaulting_to_subject():
    assert clean_patient_label(None, "sub-01") == "sub-01"
    assert clean_patient_label("  \n ", "sub-01") == "sub-01"
    assert clean_patient_label(" Bed 4 \n case  A ", "sub-01") == "Bed 4 case A"
    assert len(clean_patient_label("x" * 500, "sub-01")) == 64


def test_html_is_self_contained_and_escaped(demo, tmp_path):
    inputs, comparison = demo
    content = build_report_content(comparison, inputs, patient_label="<b>A&B</b>")
    text = report_html(content, {"matrices": PNG, "slices": PNG})
    assert "&lt;b&gt;A&amp;B&lt;/b&gt;" in text and "<b>A&B</b>" not in text
    assert text.count("data:image/png;base64,") == 2
    for needle in ("not a diagnostic device", "Quality control", "Network Δ",
                   "Named clinical edges", "SHA-256", "Limbic – Default", "dlPFC(L)–sgACC"):
        assert needle in text
    out = write_report_html(tmp_path / "r.html", content, {"matrices": PNG})
    assert out.read_text(encoding="utf-8").count("data:image/png") == 1
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_report_path_refuses_input_folders_and_wrong_suffix(demo, tmp_path):
    inputs, _ = demo
    bold_folder = inputs.files["pre_bold"].parent
    with pytest.raises(InputError, match="outside the patient's input folders"):
        check_report_path(bold_folder / "report.pdf", inputs)
    with pytest.raises(InputError, match=r"ending in \.pdf"):
        check_report_path(tmp_path / "report.docx", inputs)
    assert check_report_path(tmp_path / "r.pdf", inputs) == (tmp_path / "r.pdf").resolve()


def test_pdf_has_at_most_two_pages_and_matches_html(demo, tmp_path, qapp):
    from gui.report_pdf import write_pdf

    inputs, comparison = demo
    content = build_report_content(comparison, inputs, patient_label="Case 7")
    pdf = tmp_path / "report.pdf"
    images = write_pdf(pdf, content, comparison)
    assert set(images) == {"matrices", "slices"}
    assert pdf.read_bytes().startswith(b"%PDF") and 1 <= _pages(pdf) <= 2
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]  # no temporary left
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        for needle in ("Case 7", "not a diagnostic device", "Limbic – Default", "page 2 of 2",
                       "Fisher z", "SHA-256"):
            assert needle in text


def test_cli_report_needs_a_pdf_writer(tmp_path, capsys):
    code = main(["analyze", "--demo", "--out", str(tmp_path / "out"), "--report",
                 str(tmp_path / "r.pdf")])
    assert code == 2
    assert "PDF reports need the Qt interface installed" in capsys.readouterr().err
    assert not (tmp_path / "r.pdf").exists()


def test_cli_writes_pdf_and_html_report(demo, tmp_path, qapp, capsys):
    from gui.report_pdf import write_pdf

    _, comparison = demo
    for role, session in (("pre", comparison.pre), ("post", comparison.post)):
        pd.DataFrame(session.timeseries, columns=comparison.rois.names).to_csv(
            tmp_path / f"{role}.tsv", sep="\t", index=False)
    pdf = tmp_path / "report" / "case.pdf"
    pdf.parent.mkdir()
    code = main(["analyze", "--timeseries-pre", str(tmp_path / "pre.tsv"), "--timeseries-post",
                 str(tmp_path / "post.tsv"), "--tr", "2", "--strategy", "none", "--out",
                 str(tmp_path / "out"), "--report", str(pdf), "--patient-label", "Case 9"],
                pdf_writer=write_pdf)
    assert code == 0, capsys.readouterr().err
    assert 1 <= _pages(pdf) <= 2
    html = pdf.with_suffix(".html").read_text(encoding="utf-8")
    assert "Case 9" in html and "data:image/png;base64," in html
    assert sorted(p.name for p in pdf.parent.iterdir()) == ["case.html", "case.pdf"]
    # into an input folder: refused with exit code 2 before any work
    assert main(["analyze", "--timeseries-pre", str(tmp_path / "pre.tsv"), "--timeseries-post",
                 str(tmp_path / "post.tsv"), "--tr", "2", "--out", str(tmp_path / "out2"),
                 "--report", str(tmp_path / "bad.pdf")], pdf_writer=write_pdf) == 2
    assert not (tmp_path / "bad.pdf").exists()
