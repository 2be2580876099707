"""The real GE EPI series (extreme motion, 15 slices): aligned, or the quick path says it is not."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from core.io.inputs import open_fmriprep
from core.io.preprocessing_route import RegistrationNotAccepted, read_quick_provenance
from core.preprocess.quick import QUICK_WARNINGS, run_quick_preprocessing

GE_SERIES = Path(__file__).resolve().parents[4] / "shared" / "data" / "dicom" / "ge_epi_fmri"


@pytest.fixture(scope="module")
def ge_bids(tmp_path_factory):
    if not GE_SERIES.is_dir():
        pytest.skip(f"the real GE series is not here: {GE_SERIES}")
    converter = shutil.which("dcm2niix")
    if converter is None:
        pytest.skip("dcm2niix is not installed (pip install dcm2niix)")
    root = tmp_path_factory.mktemp("ge")
    raw = root / "raw"
    raw.mkdir()
    subprocess.run([converter, "-z", "y", "-b", "y", "-ba", "y", "-f", "bold", "-o", str(raw),
                    str(GE_SERIES)], check=True, capture_output=True)
    bids = root / "bids"
    for session in ("pre", "post"):  # one series, used for both visits
        func = bids / "sub-ge" / f"ses-{session}" / "func"
        func.mkdir(parents=True)
        for suffix in (".nii.gz", ".json"):
            shutil.copyfile(raw / f"bold{suffix}", func / f"sub-ge_ses-{session}_task-rest_bold"
                                                          f"{suffix}")
    return bids


@pytest.mark.slow
def test_ge_series_is_never_passed_silently(ge_bids, tmp_path):
    out = run_quick_preprocessing(ge_bids, tmp_path / "deriv", "ge")
    record = json.loads((out / "quick_preprocessing.json").read_text())
    for session, info in record["sessions"].items():
        assert info["tr"] == pytest.approx(5.0) and info["n_volumes"] == 10
        assert len(info["slice_timing"]) == 15
        own = [w for w in record["warnings"] if w.startswith(f"ses-{session}:")]
        # 15 slices of 5 mm cover part of the brain, and the head turns by up to ~50°:
        # the record must say so for each session, not only the route's own warnings
        assert any("covers" in w for w in own), own
        assert any("extreme head motion" in w for w in own), own
        # aligned (two starts agree), or the record says the registration is uncertain
        assert info["registration"]["consistent"] or any("uncertain" in w for w in own), own
        sidecar = next(out.rglob(f"*ses-{session}_*_desc-preproc_bold.json"))
        assert set(own) <= set(json.loads(sidecar.read_text())["Warnings"])
    provenance = read_quick_provenance(out)
    assert set(QUICK_WARNINGS) < set(provenance.warnings)
    assert all(image.is_file() for image in provenance.check_images)
    with pytest.raises(RegistrationNotAccepted):
        open_fmriprep(out)
