"""A stand-in for the `fmriprep` program: fMRIPrep's command line, log lines and outputs.

It checks the flags the product relies on, prints nipype-style log lines (one per
"node"), remembers finished nodes in its work folder (a rerun reports them as
cached, like nipype), starts a child process (to test that a cancel ends the whole
process group) and writes a small derivatives tree in fMRIPrep's layout.

Environment: FAKE_FMRIPREP_DELAY (seconds per node), FAKE_FMRIPREP_FAIL_AT (a node
name at which it fails like fMRIPrep does).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

NODES = ([f"anat_fit_wf.node{k}" for k in range(8)]
         + [f"bold_ses_{{ses}}_task_rest_wf.node{k}" for k in range(6)]
         + ["ds_report_summary"])


def log(level: str, text: str) -> None:
    stamp = time.strftime("%y%m%d-%H:%M:%S,000")
    print(f"{stamp} nipype.workflow {level}:\n\t {text}", flush=True)


def write_outputs(out: Path, bids: Path, subject: str) -> None:
    import nibabel as nib
    import numpy as np

    (out / "logs").mkdir(parents=True, exist_ok=True)
    (out / "dataset_description.json").write_text(json.dumps({
        "Name": "fMRIPrep - fMRI PREProcessing workflow", "BIDSVersion": "1.9.0",
        "DatasetType": "derivative", "GeneratedBy": [{"Name": "fMRIPrep", "Version": "fake"}]}))
    (out / f"sub-{subject}.html").write_text("<html>report</html>")
    rng = np.random.default_rng(0)
    affine = np.array([[2.0, 0, 0, -20], [0, 2.0, 0, -30], [0, 0, 2.0, -10], [0, 0, 0, 1]])
    for session in sorted(p.name[4:] for p in (bids / f"sub-{subject}").glob("ses-*")):
        func = out / f"sub-{subject}" / f"ses-{session}" / "func"
        func.mkdir(parents=True, exist_ok=True)
        stem = f"sub-{subject}_ses-{session}_task-rest_space-MNI152NLin2009cAsym_res-2"
        data = rng.normal(1000, 10, (10, 12, 10, 60)).astype("float32")
        nib.save(nib.Nifti1Image(data, affine), func / f"{stem}_desc-preproc_bold.nii.gz")
        nib.save(nib.Nifti1Image(np.ones((10, 12, 10), "uint8"), affine),
                 func / f"{stem}_desc-brain_mask.nii.gz")
        (func / f"{stem}_desc-preproc_bold.json").write_text(
            json.dumps({"RepetitionTime": 2.0, "SkullStripped": False}))
        columns = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z",
                   "framewise_displacement", "global_signal", "csf", "white_matter"]
        rows = ["\t".join(columns)] + ["\t".join("0.01" if i else "n/a" for _ in columns)
                                       for i in range(60)]
        (func / f"sub-{subject}_ses-{session}_task-rest_desc-confounds_timeseries.tsv"
         ).write_text("\n".join(rows) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(prog="fmriprep")
    parser.add_argument("bids_dir", type=Path)
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("analysis_level", choices=["participant"])
    parser.add_argument("--participant-label", nargs="+", required=True)
    parser.add_argument("-w", "--work-dir", type=Path, required=True)
    parser.add_argument("--output-spaces", nargs="*", required=True)
    parser.add_argument("--fs-no-reconall", action="store_true")
    parser.add_argument("--fs-license-file", type=Path, required=True)
    parser.add_argument("--notrack", action="store_true")
    parser.add_argument("--stop-on-first-crash", action="store_true")
    parser.add_argument("--task-id")
    parser.add_argument("--nprocs", type=int)
    args = parser.parse_args()
    work = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    with (work / "fake_calls.jsonl").open("a") as calls:
        calls.write(json.dumps(sys.argv[1:]) + "\n")
    if not args.fs_license_file.is_file():
        log("CRITICAL", "fMRIPrep failed: A valid FreeSurfer license file is required.")
        return 1
    if args.bids_dir in work.parents:
        print("fmriprep: error: The selected working directory is a subdirectory of the input "
              "BIDS folder.", file=sys.stderr)
        return 2
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    (work / "fake.pids").write_text(f"{os.getpid()} {child.pid}")
    log("IMPORTANT", "fMRIPrep started!")
    subject = args.participant_label[0]
    sessions = sorted(p.name[4:] for p in (args.bids_dir / f"sub-{subject}").glob("ses-*"))
    done_file = work / "fake_done.txt"
    done = set(done_file.read_text().split()) if done_file.exists() else set()
    delay = float(os.environ.get("FAKE_FMRIPREP_DELAY", "0"))
    names = [n.format(ses=s) for s in sessions for n in NODES if "{ses}" in n]
    names = [n for n in NODES if "{ses}" not in n and "anat" in n] + names + [NODES[-1]]
    for name in names:
        path = f"fmriprep_25_2_wf.sub_{subject}_wf.{name}"
        if path in done:
            log("INFO", f'[Node] "{path}" found cached.')
            continue
        if name == os.environ.get("FAKE_FMRIPREP_FAIL_AT"):
            log("CRITICAL", "fMRIPrep failed: Workflow did not execute cleanly. Check log for "
                "details")
            child.kill()
            return 1
        time.sleep(delay)
        log("INFO", f'[Node] Finished "{path}", elapsed time {delay:.1f}s.')
        with done_file.open("a") as stream:
            stream.write(path + "\n")
    write_outputs(args.output_dir, args.bids_dir, subject)
    log("IMPORTANT", "fMRIPrep finished successfully!")
    child.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
