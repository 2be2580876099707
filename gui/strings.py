"""User-facing text in one place."""

from __future__ import annotations

APP_NAME = "Pre/Post Connectivity Review"
ORG_NAME = "prepost-review"
DISCLAIMER = ("For research and clinical decision-support review; not a diagnostic device.")
EMPTY_TITLE = "No patient open"
EMPTY_HINT = ("Open a patient's pre and post resting-state scans, or drop files or a folder "
              "on this window.")
OPEN_DEMO = "Open demo patient"
OPEN_FMRIPREP = "Open fMRIPrep folder…"
OPEN_NIFTI = "Open two NIfTI files…"
OPEN_TIMESERIES = "Open parcellated time series…"
UNEXPECTED = "An unexpected error occurred ({kind}); details were written to the log."
NO_ATLAS_MAPS = ("These inputs are ROI time-series tables without an atlas, so no brain "
                 "maps can be shown.")
STRENGTH_MAP = "ROI strength (mean Fisher z with all other ROIs)"
