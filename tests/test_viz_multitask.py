"""tyshare_lib.viz.multitask: curves and tie table from sweeps, the λ explorer's frames and live widget (headless)."""
import math

import numpy as np
import pytest

from tyshare_lib.multitask import ALL, LAST, TRUNK, make_task_pair, sweep_multitask
from tyshare_lib.viz import multitask as viz
from tyshare_lib.viz.multitask import _A_NOW, _B_MEAN, _B_NOW, _DIST, _DIST_NOW

INF = math.inf
LAMS = [0.0, 1e-2, INF]


@pytest.fixture(scope="module")
def sweeps():
    return {t: sweep_multitask(t, LAMS, [0, 1], tie_sets=[TRUNK], steps=15, device="cpu")
            for t in ("relabelled", "permuted")}


@pytest.fixture(scope="module")
def curves(sweeps):
    return {t: viz.compute_lambda_curves(s) for t, s in sweeps.items()}


def test_curves_are_means_and_spreads_over_seeds(sweeps, curves):
    s, c = sweeps["relabelled"], curves["relabelled"]
    b = 100 * s.acc_b[0].double().numpy()  # (L, S)
    assert np.allclose(c.acc_b, b.mean(1)) and np.allclose(c.acc_b_sd, b.std(1, ddof=1))
    assert np.allclose(c.gain_b, b.mean(1) - b[0].mean()) and c.gain_b[0] == 0
    assert np.allclose(c.distance, s.distance[0].double().mean(1).numpy())
    assert np.all(c.distance[-1, :2] == 0) and c.n_seeds == 2 and c.at(INF) == 2


def test_lambda_axis():
    assert [viz.lambda_label(v) for v in (0.0, 1e-4, 3e-3, 1e-2, INF)] == ["0", "1e-04", "3e-03", "0.01", "∞"]
    positions = [viz.lambda_position(v) for v in viz.LAMBDAS]
    assert positions == sorted(positions) and positions[0] == -5 and positions[-1] == -1
    with pytest.raises(ValueError, match="lam"):
        viz.lambda_position(-1.0)


def test_static_frames_show_each_task_and_lambda(curves):
    fig = viz.lambda_explorer(curves).static_figure()
    assert len(fig["frames"]) == 2 * len(LAMS)
    frame = fig["frames"][len(LAMS) + 1]  # second group (permuted), λ = 1e-2
    b_now = next(d for d, i in zip(frame["data"], frame["traces"]) if i == _B_NOW)
    assert b_now["y"][0] == pytest.approx(curves["permuted"].acc_b[1], abs=1e-3)
    assert frame["layout"]["title"]["text"].startswith("λ = 0.01: B ")
    assert len(fig["layout"]["updatemenus"][0]["buttons"]) == 2  # the task menu


def test_live_widget_follows_the_controls(curves):
    ex = viz.lambda_explorer(curves)
    _ = ex.widget
    fw = ex.figure_widget
    for task in ("relabelled", "permuted"):
        c = curves[task]
        for i, lam in enumerate(LAMS):
            ex.set(task=task, lam=lam)
            assert fw.data[_B_NOW].y[0] == pytest.approx(c.acc_b[i], abs=1e-3)
            assert fw.data[_A_NOW].y[0] == pytest.approx(c.acc_a[i], abs=1e-3)
            assert list(fw.data[_DIST_NOW].y) == pytest.approx(list(c.distance[i, :2]), abs=1e-3)
        assert list(fw.data[_B_MEAN].y) == pytest.approx(list(c.acc_b), abs=1e-3)
    ex.set(lam=INF)
    assert fw.data[_DIST["hidden1"]].y[-1] == 0 and "λ = ∞" in fw.layout.title.text


def test_explorer_refuses_bad_input(curves):
    with pytest.raises(ValueError, match="lam"):
        viz.lambda_explorer(curves, lam=0.5)
    with pytest.raises(ValueError, match="task"):
        viz.lambda_explorer(curves, task="thick")
    with pytest.raises(TypeError, match="curves"):
        viz.lambda_explorer([1, 2])
    with pytest.raises(TypeError, match="sweep"):
        viz.compute_lambda_curves("sweep")
    ex = viz.lambda_explorer(curves)
    with pytest.raises(ValueError, match="lam"):
        ex.set(lam=1e-3)  # not a precomputed λ


def test_tie_table_and_figure():
    sweeps = {t: sweep_multitask(t, [0.0, 1e-2], [0, 1], tie_sets=[LAST, ALL], steps=10, device="cpu")
              for t in ("relabelled", "thick")}
    table = viz.compute_tie_table(sweeps, 1e-2)
    b = 100 * sweeps["thick"].acc_b.double().numpy()
    assert table.alone["thick"][0] == pytest.approx(b[0, 0].mean())
    assert table.tied["thick"][1][0] == pytest.approx(b[1, 1].mean())
    assert table.gain["thick"][1] == pytest.approx((b[1, 1] - b[0, 0]).mean())
    fig = viz.figure_what_to_tie(table)
    assert len(fig.data) == 2 and list(fig.data[1].y) == ["none (alone)", "last layer (head)", "all layers"]
    assert fig.data[1].x[2] == pytest.approx(table.tied["thick"][1][0])
    with pytest.raises(ValueError, match="lam"):
        viz.compute_tie_table(sweeps, 1.0)
    with pytest.raises(TypeError, match="table"):
        viz.figure_what_to_tie({})


def test_figure_tasks_shows_one_digit_per_task():
    pairs = {t: make_task_pair(t, device="cpu") for t in ("relabelled", "permuted")}
    fig = viz.figure_tasks(pairs, index=3)
    assert len(fig.data) == 3
    assert np.allclose(np.array(fig.data[0].z).ravel(), pairs["relabelled"].XA_test[3].numpy(), atol=1e-3)
    with pytest.raises(ValueError, match="index"):
        viz.figure_tasks(pairs, index=10_000)
