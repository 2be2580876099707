"""MNI masks and template kept on disk equal nilearn's, and are read back without it."""

from __future__ import annotations

import numpy as np
import pytest

from core.atlas import templates


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """An empty cache folder and empty in-memory caches."""
    monkeypatch.setenv("PREPOST_CACHE_DIR", str(tmp_path))
    for cached in (templates._cached, templates._display_template):
        cached.cache_clear()
    yield tmp_path
    for cached in (templates._cached, templates._display_template):
        cached.cache_clear()


def test_display_template_is_nilearns_and_is_read_back_from_disk(fresh, monkeypatch):
    from nilearn.datasets import load_mni152_template

    img = load_mni152_template(resolution=2)
    data, affine = templates.display_template_data()
    np.testing.assert_array_equal(data, img.get_fdata(dtype="float32"))
    np.testing.assert_array_equal(affine, img.affine)
    assert list(fresh.rglob("display_template_2mm.npy"))
    templates._display_template.cache_clear()
    monkeypatch.setattr("nilearn.datasets.load_mni152_template", _no_nilearn)
    again, again_affine = templates.display_template_data()
    np.testing.assert_array_equal(again, data)
    np.testing.assert_array_equal(again_affine, affine)


@pytest.mark.parametrize("kind", ["brain", "grey_matter"])
def test_masks_on_another_grid_are_nilearns_and_are_read_back(fresh, monkeypatch, kind):
    from nilearn.image import resample_img

    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    affine[:3, 3] = (-90.0, -126.0, -72.0)
    shape = (61, 73, 61)
    mask = templates.template_mask(kind, shape, affine)
    expected = np.asarray(resample_img(
        templates._template(kind), target_affine=affine, target_shape=shape,
        interpolation="nearest", force_resample=True, copy_header=True).dataobj) > 0
    np.testing.assert_array_equal(mask, expected)
    templates._cached.cache_clear()
    monkeypatch.setattr(templates, "_resampled", _no_nilearn)
    np.testing.assert_array_equal(templates.template_mask(kind, shape, affine), expected)


def _no_nilearn(*_args, **_kwargs):
    raise AssertionError("expected the cached file to be read, not nilearn to compute it")
