"""The reference of untreated repeat scans: ``reference.zip`` and its per-pair parts.

``reference.zip`` is a zip archive of

- ``metadata.json`` (read it with ``unzip -p reference.zip metadata.json``): the
  format name ``prepost-review/reference`` and ``version``, when and with which
  software it was made, every analysis parameter (the settings, the denoising
  strategy applied, the atlas), the ROI names and networks in matrix order, the
  network blocks in order, and per pair the subject ID, the volumes kept and
  recorded in each session, the TR and the SHA-256 of each input file (no paths,
  no header fields);
- ``edge_delta.npy`` and ``edge_within_var.npy``, shape ``(n_pairs, n_edges)``:
  each pair's Δz of every edge (upper triangle of the ROI list, row by row) and
  its within-scan variance, float32, NaN where a pair lacks an ROI;
- ``block_delta.npy`` and ``block_within_var.npy``, shape ``(n_pairs, n_blocks)``:
  the same for the network blocks.

A cohort writes each pair's part as ``reference_pair.npz``
(:func:`core.reference_verdict.pair_from_review`, :func:`save_reference_pair`) and
:func:`build_reference` gathers them.  Nothing is
pickled; files are written whole or not at all.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InputError
from core.io.files import atomic_write_bytes
from core.io.reference_pair import ARRAYS, ReferencePair, triu_edge_index

__all__ = [
    "FORMAT",
    "MIN_PAIRS",
    "REFERENCE_FILE",
    "VERSION",
    "Reference",
    "build_reference",
    "load_reference",
]


FORMAT = "prepost-review/reference"


VERSION = 1


REFERENCE_FILE = "reference.zip"


#: Fewest pairs a reference may hold.
MIN_PAIRS = 3


#: Array members and what they hold.


_NOT_A_REFERENCE = "expected a prepost-review reference file (zip)"


@dataclass(frozen=True, eq=False)
class Reference:
    """A loaded reference of untreated repeat scans (see the module notes).

    Attributes
    ----------
    path : Path
    sha256 : str
        Of the file.
    metadata : dict
        ``metadata.json``.
    edge_delta, edge_within_var : ndarray, shape (n_pairs, n_edges)
    block_delta, block_within_var : ndarray, shape (n_pairs, n_blocks)
    """

    path: Path
    sha256: str
    metadata: dict[str, Any]
    edge_delta: np.ndarray
    edge_within_var: np.ndarray
    block_delta: np.ndarray
    block_within_var: np.ndarray

    @property
    def roi_names(self) -> list[str]:
        """ROI names in matrix order."""
        return list(self.metadata["rois"]["names"])

    @property
    def roi_networks(self) -> list[str]:
        """Network of each ROI ("" where unknown)."""
        return list(self.metadata["rois"]["networks"])

    @property
    def blocks(self) -> list[tuple[str, str]]:
        """Network pairs of the block arrays."""
        return [(str(a), str(b)) for a, b in self.metadata["blocks"]]

    @property
    def subjects(self) -> list[str]:
        """Subject ID of each pair."""
        return [str(p["subject"]) for p in self.metadata["pairs"]]

    @property
    def analysis(self) -> dict[str, Any]:
        """:func:`core.reference_verdict.analysis_record` of the pairs' analysis."""
        return dict(self.metadata["analysis"])


def _flat(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _union_rois(pairs: Sequence[ReferencePair], out: Path) -> tuple[list[str], list[str]]:
    network: dict[str, tuple[str, str]] = {}  # name: (network, subject that gave it)
    position: dict[str, float] = {}
    use_atlas = all(p.atlas_index is not None for p in pairs)
    for pair in sorted(pairs, key=lambda p: -len(p.roi_names)):  # a complete pair's order
        for k, (name, net) in enumerate(zip(pair.roi_names, pair.roi_networks, strict=True)):
            known, subject = network.setdefault(name, (net, pair.subject))
            if known != net:
                raise InputError(f"ROI {name} is in network {net or 'none'} for {pair.subject} "
                                 f"and in {known or 'none'} for {subject}; a reference needs "
                                 "one network per ROI", pair.source or out)
            index = pair.atlas_index[k] if use_atlas and pair.atlas_index else len(position)
            position.setdefault(name, index)
    names = sorted(network, key=position.__getitem__)
    return names, [network[n][0] for n in names]


def _usable(pair: ReferencePair) -> ReferencePair:
    """Set Δ and variance to NaN wherever either is unusable (variance not > 0)."""
    values: dict[str, np.ndarray] = {}
    for kind in ("edge", "block"):
        delta = np.asarray(getattr(pair, f"{kind}_delta"), np.float32)
        var = np.asarray(getattr(pair, f"{kind}_within_var"), np.float32)
        with np.errstate(invalid="ignore"):
            bad = ~(np.isfinite(delta) & np.isfinite(var) & (var > 0))
        values[f"{kind}_delta"] = np.where(bad, np.nan, delta)
        values[f"{kind}_within_var"] = np.where(bad, np.nan, var)
    return replace(pair, edge_delta=values["edge_delta"],
                   edge_within_var=values["edge_within_var"],
                   block_delta=values["block_delta"], block_within_var=values["block_within_var"])


def build_reference(pairs: Sequence[ReferencePair], out_path: str | Path,
                    software: dict[str, str]) -> Path:
    """Gather repeat-scan pairs into ``reference.zip``, aligned by ROI name.

    The ROIs are the union of the pairs' ROIs (in atlas order when known); a
    pair's edges and blocks are NaN where it lacks them.

    Parameters
    ----------
    pairs : sequence of ReferencePair
        At least :data:`MIN_PAIRS`, of distinct subjects, analysed identically.
    out_path : str or Path
        Written whole or not at all.
    software : dict of str to str
        Versions of the software that made the pairs' numbers.

    Returns
    -------
    Path

    Raises
    ------
    InputError
        Too few pairs, a repeated subject, pairs analysed differently, or an
        ROI in two networks; one line naming the difference.
    """
    out = Path(out_path)
    if len(pairs) < MIN_PAIRS:
        raise InputError(f"expected at least {MIN_PAIRS} repeat-scan pairs for a reference, "
                         f"got {len(pairs)}", out)
    first = pairs[0]
    seen: set[str] = set()
    for pair in pairs:
        if pair.subject in seen:
            raise InputError(f"expected each subject once, found {pair.subject} twice",
                             pair.source or out)
        seen.add(pair.subject)
        a, b = _flat(first.analysis), _flat(pair.analysis)
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                raise InputError(f"{pair.subject} was analysed with {key} = {b.get(key)!r}, "
                                 f"{first.subject} with {a.get(key)!r}; a reference needs "
                                 "pairs analysed identically", pair.source or out)
    names, networks = _union_rois(pairs, out)
    order = list(dict.fromkeys(n for n in networks if n)) + (
        [""] if "" in networks else [])
    labels = [n or "Unassigned" for n in order]
    blocks = [(a, b) for i, a in enumerate(labels) for b in labels[i:]]
    block_row = {frozenset(ab): k for k, ab in enumerate(blocks)}
    n, position = len(names), {name: k for k, name in enumerate(names)}
    arrays = {k: np.full((len(pairs), len(blocks) if k.startswith("block") else
                          n * (n - 1) // 2), np.nan, np.float32) for k in ARRAYS}
    for row, pair in enumerate(pairs):
        pair = _usable(pair)
        at = np.array([position[name] for name in pair.roi_names])
        ii, jj = np.triu_indices(len(at), k=1)
        edges = triu_edge_index(at[ii], at[jj], n)
        arrays["edge_delta"][row, edges] = pair.edge_delta
        arrays["edge_within_var"][row, edges] = pair.edge_within_var
        rows = [block_row[frozenset(ab)] for ab in pair.blocks]
        arrays["block_delta"][row, rows] = pair.block_delta
        arrays["block_within_var"][row, rows] = pair.block_within_var
    metadata = {
        "format": FORMAT, "version": VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "description": "untreated repeat-scan pairs: the reference of normal session-to-"
                       "session change for prepost-review's reference verdict",
        "software": dict(software), "analysis": first.analysis,
        "rois": {"names": names, "networks": networks},
        "blocks": [list(b) for b in blocks], "n_pairs": len(pairs),
        "pairs": [{"subject": p.subject, **p.sessions, "inputs": p.inputs} for p in pairs],
        "arrays": {k: {"member": f"{k}.npy", "shape": list(v.shape), "dtype": "float32",
                       "meaning": ARRAYS[k]} for k, v in arrays.items()},
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("metadata.json", json.dumps(metadata, indent=1, ensure_ascii=False))
        for name, values in arrays.items():
            member = io.BytesIO()
            np.save(member, values, allow_pickle=False)
            archive.writestr(f"{name}.npy", member.getvalue())
    return atomic_write_bytes(out, buffer.getvalue())


def load_reference(path: str | Path) -> Reference:
    """Read and validate ``reference.zip``.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Reference

    Raises
    ------
    InputError
        Not a zip or truncated, members missing, another format, a newer
        format version, arrays inconsistent with the ROI list or not finite
        where they must be; the message names the file.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            present = set(archive.namelist())
            if "metadata.json" not in present:
                raise InputError(f"{_NOT_A_REFERENCE} with a metadata.json member, found "
                                 f"none among {len(present)} members", path)
            metadata = json.loads(archive.read("metadata.json").decode("utf-8"))
            _check_format(metadata, path)  # before the members: a newer version may differ
            missing = [f"{k}.npy" for k in ARRAYS if f"{k}.npy" not in present]
            if missing:
                raise InputError(f"{_NOT_A_REFERENCE} with its array members, missing "
                                 f"{', '.join(missing)}", path)
            arrays = {k: np.load(io.BytesIO(archive.read(f"{k}.npy")), allow_pickle=False)
                      for k in ARRAYS}
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(f"{_NOT_A_REFERENCE}, found no file at this path", path) from None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zipfile.LargeZipFile) as exc:
        raise InputError(f"{_NOT_A_REFERENCE}, found a file that is not one or is truncated "
                         f"or damaged ({exc})", path) from None
    _check_arrays(metadata, arrays, path)
    return Reference(path=path, sha256=hashlib.sha256(data).hexdigest(), metadata=metadata,
                     **{k: v.astype(np.float64) for k, v in arrays.items()})


def _check_format(metadata: Any, path: Path) -> None:
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        found = metadata.get("format") if isinstance(metadata, dict) else None
        raise InputError(f"{_NOT_A_REFERENCE}: format {FORMAT!r}, found {found!r}", path)
    version = metadata.get("version")
    if not isinstance(version, int) or version < 1:
        raise InputError(f"expected a format version from 1 to {VERSION}, found {version!r}",
                         path)
    if version > VERSION:
        raise InputError(f"this reference has format version {version}, newer than version "
                         f"{VERSION} that this program reads; update prepost-review", path)


def _check_arrays(metadata: dict[str, Any], arrays: dict[str, np.ndarray], path: Path) -> None:
    try:
        names, networks = metadata["rois"]["names"], metadata["rois"]["networks"]
        n_blocks, n_pairs = len(metadata["blocks"]), int(metadata["n_pairs"])
        if len(metadata["pairs"]) != n_pairs or not isinstance(metadata["analysis"], dict):
            raise ValueError("pairs")
    except (KeyError, TypeError, ValueError):
        raise InputError("expected metadata.json with rois (names, networks), blocks, "
                         "analysis and one entry in pairs per pair, found it incomplete",
                         path) from None
    n = len(names)
    if len(networks) != n or len(set(names)) != n:
        raise InputError(f"expected {n} distinct ROI names with a network each, found "
                         f"{len(set(names))} names and {len(networks)} networks", path)
    for key, values in arrays.items():
        width = n_blocks if key.startswith("block") else n * (n - 1) // 2
        if values.shape != (n_pairs, width) or values.dtype.kind != "f":
            raise InputError(f"expected {key}.npy of floats, shape ({n_pairs}, {width}) for "
                             f"{n_pairs} pairs and {n} ROIs, found {values.dtype} "
                             f"{values.shape}", path)
        if np.isinf(values).any():
            raise InputError(f"expected finite values or NaN in {key}.npy, found infinite "
                             "values", path)
    for kind in ("edge", "block"):
        delta, var = arrays[f"{kind}_delta"], arrays[f"{kind}_within_var"]
        if not np.array_equal(np.isnan(delta), np.isnan(var)) or (var[~np.isnan(var)] <= 0
                                                                   ).any():
            raise InputError(f"expected a positive {kind}_within_var wherever {kind}_delta "
                             "is given and NaN where it is not, found otherwise", path)
