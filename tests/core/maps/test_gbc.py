"""Every GBC measure equals brute force (full corrcoef, then the mean over the others)."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import AnalysisCancelled
from core.maps import gbc_tiles
from core.maps.gbc import gbc_flops, gbc_map, gbc_maps
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


def _brute(x, gsr=False, targets=None, measure="mean_z", threshold=0.25):
    x = x - x.mean(axis=1, keepdims=True)
    if gsr:
        g = x.mean(axis=0)
        x = x - np.outer(x @ g / (g @ g), g)
    r = np.corrcoef(x)
    if measure == "mean_z":
        z = np.arctanh(np.clip(r, -R_MAX, R_MAX))
    elif measure == "degree":
        z = (r > threshold).astype(float)
    else:
        z = r
    np.fill_diagonal(z, np.nan)
    if targets is not None:
        z = z[:, targets]
    return np.nanmean(z, axis=1)


@pytest.fixture
def small_tiles(monkeypatch):
    """Tiles far smaller than the data, so every tile path (diagonal, off-diagonal) runs."""
    monkeypatch.setattr(gbc_tiles, "ROW_TILE", 16)
    monkeypatch.setattr(gbc_tiles, "TARGET_TILE", 24)


@pytest.mark.parametrize("gsr", [False, True])
def test_gbc_equals_brute_force(gsr):
    x, mask = _data()
    prepared = prepare_from_array(x, mask, AFFINE)
    ours = gbc_map(prepared, gsr=gsr, block_size=64)
    assert np.abs(ours - _brute(x, gsr)).max() < 1e-5
    assert ours.dtype == np.float32


@pytest.mark.parametrize("measure", ["mean_z", "mean_r", "degree"])
@pytest.mark.parametrize("gsr", [False, True])
def test_every_measure_equals_brute_force_in_small_tiles(small_tiles, measure, gsr):
    x, mask = _data(5)
    prepared = prepare_from_array(x, mask, AFFINE)
    ours = gbc_map(prepared, measure=measure, gsr=gsr, block_size=70)
    expected = _brute(x, gsr, measure=measure)
    # a degree counts pairs: r within float32 rounding of the threshold may flip one pair
    tolerance = 1.5 / 299 if measure == "degree" else 1e-5
    assert np.abs(ours - expected).max() < tolerance


def test_mean_r_closed_form_equals_the_voxel_by_voxel_matrix():
    """Mean r needs no N x N product: u_i · Σ_j u_j, minus itself, over the others."""
    x, mask = _data(6, n_time=45)
    x[11] = 7.0  # a constant voxel is no target and gets 0
    prepared = prepare_from_array(x, mask, AFFINE)
    keep = np.arange(300) != 11
    ours = gbc_map(prepared, measure="mean_r")
    assert ours[11] == 0
    assert np.abs(ours[keep] - _brute(x[keep], measure="mean_r")).max() < 1e-6
    ijk = np.unravel_index(np.arange(300), mask.shape, order="F")
    lattice = (ijk[0] % 2 == 0) & (ijk[1] % 2 == 0) & (ijk[2] % 2 == 0) & keep
    strided = gbc_map(prepared, measure="mean_r", stride=2, gsr=True)
    expected = _brute(x[keep], gsr=True, targets=np.flatnonzero(lattice[keep]),
                      measure="mean_r")
    assert np.abs(strided[keep] - expected).max() < 1e-6


def test_gbc_flops_counts_each_pair_once_without_a_lattice():
    assert gbc_flops(1000, 300) == pytest.approx(1000 * 1001 * 300)
    assert gbc_flops(1000, 300, n_targets=125) == pytest.approx(2 * 1000 * 125 * 300)
    assert gbc_flops(1000, 300, "mean_r") < gbc_flops(1000, 300) / 100
    with pytest.raises(ValueError):
        gbc_map(prepare_from_array(*_data(), AFFINE), measure="median_z")


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
    # every half second and at the end of each session: the last of each is its whole
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
    assert pytest.approx(0.5) in seen


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


def test_a_cancel_stops_every_worker_within_a_tile(monkeypatch, small_tiles):
    import time

    transform, tiles = gbc_tiles._transform, []

    def slow(tile, measure, threshold):
        time.sleep(0.02)
        tiles.append(tile.shape)
        return transform(tile, measure, threshold)

    def progress(fraction, message):
        raise AnalysisCancelled

    monkeypatch.setattr(gbc_tiles, "_transform", slow)
    prepared = prepare_from_array(*_data(), AFFINE)
    gbc_map(prepared, block_size=32)
    whole = len(tiles)
    tiles.clear()
    with pytest.raises(AnalysisCancelled):
        gbc_map(prepared, block_size=32, progress=progress)
    # tiles of >= 20 ms: the first report (after 0.5 s) cancels, and every worker stops
    # after the tile it is on, long before the map is done
    assert whole > 100 and 0 < len(tiles) < whole // 2
