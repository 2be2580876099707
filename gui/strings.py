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
SCRUB_NOTE = ("<small>Red dashed lines: nilearn's scrubbing thresholds (FD {fd:g} mm, std. "
              "DVARS {dvars:g}); each title counts the volumes over them. Only the "
              "'{scrubbing}' denoising strategy leaves them out (red bands). {used}</small>")
SCRUB_USED_NO = "This analysis used '{strategy}': every volume was kept."
SCRUB_USED_YES = "This analysis used '{strategy}'."
STATS_EMPTY = "Statistics appear here once a patient is open."
STATS_EDGE_HINT = ("Z = Δz / SE; the SE accounts for each session's autocorrelation and for "
                   "the filtering, confound regression and scrubbing applied (Bartlett variance "
                   "through the app's own denoising); q = Benjamini–Hochberg across all edges. "
                   "Click a row to show the edge.")
STATS_NETWORK_HINT = ("Network blocks (mean Fisher z within/between networks) are more "
                      "reliable than single edges for one patient.")
MOTION_BANNER = "⚠ Motion differs between sessions: {warning}"
READING_BANNER = "⚠ Read with care: {warnings}"
READING_BANNER_MORE = " · and {n} more (hover to list them; all are in the report)"

# Seed maps and global brain connectivity (issue 4)
SEED_TAB = "Seeds && GBC"  # "&&" shows one "&" in a tab title
PREPARING = "Preparing voxel data for seed maps"
SEED_PREPARING = ("Preparing voxel data for seed maps (denoising every brain voxel once); "
                  "seed mode works when this finishes.")
SEED_NO_VOXELS = ("Seed maps and GBC need voxel data (NIfTI or fMRIPrep inputs); these inputs "
                  "are ROI time-series tables.")
SEED_IDLE = "Open a patient to use seed maps."
SEED_FAILED = "Voxel data could not be prepared; seed maps are unavailable. Recompute to retry."
SEED_READY = ("Seed mode: click or drag in any slice (or Ctrl+click at any time) to seed there; "
              "maps are Fisher z of the sphere's mean signal with every brain voxel.")
SEED_NOT_READY = "Seed maps are not ready yet: the voxel data are still being prepared."
GBC_RUNNING = "Computing global brain connectivity"
GBC_TITLE = "GBC: mean Fisher z with all brain voxels"
GBC_TITLE_GSR = "GBC with global signal regression: mean Fisher z with all brain voxels"
GBC_STRIDE_NOTE = ("GBC on this {mm:g} mm grid uses one voxel in {stride} along each axis as "
                   "targets for speed (every voxel still gets a value); tick full resolution "
                   "for the exact map (about {factor}× slower).")
GBC_FULL_NOTE = "GBC uses every brain voxel as a target (full resolution)."
OVERLAY_STRENGTH = "ROI strength"
OVERLAY_SEED = "Seed map"
OVERLAY_GBC = "GBC"
OVERLAY_GBC_GSR = "GBC with GSR"
EXPORT_MAP = "Export current map as NIfTI…"

# Reference of untreated repeat scans (the verdict against normal session-to-session change)
REFERENCE_CHOOSE = "Reference of repeat scans…"
REFERENCE_NONE = "No reference of repeat scans"
REFERENCE_FILTER = "prepost-review reference (*.zip)"
VERDICT_WITHIN = "Within-scan noise"
VERDICT_REFERENCE = "Reference of repeat scans"
VERDICT_WITHIN_ONLY = ("Significance is judged against within-scan noise only: no reference of "
                       "untreated repeat scans is loaded (Analysis → Reference of repeat "
                       "scans…). Two scans of an untreated person differ by more than this.")
VERDICT_WITH_REFERENCE = ("Reference of repeat scans: {n} untreated pairs ({name}). q ref and "
                          "p ref compare each change with normal session-to-session change "
                          "(Crawford–Howell, with this patient's own within-scan noise).")
REFERENCE_NOT_USED = "The reference of repeat scans was not used: {problem}"
DELTA_REFERENCE_SD = "Δ in units of the reference SD"
FOREST_TAB = "Network change"
FOREST_TITLE = ("Network-pair Δz with its within-scan 95 % interval; grey: the reference's "
                "normal range (mean ± 1.96 SD of untreated repeat scans)")
FOREST_EMPTY = "The network-pair changes appear here once the statistics are computed."
DEMO_REFERENCE_READY = ("The demo patient is now judged against its own synthetic reference "
                        "of 10 untreated repeat-scan pairs.")
STATS_COMPUTING = ("Computing the quality control and the statistics of this patient… "
                   "(progress in the status bar)")

# From the scanner's DICOM (issue 16)
IMPORT_DICOM = "Import DICOM…"
IMPORT_DICOM_TITLE = "Import DICOM and preprocess"
IMPORT_DICOM_INTRO = ("One folder per visit, as the scanner or PACS exported it. dcm2niix "
                      "converts them into a BIDS dataset (names, IDs and birth dates stay in "
                      "the DICOM); fMRIPrep, where this site has it, or the labelled quick "
                      "path then brings both sessions into MNI space.")
IMPORT_DICOM_IDLE = "Nothing is written until you press Import; input folders are only read."
IMPORT_DICOM_CANCELLED = ("Cancelled. Nothing was written by the import; an interrupted "
                          "fMRIPrep run keeps its work folder and resumes when run again.")
