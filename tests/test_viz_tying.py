"""tyshare_lib.viz.tying: the λ explorer's numbers, its static frames and its live widget (headless)."""
import math

import numpy as np
import pytest

from tyshare_lib.tying import effective_dof, make_two_tasks, mse, tied_solution
from tyshare_lib.viz import tying as viz
from tyshare_lib.viz.tying import _DIST_NOW, _W_A, _W_B

INF = math.inf


@pytest.fixture(scope="module")
def tasks():
    return make_two_tasks(seed=0)


def test_compute_lambda_path_agrees_with_the_library(tasks):
    lams = [0.0, 0.5, INF]
    p = viz.compute_lambda_path(tasks, lams)
    for i, lam in enumerate(lams):
        wA, wB = tied_solution(*tasks.train, lam)
        assert np.allclose(p.w_a[i], wA.numpy()) and np.isclose(p.distance[i], float((wA - wB).norm()))
        assert np.isclose(p.dof[i], effective_dof(tasks.XA, tasks.XB, lam))
        assert np.isclose(p.test_b[i], mse(tasks.XB_test, tasks.yB_test, wB))
        assert np.isclose(p.train_a[i], mse(tasks.XA, tasks.yA, wA))


def test_lambda_axis_labels_and_positions():
    assert [viz.lambda_label(v) for v in (0.0, 0.1, 1000.0, INF)] == ["0", "0.1", "1e+03", "∞"]
    positions = [viz.lambda_position(v) for v in viz.LIVE_LAMBDAS]
    assert positions == sorted(positions) and positions[0] == -4 and positions[-1] == 4


def test_static_frames_hold_the_exact_solution(tasks):
    ex = viz.lambda_explorer(tasks)
    fig = ex.static_figure()
    assert len(fig["frames"]) == len(viz.STATIC_LAMBDAS)
    for frame, lam in zip(fig["frames"], viz.STATIC_LAMBDAS):
        wA, wB = tied_solution(*tasks.train, lam)
        point_a = next(d for d, i in zip(frame["data"], frame["traces"]) if i == _W_A)
        assert np.allclose([point_a["x"][0], point_a["y"][0]], wA.numpy())
        assert f"{float((wA - wB).norm()):.3f}" in frame["layout"]["title"]["text"]


def test_live_widget_shows_the_distance_tied_solution_gives(tasks):
    """Set the slider as a reader would; the plotted distance must be the closed form's."""
    ex = viz.lambda_explorer(tasks)
    _ = ex.widget
    shown = []
    for lam in [0.0, viz.LIVE_LAMBDAS[30], 1.0, INF]:
        ex.set(lam=lam)
        wA, wB = tied_solution(*tasks.train, lam)
        fw = ex.figure_widget
        assert fw.data[_DIST_NOW].y[0] == pytest.approx(float((wA - wB).norm()))
        assert (fw.data[_W_A].x[0], fw.data[_W_A].y[0]) == pytest.approx(tuple(wA.tolist()))
        assert (fw.data[_W_B].x[0], fw.data[_W_B].y[0]) == pytest.approx(tuple(wB.tolist()))
        shown.append(fw.data[_DIST_NOW].y[0])
    assert shown[0] > shown[1] > shown[2] > shown[3] == 0
    assert "‖wᴬ − wᴮ‖ = 0.000" in ex.figure_widget.layout.title.text


def test_explorer_refuses_a_bad_lambda(tasks):
    with pytest.raises(ValueError, match="lam"):
        viz.lambda_explorer(tasks, lam=-1)
    ex = viz.lambda_explorer(tasks)
    with pytest.raises(ValueError, match="lam"):
        ex.set(lam=0.123456)  # not a position of the slider


def test_explorer_refuses_what_is_not_two_tasks():
    with pytest.raises(TypeError, match="tasks must be a TwoTasks"):
        viz.lambda_explorer(tasks=[1, 2])
    with pytest.raises(ValueError, match="tasks"):
        viz.compute_lambda_path("tasks", [0.0])


def test_explorer_needs_two_weights():
    with pytest.raises(ValueError, match="2 weights"):
        viz.figure_lambda_explorer(make_two_tasks(dim=3))


def test_expected_heldout_has_an_interior_minimum():
    lams = [0.0, 0.1, 0.3, 1.0, 3.0, INF]
    e = viz.compute_expected_heldout(lams, n_draws=60, n_test=300, seed=0)
    best = int(np.argmin(e))
    assert 0 < best < len(lams) - 1


def test_static_figures_build(tasks):
    p = viz.compute_lambda_path(tasks, [0.0, 1.0, INF])
    assert len(viz.figure_capacity(p).data) == 2
    assert len(viz.figure_heldout_vs_lambda(p, np.array([1.0, 0.9, 1.1])).data) == 4
    curves = viz.compute_training_curves(tasks, [0.0, INF], steps=50, device="cpu")
    fig = viz.figure_training_curves(curves)
    assert len(fig.data) == 4 and fig.data[0].name == "λ = 0"
    assert curves[INF][1] == 0.0
