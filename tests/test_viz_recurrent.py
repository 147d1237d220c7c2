"""tyshare_lib.viz.recurrent: the unrolled network and the gradient explorer, headless; the length figure."""
import math

import numpy as np
import pytest

from tyshare_lib.recurrent import count_recurrent_parameters, sequence_cost
from tyshare_lib.viz import recurrent as viz


@pytest.fixture(scope="module")
def profile():
    return viz.compute_gradient_profiles(rhos=[0.5, 1.0, 2.0], T=20, hidden_size=16, batch=4)


def test_unrolled_graph_uses_three_objects_T_times():
    for T in (1, 7, 20):
        g = viz.compute_unrolled_graph(T)
        assert len(g["x_nodes"][0]) == T and len(g["h_nodes"][0]) == T + 1
        assert len(g["wx_marks"]) == len(g["wh_marks"]) == len(g["b_marks"]) == T
        assert len(g["objects"]) == 3  # W_x, W_h, b: drawn once, whatever T
        # the fan joins each object to each of its T uses: 3·T segments
        assert g["fan"][0].count(None) == 3 * T
        starts = {x for x, prev in zip(g["fan"][0], [None] + g["fan"][0][:-1]) if prev is None and x is not None}
        assert starts == set(g["objects"].values())


def test_unrolled_costs_flat_and_linear():
    c = viz.compute_unrolled_costs(10, 20, max_T=20)
    for cell in ("rnn", "lstm", "gru"):
        assert set(c.parameters[cell]) == {count_recurrent_parameters(cell, 10, 20).total}
        assert c.multiply_adds[cell] == [sequence_cost(cell, 10, 20, T).multiply_adds for T in range(1, 21)]


def test_unrolled_explorer_follows_T():
    ex = viz.unrolled_explorer(T=5)
    _ = ex.widget
    fw = ex.figure_widget
    assert len(fw.data[viz._X_NODES].x) == 5 and "used 5×" in fw.layout.title.text
    fan_before = fw.data[viz._FAN].x.count(None)
    ex.set(T=17)
    assert len(fw.data[viz._X_NODES].x) == 17 and len(fw.data[viz._WH_MARKS].x) == 17
    assert fw.data[viz._FAN].x.count(None) == 3 * 17 == fan_before * 17 // 5
    assert len(fw.data[viz._OBJECTS].x) == 3
    params, work = fw.data[viz._NOW[0]], fw.data[viz._NOW[1]]
    assert params.x == (17, 17, 17)
    assert params.y[1] * 1000 == pytest.approx(count_recurrent_parameters("lstm", 10, 20).total)
    assert work.y[0] * 1000 == pytest.approx(17 * 20 * (10 + 20))  # RNN: T·H·(in + H)
    with pytest.raises(ValueError, match="T"):
        ex.set(T=21)


def test_unrolled_static_frames():
    fig = viz.unrolled_explorer().static_figure()
    assert [f["name"] for f in fig["frames"]] == [str(T) for T in range(1, 21)]
    last = fig["frames"][-1]
    x_nodes = next(d for d, i in zip(last["data"], last["traces"]) if i == viz._X_NODES)
    assert len(x_nodes["x"]) == 20
    # the parameter line (constant) is not repeated in the frames; the current-T marker is
    assert viz._NOW[0] in last["traces"] and 9 not in last["traces"]


def test_gradient_profile_vanishes_below_one_and_grows_above(profile):
    assert profile.norms["rnn"].shape == (3, 20) and profile.distance == list(range(20))
    span = {c: profile.norms[c][:, -1] / profile.norms[c][:, 0] for c in profile.norms}
    assert span["rnn"][0] < 1e-4 and span["rnn"][2] > 1
    assert span["lstm"][0] > 100 * span["rnn"][0]
    assert np.all(np.diff(span["rnn"]) > 0)


def test_gradient_explorer_follows_rho(profile):
    ex = viz.gradient_explorer(profile, rho=1.0)
    _ = ex.widget
    fw = ex.figure_widget
    assert np.allclose(fw.data[0].y, profile.norms["rnn"][1])
    ex.set(rho=0.5)
    assert np.allclose(fw.data[0].y, profile.norms["rnn"][0])
    assert np.allclose(fw.data[1].y, profile.norms["lstm"][0])
    assert fw.layout.title.text.startswith("ρ = 0.5")
    with pytest.raises(ValueError, match="rho"):
        ex.set(rho=0.75)
    fig = ex.static_figure()
    assert [f["name"] for f in fig["frames"]] == ["0.5", "1", "2"]


def test_figure_lengths_leaves_out_what_cannot_run():
    errors = {"tied": {2: 0.01, 20: 0.05}, "untied": {2: 0.02, 20: math.nan}}
    fig = viz.figure_lengths({"tied": [1.0, 0.5, 0.1], "untied": [1.0, 0.8, 0.6]}, errors, train_max=10,
                             baseline=1 / 6)
    untied_heldout = fig.data[3]
    assert list(untied_heldout.x) == [2, 20] and untied_heldout.y[1] is None
    assert fig.data[-1].y == (1 / 6, 1 / 6)
    with pytest.raises(ValueError, match="same models"):
        viz.figure_lengths({"tied": [1.0]}, errors, train_max=10, baseline=0.1)


def test_counts_table_matches_torch():
    html = viz.counts_table_html([(3, 4)])
    assert html.count("<tr>") == 4 and "≠" not in html
    assert f"{count_recurrent_parameters('lstm', 3, 4).total:,}" in html


def test_bad_arguments():
    with pytest.raises(ValueError, match="T"):
        viz.compute_unrolled_graph(0)
    with pytest.raises(ValueError, match="T"):
        viz.unrolled_explorer(T=25)
    with pytest.raises(ValueError, match=r"rhos\[1\]"):
        viz.compute_gradient_profiles(rhos=[0.5, -1.0])
    with pytest.raises(TypeError, match="profile"):
        viz.figure_gradient_profile({"rnn": []})
    with pytest.raises(TypeError, match=r"sizes\[0\]"):
        viz.counts_table_html([3])
