"""Find fMRIPrep on this machine and build the command that runs it on one subject.

fMRIPrep cannot be bundled (it needs FSL, ANTs, AFNI, FreeSurfer and TemplateFlow
templates), so a site provides it one of three ways, looked for in this order:

1. a container image named by the user (``--fmriprep-image``, ``$PREPOST_FMRIPREP_IMAGE``
   or the window's settings): ``docker:nipreps/fmriprep:25.2.0`` or
   ``apptainer:/path/fmriprep.sif`` (a ``.sif``/``.simg`` path alone means apptainer);
2. ``fmriprep`` on PATH (a native install), with its tools and the TemplateFlow
   templates on disk (``$TEMPLATEFLOW_HOME``, default ``~/.cache/templateflow``);
3. ``fmriprep-docker`` on PATH, with a running Docker.

Every route needs a FreeSurfer licence file (free), even with ``--fs-no-reconall``:
fMRIPrep refuses to start without one.  Nothing is downloaded: an image must already
be present locally.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.errors import PreprocessingError

__all__ = ["IMAGE_ENV", "OUTPUT_SPACE", "REQUIRED_TEMPLATES", "FmriprepSetup", "find_fmriprep",
           "fmriprep_command", "templateflow_home"]

IMAGE_ENV = "PREPOST_FMRIPREP_IMAGE"
#: The space this product analyses: MNI 2009c asymmetric on a 2 mm grid.
OUTPUT_SPACE = "MNI152NLin2009cAsym:res-2"
#: Template files a native fMRIPrep run needs at least (checked before starting).
REQUIRED_TEMPLATES = (
    "tpl-MNI152NLin2009cAsym/tpl-MNI152NLin2009cAsym_res-01_T1w.nii.gz",
    "tpl-MNI152NLin2009cAsym/tpl-MNI152NLin2009cAsym_res-02_T1w.nii.gz",
    "tpl-OASIS30ANTs/tpl-OASIS30ANTs_res-01_T1w.nii.gz",
)
#: Programs of a native install that fMRIPrep calls (ANTs, FSL, AFNI, FreeSurfer).
NATIVE_TOOLS = ("antsRegistration", "mcflirt", "3dTshift", "mri_coreg")
_CONTAINER_LICENSE = "/opt/freesurfer/license.txt"
_CHECK_TIMEOUT_S = 30


@dataclass(frozen=True)
class FmriprepSetup:
    """How fMRIPrep is run here.

    Attributes
    ----------
    kind : {"native", "fmriprep-docker", "docker", "apptainer"}
    program : str
        The executable started (``fmriprep``, ``fmriprep-docker``, ``docker``, ``apptainer``).
    image : str or None
        The container image (docker name or apptainer file).
    fs_license : Path
    templateflow : Path or None
        Templates folder given to fMRIPrep (native: required; containers: bound when set).
    """

    kind: str
    program: str
    image: str | None
    fs_license: Path
    templateflow: Path | None = None

    @property
    def description(self) -> str:
        """``fMRIPrep (docker image nipreps/fmriprep:25.2.0)``."""
        where = {"native": f"installed at {self.program}",
                 "fmriprep-docker": "through fmriprep-docker",
                 "docker": f"docker image {self.image}",
                 "apptainer": f"apptainer image {self.image}"}[self.kind]
        return f"fMRIPrep ({where})"


def templateflow_home(environ: Mapping[str, str]) -> Path:
    """``$TEMPLATEFLOW_HOME``, else TemplateFlow's default ``~/.cache/templateflow``."""
    value = environ.get("TEMPLATEFLOW_HOME")
    return Path(value).expanduser() if value else Path.home() / ".cache" / "templateflow"


def _missing_templates(home: Path) -> list[str]:
    return [name for name in REQUIRED_TEMPLATES
            if not ((home / name).is_file() and (home / name).stat().st_size > 10_000)]


def _find_license(given: str | Path | None, environ: Mapping[str, str]) -> Path | None:
    if given:
        path = Path(given).expanduser()
        if not path.is_file():
            raise PreprocessingError("expected a FreeSurfer licence file, found nothing", path)
        return path.absolute()
    candidates = [environ.get("FS_LICENSE")]
    if environ.get("FREESURFER_HOME"):
        candidates.append(str(Path(environ["FREESURFER_HOME"]) / "license.txt"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate).absolute()
    return None


def _quiet_run(command: list[str]) -> tuple[bool, str]:
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False,
                                timeout=_CHECK_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    lines = (result.stderr or result.stdout).strip().splitlines()
    return result.returncode == 0, (lines[-1] if lines else f"exit code {result.returncode}")


def _parse_image(image: str) -> tuple[str, str]:
    kind, sep, name = image.partition(":")
    if sep and kind in ("docker", "apptainer", "singularity"):
        return ("docker" if kind == "docker" else "apptainer"), name
    if image.endswith((".sif", ".simg")):
        return "apptainer", image
    return "docker", image


def _image_setup(image: str, license_file: Path | None, environ: Mapping[str, str],
                 which) -> tuple[FmriprepSetup | None, str]:
    kind, name = _parse_image(image)
    if kind == "apptainer":
        program = which("apptainer", path=environ.get("PATH")) or \
            which("singularity", path=environ.get("PATH"))
        if not program:
            return None, f"the image {name} needs apptainer (or singularity), not on PATH"
        if not Path(name).is_file():
            return None, f"the apptainer image {name} does not exist"
    else:
        program = which("docker", path=environ.get("PATH"))
        if not program:
            return None, f"the image {name} needs docker, not on PATH"
        ok, detail = _quiet_run([program, "image", "inspect", name])
        if not ok:
            return None, (f"docker has no local image {name}, or the Docker daemon is not "
                          f"running ({detail})")
    if license_file is None:
        return None, "no FreeSurfer licence file (--fs-license FILE or $FS_LICENSE)"
    home = templateflow_home(environ) if environ.get("TEMPLATEFLOW_HOME") else None
    return FmriprepSetup(kind, program, name, license_file, home), ""


def _native_setup(license_file: Path | None, environ: Mapping[str, str],
                  which) -> tuple[FmriprepSetup | None, str]:
    program = which("fmriprep", path=environ.get("PATH"))
    if not program:
        return None, "no `fmriprep` on PATH"
    missing_tools = [t for t in NATIVE_TOOLS if not which(t, path=environ.get("PATH"))]
    if missing_tools:
        return None, f"`fmriprep` is on PATH but not its tools {', '.join(missing_tools)}"
    home = templateflow_home(environ)
    missing = _missing_templates(home)
    if missing:
        return None, (f"the TemplateFlow templates are not all in {home} (missing "
                      f"{', '.join(Path(m).name for m in missing)}; set $TEMPLATEFLOW_HOME or "
                      "fetch them on a connected machine with templateflow.api.get)")
    if license_file is None:
        return None, "no FreeSurfer licence file (--fs-license FILE or $FS_LICENSE)"
    return FmriprepSetup("native", program, None, license_file, home), ""


def find_fmriprep(image: str | None = None, fs_license: str | Path | None = None,
                  environ: Mapping[str, str] | None = None) -> FmriprepSetup:
    """Find a way to run fMRIPrep here (see the module's docstring for the order).

    Parameters
    ----------
    image : str, optional
        Container image; default ``$PREPOST_FMRIPREP_IMAGE``.
    fs_license : str or Path, optional
        FreeSurfer licence; default ``$FS_LICENSE`` or ``$FREESURFER_HOME/license.txt``.
    environ : mapping, optional
        Environment to look in (default ``os.environ``).

    Returns
    -------
    FmriprepSetup

    Raises
    ------
    PreprocessingError
        fMRIPrep is not available; the message says what was looked for.
    """
    environ = os.environ if environ is None else environ
    which = shutil.which
    license_file = _find_license(fs_license, environ)
    image = image or environ.get(IMAGE_ENV) or None
    reasons = []
    if image:
        setup, reason = _image_setup(image, license_file, environ, which)
        if setup:
            return setup
        reasons.append(reason)
    else:
        reasons.append(f"no container image named (--fmriprep-image or ${IMAGE_ENV})")
    setup, reason = _native_setup(license_file, environ, which)
    if setup:
        return setup
    reasons.append(reason)
    program = which("fmriprep-docker", path=environ.get("PATH"))
    if program:
        docker = which("docker", path=environ.get("PATH"))
        ok, detail = _quiet_run([docker, "version"]) if docker else (False, "no docker")
        if ok and license_file is not None:
            return FmriprepSetup("fmriprep-docker", program, None, license_file)
        reasons.append("`fmriprep-docker` is on PATH but " + (
            f"Docker does not answer ({detail})" if not ok else "no FreeSurfer licence file"))
    else:
        reasons.append("no `fmriprep-docker` on PATH")
    raise PreprocessingError("fMRIPrep is not available: " + "; ".join(reasons))


def fmriprep_command(setup: FmriprepSetup, bids_dir: Path, output_dir: Path, work_dir: Path,
                     subject: str, task: str | None = None,
                     nprocs: int | None = None) -> list[str]:
    """Build the command that preprocesses one subject's sessions into ``output_dir``.

    Flags: ``--participant-label``, ``--output-spaces MNI152NLin2009cAsym:res-2``, the
    work folder ``-w`` (a rerun resumes from it), ``--fs-no-reconall`` (no surfaces
    are needed), the licence, ``--notrack`` (no telemetry from a clinical workstation)
    and ``--stop-on-first-crash``.  Confounds are part of fMRIPrep's default output.

    Parameters
    ----------
    setup : FmriprepSetup
    bids_dir, output_dir, work_dir : Path
        Absolute paths.
    subject : str
        Label without ``sub-``.
    task : str, optional
        ``--task-id`` when the subject has several tasks.
    nprocs : int, optional
        ``--nprocs``.

    Returns
    -------
    list of str
    """
    inside = setup.kind in ("docker", "apptainer")
    data, out, work = (("/data", "/out", "/work") if inside
                       else (str(bids_dir), str(output_dir), str(work_dir)))
    license_path = _CONTAINER_LICENSE if inside else str(setup.fs_license)
    options = ["participant", "--participant-label", subject, "-w", work,
               "--output-spaces", OUTPUT_SPACE, "--fs-no-reconall",
               "--fs-license-file", license_path, "--notrack", "--stop-on-first-crash"]
    if task:
        options += ["--task-id", task]
    if nprocs:
        options += ["--nprocs", str(nprocs)]
    if setup.kind in ("native", "fmriprep-docker"):
        return [setup.program, data, out, *options]
    mounts = [(bids_dir, "/data", "ro"), (output_dir, "/out", "rw"), (work_dir, "/work", "rw"),
              (setup.fs_license, _CONTAINER_LICENSE, "ro")]
    if setup.templateflow is not None:
        mounts.append((setup.templateflow, "/templateflow", "ro"))
    if setup.kind == "docker":
        command = [setup.program, "run", "--rm", "--init"]
        if hasattr(os, "getuid") and sys.platform != "win32":
            command += ["-u", f"{os.getuid()}:{os.getgid()}"]
        for host, target, mode in mounts:
            command += ["-v", f"{host}:{target}:{mode}"]
        if setup.templateflow is not None:
            command += ["-e", "TEMPLATEFLOW_HOME=/templateflow"]
    else:
        command = [setup.program, "run", "--cleanenv"]
        for host, target, mode in mounts:
            command += ["-B", f"{host}:{target}:{mode}"]
        if setup.templateflow is not None:
            command += ["--env", "TEMPLATEFLOW_HOME=/templateflow"]
    return [*command, str(setup.image), data, out, *options]
