"""Build the offline one-folder installer and check it: ``python3 packaging/build.py``.

Steps: run PyInstaller with ``packaging/prepost-review.spec``; check that the built
command line reports the version of ``pyproject.toml``; run the built
``--self-test`` (demo patient generated afresh in a temporary cache, whole pipeline,
ground truth, outputs, window rendered offscreen); time the start of the built
window (process start to a shown window, ``--empty --startup-probe``); report the
folder size. A summary is printed and written to ``<dist>/prepost-review-build.json``.

Exit status: 0 when the build, the version check and the self-test passed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "prepost-review.spec"
NAME = "prepost-review"
SIZE_BUDGET_MIB = 310.0  # MiB, as `du -sh` reports it; 300 until dcm2niix + pydicom (+3.3 MiB)


def pyproject_version() -> str:
    """Return the version declared in pyproject.toml."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r'^version\s*=\s*"([^"]+)"', text, re.M)
    if not found:
        raise SystemExit("no version in pyproject.toml")
    return found.group(1)


def executable(app_dir: Path, name: str) -> Path:
    """Path of a built executable (``.exe`` on Windows)."""
    return app_dir / (f"{name}.exe" if sys.platform.startswith("win") else name)


def folder_size_bytes(folder: Path) -> int:
    """Total size of the files under ``folder`` in bytes."""
    total = 0
    for base, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(base) / name
            if not path.is_symlink():
                total += path.stat().st_size
    return total


def app_env(tmp: Path) -> dict[str, str]:
    """Environment for running the built app: offscreen, temporary cache and settings."""
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["PREPOST_CACHE_DIR"] = str(tmp / "cache")
    env["PREPOST_SETTINGS_FILE"] = str(tmp / "settings.ini")
    return env


def run_pyinstaller(dist: Path, work: Path, clean: bool) -> float:
    """Run PyInstaller on the spec; return the wall time in seconds."""
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise SystemExit('PyInstaller is missing: python3 -m pip install -e ".[build]"') from None
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--distpath", str(dist),
               "--workpath", str(work), str(SPEC)]
    if clean:
        command.insert(3, "--clean")
    print("$", " ".join(command), flush=True)
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True)
    return time.perf_counter() - start


def check_version(cli: Path, env: dict[str, str]) -> str:
    """Return the built app's ``--version`` output, failing if it differs from pyproject."""
    out = subprocess.run([str(cli), "--version"], capture_output=True, text=True, env=env,
                         timeout=120)
    reported = (out.stdout + out.stderr).strip()
    if pyproject_version() not in reported.split():
        raise SystemExit(f"version check failed: expected {pyproject_version()}, "
                         f"the built app says {reported!r}")
    return reported


def run_self_test(cli: Path, env: dict[str, str]) -> tuple[int, float, str]:
    """Run the built ``--self-test``; return exit code, seconds and its output."""
    start = time.perf_counter()
    out = subprocess.run([str(cli), "--self-test"], capture_output=True, text=True, env=env,
                         timeout=900)
    return out.returncode, time.perf_counter() - start, (out.stdout + out.stderr).strip()


def startup_seconds(gui: Path, env: dict[str, str], repeats: int) -> list[float]:
    """Seconds from process start to a shown main window, one value per run."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        process = subprocess.Popen([str(gui), "--empty", "--startup-probe"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert process.stdout is not None
        seen = None
        for line in process.stdout:
            if line.startswith("startup-probe: window visible=True"):
                seen = time.perf_counter() - start
        process.wait(timeout=120)
        if seen is None or process.returncode != 0:
            raise SystemExit(f"the built window did not show (exit {process.returncode})")
        times.append(seen)
    return times


def system_libraries(app_dir: Path) -> tuple[list[str], list[str]] | None:
    """Shared libraries the built app takes from the system, and those missing here.

    ``ldd`` of every bundled library, with the bundle first on the search path
    (as the app runs); Linux only (None elsewhere or without ``ldd``).
    """
    import shutil

    ldd = shutil.which("ldd")
    internal = app_dir / "_internal"
    if not sys.platform.startswith("linux") or ldd is None or not internal.is_dir():
        return None
    env = dict(os.environ, LD_LIBRARY_PATH=str(internal))
    system, missing = set(), set()
    for path in internal.rglob("*.so*"):
        if not path.is_file() or path.is_symlink():
            continue
        out = subprocess.run([ldd, str(path)], capture_output=True, text=True, env=env,
                             check=False).stdout
        for name, _, where in (line.strip().partition(" => ") for line in out.splitlines()):
            if not where or str(internal) in where:
                continue
            (missing if where.startswith("not found") else system).add(name)
    return sorted(system), sorted(missing)


def main(argv: list[str] | None = None) -> int:
    """Build, check and report; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument("--work", type=Path, default=ROOT / "build", help="PyInstaller work folder")
    parser.add_argument("--skip-build", action="store_true", help="check an existing build")
    parser.add_argument("--clean", action="store_true", help="empty PyInstaller's cache first")
    parser.add_argument("--startup-runs", type=int, default=3, help="start-up timing runs")
    args = parser.parse_args(argv)
    app_dir = args.dist / NAME
    build_s = None if args.skip_build else run_pyinstaller(args.dist, args.work, args.clean)
    gui, cli = executable(app_dir, NAME), executable(app_dir, f"{NAME}-cli")
    if not cli.is_file():  # the console twin exists on Windows only (see the spec)
        cli = gui
    if not cli.is_file():
        raise SystemExit(f"no built app at {app_dir}")
    with tempfile.TemporaryDirectory(prefix="prepost-build-check-") as tmp:
        env = app_env(Path(tmp))
        version = check_version(cli, env)
        code, self_test_s, output = run_self_test(cli, env)
        print(output, flush=True)
        startup = startup_seconds(gui, env, args.startup_runs) if code == 0 else []
    size = folder_size_bytes(app_dir)
    mib, mb = size / 2**20, size / 1e6
    report = {
        "app": str(app_dir), "version": version, "platform": sys.platform,
        "build_seconds": None if build_s is None else round(build_s, 1),
        "folder_mib": round(mib, 1), "folder_mb": round(mb, 1),
        "size_budget_mib": SIZE_BUDGET_MIB,
        "self_test_exit": code, "self_test_seconds": round(self_test_s, 1),
        "startup_seconds": [round(t, 2) for t in startup],
    }
    libraries = system_libraries(app_dir)
    if libraries is not None:
        report["system_libraries"], report["libraries_missing_here"] = libraries
    (args.dist / f"{NAME}-build.json").write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(f"built app:        {app_dir}")
    print(f"version:          {version}")
    if build_s is not None:
        print(f"build time:       {build_s:.0f} s")
    print(f"folder size:      {mib:.0f} MiB = {mb:.0f} MB (budget {SIZE_BUDGET_MIB:.0f} MiB)")
    print(f"self-test:        {'passed' if code == 0 else f'FAILED (exit {code})'} "
          f"in {self_test_s:.1f} s (demo generated afresh)")
    if startup:
        print(f"window shown in:  {statistics.median(startup):.2f} s median of "
              f"{len(startup)} (first {startup[0]:.2f} s)")
    if libraries is not None:
        print(f"from the system:  {' '.join(libraries[0])}")
        print(f"not bundled:      {' '.join(libraries[1]) or 'none'} (missing on this machine; "
              "a target system needs them only for the plugins that use them)")
    if mib > SIZE_BUDGET_MIB:
        print(f"warning: the folder is over the {SIZE_BUDGET_MIB:.0f} MiB budget",
              file=sys.stderr)
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
