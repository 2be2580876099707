"""User atlases: an MNI label image with a BIDS ``dseg.tsv``-style table, checked strictly."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.errors import AtlasError

if TYPE_CHECKING:
    import nibabel as nib
from core.atlas.model import MNI_BOX_MM, Atlas, AtlasInfo, Row, _labels_atlas

__all__: list[str] = []  # used through core.atlas.atlases.load_atlas




def _format_values(values: list[int], limit: int = 10) -> str:
    text = ", ".join(str(v) for v in values[:limit])
    return text + (f" … ({len(values) - limit} more)" if len(values) > limit else "")


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
    if int(img.header["sform_code"]) == 0 and int(img.header["qform_code"]) == 0:
        raise AtlasError("expected a label image that states its orientation in MNI space, "
                         "found sform and qform codes 0", path)
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
