"""Blockwise GBC equals brute force (full corrcoef, arctanh, mean over the others)."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import AnalysisCancelled
from core.maps.gbc import gbc_map, gbc_maps
from core.maps.prepare import prepare_from_array
from core.signal.connectivity import R_MAX

AFFINE = np.diag([3.0, 3.0, 3.0, 1.0])


def _data(seed=0, n_time=60):
    rng = np.random.default_rng(seed)
    mask = np.ones((10, 10, 3), dtype=bool)
    latent = rng.standard_normal((3, n_time))
    loadings = rng.standard_normal((300, 3))
    x = loadings @ latent + 1.5 * rng.standard_normal((300, n_time)) + 100.0
    return x, mask


def _brute(x, gsr=False, targets=None):
    x = x - x.mean(axis=1, keepdims=True)
    if gsr:
        g = x.mean(axis=0)
        x = x - np.outer(x @ g / (g @ g), g)
    r = np.corrcoef(x)
    z = np.arctanh(np.clip(r, -R_MAX, R_MAX))
    np.fill_diagonal(z, np.nan)
    if targets is not None:
        z = z[:, targets]
    return np.nanmean(z, axis=1)


@pytest.mark.parametrize("gsr", [False, True])
def test_gbc_equals_brute_force(gsr):
    x, mask = _data()
    prepared = prepare_from_array(x, mask, AFFINE)
    ours = gbc_map(prepared, gsr=gsr, block_size=64)
    assert np.abs(ours - _brute(x, gsr)).max() < 1e-5
    assert ours.dtype == np.float32


def test_gbc_stride_uses_a_target_lattice():
    x, mask = _data(1)
    prepared = prepare_from_array(x, mask, AFFINE)
    ijk = np.unravel_index(np.arange(300), mask.shape, order="F")
    targets = np.flatnonzero((ijk[0] % 2 == 0) & (ijk[1] % 2 == 0) & (ijk[2] % 2 == 0))
    ours = gbc_map(prepared, stride=2, block_size=100)
    assert np.abs(ours - _brute(x, targets=targets)).max() < 1e-5


def test_constant_voxels_are_excluded():
    x, mask = _data(2)
    x[7] = 5.0
    prepared = prepare_from_array(x, mask, AFFINE)
    ours = gbc_map(prepared)
    keep = np.arange(300) != 7
    assert ours[7] == 0
    assert np.abs(ours[keep] - _brute(x[keep])).max() < 1e-5


def test_gbc_maps_pre_post_delta_and_progress():
    x, mask = _data(3)
    y, _ = _data(4)
    pre = prepare_from_array(x, mask, AFFINE, label="pre")
    post = prepare_from_array(y, mask, AFFINE, label="post")
    seen = []
    g_pre, g_post, delta = gbc_maps(pre, post, block_size=50,
                                    progress=lambda f, m: seen.append(f))
    assert np.array_equal(delta, g_post - g_pre)
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0) and len(seen) == 12


def test_gbc_can_be_cancelled():
    x, mask = _data()
    prepared = prepare_from_array(x, mask, AFFINE)
    calls = []

    def progress(fraction, message):
        calls.append(fraction)
        raise AnalysisCancelled

    with pytest.raises(AnalysisCancelled):
        gbc_map(prepared, block_size=32, progress=progress)
    assert len(calls) == 1
