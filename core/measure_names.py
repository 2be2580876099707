"""Names and number formats of the measures people read, shared by the report and the window.

Plain data with no imports, so the window can load it at start-up.
"""

from __future__ import annotations

__all__ = ["QC_MEASURE_NAMES"]

#: Readable name and number format of each ``qc_table`` measure (report and QC tab).
QC_MEASURE_NAMES = {
    "n_volumes": ("Volumes", "{:.0f}"), "n_kept": ("Volumes kept", "{:.0f}"),
    "percent_scrubbed": ("Scrubbed (%)", "{:.1f}"),
    "n_fd_over_threshold": ("Volumes FD > 0.5 mm", "{:.0f}"),
    "n_std_dvars_over_threshold": ("Volumes std. DVARS > 1.5", "{:.0f}"),
    "mean_fd_mm": ("Mean FD (mm)", "{:.3f}"),
    "max_fd_mm": ("Max FD (mm)", "{:.2f}"), "mean_dvars": ("Mean DVARS", "{:.2f}"),
    "mean_std_dvars": ("Mean std. DVARS", "{:.3f}"),
    "mean_tsnr_gm": ("Mean tSNR (grey matter)", "{:.1f}"),
    "qcfc_delta_z_distance_r": ("QC-FC: r(Δz, distance)", "{:+.3f}"),
    "qcfc_abs_delta_z_distance_r": ("QC-FC: r(|Δz|, distance)", "{:+.3f}"),
}
