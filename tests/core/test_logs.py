"""The log file holds no patient names, IDs or birth dates."""

from __future__ import annotations

import logging

from core.logs import RedactingFilter, configure_file_logging, log_file_path, redact


def test_redact_paths_ids_and_dates():
    text = ("failed to read /data/Jane_Doe_1961-04-02/sub-JD42/ses-pre/func/"
            "sub-JD42_ses-pre_task-rest_bold.nii.gz: truncated; "
            "C:\\Patients\\Müller Hans\\scan.nii and sub-007 born 19610402")
    out = redact(text)
    for secret in ("Jane", "Doe", "JD42", "Müller", "Hans", "007", "1961", "0402"):
        assert secret not in out
    assert "<path .nii.gz>" in out and "<path .nii>" in out and "truncated" in out


def test_file_log_is_redacted(tmp_path, monkeypatch):
    monkeypatch.setenv("PREPOST_LOG_DIR", str(tmp_path))
    root = logging.getLogger()
    before = list(root.handlers)
    path = configure_file_logging()
    try:
        assert path == log_file_path() and path.parent == tmp_path
        log = logging.getLogger("prepost.test")
        log.warning("opened %s for sub-%s", "/home/Jane_Doe/scan.nii.gz", "JaneDoe")
        try:
            raise ValueError("/data/John_Smith/sub-JS/bold.nii: bad header")
        except ValueError:
            log.exception("worker failed")
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                handler.close()
                root.removeHandler(handler)
    text = path.read_text(encoding="utf-8")
    assert "worker failed" in text and "bad header" in text
    for secret in ("Jane", "Doe", "John", "Smith", "sub-JS"):
        assert secret not in text


def test_filter_keeps_plain_messages():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "job %d done in %.1f s",
                               (3, 1.25), None)
    RedactingFilter().filter(record)
    assert record.getMessage() == "job 3 done in 1.2 s"
