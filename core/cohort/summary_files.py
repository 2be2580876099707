"""The cohort-level files and the progress line: ``cohort_networks.tsv``, ``failures.tsv``."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from core.io.files import atomic_write_text

__all__ = ["Progress", "write_cohort_files"]


def write_cohort_files(out: Path, subjects: Sequence[str], results: Sequence[dict[str, Any]]
                       ) -> list[Path]:
    """Write ``cohort_networks.tsv`` and ``failures.tsv`` (each whole or not at all).

    Parameters
    ----------
    out : Path
        The cohort output folder.
    subjects : sequence of str
        The table's subjects, in table order.
    results : sequence of dict
        Task results (``subject``, ``status``, ``error``).

    Returns
    -------
    list of Path
        ``cohort_networks.tsv``: ``subject`` then the columns of each subject's
        ``networks.tsv``, one block per finished (done or skipped) subject, in
        table order, values exactly as in those files.  ``failures.tsv``:
        ``subject``, ``error``; only the header when nothing failed.
    """
    status = {r["subject"]: r for r in results}
    finished = [s for s in subjects if status.get(s, {}).get("status") in ("done", "skipped")]
    frames = [pd.read_csv(out / s / "networks.tsv", sep="\t", dtype=str,
                          keep_default_na=False).assign(subject=s) for s in finished]
    networks = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["subject"])
    networks = networks[["subject", *[c for c in networks.columns if c != "subject"]]]
    failed = [f"{s}\t{_one_line(status[s]['error'])}\n" for s in subjects
              if status.get(s, {}).get("status") == "failed"]
    return [
        atomic_write_text(out / "cohort_networks.tsv", networks.fillna("").to_csv(
            sep="\t", index=False, lineterminator="\n")),
        atomic_write_text(out / "failures.tsv", "".join(["subject\terror\n", *failed])),
    ]


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class Progress:
    """One status line: done, skipped, failed, remaining and the time left.

    On a terminal the line is redrawn in place (carriage return); otherwise (a log
    file, a pipe) each update is its own line.

    Parameters
    ----------
    total : int
        Number of pairs.
    stream : text stream, default=sys.stderr
    """

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total, self.start = total, time.monotonic()
        self.stream = stream if stream is not None else sys.stderr
        self.counts = {"done": 0, "skipped": 0, "failed": 0}
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def line(self) -> str:
        """Return the current status line, without line ending."""
        finished = sum(self.counts.values())
        computed = self.counts["done"] + self.counts["failed"]
        left = self.total - finished
        elapsed = time.monotonic() - self.start
        if not left:
            eta = "0 s"
        elif computed:
            eta = f"{left * elapsed / computed:.0f} s"  # skipped pairs take no time
        else:
            eta = "?"
        return (f"cohort: {self.counts['done']} done, {self.counts['skipped']} skipped, "
                f"{self.counts['failed']} failed, {left} remaining, time left {eta}")

    def update(self, status: str) -> None:
        """Count one finished pair and draw the line.

        Parameters
        ----------
        status : {"done", "skipped", "failed"}
        """
        self.counts[status] += 1
        last = sum(self.counts.values()) == self.total
        if self.tty:
            self.stream.write(f"\r{self.line()}\x1b[K" + ("\n" if last else ""))
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()
