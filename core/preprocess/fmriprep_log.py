"""Progress from fMRIPrep's log: which part it works on, how many steps are done, errors.

fMRIPrep (nipype) announces every finished step as ``[Node] Finished "<workflow path>"``
and one taken from the work folder (when resuming) as ``[Node] "<name>" found cached``.  It never
says how many steps remain, so the fraction is an estimate that rises with the
number of steps and never goes back; the message says what is being worked on.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

__all__ = ["FmriprepLogProgress"]

_FINISHED = re.compile(r'\[Node\] Finished "([^"]+)"')
_CACHED = re.compile(r'\[Node\] "([^"]+)" found cached')
_SESSION = re.compile(r"(?:^|[._])(?:bold_)?ses_([A-Za-z0-9]+)_")
_SEVERE = re.compile(r"\b(CRITICAL|ERROR)\b")
#: Steps after which the estimate reaches about 63 % of the way (a typical subject has
#: several hundred; the exact number depends on the version and the data).
_STEP_SCALE = 300.0


@dataclass
class FmriprepLogProgress:
    """Fold fMRIPrep's log lines into a fraction, a message and the last error.

    Attributes
    ----------
    steps : int
        Finished steps seen (computed or taken from the cache).
    cached : int
        Of which taken from the work folder's cache (a resumed run).
    stage : str
        What the last finished step belonged to.
    started, finished : bool
        fMRIPrep announced its start / its successful end.
    error : str
        The last error line (``CRITICAL``/``ERROR`` and the line that follows).
    """

    steps: int = 0
    cached: int = 0
    stage: str = "starting"
    started: bool = False
    finished: bool = False
    error: str = ""
    _expect_error_text: bool = field(default=False, repr=False)
    _fraction: float = field(default=0.0, repr=False)

    def feed(self, line: str) -> None:
        """Read one line of fMRIPrep's output."""
        text = line.strip()
        if self._expect_error_text and text:
            self.error = f"{self.error} {text}".strip()
            self._expect_error_text = False
        if "fMRIPrep started" in text:
            self.started = True
        if "fMRIPrep finished successfully" in text:
            self.finished = True
        if (_SEVERE.search(text) and "nipype" in text) or text.startswith("fMRIPrep failed"):
            self.error = text
            self._expect_error_text = text.endswith(":")
        finished, cached = _FINISHED.search(text), _CACHED.search(text)
        if finished is not None:
            self.steps += 1
            self.stage = self._stage_of(finished.group(1))
        elif cached is not None:
            self.steps += 1
            self.cached += 1
            self.stage = self._stage_of(cached.group(1))

    @staticmethod
    def _stage_of(node: str) -> str:
        if "anat" in node:
            return "anatomical (T1w) workflow"
        session = _SESSION.search(node)
        if session and ("bold" in node or "func" in node):
            return f"BOLD ses-{session.group(1)}"
        if "bold" in node or "func" in node:
            return "BOLD workflow"
        if "report" in node or "ds_" in node:
            return "writing outputs and reports"
        return "preprocessing"

    @property
    def fraction(self) -> float:
        """Estimated fraction done (0.02 once started, 0.95 at most until finished)."""
        if self.finished:
            value = 0.97
        else:
            value = 0.02 + 0.93 * (1.0 - math.exp(-self.steps / _STEP_SCALE)) \
                if self.started or self.steps else 0.01
        self._fraction = max(self._fraction, value)
        return self._fraction

    @property
    def message(self) -> str:
        """``fMRIPrep: BOLD ses-pre, 120 steps done (40 from the work folder)``."""
        if self.finished:
            return "fMRIPrep finished; checking its outputs"
        if not self.steps:
            return "fMRIPrep: starting (building its workflow can take minutes)"
        reused = f" ({self.cached} from the work folder)" if self.cached else ""
        return f"fMRIPrep: {self.stage}, {self.steps} steps done{reused}"
