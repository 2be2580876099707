"""A fake fMRIPrep installation on PATH (nothing is downloaded) and small BIDS datasets."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nibabel as nib
import numpy as np

from core.preprocess.fmriprep_setup import NATIVE_TOOLS, REQUIRED_TEMPLATES

FAKE = Path(__file__).with_name("fake_fmriprep.py")


def script(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def install_fake_fmriprep(base: Path, monkeypatch, *, templates: bool = True) -> dict:
    """`fmriprep` and its tools on a PATH of their own, a licence, TemplateFlow files."""
    bin_dir = base / "bin"
    bin_dir.mkdir(parents=True)
    script(bin_dir, "fmriprep", f'exec "{sys.executable}" "{FAKE}" "$@"')
    for tool in NATIVE_TOOLS:
        script(bin_dir, tool, "exit 0")
    license_file = base / "license.txt"
    license_file.write_text("fake@example.org\n12345\n")
    home = base / "templateflow"
    if templates:
        for name in REQUIRED_TEMPLATES:
            (home / name).parent.mkdir(parents=True, exist_ok=True)
            (home / name).write_bytes(b"\0" * 20_000)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.setenv("TEMPLATEFLOW_HOME", str(home))
    monkeypatch.setenv("FS_LICENSE", str(license_file))
    monkeypatch.delenv("PREPOST_FMRIPREP_IMAGE", raising=False)
    monkeypatch.delenv("FREESURFER_HOME", raising=False)
    return {"bin": bin_dir, "license": license_file, "templateflow": home}


def make_bids(root: Path, *, t1w: bool = True, sessions=("pre", "post"),
              subject: str = "01") -> Path:
    """A small BIDS dataset shaped like import-dicom's output."""
    root.mkdir(parents=True)
    (root / "dataset_description.json").write_text(json.dumps(
        {"Name": "test", "BIDSVersion": "1.10.0", "DatasetType": "raw"}))
    affine = np.diag([3.0, 3.0, 4.0, 1.0])
    for session in sessions:
        stem = f"sub-{subject}_ses-{session}"
        func = root / f"sub-{subject}" / f"ses-{session}" / "func"
        func.mkdir(parents=True)
        nib.save(nib.Nifti1Image(np.zeros((7, 8, 9, 12), "int16"), affine),
                 func / f"{stem}_task-rest_bold.nii.gz")
        (func / f"{stem}_task-rest_bold.json").write_text(
            json.dumps({"RepetitionTime": 2.0, "TaskName": "rest"}))
        if t1w:
            anat = func.parent / "anat"
            anat.mkdir()
            nib.save(nib.Nifti1Image(np.zeros((9, 10, 11), "int16"), np.eye(4)),
                     anat / f"{stem}_T1w.nii.gz")
    return root


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"
