"""Clinical seed presets and the named edges of the ketamine literature.

The presets live in ``resources/clinical_seeds.tsv`` (columns ``name``,
``label``, ``x``, ``y``, ``z`` in MNI mm, ``expected_region`` — AAL3 label
prefixes separated by ``|`` — and ``source``, the citation of the
coordinate or of its atlas derivation).

Named edges are correlations between sphere-mean signals of the prepared
(denoised) voxel data of each session; a group of seeds (the DMN = PCC and
mPFC) contributes the mean of its seeds' sphere-mean signals.

Edge sources are given as author and year where the journal details were not
verified offline (Gärtner et al. 2019; Nakamura et al. 2021).
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from core.errors import InputError
from core.resources import resource_path
from core.signal.connectivity import R_MAX

if TYPE_CHECKING:
    import pandas as pd

    from core.maps.prepare import PreparedSession

__all__ = [
    "EDGE_COLUMNS",
    "NAMED_EDGES",
    "ClinicalSeed",
    "NamedEdge",
    "clinical_seed_atlas",
    "empty_named_edges",
    "load_clinical_seeds",
    "named_edges",
    "named_edges_from_signals",
    "seed_by_name",
]

#: Columns of :func:`named_edges` (and of ``named_edges.tsv``).
EDGE_COLUMNS = ("edge", "seed_a", "seed_b", "source", "r_pre", "r_post", "z_pre", "z_post",
                "delta_z")


@dataclass(frozen=True)
class ClinicalSeed:
    """One preset seed.

    Attributes
    ----------
    name : str
        Short key (``"sgACC"``, ``"dlPFC_L"`` ...).
    label : str
        Name shown to the clinician.
    xyz_mm : tuple of float
        MNI coordinate in mm.
    expected_regions : tuple of str
        AAL3 label prefixes the coordinate should fall in (or within 4 mm of).
    source : str
        Literature source of the coordinate or its derivation.
    """

    name: str
    label: str
    xyz_mm: tuple[float, float, float]
    expected_regions: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class NamedEdge:
    """An edge between two seeds or seed groups, with its literature source."""

    edge: str
    seeds_a: tuple[str, ...]
    seeds_b: tuple[str, ...]
    source: str


_DMN = ("PCC", "mPFC")
#: The named edges reported by :func:`named_edges`.
NAMED_EDGES: tuple[NamedEdge, ...] = (
    NamedEdge("dlPFC(L)–sgACC", ("dlPFC_L",), ("sgACC",), "Gärtner et al. 2019"),
    NamedEdge("insula(L)–DMN", ("insula_L",), _DMN, "Evans et al. 2018, Biol Psychiatry 84:582"),
    NamedEdge("insula(R)–DMN", ("insula_R",), _DMN, "Evans et al. 2018, Biol Psychiatry 84:582"),
    NamedEdge("amygdala(L)–sgACC", ("amygdala_L",), ("sgACC",), "Nakamura et al. 2021"),
    NamedEdge("amygdala(R)–sgACC", ("amygdala_R",), ("sgACC",), "Nakamura et al. 2021"),
    NamedEdge("PCC–mPFC", ("PCC",), ("mPFC",),
              "default-mode core (Andrews-Hanna et al. 2010, Neuron 65:550)"),
)


def load_clinical_seeds() -> list[ClinicalSeed]:
    """Read the preset seeds shipped in ``resources/clinical_seeds.tsv``.

    Returns
    -------
    list of ClinicalSeed
        In table order.

    Raises
    ------
    InputError
        When the table is missing a column or a coordinate is not a number.
    """
    path = resource_path("clinical_seeds.tsv")
    seeds = []
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        needed = {"name", "label", "x", "y", "z", "expected_region", "source"}
        missing = needed - set(reader.fieldnames or ())
        if missing:
            raise InputError(f"expected columns {', '.join(sorted(missing))}", path)
        for row in reader:
            try:
                xyz = (float(row["x"]), float(row["y"]), float(row["z"]))
            except ValueError as exc:
                raise InputError(f"expected numeric x, y, z for seed {row['name']!r}",
                                 path) from exc
            seeds.append(ClinicalSeed(
                name=row["name"], label=row["label"], xyz_mm=xyz,
                expected_regions=tuple(row["expected_region"].split("|")),
                source=row["source"],
            ))
    return seeds


def seed_by_name(name: str) -> ClinicalSeed:
    """Return the preset seed called ``name`` (case-insensitive).

    Raises
    ------
    KeyError
        When no preset has that name.
    """
    for seed in load_clinical_seeds():
        if seed.name.lower() == name.lower():
            return seed
    raise KeyError(f"no clinical seed named {name!r}")


def empty_named_edges(note: str = "") -> pd.DataFrame:
    """Return an empty named-edges table, e.g. for ROI time-series inputs without voxels.

    Parameters
    ----------
    note : str
        Why the table is empty; stored in ``DataFrame.attrs["note"]``.

    Returns
    -------
    DataFrame
        Columns :data:`EDGE_COLUMNS`, no rows.
    """
    import pandas as pd

    frame = pd.DataFrame({c: pd.Series(dtype=object if i < 4 else float)
                          for i, c in enumerate(EDGE_COLUMNS)})
    frame.attrs["note"] = note or ("named edges need voxel data (NIfTI or fMRIPrep inputs); "
                                   "ROI time-series tables have none")
    return frame


@functools.lru_cache(maxsize=4)
def clinical_seed_atlas(radius_mm: float = 6.0):
    """Return the preset seeds as a sphere atlas, so their signals come from the ROI path.

    The same object for the same radius (its weights on a grid are then built once).

    Parameters
    ----------
    radius_mm : float, default=6.0

    Returns
    -------
    core.atlas.atlases.Atlas
    """
    from core.atlas.atlases import Atlas

    seeds = load_clinical_seeds()
    return Atlas(
        name="clinical_seeds", title=f"Clinical seeds ({radius_mm:g} mm spheres)",
        kind="spheres", roi_names=tuple(s.name for s in seeds),
        networks=tuple("" for _ in seeds),
        coords_mm=np.array([s.xyz_mm for s in seeds], dtype=float), labels_img=None,
        label_values=(), radius_mm=np.full(len(seeds), float(radius_mm)),
        citation="see resources/clinical_seeds.tsv", licence="",
    )


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b / denominator) if denominator > 0 else float("nan")


def named_edges_from_signals(
    pre: dict[str, np.ndarray],
    post: dict[str, np.ndarray],
    radius_mm: float = 6.0,
    edges: tuple[NamedEdge, ...] = NAMED_EDGES,
) -> pd.DataFrame:
    """Correlations of the literature's named edges from denoised seed signals.

    Parameters
    ----------
    pre, post : dict of str to ndarray
        Sphere-mean signal of each preset seed (by name), denoised, kept volumes only.
    radius_mm : float, default=6.0
        Radius the signals were taken with (recorded in the table's note).
    edges : tuple of NamedEdge, default=NAMED_EDGES

    Returns
    -------
    DataFrame
        Columns :data:`EDGE_COLUMNS`; ``z = arctanh(r)``, ``delta_z = z_post - z_pre``.
        ``seed_a``/``seed_b`` name the seeds (``+`` joins a group's seeds, whose
        signals are averaged).
    """
    import pandas as pd

    rows = []
    for edge in edges:
        r = []
        for signals in (pre, post):
            missing = [n for n in edge.seeds_a + edge.seeds_b if n not in signals]
            if missing:
                r.append(float("nan"))
                continue
            a = np.mean([signals[n] for n in edge.seeds_a], axis=0)
            b = np.mean([signals[n] for n in edge.seeds_b], axis=0)
            r.append(_correlation(a, b))
        z = [float(np.arctanh(np.clip(v, -R_MAX, R_MAX))) for v in r]
        rows.append({
            "edge": edge.edge, "seed_a": "+".join(edge.seeds_a),
            "seed_b": "+".join(edge.seeds_b), "source": edge.source,
            "r_pre": r[0], "r_post": r[1], "z_pre": z[0], "z_post": z[1],
            "delta_z": z[1] - z[0],
        })
    frame = pd.DataFrame(rows, columns=list(EDGE_COLUMNS))
    frame.attrs["note"] = (f"sphere-mean signals of {radius_mm:g} mm seeds; DMN = mean of the "
                           "PCC and mPFC sphere signals")
    return frame


def named_edges(
    prepared_pre: PreparedSession,
    prepared_post: PreparedSession,
    radius_mm: float = 6.0,
    edges: tuple[NamedEdge, ...] = NAMED_EDGES,
) -> pd.DataFrame:
    """Named edges from prepared (denoised) voxel data of both sessions.

    Parameters
    ----------
    prepared_pre, prepared_post : PreparedSession
        From :func:`core.maps.prepare.prepare_session_voxels` (same mask).
    radius_mm : float, default=6.0
        Seed sphere radius.
    edges : tuple of NamedEdge, default=NAMED_EDGES

    Returns
    -------
    DataFrame
        As :func:`named_edges_from_signals`.
    """
    signals = []
    for prepared in (prepared_pre, prepared_post):
        by_name = {}
        for seed in load_clinical_seeds():
            indices = prepared.sphere_indices(seed.xyz_mm, radius_mm)
            if indices.size == 0:
                raise InputError(
                    f"expected the {seed.name} seed inside the brain mask, found it outside")
            by_name[seed.name] = prepared.mean_signal(indices)
        signals.append(by_name)
    return named_edges_from_signals(signals[0], signals[1], radius_mm, edges)
