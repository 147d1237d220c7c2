"""tyshare_lib.multitask: the tie is real, counts, training, the batched sweep against one run, bad input."""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from tyshare_lib.multitask import (ALL, FIRST, LAST, LAYERS, RENAME, TRUNK, MultitaskConfig, TaskPair, TwoTaskNet,
                                   count_parameters, initial_parameters, make_task_pair, sweep_multitask,
                                   task_b_view, train_multitask)
from tyshare_lib.tying import tying_penalty

INF = math.inf


@pytest.fixture(scope="module")
def pair():
    return make_task_pair("relabelled", per_class=5, seed=0, device="cpu")


# ----------------------------------------------------------------------------- the tasks
def test_task_pair_sizes_and_balance(pair):
    assert pair.XA.shape == (400, 64) and pair.XB.shape == (50, 64) and pair.XA_test.shape == (539, 64)
    assert torch.bincount(pair.yB, minlength=10).tolist() == [5] * 10
    assert pair.XA.min() >= 0 and pair.XA.max() <= 1


def test_task_b_never_sees_an_image_task_a_trains_on(pair):
    same = (pair.XB[:, None, :] == pair.XA[None, :, :]).all(-1)  # (50, 400)
    assert not same.any()


def test_seeds_draw_different_images_and_repeat_exactly():
    a, b, a2 = (make_task_pair("relabelled", seed=s, device="cpu") for s in (0, 1, 0))
    assert not torch.equal(a.XB, b.XB) and torch.equal(a.XB, a2.XB) and torch.equal(a.XA, b.XA)


def test_task_b_views():
    X = torch.rand(6, 64)
    y = torch.arange(6)
    Xr, yr = task_b_view("relabelled", X, y)
    assert torch.equal(Xr, X) and yr.tolist() == [RENAME[d] for d in range(6)]
    Xt, yt = task_b_view("thick", X, y)
    assert torch.equal(yt, y) and torch.all(Xt >= X)  # a thicker pen only darkens
    img = torch.zeros(1, 64)
    img[0, 3 * 8 + 3] = 1.0  # one dark pixel grows into a 3 × 3 blot
    assert task_b_view("thick", img, torch.zeros(1, dtype=torch.long))[0].sum() == 9
    Xp, yp = task_b_view("permuted", X, y)
    assert torch.equal(yp, yr) and torch.equal(Xp.sort(1).values, X.sort(1).values) and not torch.equal(Xp, X)


# ----------------------------------------------------------------------------- the tie is real
def test_shared_layers_are_one_module_and_one_storage():
    m = TwoTaskNet(tie_layers=TRUNK, shared=True, device="cpu")
    assert m.net_a.hidden1 is m.net_b.hidden1 and m.net_a.hidden2 is m.net_b.hidden2
    assert m.net_a.head is not m.net_b.head
    assert m.net_a.hidden1.weight.data_ptr() == m.net_b.hidden1.weight.data_ptr()
    with torch.no_grad():  # write through one use, read through the other
        m.net_a.hidden1.weight[0, 0] = 42.0
    assert m.net_b.hidden1.weight[0, 0] == 42.0
    assert m.distances()["hidden1"] == 0 and m.distances()["head"] > 0


def test_separate_nets_share_nothing():
    m = TwoTaskNet(tie_layers=ALL, shared=False, device="cpu")
    ids_a = {id(p) for p in m.net_a.parameters()}
    assert not ids_a & {id(p) for p in m.net_b.parameters()}


def test_shared_gradient_is_the_sum_of_both_uses(pair):
    m = TwoTaskNet(tie_layers=TRUNK, shared=True, device="cpu")
    la, lb = m(pair.XA, pair.XB)
    w = m.net_b.hidden2.weight
    g_a = torch.autograd.grad(F.cross_entropy(la, pair.yA), w, retain_graph=True)[0]
    g_b = torch.autograd.grad(F.cross_entropy(lb, pair.yB), w, retain_graph=True)[0]
    g = torch.autograd.grad(F.cross_entropy(la, pair.yA) + F.cross_entropy(lb, pair.yB), w)[0]
    assert torch.allclose(g, g_a + g_b, atol=1e-6) and g_a.abs().sum() > 0 and g_b.abs().sum() > 0


def test_penalty_gradient_pulls_the_copies_together():
    m = TwoTaskNet(tie_layers=FIRST, device="cpu")
    wa, wb = m.net_a.hidden1.weight, m.net_b.hidden1.weight
    ga, gb = torch.autograd.grad(m.penalty(), [wa, wb])
    assert torch.allclose(ga, 2 * (wa - wb)) and torch.allclose(gb, -ga)
    before = m.distances()["hidden1"]
    with torch.no_grad():
        wa -= 0.01 * ga
        wb -= 0.01 * gb
    assert m.distances()["hidden1"] < before


def test_penalty_covers_the_tied_layers_only():
    m = TwoTaskNet(tie_layers=("hidden1", "head"), device="cpu")
    expected = tying_penalty(m.net_a.hidden1, m.net_b.hidden1) + tying_penalty(m.net_a.head, m.net_b.head)
    assert torch.allclose(m.penalty(), expected)
    with torch.no_grad():
        m.net_b.hidden2.weight += 5.0  # an untied layer: the penalty does not see it
    assert torch.allclose(m.penalty(), expected)
    assert TwoTaskNet(tie_layers=TRUNK, shared=True, device="cpu").penalty() == 0


@settings(max_examples=30, deadline=None)
@given(in_features=st.integers(1, 80), hidden=st.integers(1, 40), classes=st.integers(1, 12),
       tie=st.sampled_from([FIRST, LAST, TRUNK, ALL, ("hidden2",), ("hidden2", "head")]), shared=st.booleans())
def test_closed_form_count_equals_parameters(in_features, hidden, classes, tie, shared):
    config = MultitaskConfig(in_features=in_features, hidden_size=hidden, num_classes=classes)
    m = TwoTaskNet(config, tie_layers=tie, shared=shared, device="cpu")
    assert count_parameters(config, tie, shared) == sum(p.numel() for p in m.parameters())


def test_book_counts():
    assert count_parameters() == 2964 and count_parameters(shared=True) == 1652
    assert count_parameters(tie_layers=ALL, shared=True) == 1482  # one network for both tasks


def test_reset_parameters_is_the_seeded_start():
    m = TwoTaskNet(device="cpu")
    m.reset_parameters(7)
    init = initial_parameters(MultitaskConfig(), 7)
    assert torch.equal(m.net_a.hidden1.weight, init[0].T) and torch.equal(m.net_b.head.bias, init[11])
    s = TwoTaskNet(shared=True, device="cpu")
    s.reset_parameters(7)  # an untied layer starts the same whether or not the trunk is shared
    assert torch.equal(s.net_b.head.weight, m.net_b.head.weight) and torch.equal(s.net_b.hidden1.weight, init[0].T)


# ----------------------------------------------------------------------------- training
def test_training_lowers_the_loss_and_repeats_exactly(pair):
    r1 = train_multitask(pair, 1e-2, steps=30, seed=1, device="cpu")
    r2 = train_multitask(pair, 1e-2, steps=30, seed=1, device="cpu")
    assert r1.losses[-1] < 0.5 * r1.losses[0]
    assert torch.equal(r1.losses, r2.losses) and r1.acc_b == r2.acc_b and r1.distances == r2.distances
    assert set(r1.distances) == set(LAYERS)


def test_lambda_zero_trains_b_as_if_alone(pair):
    joint = train_multitask(pair, 0.0, steps=40, seed=3, device="cpu")
    other = make_task_pair("permuted", seed=0, device="cpu")  # a different task A changes nothing for B
    other = TaskPair(other.task, other.XB.repeat(8, 1), other.yB.repeat(8), pair.XB, pair.yB,
                     pair.XA_test, pair.yA_test, pair.XB_test, pair.yB_test)
    joint2 = train_multitask(other, 0.0, steps=40, seed=3, device="cpu")
    alone = TwoTaskNet(device="cpu")
    alone.reset_parameters(3)
    opt = torch.optim.Adam(alone.net_b.parameters(), lr=0.02)
    for _ in range(40):
        loss = F.cross_entropy(alone.net_b(pair.XB), pair.yB)
        opt.zero_grad()
        loss.backward()
        opt.step()
    for p, q, r in zip(alone.net_b.parameters(), joint.model.net_b.parameters(), joint2.model.net_b.parameters()):
        assert torch.allclose(p, q, atol=1e-6) and torch.equal(q, r)


def test_infinite_lambda_trains_a_shared_trunk(pair):
    r = train_multitask(pair, INF, steps=10, device="cpu")
    assert r.model.shared and r.model.net_a.hidden1 is r.model.net_b.hidden1
    assert r.distances["hidden1"] == r.distances["hidden2"] == 0 and r.distances["head"] > 0


# ----------------------------------------------------------------------------- the batched sweep
def test_sweep_runs_equal_single_runs():
    lams, seeds = [0.0, 1e-2, INF], [0, 2]
    s = sweep_multitask("relabelled", lams, seeds, tie_sets=[TRUNK, LAST], steps=25, device="cpu")
    assert s.acc_b.shape == (2, 3, 2) and s.distance.shape == (2, 3, 2, 3)
    for t, tie in enumerate([TRUNK, LAST]):
        for i, lam in enumerate(lams):
            for j, seed in enumerate(seeds):
                r = train_multitask(make_task_pair("relabelled", seed=seed, device="cpu"), lam, tie, steps=25,
                                    seed=seed, device="cpu")
                assert abs(float(s.acc_a[t, i, j]) - r.acc_a) <= 2 / 539 + 1e-6
                assert abs(float(s.acc_b[t, i, j]) - r.acc_b) <= 2 / 539 + 1e-6
                for k, name in enumerate(LAYERS):
                    assert float(s.distance[t, i, j, k]) == pytest.approx(r.distances[name], rel=1e-3, abs=1e-4)


def test_sweep_trains_lambda_zero_once_for_every_tie_set():
    s = sweep_multitask("thick", [0.0], [0], tie_sets=[FIRST, ALL], steps=5, device="cpu")
    assert torch.equal(s.acc_b[0], s.acc_b[1]) and torch.equal(s.distance[0], s.distance[1])


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("lam, error", [(-1.0, ValueError), (float("nan"), ValueError), ("big", TypeError)])
def test_bad_lambda(pair, lam, error):
    with pytest.raises(error, match="lam"):
        train_multitask(pair, lam, device="cpu")
    with pytest.raises(error, match="lam"):
        sweep_multitask("relabelled", [0.0, lam], [0], device="cpu")


@pytest.mark.parametrize("tie", [("hidden3",), (), ("head", "head"), "hidden1", None])
def test_bad_layer_names(pair, tie):
    with pytest.raises(ValueError, match="tie_layers"):
        TwoTaskNet(tie_layers=tie, device="cpu")
    with pytest.raises(ValueError, match="tie_layers"):
        train_multitask(pair, 0.1, tie_layers=tie, device="cpu")
    with pytest.raises(ValueError, match="tie_layers"):
        count_parameters(tie_layers=tie)


def test_bad_arguments(pair):
    with pytest.raises(ValueError, match="task"):
        make_task_pair("rotated")
    with pytest.raises(ValueError, match="per_class"):
        make_task_pair(per_class=0)
    with pytest.raises(ValueError, match="seed"):
        make_task_pair(seed=-1)
    with pytest.raises(TypeError, match="pair must be a TaskPair"):
        train_multitask("pair", 0.1)
    with pytest.raises(ValueError, match="steps"):
        train_multitask(pair, 0.1, steps=0, device="cpu")
    with pytest.raises(ValueError, match="lr"):
        train_multitask(pair, 0.1, lr=0.0, device="cpu")
    with pytest.raises(TypeError, match="config"):
        TwoTaskNet(config={"hidden_size": 3})
    with pytest.raises(ValueError, match="hidden_size"):
        MultitaskConfig(hidden_size=0)
    with pytest.raises(TypeError, match="shared"):
        TwoTaskNet(shared="yes")
    with pytest.raises(ValueError, match="seeds"):
        sweep_multitask("relabelled", [0.0], [])
    with pytest.raises(ValueError, match="lams"):
        sweep_multitask("relabelled", [], [0])
    with pytest.raises(ValueError, match="tie_sets"):
        sweep_multitask("relabelled", [0.0], [0], tie_sets=[])
    with pytest.raises(ValueError, match="X must have shape"):
        task_b_view("thick", torch.rand(3, 10), torch.zeros(3, dtype=torch.long))
