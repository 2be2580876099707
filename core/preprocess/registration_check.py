"""The registration check: the template's edges over a session's mean EPI, in three planes.

Agreement between registration methods is no proof of a good registration;
a look at the overlay is.  So the quick path draws, for each session, the
MNI template's edges (red: the outline of its brain and of its white matter,
which also outlines the ventricles) over the session's mean EPI after
resampling (grey), in sagittal, coronal and axial rows at fixed MNI
positions, and no
analysis starts before a person accepts the images
(:func:`core.io.preprocessing_route.accept_registration`).  The images are
drawn with nilearn's plotting (matplotlib, off screen) in a worker process.
"""

from __future__ import annotations

import textwrap

import numpy as np

__all__ = ["CUTS_MM", "draw_check_image"]

#: MNI positions (mm) of the cuts in each row: sagittal x, coronal y, axial z.
CUTS_MM = {"x": (-48, -28, -8, 8, 28, 48), "y": (-80, -52, -24, 4, 32, 52),
           "z": (-30, -12, 6, 24, 42, 60)}


def draw_check_image(mean: np.ndarray, affine: np.ndarray, edges: list[str], title: str,
                     warnings: list[str], out_png: str) -> str:
    """Draw the registration-check image of one session (run in a worker).

    Parameters
    ----------
    mean : ndarray, shape (x, y, z)
        The session's mean EPI in the template grid.
    affine : ndarray, shape (4, 4)
        The template grid's affine.
    edges : list of str
        Images (NIfTI, 0–1) whose 0.5 contours are drawn: the template's brain
        mask and white-matter probability.
    title : str
        Subject, session and route.
    warnings : list of str
        Printed under the title (coverage, disagreeing starts).
    out_png : str

    Returns
    -------
    str
        ``out_png``.
    """
    import matplotlib.pyplot as plt
    import nibabel as nib
    from nilearn import plotting

    figure = plt.figure(figsize=(13, 8.4), facecolor="black")
    lines = [line for warning in warnings
             for line in textwrap.wrap(f"⚠ {warning}", 165, subsequent_indent="    ")][:6]
    top = 0.84 - 0.025 * len(lines)
    figure.text(0.01, 0.975, title, color="white", fontsize=14, va="top", weight="bold")
    figure.text(0.01, 0.935, "Red: edges of the MNI152 template (brain and white matter).  "
                "Grey: this session's mean "
                "EPI after the quick preprocessing.\nAccept only if the edges follow the "
                "brain's outline, the ventricles and the large sulci in every row.",
                color="#dddddd", fontsize=10, va="top", linespacing=1.4)
    for k, line in enumerate(lines):
        figure.text(0.01, 0.875 - 0.025 * k, line, color="#ff7070", fontsize=10, va="top")
    mean_img = nib.Nifti1Image(np.asarray(mean, dtype=np.float32), affine)
    level = float(np.percentile(mean[mean > 0], 99)) if np.any(mean > 0) else 1.0
    height = top / 3
    for row, (mode, cuts) in enumerate(CUTS_MM.items()):
        axes = figure.add_axes((0.0, top - (row + 1) * height, 1.0, height))
        display = plotting.plot_anat(mean_img, display_mode=mode, cut_coords=list(cuts),
                                     axes=axes, figure=figure, annotate=True,
                                     draw_cross=False, black_bg=True, vmin=0, vmax=level,
                                     dim=0)
        for path, width in zip(edges, (1.0, 0.6), strict=False):
            display.add_contours(path, levels=[0.5], colors="r", linewidths=width)
    figure.savefig(out_png, dpi=90, facecolor="black", metadata={"Software": None})
    plt.close(figure)
    return out_png
