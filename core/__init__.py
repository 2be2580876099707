"""Analysis core of prepost-review: single-patient pre/post fMRI connectivity.

A plain Python library (no Qt) usable from a notebook or the command line::

    from core.demo import open_demo_patient
    from core.pipeline import run_comparison

    comparison = run_comparison(open_demo_patient())
    comparison.network_table()

For research and clinical decision-support review only; not a diagnostic device.
"""

from __future__ import annotations

__all__ = ["DISCLAIMER", "__version__"]

DISCLAIMER = (
    "For research and clinical decision-support review only; not a diagnostic device."
)


def _version() -> str:
    """Return the version declared in pyproject.toml (the one place it is set)."""
    from importlib import metadata

    try:
        return metadata.version("prepost-review")
    except metadata.PackageNotFoundError:  # running from a source tree or a frozen build
        import re
        from pathlib import Path

        pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
        if pyproject.is_file():
            found = re.search(r'^version\s*=\s*"([^"]+)"', pyproject.read_text(), re.M)
            if found:
                return found.group(1)
        return "0+unknown"


__version__ = _version()
