"""tyshare_lib.viz.distill: the terms figure, the β × T explorer (static frames and headless widget), the
DistilBERT table."""
import numpy as np
import pytest
import torch

from tyshare_lib.distill import Net, NetConfig, Recipe, train_students, train_teacher
from tyshare_lib.viz import distill as viz
from tyshare_lib.viz.distill import _ACC, _DIST

TEACHER = NetConfig(in_features=6, widths=(16, 16), n_classes=3, hint_layer=1)
STUDENT = NetConfig(in_features=6, widths=(4, 4), n_classes=3, hint_layer=0)
HW, TS = [0.0, 0.1], [1.0, 4.0, 8.0]


@pytest.fixture(scope="module")
def setting():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(60, 6, generator=g)
    y = (X[:, 0] > 0).long() + (X[:, 1] > 0.5).long()
    teacher = Net(TEACHER, device="cpu", seed=0)
    train_teacher(teacher, X, y, steps=40, lr=3e-2)
    return teacher, X, y


@pytest.fixture(scope="module")
def grid(setting):
    teacher, X, y = setting
    run = train_students(teacher, viz.grid_recipes(HW, TS), [0] * 6, (X[:12], y[:12]), X, config=STUDENT,
                         steps=12, log_every=4, X_test=X, y_test=y, device="cpu")
    return viz.compute_grid(run, HW, TS), run


def test_compute_grid_puts_each_member_at_its_point(grid):
    g, run = grid
    assert g.accuracy.shape == (2, 3, 4) and g.steps == [0, 4, 8, 12] and g.alpha == 0.5
    for k, r in enumerate(run.recipes):
        i, j = g.index(r.hint_weight, r.temperature)
        assert np.allclose(g.accuracy[i, j], run.test_accuracy[:, k].numpy())
        assert np.allclose(g.distance[i, j], run.distance[:, k].numpy())


def test_static_frames_carry_every_grid_point(grid):
    g, _ = grid
    fig = viz.grid_explorer(g).static_figure()
    assert len(fig["frames"]) == len(HW) * len(TS)
    assert len(fig["layout"]["updatemenus"][0]["buttons"]) == len(HW)  # the β menu
    last = fig["frames"][-1]  # β = 0.1, T = 8
    acc = next(d for d, i in zip(last["data"], last["traces"]) if i == _ACC)
    assert np.allclose(acc["y"], 100 * g.accuracy[1, 2])
    assert "β = 0.1, T = 8" in last["layout"]["title"]["text"]


def test_live_explorer_follows_the_controls(grid):
    g, _ = grid
    ex = viz.grid_explorer(g, hint_weight=0.0, temperature=4.0)
    _ = ex.widget
    fw = ex.figure_widget
    assert list(fw.data[_DIST].y) == pytest.approx(list(g.distance[0, 1]))
    ex.set(hint_weight=0.1, temperature=1.0)
    assert list(fw.data[_DIST].y) == pytest.approx(list(g.distance[1, 0]))
    assert list(fw.data[_ACC].y) == pytest.approx(list(100 * g.accuracy[1, 0]))
    assert f"{100 * g.accuracy[1, 0, -1]:.1f} %" in fw.layout.title.text
    with pytest.raises(ValueError, match="temperature"):
        ex.set(temperature=2.5)


def test_terms_groups_seeds_by_recipe(setting):
    teacher, X, y = setting
    recipes = [Recipe(), Recipe(), Recipe(alpha=0.5), Recipe(alpha=0.5)]
    run = train_students(teacher, recipes, [0, 1, 0, 1], (X[:12], y[:12]), X, config=STUDENT, steps=6,
                         log_every=3, X_test=X, y_test=y)
    terms = viz.compute_terms(run, ["ce", "soft"], 2)
    assert np.allclose(terms.final_accuracy[1], run.final_accuracy[2:].numpy())
    assert np.allclose(terms.distance[0], run.distance[:, :2].mean(1).numpy())
    assert terms.std[0] == pytest.approx(float(run.final_accuracy[:2].std()))
    fig = viz.figure_terms(terms)
    assert fig.layout.xaxis.title.text == "accuracy (%)" and fig.layout.xaxis2.title.text == "training step"
    assert list(fig.data[0].y) == ["ce"] and fig.data[0].orientation == "h"  # names written in their bars
    with pytest.raises(ValueError, match="seeds_per_recipe"):
        viz.compute_terms(run, ["ce", "soft"], 3)


def test_distilbert_sizes_and_table():
    sizes = viz.compute_distilbert_sizes()
    assert sizes.bert == 109_482_240 and sizes.student_no_extras == 66_362_880
    table = viz.distilbert_table_html(sizes, speedup=1.9)
    assert "66M" in table and "110M" in table and "1.63×" in table and "1.90×" in table and "97%" in table


def test_bad_arguments(grid):
    g, run = grid
    with pytest.raises(ValueError, match="hint_weight"):
        viz.grid_update(g, 0.5, 1.0)
    with pytest.raises(TypeError, match="grid"):
        viz.grid_explorer("grid")
    with pytest.raises(ValueError, match="grid"):
        viz.compute_grid(run, HW, [1.0, 2.0, 3.0])  # members do not match the grid
    with pytest.raises(TypeError, match="run"):
        viz.compute_terms([1, 2], ["a"], 1)
    with pytest.raises(TypeError, match="sizes"):
        viz.distilbert_table_html({"bert": 1})
