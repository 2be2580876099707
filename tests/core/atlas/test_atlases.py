"""Tests for core.atlas.atlases and core.resources (offline atlas registry)."""

from __future__ import annotations

import socket
import subprocess
import sys
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from core.atlas import atlases
from core.atlas.atlases import DEFAULT_ATLAS, MNI_BOX_MM, Atlas, list_atlases, load_atlas
from core.errors import AtlasError
from core.resources import resource_path

REPO = Path(__file__).resolve().parents[3]
EXPECTED_COUNTS = {
    "schaefer100": 100,
    "schaefer400": 400,
    "schaefer100_17": 100,
    "seitzman300": 300,
    "dosenbach160": 160,
    "aal3": 166,  # AAL3v1: values 1..170 with 35, 36, 81, 82 unused
}
SEVEN_NETWORKS = {"Vis", "SomMot", "DorsAttn", "SalVentAttn", "Limbic", "Cont", "Default"}

# 26 x 27 x 20 mm voxels on a (7, 8, 9) grid span roughly the MNI box; distinct sizes
# per axis so that a swapped or transposed axis changes the centroids.
SHAPE = (7, 8, 9)
AFFINE = np.array([[-26.0, 0, 0, 78.0], [0, 27.0, 0, -121.5], [0, 0, 20.0, -62.0], [0, 0, 0, 1]])


@pytest.fixture(scope="module")
def offline():
    """Forbid network connections and drop cached atlases so they are re-read offline."""
    original = socket.socket.connect

    def refuse(*args, **kwargs):
        raise AssertionError("atlas loading tried to use the network")

    socket.socket.connect = refuse
    atlases._load_registered.cache_clear()
    yield
    socket.socket.connect = original


@pytest.fixture(scope="module")
def registry(offline) -> dict[str, Atlas]:
    return {info.name: load_atlas(info.name) for info in list_atlases()}


def write_nifti(path: Path, data: np.ndarray, affine: np.ndarray = AFFINE) -> Path:
    nib.Nifti1Image(data, affine).to_filename(path)
    return path


def synthetic_labels() -> np.ndarray:
    data = np.zeros(SHAPE, dtype=np.int16)
    data[1, 2, 3] = 3  # single voxel: centroid is exactly that voxel
    data[5, 6, 7] = 8
    data[0:2, 0:2, 0:2] = 11  # centroid at voxel (0.5, 0.5, 0.5)
    data[6, 0, 8] = 20
    return data


def write_table(path: Path, rows: list[str], header: str = "index\tname\tnetwork") -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- resources


def test_resource_path_points_into_repo_resources():
    assert resource_path() == REPO / "resources"
    readme = resource_path("atlases", "README.md")
    assert readme == REPO / "resources" / "atlases" / "README.md"
    assert readme.is_file()
    assert (resource_path("atlases", "schaefer_2018") / "LICENSE").is_file()


def test_resource_path_uses_pyinstaller_bundle(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resource_path("atlases", "x.txt") == tmp_path / "resources" / "atlases" / "x.txt"


def test_resource_path_rejects_escaping_paths():
    with pytest.raises(ValueError, match="inside"):
        resource_path("..", "core")


# ----------------------------------------------------------------------------- registry


def test_import_is_light():
    code = (
        "import sys, core.atlas.atlases; "
        "print(sorted(m for m in ('nilearn', 'nibabel', 'scipy', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_list_atlases_metadata():
    infos = list_atlases()
    assert [i.name for i in infos] == list(EXPECTED_COUNTS)
    assert DEFAULT_ATLAS in EXPECTED_COUNTS
    for info in infos:
        assert info.kind in ("labels", "spheres")
        assert info.n_rois == EXPECTED_COUNTS[info.name]
        assert info.title and info.citation and info.licence


@pytest.mark.parametrize("name", list(EXPECTED_COUNTS))
def test_registry_atlas_loads_offline(registry, name):
    atlas = registry[name]
    info = {i.name: i for i in list_atlases()}[name]
    assert (atlas.name, atlas.title, atlas.kind) == (info.name, info.title, info.kind)
    assert atlas.n_rois == EXPECTED_COUNTS[name]
    assert len(atlas.roi_names) == len(atlas.networks) == atlas.n_rois
    assert all(isinstance(n, str) and n.strip() for n in atlas.roi_names)
    assert len(set(atlas.roi_names)) == atlas.n_rois
    assert atlas.coords_mm.shape == (atlas.n_rois, 3)
    assert np.isfinite(atlas.coords_mm).all()
    assert not atlas.coords_mm.flags.writeable
    box = np.asarray(MNI_BOX_MM)
    assert (atlas.coords_mm >= box[:, 0]).all() and (atlas.coords_mm <= box[:, 1]).all()
    if atlas.kind == "labels":
        assert atlas.radius_mm is None
        assert len(atlas.label_values) == atlas.n_rois
        data = np.asarray(atlas.labels_img.dataobj)
        assert data.ndim == 3 and np.issubdtype(data.dtype, np.integer)
        assert set(np.unique(data)) - {0} == set(atlas.label_values)
    else:
        assert atlas.labels_img is None and atlas.label_values == ()
        assert atlas.radius_mm.shape == (atlas.n_rois,)
        assert ((atlas.radius_mm >= 3) & (atlas.radius_mm <= 10)).all()


def test_registry_atlases_are_cached(registry):
    assert load_atlas("schaefer100") is registry["schaefer100"]
    assert load_atlas(" Schaefer100 ") is registry["schaefer100"]


def test_schaefer_7_networks(registry):
    for name in ("schaefer100", "schaefer400"):
        atlas = registry[name]
        assert set(atlas.networks) == SEVEN_NETWORKS
        assert atlas.roi_names[0] == "7Networks_LH_Vis_1"
        assert all(n.startswith("7Networks_") for n in atlas.roi_names)
        assert atlas.label_values == tuple(range(1, atlas.n_rois + 1))
    atlas = registry["schaefer100"]
    pfc = atlas.roi_names.index("7Networks_LH_Default_PFC_1")
    assert atlas.networks[pfc] == "Default"
    # Hemisphere sanity check of centroids (x < 0 is left in MNI).
    hemi = np.array([n.split("_")[1] for n in atlas.roi_names])
    assert (atlas.coords_mm[hemi == "LH", 0] < 0).all()
    assert (atlas.coords_mm[hemi == "RH", 0] > 0).all()


def test_schaefer_17_networks(registry):
    atlas = registry["schaefer100_17"]
    assert len(set(atlas.networks)) == 17
    assert {"DefaultA", "ContA", "TempPar", "VisCent"} <= set(atlas.networks)
    assert all(n.startswith("17Networks_") for n in atlas.roi_names)


def test_seitzman_networks(registry):
    atlas = registry["seitzman300"]
    networks = set(atlas.networks)
    assert {"DefaultMode", "Salience", "FrontoParietal", "Reward"} <= networks
    assert "unassigned" not in networks and "" in networks
    assert len(networks - {""}) == 13
    assert atlas.roi_names[atlas.networks.index("DefaultMode")] == "DefaultMode_001"
    assert set(np.unique(atlas.radius_mm)) <= {4.0, 5.0}


def test_dosenbach_networks(registry):
    atlas = registry["dosenbach160"]
    assert len(set(atlas.networks)) == 6
    assert "default" in atlas.networks


def test_aal3_regions(registry):
    atlas = registry["aal3"]
    assert set(atlas.networks) == {""}
    for name in ("ACC_sub_L", "ACC_sub_R", "ACC_pre_L", "Precentral_L", "Raphe_M"):
        assert name in atlas.roi_names
    assert "Cingulate_Ant_L" not in atlas.roi_names  # empty in AAL3v1 (subdivided)
    sub_l = atlas.coords_mm[atlas.roi_names.index("ACC_sub_L")]
    sub_r = atlas.coords_mm[atlas.roi_names.index("ACC_sub_R")]
    assert sub_l[0] < 0 < sub_r[0]
    assert sub_l[1] > 10 and sub_l[2] < 10  # anterior and ventral (subgenual)


@pytest.mark.parametrize("name", list(EXPECTED_COUNTS))
def test_network_order_groups_networks_contiguously(registry, name):
    atlas = registry[name]
    order = atlas.network_order()
    assert sorted(order.tolist()) == list(range(atlas.n_rois))
    blocks = [atlas.networks[i] for i in order]
    seen = [b for k, b in enumerate(blocks) if k == 0 or b != blocks[k - 1]]
    assert len(seen) == len(set(seen)), "a network appears in more than one block"
    if "" in seen:
        assert seen[-1] == ""
    for net in set(atlas.networks):  # stable within each network
        members = [i for i in order if atlas.networks[i] == net]
        assert members == sorted(members)


def test_network_order_first_appearance_and_unassigned_last():
    atlas = Atlas(
        "t", "t", "spheres", ("a", "b", "c", "d", "e"), ("B", "", "A", "B", "A"),
        np.zeros((5, 3)), None, (), np.ones(5), "", "",
    )  # fmt: skip
    assert atlas.network_order().tolist() == [0, 3, 2, 4, 1]


def test_unknown_name_lists_valid_names():
    with pytest.raises(AtlasError, match=r"schaefer100.*seitzman300.*aal3") as err:
        load_atlas("schaefer200")
    assert "'schaefer200'" in str(err.value)


def test_table_with_registry_atlas_is_rejected(tmp_path):
    with pytest.raises(AtlasError, match="user label image"):
        load_atlas("aal3", labels_table=tmp_path / "x.tsv")


# ----------------------------------------------------------------------------- user atlases


def test_user_atlas_round_trip_with_dseg_table(tmp_path):
    img_path = write_nifti(tmp_path / "atlas_dseg.nii.gz", synthetic_labels())
    # Names deliberately contradict the network column and networks interleave,
    # so grouping can only come from the table's network column.
    table = write_table(
        tmp_path / "atlas_dseg.tsv",
        [
            "0\tbackground\tn/a",
            "3\tVis_roi_three\tDefault",
            "8\tDefault_roi_eight\tSalience",
            "11\tSalience_roi_eleven\tDefault",
            "20\tVis_roi_twenty\t",
        ],
    )
    atlas = load_atlas(str(img_path), labels_table=str(table))
    assert atlas.kind == "labels" and atlas.name == "atlas_dseg.nii.gz"
    assert atlas.label_values == (3, 8, 11, 20)
    assert atlas.roi_names == ("Vis_roi_three", "Default_roi_eight", "Salience_roi_eleven",
                               "Vis_roi_twenty")  # fmt: skip
    assert atlas.networks == ("Default", "Salience", "Default", "")
    assert atlas.network_order().tolist() == [0, 2, 1, 3]
    assert atlas.labels_img.shape == SHAPE
    np.testing.assert_array_equal(np.asarray(atlas.labels_img.dataobj), synthetic_labels())
    np.testing.assert_allclose(atlas.labels_img.affine, AFFINE)
    expected_ijk = np.array([[1, 2, 3], [5, 6, 7], [0.5, 0.5, 0.5], [6, 0, 8]])
    expected = nib.affines.apply_affine(AFFINE, expected_ijk)
    np.testing.assert_allclose(atlas.coords_mm, expected)
    assert atlas.radius_mm is None


def test_user_atlas_without_table_and_float_4d_image(tmp_path):
    data = synthetic_labels().astype(np.float32)[..., np.newaxis]  # (7, 8, 9, 1)
    atlas = load_atlas(write_nifti(tmp_path / "atlas.nii", data))
    assert atlas.roi_names == ("ROI 3", "ROI 8", "ROI 11", "ROI 20")
    assert atlas.networks == ("", "", "", "")
    assert atlas.labels_img.shape == SHAPE
    assert np.issubdtype(atlas.labels_img.get_data_dtype(), np.integer)


def test_table_rows_missing_from_image_are_dropped_with_warning(tmp_path):
    img_path = write_nifti(tmp_path / "a.nii.gz", synthetic_labels())
    table = write_table(
        tmp_path / "a.tsv",
        ["3\tthree", "8\teight", "11\televen", "20\ttwenty", "99\tghost"],
        header="index\tname",
    )
    with pytest.warns(UserWarning, match=r"label values 99 are not in the label image"):
        atlas = load_atlas(img_path, labels_table=table)
    assert atlas.roi_names == ("three", "eight", "eleven", "twenty")
    assert atlas.networks == ("",) * 4


def test_image_values_missing_from_table_raise(tmp_path):
    img_path = write_nifti(tmp_path / "a.nii.gz", synthetic_labels())
    table = write_table(tmp_path / "a.tsv", ["3\tthree\tX", "11\televen\tY"])
    with pytest.raises(
        AtlasError, match=r"the label image has values 8, 20 not listed in \S*a\.tsv"
    ):
        load_atlas(img_path, labels_table=table)


@pytest.mark.parametrize(
    ("header", "rows", "match"),
    [
        ("label\tname", ["3\tthree"], "expected columns 'index' and 'name'.*missing index"),
        ("index\tnetwork", ["3\tX"], "missing name"),
        ("index\tname", ["3\tthree", "3\tagain"], "repeats of \\[3\\]"),
        ("index\tname", ["three\tthree"], "expected integers in column 'index'"),
    ],
)
def test_malformed_tables_raise(tmp_path, header, rows, match):
    img_path = write_nifti(tmp_path / "a.nii.gz", synthetic_labels())
    table = write_table(tmp_path / "t.tsv", rows, header=header)
    with pytest.raises(AtlasError, match=match) as err:
        load_atlas(img_path, labels_table=table)
    assert err.value.path == table


def test_missing_table_raises(tmp_path):
    img_path = write_nifti(tmp_path / "a.nii.gz", synthetic_labels())
    with pytest.raises(AtlasError, match="label table"):
        load_atlas(img_path, labels_table=tmp_path / "missing.tsv")


def test_identity_affine_is_not_mni(tmp_path):
    data = np.zeros((91, 109, 91), dtype=np.int16)
    data[40:50, 50:60, 40:50] = 1
    img_path = write_nifti(tmp_path / "native.nii.gz", data, np.eye(4))
    with pytest.raises(AtlasError, match=r"expected an atlas in MNI space.*identity") as err:
        load_atlas(img_path)
    assert err.value.path == img_path


def test_atlas_outside_mni_box_raises(tmp_path):
    shifted = AFFINE.copy()
    shifted[:3, 3] += 500.0  # scanner space far from the MNI origin
    img_path = write_nifti(tmp_path / "scanner.nii.gz", synthetic_labels(), shifted)
    with pytest.raises(AtlasError, match=r"expected an atlas in MNI space.*covering 0%"):
        load_atlas(img_path)


def test_small_field_of_view_raises(tmp_path):
    small = np.diag([2.0, 2.0, 2.0, 1.0])  # 14 x 16 x 18 mm: a patch, not a brain atlas
    img_path = write_nifti(tmp_path / "patch.nii.gz", synthetic_labels(), small)
    with pytest.raises(AtlasError, match="expected an atlas in MNI space"):
        load_atlas(img_path)


def test_missing_file_raises(tmp_path):
    missing = tmp_path / "nope.nii.gz"
    with pytest.raises(AtlasError, match=r"nope\.nii\.gz") as err:
        load_atlas(str(missing))
    assert err.value.path == missing


def test_png_renamed_to_nifti_raises(tmp_path):
    fake = tmp_path / "picture.nii.gz"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(AtlasError, match=r"picture\.nii\.gz.*expected a NIfTI label image"):
        load_atlas(fake)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (np.zeros((*SHAPE, 3), np.int16), "expected a 3D integer label image, found a 4D"),
        (np.full(SHAPE, 0.5, np.float32), r"expected integer label values.*0\.5"),
        (np.full(SHAPE, -1, np.int16), "found minimum -1"),
        (np.zeros(SHAPE, np.int16), "found only zeros"),
    ],
)
def test_invalid_label_images_raise(tmp_path, data, match):
    with pytest.raises(AtlasError, match=match):
        load_atlas(write_nifti(tmp_path / "bad.nii.gz", data))


def test_user_atlas_warnings_point_at_caller(tmp_path):
    img_path = write_nifti(tmp_path / "a.nii.gz", synthetic_labels())
    table = write_table(tmp_path / "a.tsv", ["3\ta", "8\tb", "11\tc", "20\td", "21\te"],
                        header="index\tname")  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_atlas(img_path, labels_table=table)
    assert [Path(w.filename).name for w in caught] == [Path(__file__).name]
