"""Start-up without a usable display: one clear line and a clean exit, never Qt's abort."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gui.platform_check import (
    missing_libraries,
    missing_library_message,
    startup_problem,
    xcb_plugin_path,
)

ROOT = Path(__file__).resolve().parents[2]
LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibxkbcommon-x11.so.0 => /lib/x86_64-linux-gnu/libxkbcommon-x11.so.0 (0x00007f3b)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f3b)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f3b)
"""
PLUGIN = Path("/opt/qt/plugins/platforms/libqxcb.so")


def test_ldd_output_gives_each_missing_library_once():
    assert missing_libraries(LDD_OUTPUT) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert missing_libraries("\tlibc.so.6 => /lib/libc.so.6 (0x1)\n") == []


def test_message_names_libraries_and_packages_on_one_line():
    message = missing_library_message(["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    assert "\n" not in message
    assert message.startswith("error: ")
    assert "libxcb-icccm.so.4" in message and "libxcb-keysyms.so.1" in message
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1 (Debian/Ubuntu)" in message
    assert "sudo dnf install xcb-util-wm xcb-util-keysyms (Fedora)" in message
    # a library we have no package for is still named, as itself
    assert "libfoo.so.3" in missing_library_message(["libfoo.so.3"])


def _problem(env, output=LDD_OUTPUT, platform="linux"):
    return startup_problem(env, platform=platform, plugin=PLUGIN, ldd=lambda _path: output)


def test_startup_problem_decides_from_the_environment():
    x11 = {"DISPLAY": ":0"}
    assert "libxcb-icccm4" in _problem(x11)
    assert "libxcb-icccm4" in _problem({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"})
    assert _problem(x11, output="\tlibc.so.6 => /lib/libc.so.6 (0x1)\n") is None
    assert _problem(x11, output=None) is None  # no ldd here: Qt's own message, as before
    assert _problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert _problem({"WAYLAND_DISPLAY": "wayland-0"}) is None
    assert _problem({"DISPLAY": ":0"}, platform="win32") is None
    for env in ({}, {"QT_QPA_PLATFORM": "xcb"}):
        assert _problem(env).startswith("error: no display")


def _run(args, env, timeout=240):
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _env_without_display(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PREPOST_SETTINGS_FILE"] = str(tmp_path / "settings.ini")
    return env


def test_no_display_prints_one_line_and_exits_1(tmp_path):
    done = _run(["--empty"], _env_without_display(tmp_path), timeout=60)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no display"), done.stderr
    assert "--screenshot" in lines[0] and "xvfb-run" in lines[0]


def test_screenshot_without_display_renders_offscreen(tmp_path):
    shot = tmp_path / "window.png"
    done = _run(["--empty", "--screenshot", str(shot)], _env_without_display(tmp_path))
    assert done.returncode == 0, done.stderr
    assert shot.is_file() and shot.stat().st_size > 10_000


@pytest.mark.skipif(shutil.which("xvfb-run") is None or shutil.which("ldd") is None
                    or xcb_plugin_path() is None, reason="needs Xvfb, ldd and Qt's xcb plugin")
def test_real_x_server_opens_the_window_or_names_the_missing_packages(tmp_path):
    """Under Xvfb: either the window shows, or one line names the packages (no Qt abort)."""
    env = _env_without_display(tmp_path)
    done = subprocess.run(["xvfb-run", "-a", sys.executable, "main.py", "--empty",
                           "--startup-probe"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=240, check=False)
    ldd = subprocess.run(["ldd", str(xcb_plugin_path())], capture_output=True, text=True,
                         check=False).stdout
    missing = missing_libraries(ldd)
    if missing:
        assert done.returncode == 1, done.stderr
        assert done.stderr.strip() == missing_library_message(missing)
    else:
        assert done.returncode == 0, done.stderr
        assert "window visible=True" in done.stdout
