"""tyshare_lib.viz.continuum: the sweep's numbers, the explorer's frames and its live widget (headless)."""
import math

import numpy as np
import pytest

from tyshare_lib.continuum import ContinuumConfig, position_tying_penalty
from tyshare_lib.viz import continuum as viz
from tyshare_lib.viz.continuum import _GRID, _NOW_SHIFTED

SMALL = ContinuumConfig(out_channels=2)
LAMS = [0.0, 1.0, math.inf]


@pytest.fixture(scope="module")
def sweep():
    return viz.compute_sweep(LAMS, seeds=(0,), n_per_class=2, steps=10, config=SMALL, device="cpu")


def test_sweep_measures_what_the_runs_hold(sweep):
    assert sweep.accuracy.shape == (3, 1, len(viz.SHIFTS)) and sweep.filters.shape == (3, 8, 8, 2, 5, 5)
    assert sweep.penalty[0, 0] == pytest.approx(position_tying_penalty(sweep.runs[0].model.features).item())
    assert sweep.penalty[2, 0] == 0.0 and sweep.equivariance[2, 0] < 1e-6 < sweep.equivariance[0, 0]
    assert sweep.mean_accuracy(0)[0] == pytest.approx(sweep.runs[0].test_accuracy, abs=1e-6)
    conv = sweep.filters[2]  # the convolution drawn at every position: all 64 the same
    assert np.all(conv == conv[0, 0])


def test_filter_grid_places_each_filter():
    f = np.arange(2 * 3 * 2 * 2, dtype=float).reshape(2, 3, 2, 2)
    g = viz.filter_grid(f)
    assert g.shape == (5, 8) and np.isnan(g[2]).all()
    assert np.array_equal(g[3:5, 6:8], f[1, 2])
    with pytest.raises(ValueError, match="filters"):
        viz.filter_grid(np.zeros((2, 2)))


def test_static_frames_one_per_lambda(sweep):
    fig = viz.lambda_explorer(sweep).static_figure()
    assert len(fig["frames"]) == len(LAMS)
    assert "Ω = 0" in fig["frames"][-1]["layout"]["title"]["text"]


def test_live_widget_shows_each_lambdas_filters(sweep):
    ex = viz.lambda_explorer(sweep)
    _ = ex.widget
    for l, lam in enumerate(LAMS):
        ex.set(lam=lam)
        z = np.array(ex.figure_widget.data[_GRID].z, dtype=float)
        assert np.allclose(z, np.round(viz.filter_grid(sweep.filters[l, :, :, 0]), 3), equal_nan=True)
        assert ex.figure_widget.data[_NOW_SHIFTED].y[0] == pytest.approx(sweep.mean_accuracy(2)[l])
    before = np.array(ex.figure_widget.data[_GRID].z, dtype=float)
    ex.set(channel=1)
    assert not np.allclose(before, np.array(ex.figure_widget.data[_GRID].z, dtype=float), equal_nan=True)


def test_static_figures_and_pick(sweep):
    assert len(viz.figure_shifts(sweep).data) == 4
    assert viz.pick_lambda(sweep) == 1.0
    result = viz.compute_data_size([2], [0.0, math.inf], seeds=(0,), reuse=sweep)
    assert np.allclose(result["centred"][:, 0], sweep.mean_accuracy(0)[[0, 2]])
    assert len(viz.figure_data_size(result).data) == 4


def test_bad_inputs(sweep):
    with pytest.raises(ValueError, match="lam"):
        viz.lambda_explorer(sweep, lam=0.5)
    with pytest.raises(TypeError, match="sweep must be a ContinuumSweep"):
        viz.figure_shifts("sweep")
    with pytest.raises(ValueError, match="channel"):
        viz.figure_lambda_explorer(sweep, channel=5)
    ex = viz.lambda_explorer(sweep)
    with pytest.raises(ValueError, match="lam"):
        ex.set(lam=0.5)
