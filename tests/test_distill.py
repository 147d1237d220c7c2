"""tyshare_lib.distill: the losses against hand computations, the batched students against lone runs, the
projection trained, DistilBERT's student initialised from every other layer, bad input refused."""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from tyshare_lib.albert import AlbertConfig, AlbertEncoder, count_parameters
from tyshare_lib.distill import (RECIPES, Net, NetConfig, Recipe, StudentStack, accuracy, cosine_hint_loss,
                                 count_net_parameters, distilbert_config, distilbert_student, distillation_loss,
                                 hint_distance, hint_loss, kept_layers, labelled_subset, members, soft_target_loss,
                                 train_student, train_students, train_teacher)

TEACHER = NetConfig(in_features=6, widths=(16, 16), n_classes=3, hint_layer=1)
STUDENT = NetConfig(in_features=6, widths=(4, 4), n_classes=3, hint_layer=0)


@pytest.fixture(scope="module")
def data():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(60, 6, generator=g)
    y = (X[:, 0] > 0).long() + (X[:, 1] > 0.5).long()  # 3 classes
    return X, y


@pytest.fixture(scope="module")
def teacher(data):
    t = Net(TEACHER, device="cpu", seed=0)
    train_teacher(t, *data, steps=60, lr=3e-2)
    return t


# ----------------------------------------------------------------------------- the losses by hand
def test_soft_target_loss_by_hand():
    s = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    t = torch.tensor([[0.0, 1.0], [1.0, 1.0]])
    for T in (1.0, 2.0):
        total = 0.0
        for i in range(2):
            ps = [math.exp(v / T) for v in s[i].tolist()]
            pt = [math.exp(v / T) for v in t[i].tolist()]
            ps = [v / sum(ps) for v in ps]
            pt = [v / sum(pt) for v in pt]
            total += sum(a * math.log(a / b) for a, b in zip(pt, ps))
        assert float(soft_target_loss(s, t, T)) == pytest.approx(T * T * total / 2, rel=1e-6)
    assert float(soft_target_loss(t, t, 3.0)) == pytest.approx(0.0, abs=1e-7)


def test_soft_target_loss_equals_torch_kl_div():
    g = torch.Generator().manual_seed(1)
    s, t = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
    ref = F.kl_div(F.log_softmax(s / 3, 1), F.log_softmax(t / 3, 1), log_target=True, reduction="batchmean") * 9
    assert torch.allclose(soft_target_loss(s, t, 3.0), ref)


def test_distillation_loss_ends_and_mixture():
    g = torch.Generator().manual_seed(2)
    s, t = torch.randn(6, 3, generator=g), torch.randn(6, 3, generator=g)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    ce = F.cross_entropy(s, y)
    soft = soft_target_loss(s, t, 2.0)
    assert torch.allclose(distillation_loss(s, t, y, 2.0, alpha=0.0), ce)
    assert torch.allclose(distillation_loss(s, t, y, 2.0, alpha=1.0), soft)
    assert torch.allclose(distillation_loss(s, t, y, 2.0, alpha=0.3), 0.3 * soft + 0.7 * ce)
    # T = 1: the soft term is KL(p_t || p_s) = CE(p_t, p_s) − H(p_t)
    pt = F.softmax(t, 1)
    kl1 = (-(pt * F.log_softmax(s, 1)).sum(1) + (pt * F.log_softmax(t, 1)).sum(1)).mean()
    assert torch.allclose(distillation_loss(s, t, y, 1.0, alpha=1.0), kl1, atol=1e-6)


def test_t_squared_keeps_the_soft_gradient_size():
    """Without T², the gradient of the soft term shrinks like 1/T²; with it, it settles to a constant."""
    g = torch.Generator().manual_seed(3)
    t = torch.randn(64, 10, generator=g)
    s0 = torch.randn(64, 10, generator=g)
    norms = {}
    for T in (4.0, 8.0, 16.0, 32.0):
        s = s0.clone().requires_grad_(True)
        soft_target_loss(s, t, T).backward()
        norms[T] = float(s.grad.norm())
    assert norms[32.0] / norms[4.0] == pytest.approx(1.0, abs=0.1)  # size kept
    assert (norms[32.0] / 32 ** 2) / (norms[4.0] / 4 ** 2) < 0.02  # the unscaled term's would fall 64-fold


def test_teacher_gets_no_gradient():
    s = torch.randn(3, 4, requires_grad=True)
    t = torch.randn(3, 4, requires_grad=True)
    soft_target_loss(s, t, 2.0).backward()
    hint_loss(s, t).backward()
    assert t.grad is None and s.grad is not None


def test_hint_losses_by_hand():
    hs = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    ht = torch.tensor([[1.0, 1.0], [3.0, 2.0]])
    assert float(hint_loss(hs, ht)) == pytest.approx((1 + 9) / 2)
    cos0 = 1 / math.sqrt(2)
    cos1 = 4 / (2 * math.sqrt(13))
    assert float(cosine_hint_loss(hs, ht)) == pytest.approx(1 - (cos0 + cos1) / 2, rel=1e-6)
    proj = nn.Linear(2, 3)
    with torch.no_grad():
        proj.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        proj.bias.zero_()
    ht3 = torch.tensor([[1.0, 0.0, 1.0], [0.0, 2.0, 0.0]])
    assert hint_loss(hs, ht3, proj).item() == pytest.approx((0 + 4) / 2)  # only the third feature differs


def test_hint_distance_is_zero_for_a_linear_function_and_one_for_noise():
    g = torch.Generator().manual_seed(4)
    hs = torch.randn(200, 5, generator=g)
    assert hint_distance(hs, hs @ torch.randn(5, 7, generator=g) + 3.0) == pytest.approx(0.0, abs=1e-9)
    assert hint_distance(hs, torch.randn(200, 1, generator=g)) > 0.9


# ----------------------------------------------------------------------------- models and counts
@settings(max_examples=25, deadline=None)
@given(d=st.integers(1, 20), widths=st.lists(st.integers(1, 20), min_size=1, max_size=4), C=st.integers(2, 12))
def test_count_equals_built_module(d, widths, C):
    c = NetConfig(in_features=d, widths=tuple(widths), n_classes=C, hint_layer=len(widths) - 1)
    assert count_net_parameters(c) == sum(p.numel() for p in Net(c, device="cpu").parameters())


def test_stack_members_are_independent_and_start_as_lone_nets():
    stack = StudentStack(STUDENT, [0, 5], teacher_hint_width=16, device="cpu")
    for k, seed in enumerate([0, 5]):
        lone = Net(STUDENT, device="cpu", seed=seed)
        for a, b in zip(stack.member(k).parameters(), lone.parameters()):
            assert torch.equal(a, b)
    with torch.no_grad():  # writing member 0 leaves member 1 alone: no tie between students
        stack.weights[0][0, 0, 0] = 9.0
    assert stack.member(0).layers[0].weight[0, 0] == 9.0 and stack.member(1).layers[0].weight[0, 0] != 9.0


def test_batched_training_equals_lone_runs(data, teacher):
    X, y = data
    recipes = [Recipe(), Recipe(alpha=0.5, temperature=2.0, hint_weight=0.1, cosine_weight=0.2)]
    run = train_students(teacher, recipes, [0, 1], (X[:12], y[:12]), X, config=STUDENT, steps=15, log_every=5,
                         device="cpu")
    for k, r in enumerate(recipes):
        lone = Net(STUDENT, device="cpu", seed=k)
        one = train_student(lone, teacher, X[:12], y[:12], X, steps=15, log_every=5, seed=k, alpha=r.alpha,
                            temperature=r.temperature, hint_weight=r.hint_weight, cosine_weight=r.cosine_weight)
        assert torch.allclose(torch.tensor(one.losses), run.losses[:, k], rtol=1e-4, atol=1e-5)
        for a, b in zip(one.student.parameters(), run.students.member(k).parameters()):
            assert torch.allclose(a, b, atol=1e-5)


def test_training_lowers_every_term_and_trains_the_projection(data, teacher):
    X, y = data
    student = Net(STUDENT, device="cpu", seed=0)
    with torch.no_grad():
        h0 = hint_loss(student.hint(X), teacher.hint(X), StudentStack(STUDENT, [0], 16).projection(0))
    run = train_student(student, teacher, X[:12], y[:12], X, steps=80, lr=2e-2, alpha=0.5, hint_weight=0.05,
                        seed=0, log_every=20, X_test=X, y_test=y)
    assert run.losses[-1] < 0.7 * run.losses[0]
    fresh = StudentStack(STUDENT, [0], 16).projection(0)
    assert not torch.allclose(run.projection.weight, fresh.weight)  # the projection moved
    with torch.no_grad():
        h1 = hint_loss(student.hint(X), teacher.hint(X), run.projection)
    assert h1 < h0
    assert run.logged_steps == [0, 20, 40, 60, 80] and len(run.distance) == len(run.test_accuracy) == 5
    assert train_student(Net(STUDENT, device="cpu"), teacher, X, y, X, steps=2).projection is None


def test_teacher_training_lowers_the_loss_and_is_seeded(data):
    X, y = data
    a, b = Net(TEACHER, device="cpu", seed=3), Net(TEACHER, device="cpu", seed=3)
    la, lb = train_teacher(a, X, y, steps=20), train_teacher(b, X, y, steps=20)
    assert la == lb and la[-1] < la[0]
    assert accuracy(a, X, y) > 0.6


def test_two_seeded_runs_are_identical(data, teacher):
    X, y = data
    runs = [train_students(teacher, [Recipe(alpha=0.5, hint_weight=0.1)] * 2, [0, 1], (X[:12], y[:12]), X,
                           config=STUDENT, steps=10, X_test=X, y_test=y) for _ in range(2)]
    assert torch.equal(runs[0].losses, runs[1].losses) and torch.equal(runs[0].distance, runs[1].distance)


def test_labelled_subset_and_members(data):
    X, y = data
    Xs, ys = labelled_subset(X, y, per_class=2, seed=0)
    assert Xs.shape == (6, 6) and torch.bincount(ys).tolist() == [2, 2, 2]
    assert torch.equal(labelled_subset(X, y, 2, seed=0)[0], Xs)
    recipes, seeds = members(RECIPES, 3)
    assert len(recipes) == 12 and seeds[:4] == [0, 1, 2, 0] and recipes[3] == RECIPES["+ soft targets"]


# ----------------------------------------------------------------------------- DistilBERT
def test_distilbert_student_keeps_every_other_layer():
    c = AlbertConfig(vocab_size=50, embedding_size=16, hidden_size=16, num_hidden_layers=6, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=20, sharing="none")
    torch.manual_seed(0)
    teacher = AlbertEncoder(c, device="cpu")
    student = distilbert_student(teacher)
    assert student.config.num_hidden_layers == 3 == len(kept_layers(6))
    for i, j in enumerate(kept_layers(6)):
        assert torch.equal(student.layers[i].attention.query.weight, teacher.layers[j].attention.query.weight)
    assert student.layers[0].attention.query.weight is not teacher.layers[0].attention.query.weight  # a copy
    assert sum(p.numel() for p in student.parameters()) == count_parameters(student.config).total
    assert kept_layers(12) == [0, 2, 4, 6, 8, 10]


def test_distilbert_counts():
    bert = AlbertConfig.preset("bert-base", vocab_size=30522)
    student = distilbert_config(bert)
    assert count_parameters(bert).total == 109_482_240  # Hugging Face's bert-base-uncased
    extras = count_parameters(student).pooler + 2 * 768
    assert count_parameters(student).total - extras == 66_362_880  # Hugging Face's distilbert-base-uncased


# ----------------------------------------------------------------------------- bad input
def test_bad_inputs_raise():
    s, t, y = torch.randn(4, 3), torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    with pytest.raises(ValueError, match="temperature"):
        soft_target_loss(s, t, 0.0)
    with pytest.raises(TypeError, match="temperature"):
        distillation_loss(s, t, y, "hot", 0.5)
    with pytest.raises(ValueError, match="alpha"):
        distillation_loss(s, t, y, 2.0, 1.5)
    with pytest.raises(ValueError, match="same shape"):
        soft_target_loss(s, torch.randn(4, 5), 2.0)
    with pytest.raises(ValueError, match="labels"):
        distillation_loss(s, t, torch.tensor([0, 1, 5, 0]), 2.0, 0.5)
    with pytest.raises(ValueError, match="labels"):
        distillation_loss(s, t, y.float(), 2.0, 0.5)
    with pytest.raises(ValueError, match="projection"):
        hint_loss(torch.randn(4, 2), torch.randn(4, 3))
    with pytest.raises(ValueError, match="rows"):
        cosine_hint_loss(torch.randn(4, 3), torch.randn(5, 3))
    with pytest.raises(TypeError, match="projection"):
        hint_loss(torch.randn(4, 2), torch.randn(4, 3), projection="linear")
    with pytest.raises(TypeError, match="student_hidden"):
        hint_loss([[1.0]], torch.randn(1, 1))
    with pytest.raises(ValueError, match="hint_weight"):
        Recipe(hint_weight=-1.0)
    with pytest.raises(ValueError, match="hint_layer"):
        NetConfig(widths=(4, 4), hint_layer=2)
    with pytest.raises(TypeError, match="widths"):
        NetConfig(widths=[4, 4])


def test_trainer_bad_inputs_raise(data, teacher):
    X, y = data
    student = Net(STUDENT, device="cpu")
    with pytest.raises(ValueError, match="temperature"):
        train_student(student, teacher, X, y, X, temperature=-1.0)
    with pytest.raises(ValueError, match="steps"):
        train_student(student, teacher, X, y, X, steps=0)
    with pytest.raises(ValueError, match="X_transfer"):
        train_student(student, teacher, X, y, X[:, :3])
    with pytest.raises(ValueError, match="y_labelled"):
        train_student(student, teacher, X, y[:5], X)
    with pytest.raises(TypeError, match="teacher"):
        train_student(student, "teacher", X, y, X)
    with pytest.raises(ValueError, match="seeds"):
        train_students(teacher, [Recipe()], [0, 1], (X, y), X, config=STUDENT)
    with pytest.raises(TypeError, match="recipes"):
        train_students(teacher, [{"alpha": 0.5}], [0], (X, y), X, config=STUDENT)
    with pytest.raises(ValueError, match="labelled"):
        train_students(teacher, [Recipe()] * 2, [0, 1], [(X, y)], X, config=STUDENT)
    with pytest.raises(ValueError, match="X_test"):
        train_students(teacher, [Recipe()], [0], (X, y), X, config=STUDENT, X_test=X)
    with pytest.raises(ValueError, match="every"):
        distilbert_config(AlbertConfig.preset("bert-base"), every=0)
    with pytest.raises(ValueError, match="sharing"):
        distilbert_config(AlbertConfig.preset("albert-base"))
    with pytest.raises(ValueError, match="per_class"):
        labelled_subset(X, y, per_class=1000)


def test_trainer_loss_is_the_documented_mixture(data, teacher):
    """Step 0's loss equals (1 − α)·CE + α·T²·KL + β·hint + γ·cosine, computed with the public losses."""
    X, y = data
    r = Recipe(alpha=0.3, temperature=2.0, hint_weight=0.2, cosine_weight=0.5)
    stack = StudentStack(STUDENT, [4], teacher_hint_width=16)
    student, proj = stack.member(0), stack.projection(0)
    with torch.no_grad():
        t_logits, t_hidden = teacher(X)
        expected = ((1 - r.alpha) * F.cross_entropy(student(X[:12])[0], y[:12])
                    + r.alpha * soft_target_loss(student(X)[0], t_logits, r.temperature)
                    + r.hint_weight * hint_loss(student.hint(X), t_hidden[1], proj)
                    + r.cosine_weight * cosine_hint_loss(student.hint(X), t_hidden[1], proj))
    run = train_students(teacher, [r], [4], (X[:12], y[:12]), X, config=STUDENT, steps=1)
    assert run.losses[0, 0].item() == pytest.approx(expected.item(), rel=1e-5)
