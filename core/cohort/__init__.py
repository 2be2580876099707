"""Cohorts: the single-patient analysis on every pre/post pair of a table, on Dask.

Usage::

    python main.py cohort COHORT.tsv --out DIR [--atlas ... --labels ... --strategy ...
        --gsr --band-pass LOW HIGH | --no-filter --min-volumes N --tr S]
        [--workers N | --scheduler tcp://host:8786]

``COHORT.tsv`` is tab-separated with a header: ``subject, pre, post`` (two NIfTI
files, or two time-series tables ``.tsv``/``.csv``, optionally ``.gz``) or
``subject, fmriprep, pre_session, post_session``; optional ``confounds_pre,
confounds_post, mask_pre, mask_post`` for NIfTI rows.  Relative paths are
relative to the table's folder.  The analysis options are those of ``analyze``.
Each pair is one Dask task on a local cluster (one single-threaded process
per CPU, or ``--workers N``) or on a running scheduler (``dask scheduler`` /
``dask worker``, dask-jobqueue), and writes ``DIR/<subject>/`` with exactly
the files ``analyze`` writes, whole or not at all.  ``DIR/cohort_networks.tsv``
stacks every subject's ``networks.tsv``; ``DIR/failures.tsv`` lists the pairs
that failed and why.  Run the same command again to resume: pairs whose
outputs exist for the same row, options and input bytes (SHA-256) are
skipped.  Exit codes: 0 every pair done or skipped, 3 some pairs failed, 2 bad
table or options (or every pair had bad input), 1 internal error, 130
interrupted.

From Python::

    from core.cohort import run_cohort
    from core.settings import AnalysisSettings, DenoiseSettings

    outcome = run_cohort("cohort.tsv", "out", AnalysisSettings(
        denoise=DenoiseSettings(strategy="none", band_pass=None), tr=2.0), workers=2)
"""

from __future__ import annotations

from core.cohort.pair import analyze_pair, open_row_inputs, run_pair
from core.cohort.runner import CohortOutcome, make_client, run_cohort
from core.cohort.table import CohortRow, read_cohort_table

__all__ = ["CohortOutcome", "CohortRow", "analyze_pair", "make_client", "open_row_inputs",
           "read_cohort_table", "run_cohort", "run_pair"]
