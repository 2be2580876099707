"""Self-test of an installation (source tree or frozen build), without Qt.

:func:`run_self_test` opens the demo patient (generating it if needed), checks
that every bundled atlas and nilearn template can be read (this is what
breaks first when an installer misses a data file), runs the whole pipeline,
checks the recovered change against the demo's ground truth and writes the
analysis outputs and the HTML report into a temporary folder. The window part of the self-test
(``main.py --self-test``) lives in :mod:`gui.app`; it calls this module first.

For research and clinical decision-support review only; not a diagnostic device.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.report.analysis_files import write_review_outputs
from core.report.content import report_content
from core.report.html import write_report_html
from core.review import review_patient
from core.review_state import ReviewState

__all__ = ["CheckResult", "format_results", "run_self_test", "self_test_passed"]

#: Files that :func:`core.report.analysis_files.write_analysis_outputs` must always write.
EXPECTED_OUTPUTS = (
    "connectivity_pre.tsv", "connectivity_post.tsv", "connectivity_delta.tsv",
    "networks.tsv", "rois.tsv", "summary.json",
)  # fmt: skip


@dataclass
class CheckResult:
    """Outcome of one self-test check.

    Attributes
    ----------
    name : str
        Short identifier, e.g. ``"pipeline"``.
    status : str
        ``"pass"``, ``"fail"`` or ``"skip"``.
    detail : str
        One line: what was found, or why it failed or was skipped.
    seconds : float
        Wall time of the check.
    """

    name: str
    status: str
    detail: str
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True unless the check failed (a skipped check is not a failure)."""
        return self.status != "fail"


def self_test_passed(results: list[CheckResult]) -> bool:
    """Return True when no check failed.

    Parameters
    ----------
    results : list of CheckResult

    Returns
    -------
    bool
    """
    return bool(results) and all(r.ok for r in results)


def format_results(results: list[CheckResult]) -> str:
    """Format check results as one line per check.

    Parameters
    ----------
    results : list of CheckResult

    Returns
    -------
    str
    """
    return "\n".join(f"[{r.status.upper():4s}] {r.name:<14s} {r.seconds:6.1f} s  {r.detail}"
                     for r in results)


def _run(name: str, results: list[CheckResult], check: Callable[[], str]) -> bool:
    start = time.perf_counter()
    try:
        detail = check()
    except _Skip as skip:
        results.append(CheckResult(name, "skip", str(skip), time.perf_counter() - start))
        return True
    except Exception as exc:  # a self-test reports every failure, never raises
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" ({Path(last[0].filename).name}:{last[0].lineno})" if last else ""
        message = " ".join(str(exc).split()) or type(exc).__name__
        results.append(CheckResult(name, "fail", f"{type(exc).__name__}: {message}{where}",
                                   time.perf_counter() - start))
        return False
    results.append(CheckResult(name, "pass", detail, time.perf_counter() - start))
    return True


class _Skip(Exception):
    """Raised by a check that does not apply to this installation."""


def _check_version() -> str:
    from core import __version__

    if __version__ == "0+unknown":
        raise RuntimeError("the version could not be read from metadata or pyproject.toml")
    return f"prepost-review {__version__}"


def _check_atlases() -> str:
    from core.atlas.atlases import list_atlases, load_atlas

    counts = []
    for info in list_atlases():
        atlas = load_atlas(info.name)
        if atlas.n_rois != info.n_rois:
            raise RuntimeError(f"atlas {info.name}: expected {info.n_rois} ROIs, "
                               f"found {atlas.n_rois}")
        counts.append(f"{info.name}={atlas.n_rois}")
    return ", ".join(counts)


def _check_templates() -> str:
    from nilearn.datasets import (
        load_mni152_brain_mask,
        load_mni152_gm_mask,
        load_mni152_template,
    )

    from core.maps.seeds import load_clinical_seeds

    shapes = [load_mni152_template(resolution=2).shape, load_mni152_brain_mask(resolution=2).shape,
              load_mni152_gm_mask(resolution=2).shape]
    seeds = load_clinical_seeds()
    return f"MNI152 2 mm template and masks {shapes[0]}, {len(seeds)} clinical seeds"


def _check_ground_truth(comparison) -> str:
    from core.demo import demo_ground_truth

    truth = demo_ground_truth().changed_pairs
    table = comparison.network_table()
    between = table[table["network_a"] != table["network_b"]]
    top = between.reindex(between["delta_z"].abs().sort_values(ascending=False).index)
    top = top.head(len(truth))
    found = {frozenset((a, b)): float(d)
             for a, b, d in zip(top["network_a"], top["network_b"], top["delta_z"], strict=True)}
    expected = {frozenset(pair): change for pair, change in truth.items()}
    if set(found) != set(expected):
        raise RuntimeError(
            "expected the largest network changes to be "
            + ", ".join("–".join(sorted(p)) for p in expected)
            + ", found " + ", ".join("–".join(sorted(p)) for p in found))
    wrong = [p for p in expected if (found[p] > 0) != (expected[p] > 0)]
    if wrong:
        raise RuntimeError("wrong sign of the change for " + ", ".join("–".join(sorted(p))
                                                                        for p in wrong))
    return "; ".join(f"{'–'.join(sorted(p))} Δz={found[p]:+.2f} (injected Δr={expected[p]:+.1f})"
                     for p in expected)


def _check_report(review: ReviewState, out_dir: Path) -> str:
    """Write the Qt-free HTML report (figures are added by the window's PDF export)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = write_report_html(out_dir / "report.html", report_content(review))
    if not path.is_file() or path.stat().st_size == 0:
        raise RuntimeError(f"the HTML report was not written to {path}")
    return f"HTML report {path.stat().st_size // 1024} kB at {path}"


def run_self_test(tmp_dir: str | Path, cache_dir: str | Path | None = None,
                  state: dict | None = None) -> list[CheckResult]:
    """Run the Qt-free self-test and return one result per check.

    Never raises for a failing check: each failure is a ``"fail"`` result with
    a one-line message. Later checks that need an earlier result are skipped
    once it fails.

    Parameters
    ----------
    tmp_dir : str or Path
        Folder for the analysis outputs (``tmp_dir/outputs``); it is created.
    cache_dir : str or Path, optional
        Where the demo patient is (or is generated); defaults to
        :func:`core.demo.demo_cache_dir` (``$PREPOST_CACHE_DIR`` if set).
    state : dict, optional
        Receives ``"inputs"``, ``"review"`` (a :class:`core.review_state.ReviewState`)
        and ``"comparison"`` (for the window's checks).

    Returns
    -------
    list of CheckResult
        Checks ``version``, ``atlases``, ``templates``, ``demo``, ``pipeline``,
        ``ground_truth``, ``outputs``, ``report`` (HTML) in this order.
    """
    tmp = Path(tmp_dir)
    tmp.mkdir(parents=True, exist_ok=True)
    results: list[CheckResult] = []
    state = {} if state is None else state
    _run("version", results, _check_version)
    _run("atlases", results, _check_atlases)
    _run("templates", results, _check_templates)

    def demo() -> str:
        from core.demo import open_demo_patient

        state["inputs"] = inputs = open_demo_patient(cache_dir)
        return f"demo patient at {inputs.root}"

    def pipeline() -> str:
        state["review"] = review = review_patient(state["inputs"])
        state["comparison"] = c = review.comparison
        return (f"{len(c.rois)} ROIs, {c.pre.n_kept}/{c.pre.n_volumes} and "
                f"{c.post.n_kept}/{c.post.n_volumes} volumes kept, strategy {c.strategy}")

    def outputs() -> str:
        written = write_review_outputs(state["review"], tmp / "outputs")
        names = {p.name for p in written}
        missing = [n for n in EXPECTED_OUTPUTS if n not in names or not (tmp / "outputs" / n)
                   .is_file()]
        if missing:
            raise RuntimeError(f"outputs missing: {', '.join(missing)}")
        return f"{len(written)} files in {tmp / 'outputs'}"

    if not _run("demo", results, demo):
        return results
    if not _run("pipeline", results, pipeline):
        return results
    _run("ground_truth", results, lambda: _check_ground_truth(state["comparison"]))
    _run("outputs", results, outputs)
    _run("report", results,
         lambda: _check_report(state["review"], tmp / "report"))
    return results
