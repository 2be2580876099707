"""The installation self-test (in process and as ``main.py --self-test``) and the built app.

The build test runs PyInstaller and the built executable's self-test; it is slow
(see README, "Build the installer"); ``PREPOST_SKIP_BUILD_TEST=1`` skips it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_core_self_test_passes(tmp_path, demo_root):
    from core.selftest import format_results, run_self_test, self_test_passed

    results = run_self_test(tmp_path, cache_dir=demo_root.parent)
    by_name = {r.name: r for r in results}
    assert self_test_passed(results), format_results(results)
    assert list(by_name) == ["version", "atlases", "templates", "demo", "pipeline",
                             "ground_truth", "outputs", "report"]
    assert by_name["ground_truth"].status == "pass"
    assert (tmp_path / "outputs" / "summary.json").is_file()
    # core.report is optional: a report is written when it exists, else the check is skipped.
    assert by_name["report"].status in ("pass", "skip")


def test_core_self_test_reports_a_wrong_ground_truth(tmp_path, demo_root, monkeypatch):
    import core.demo
    from core.selftest import run_self_test, self_test_passed

    monkeypatch.setattr(core.demo, "INJECTED_CHANGE",
                        {("Vis", "SomMot"): 0.5, ("Default", "Cont"): 0.6})
    results = run_self_test(tmp_path, cache_dir=demo_root.parent)
    failed = [r for r in results if r.status == "fail"]
    assert not self_test_passed(results)
    assert [r.name for r in failed] == ["ground_truth"]
    assert "expected the largest network changes" in failed[0].detail
    assert "\n" not in failed[0].detail


def test_main_self_test_subprocess(tmp_path, demo_root):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               PREPOST_CACHE_DIR=str(demo_root.parent),
               PREPOST_SETTINGS_FILE=str(tmp_path / "settings.ini"))
    result = subprocess.run([sys.executable, "main.py", "--self-test"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "self-test passed" in result.stdout
    assert "[PASS] window" in result.stdout


def test_icons_exist():
    icons = ROOT / "resources" / "icons"
    for name in ("prepost-review.png", "prepost-review-256.png", "prepost-review.ico"):
        assert (icons / name).stat().st_size > 1000, name


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("PREPOST_SKIP_BUILD_TEST") == "1",
                    reason="PREPOST_SKIP_BUILD_TEST=1: the installer build (1-3 min) is skipped")
def test_build_and_run_built_self_test(tmp_path):
    pytest.importorskip("PyInstaller")
    dist = tmp_path / "dist"
    result = subprocess.run(
        [sys.executable, "packaging/build.py", "--dist", str(dist),
         "--work", str(tmp_path / "work"), "--startup-runs", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    report = json.loads((dist / "prepost-review-build.json").read_text())
    assert report["self_test_exit"] == 0
    assert report["startup_seconds"]
    assert report["folder_mib"] < report["size_budget_mib"] == 310.0
