"""One repeat-scan pair's part of a reference: its Δz and within-scan variances (no pickle)."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InputError
from core.io.files import atomic_write_bytes

__all__ = [
    "ARRAYS",
    "REFERENCE_PAIR_FILE",
    "ReferencePair",
    "load_reference_pair",
    "save_reference_pair",
    "triu_edge_index",
]
ARRAYS = {
    "edge_delta": "Δz (post − pre Fisher z) of every edge, upper triangle of the ROI list",
    "edge_within_var": "within-scan variance of each edge's Δz, var(z_pre) + var(z_post)",
    "block_delta": "Δ of the mean Fisher z of every network block, in the order of 'blocks'",
    "block_within_var": "within-scan variance of each block's Δ (delta-method long-run)",
}


REFERENCE_PAIR_FILE = "reference_pair.npz"


def triu_edge_index(a: np.ndarray, b: np.ndarray, n_rois: int) -> np.ndarray:
    """Row of edge ``(a, b)`` (either order, ``a != b``) in the upper triangle of ``n_rois``.

    Parameters
    ----------
    a, b : ndarray of int
        ROI indices.
    n_rois : int

    Returns
    -------
    ndarray of int
    """
    lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    return lo * n_rois - lo * (lo + 1) // 2 + hi - lo - 1


@dataclass(frozen=True, eq=False)
class ReferencePair:
    """One untreated repeat-scan pair's part of a reference.

    Attributes
    ----------
    subject : str
    analysis : dict
        :func:`core.reference_verdict.analysis_record` of its analysis.
    roi_names, roi_networks : tuple of str
        Matrix order; network ``""`` where unknown.
    blocks : tuple of (str, str)
        Network pairs of the block arrays.
    edge_delta, edge_within_var : ndarray, shape (n_edges,)
    block_delta, block_within_var : ndarray, shape (n_blocks,)
    sessions : dict
        ``pre`` and ``post``: ``volumes``, ``volumes_kept``, ``tr``.
    inputs : dict of str to str
        SHA-256 of each input file by role.
    atlas_index : tuple of int or None
        Index of each ROI in the atlas, which orders the ROIs of a reference.
    source : Path or None
        The file it was read from.
    """

    subject: str
    analysis: dict[str, Any]
    roi_names: tuple[str, ...]
    roi_networks: tuple[str, ...]
    blocks: tuple[tuple[str, str], ...]
    edge_delta: np.ndarray
    edge_within_var: np.ndarray
    block_delta: np.ndarray
    block_within_var: np.ndarray
    sessions: dict[str, dict[str, Any]]
    inputs: dict[str, str]
    atlas_index: tuple[int, ...] | None = None
    source: Path | None = None

    def __post_init__(self) -> None:
        n = len(self.roi_names)
        shapes = {"edge_delta": (n * (n - 1) // 2,), "edge_within_var": (n * (n - 1) // 2,),
                  "block_delta": (len(self.blocks),), "block_within_var": (len(self.blocks),)}
        for name, shape in shapes.items():
            if np.shape(getattr(self, name)) != shape:
                raise ValueError(f"expected {name} of shape {shape} for {n} ROIs and "
                                 f"{len(self.blocks)} blocks, got {np.shape(getattr(self, name))}")
        if len(self.roi_networks) != n or len(set(self.roi_names)) != n:
            raise ValueError(f"expected {n} distinct ROI names with a network each")

    def metadata(self) -> dict[str, Any]:
        """JSON-ready description (everything but the arrays).

        Returns
        -------
        dict
        """
        return {"subject": self.subject, "analysis": self.analysis,
                "roi_names": list(self.roi_names), "roi_networks": list(self.roi_networks),
                "blocks": [list(b) for b in self.blocks], "sessions": self.sessions,
                "inputs": self.inputs,
                "atlas_index": None if self.atlas_index is None else list(self.atlas_index)}


def save_reference_pair(path: str | Path, pair: ReferencePair) -> Path:
    """Write ``reference_pair.npz`` (``np.savez``, no pickle), whole or not at all.

    Parameters
    ----------
    path : str or Path
    pair : ReferencePair

    Returns
    -------
    Path
    """
    buffer = io.BytesIO()
    np.savez(buffer, metadata=np.array(json.dumps(pair.metadata())),
             **{name: getattr(pair, name) for name in ARRAYS})
    return atomic_write_bytes(path, buffer.getvalue())


def load_reference_pair(path: str | Path) -> ReferencePair:
    """Read a file written by :func:`save_reference_pair`.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    ReferencePair

    Raises
    ------
    InputError
        Unreadable, incomplete or inconsistent file; the message names it.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in ("metadata", *ARRAYS) if k not in data.files]
            if missing:
                raise InputError("expected a reference pair file with metadata and "
                                 f"{', '.join(ARRAYS)}, missing {', '.join(missing)}", path)
            meta = json.loads(str(data["metadata"]))
            arrays = {k: data[k] for k in ARRAYS}
        index = meta.get("atlas_index")
        return ReferencePair(
            subject=str(meta["subject"]), analysis=meta["analysis"],
            roi_names=tuple(meta["roi_names"]), roi_networks=tuple(meta["roi_networks"]),
            blocks=tuple((str(a), str(b)) for a, b in meta["blocks"]),
            sessions=meta["sessions"], inputs=meta["inputs"],
            atlas_index=None if index is None else tuple(index), source=path, **arrays)
    except InputError:
        raise
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"expected a reference pair file (reference_pair.npz) as the cohort "
                         f"writes it, could not read it ({exc})", path) from None
