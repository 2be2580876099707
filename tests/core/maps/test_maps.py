"""Tests for core.maps.display: ROI values on the display grid and region look-up."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from nibabel.affines import apply_affine
from scipy import ndimage

from core.atlas.atlases import load_atlas
from core.maps.display import display_template, mm_to_voxel, region_at, roi_map
from core.results import RoiSet


def _fake_comparison(atlas, index):
    rois = RoiSet(names=[atlas.roi_names[i] for i in index],
                  networks=[atlas.networks[i] for i in index],
                  coords_mm=atlas.coords_mm[index], atlas_index=np.asarray(index))
    return SimpleNamespace(atlas=atlas, rois=rois)


def _interior_point_mm(atlas, roi):
    data = np.asarray(atlas.labels_img.dataobj)
    inside = ndimage.binary_erosion(data == atlas.label_values[roi], iterations=1)
    ijk = np.argwhere(inside)[len(np.argwhere(inside)) // 2]
    return apply_affine(atlas.labels_img.affine, ijk)


def test_painted_value_lands_in_its_parcel():
    atlas = load_atlas("schaefer100")
    index = np.arange(0, 100, 2)  # every other ROI, so order and gaps matter
    values = np.arange(index.size, dtype=float) + 1
    volume = roi_map(_fake_comparison(atlas, index), values)
    template = display_template()
    assert volume.shape == template.shape
    for k in (0, 7, 33):
        ijk = mm_to_voxel(template.affine, _interior_point_mm(atlas, index[k]))
        assert volume[tuple(ijk)] == pytest.approx(values[k])
    # an ROI left out of the comparison is not painted
    ijk = mm_to_voxel(template.affine, _interior_point_mm(atlas, 1))
    assert np.isnan(volume[tuple(ijk)])
    assert np.isnan(volume[0, 0, 0])


def test_sphere_atlas_paints_balls():
    atlas = load_atlas("dosenbach160")
    index = np.arange(atlas.n_rois)
    volume = roi_map(_fake_comparison(atlas, index), index.astype(float))
    ijk = mm_to_voxel(display_template().affine, atlas.coords_mm[10])
    assert volume[tuple(ijk)] == 10
    assert np.isfinite(volume).sum() > 100


def test_roi_map_checks_its_input():
    atlas = load_atlas("schaefer100")
    with pytest.raises(ValueError, match="expected 3 values"):
        roi_map(_fake_comparison(atlas, [0, 1, 2]), [1.0, 2.0])
    with pytest.raises(ValueError, match="without"):
        roi_map(SimpleNamespace(atlas=None, rois=RoiSet(["a"], [""])), [1.0])


def test_region_at_known_schaefer_point():
    atlas = load_atlas("schaefer100")
    for roi in (0, 45, 99):
        name, network = region_at(atlas, _interior_point_mm(atlas, roi))
        assert name == atlas.roi_names[roi]
        assert network == atlas.networks[roi]
    assert region_at(atlas, (0.0, 0.0, 300.0)) is None


def test_region_at_sphere_centre():
    atlas = load_atlas("seitzman300")
    assert region_at(atlas, atlas.coords_mm[5]) == (atlas.roi_names[5], atlas.networks[5])
    assert region_at(atlas, (0.0, 0.0, 200.0)) is None
