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
QC_EMPTY = "Quality control appears here once a patient is open."
QC_MISSING = "No quality-control data for these inputs (pre-extracted ROI tables)."
QCFC_HINT = ("Motion inflates short-range connectivity: a distance dependence of Δz together "
             "with a motion difference suggests part of the change is motion.")
STATS_EMPTY = "Statistics appear here once a patient is open."
STATS_EDGE_HINT = ("Z = Δz / SE with an autocorrelation-aware SE (xDF); q = Benjamini–Hochberg "
                   "across all edges. Click a row to show the edge.")
STATS_NETWORK_HINT = ("Network blocks (mean Fisher z within/between networks) are more "
                      "reliable than single edges for one patient.")
MOTION_BANNER = "⚠ Motion differs between sessions: {warning}"
