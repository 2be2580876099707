"""Helpers of the quick-path tests: tiny synthetic settings, temporary-folder census, fakes."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

#: 20 × 20 × 16 voxels of 9–11 mm cover a head; 10 volumes; the template at 4 mm.
TINY = {"shape": (20, 20, 16), "voxel_mm": (9.0, 11.0, 10.0), "n_volumes": 10}


def tiny_options(**changes):
    from core.preprocess.quick import QuickOptions

    return QuickOptions(**{"resolution_mm": 4, "syn_iterations": (10, 0), "chunk": 5,
                           **changes})


def temporary_entries() -> set[str]:
    return {p for p in os.listdir(tempfile.gettempdir()) if p.startswith("prepost-quick-")}


def fake_quick_derivatives(demo_root: Path, target: Path) -> Path:
    """The demo patient's files relabelled as quick-preprocessing output (no ANTs involved)."""
    from core.io.preprocessing_route import QUICK_PIPELINE, RECORD_FILE

    def link_or_copy(source, destination):
        try:
            os.link(source, destination)
        except OSError:
            shutil.copy2(source, destination)

    shutil.copytree(demo_root, target, copy_function=link_or_copy)
    (target / "dataset_description.json").unlink()  # a hard link to the demo's: never write it
    (target / "dataset_description.json").write_text(json.dumps({
        "Name": "quick", "BIDSVersion": "1.9.0", "DatasetType": "derivative",
        "GeneratedBy": [{"Name": QUICK_PIPELINE, "Version": "0.1.0"}]}))
    figures = target / "sub-demo" / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    images = []
    for session in ("pre", "post"):
        image = figures / f"sub-demo_ses-{session}_desc-registrationcheck_bold.png"
        image.write_bytes(b"\x89PNG fake image of " + session.encode())
        images.append(image.relative_to(target).as_posix())
    (target / RECORD_FILE).write_text(json.dumps({
        "version": "0.1.0", "check_images": images,
        "warnings": ["quick preprocessing: no slice-timing correction",
                     "ses-pre: a warning about this data"]}))
    return target
