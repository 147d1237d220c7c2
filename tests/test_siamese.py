"""tyshare_lib.siamese: one branch used twice, the contrastive loss, balanced pairs, training, ROC."""
import copy

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from tyshare_lib.digits import split_digits
from tyshare_lib.siamese import (BranchConfig, Pairs, SiameseNetwork, TwinNetwork, accuracy_at, best_threshold,
                                 contrastive_loss, euclidean, make_branch, pair_distances, pixel_distances,
                                 roc_curve, sample_pairs, siamese_and_twin, train_siamese)

SMALL = BranchConfig(input_size=64, hidden_size=16, embedding_size=4)


@pytest.fixture(scope="module")
def digits():
    return split_digits(classes=range(7))


# ----------------------------------------------------------------------------- the tie
def test_one_branch_object_and_its_parameters_counted_once():
    branch = make_branch(SMALL, seed=0, device="cpu")
    net = SiameseNetwork(branch)
    assert net.branch is branch
    assert [id(p) for p in net.parameters()] == [id(p) for p in branch.parameters()]
    assert sum(p.numel() for p in net.parameters()) == SMALL.num_parameters == (64 + 1) * 16 + (16 + 1) * 4
    twin = TwinNetwork(make_branch(SMALL, seed=0, device="cpu"), make_branch(SMALL, seed=1, device="cpu"))
    assert sum(p.numel() for p in twin.parameters()) == 2 * SMALL.num_parameters


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 100), st.integers(1, 80), st.integers(1, 40))
def test_closed_form_count_equals_the_built_network(d, h, e):
    config = BranchConfig(input_size=d, hidden_size=h, embedding_size=e)
    siamese, twin = siamese_and_twin(config, seed=0, device="cpu")
    assert sum(p.numel() for p in siamese.parameters()) == config.num_parameters == (d + 1) * h + (h + 1) * e
    assert sum(p.numel() for p in twin.parameters()) == 2 * config.num_parameters


def test_both_inputs_go_through_the_same_module():
    net = SiameseNetwork(make_branch(SMALL, seed=0, device="cpu"))
    calls = []
    net.branch.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    net(torch.rand(3, 64), torch.rand(3, 64))
    assert calls == [3, 3]  # one module, called once per input


def test_write_through_the_branch_is_read_by_both_sides():
    net = SiameseNetwork(make_branch(SMALL, seed=0, device="cpu"))
    x1, x2 = torch.rand(4, 64), torch.rand(4, 64)
    with torch.no_grad():
        net.branch[2].bias.zero_()
        before = net(x1, x2)
        net.branch[2].bias.fill_(5.0)  # shifts both embeddings by the same vector: distances unchanged
        assert torch.allclose(net(x1, x2), before, atol=1e-5)
        net.branch[0].weight.mul_(2.0)
        assert not torch.allclose(net(x1, x2), before)
        assert torch.allclose(net.embed(x1), net.branch(x1))


def test_distance_is_symmetric_for_the_siamese_network_only():
    siamese, twin = siamese_and_twin(SMALL, seed=0, device="cpu")
    x1, x2 = torch.rand(8, 64), torch.rand(8, 64)
    with torch.no_grad():
        assert torch.equal(siamese(x1, x2), siamese(x2, x1))
        assert (twin(x1, x2) - twin(x2, x1)).abs().max() > 1e-3
        assert torch.allclose(siamese(x1, x2), (siamese.embed(x1) - siamese.embed(x2)).norm(dim=1), atol=1e-5)


def test_twin_first_branch_starts_as_the_siamese_branch():
    siamese, twin = siamese_and_twin(SMALL, seed=3, device="cpu")
    for p, q in zip(siamese.branch.parameters(), twin.branch_a.parameters()):
        assert torch.equal(p, q) and p is not q
    assert not torch.equal(twin.branch_a[0].weight, twin.branch_b[0].weight)


def test_shared_gradient_is_the_sum_over_both_inputs(digits):
    net = SiameseNetwork(make_branch(SMALL, seed=0, device="cpu"))
    frozen = copy.deepcopy(net.branch).requires_grad_(False)
    P = sample_pairs(digits.y_train, 32, seed=0)
    a, b = digits.X_train[P.first], digits.X_train[P.second]
    params = list(net.parameters())

    def grads(e1, e2):
        return torch.autograd.grad(contrastive_loss(euclidean(e1, e2), P.same), params)

    both = torch.autograd.grad(contrastive_loss(net(a, b), P.same), params)  # through the network's own forward
    only_first = grads(net.branch(a), frozen(b))
    only_second = grads(frozen(a), net.branch(b))
    for g, g1, g2 in zip(both, only_first, only_second):
        assert torch.allclose(g, g1 + g2, atol=1e-6)
        assert g1.abs().sum() > 0 and g2.abs().sum() > 0


def test_distance_gradient_is_finite_for_identical_inputs():
    net = SiameseNetwork(make_branch(SMALL, seed=0, device="cpu"))
    x = torch.rand(2, 64)
    loss = contrastive_loss(net(x, x.clone()), torch.tensor([1.0, 0.0]))
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters())


# ----------------------------------------------------------------------------- the loss
def test_contrastive_loss_by_hand_including_the_margin_edge():
    d = torch.tensor([0.5, 0.5, 1.0, 2.0, 0.0])
    s = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0])
    # matching at 0.5: 0.25; different at 0.5: (1 − 0.5)² = 0.25; at the margin and beyond: 0; matching at 0: 0
    assert contrastive_loss(d, s, margin=1.0).item() == pytest.approx((0.25 + 0.25 + 0 + 0 + 0) / 5)
    assert contrastive_loss(d, s, margin=2.0).item() == pytest.approx((0.25 + 2.25 + 1.0 + 0 + 0) / 5)
    # the push term's gradient vanishes exactly at the margin, and is −2(m − d) inside it
    d = torch.tensor([1.0, 0.75], requires_grad=True)
    contrastive_loss(d, torch.tensor([0.0, 0.0]), margin=1.0).backward()
    assert d.grad.tolist() == pytest.approx([0.0, -2 * 0.25 / 2])


# ----------------------------------------------------------------------------- pairs
def test_pairs_are_balanced_labelled_right_and_distinct(digits):
    y = digits.y_train
    P = sample_pairs(y, 1001, seed=0)
    assert len(P) == 1001 and P.same.sum() == 500
    assert torch.equal((y[P.first] == y[P.second]).float(), P.same)
    assert not (P.first == P.second).any()
    assert set(y[P.first].tolist()) == set(range(7))


def test_pairs_are_seeded(digits):
    a, b = sample_pairs(digits.y_train, 64, seed=5), sample_pairs(digits.y_train, 64, seed=5)
    c = sample_pairs(digits.y_train, 64, seed=6)
    assert torch.equal(a.first, b.first) and torch.equal(a.second, b.second) and torch.equal(a.same, b.same)
    assert not torch.equal(a.first, c.first)


# ----------------------------------------------------------------------------- training
def test_training_lowers_the_loss_and_is_reproducible(digits):
    runs = []
    for _ in range(2):
        net = SiameseNetwork(make_branch(SMALL, seed=0, device="cpu"))
        runs.append((train_siamese(net, digits.X_train, digits.y_train, steps=60, batch_size=64, seed=1), net))
    (r1, n1), (r2, n2) = runs
    assert torch.equal(r1.losses, r2.losses)
    assert all(torch.equal(p, q) for p, q in zip(n1.parameters(), n2.parameters()))
    assert r1.losses[-10:].mean() < 0.5 * r1.losses[:10].mean()


def test_training_leaves_the_thread_count_alone(digits):
    before = torch.get_num_threads()
    net = SiameseNetwork(make_branch(SMALL, seed=0, device="cpu"))
    train_siamese(net, digits.X_train, digits.y_train, steps=2, batch_size=8)
    assert torch.get_num_threads() == before


def test_siamese_and_twin_see_the_same_pairs(digits, monkeypatch):
    """Same budget: the twin is trained on exactly the pairs the Siamese network saw."""
    seen = []
    for model in siamese_and_twin(SMALL, seed=0, device="cpu"):
        original = model._distance
        monkeypatch.setattr(model, "_distance", lambda a, b, f=original: seen.append((a.clone(), b.clone())) or f(a, b))
        train_siamese(model, digits.X_train, digits.y_train, steps=3, batch_size=16, seed=2)
    assert len(seen) == 6
    for (a, b), (c, d) in zip(seen[:3], seen[3:]):
        assert torch.equal(a, c) and torch.equal(b, d)


# ----------------------------------------------------------------------------- ROC
@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(4, 60), st.booleans())
def test_roc_auc_equals_sklearn(seed, n, ties):
    g = torch.Generator().manual_seed(seed)
    same = torch.zeros(n)
    same[: n // 2] = 1
    same = same[torch.randperm(n, generator=g)]
    d = torch.rand(n, generator=g) + 0.3 * (1 - same)
    if ties:
        d = (d * 4).round() / 4  # many equal distances
    ours = roc_curve(d, same).auc
    assert ours == pytest.approx(roc_auc_score(same.numpy(), -d.numpy()), abs=1e-12)


def test_roc_ends_and_monotone():
    d = torch.tensor([0.1, 0.2, 0.2, 0.9, 1.5])
    same = torch.tensor([1.0, 1.0, 0.0, 1.0, 0.0])
    roc = roc_curve(d, same)
    assert roc.fpr[0] == 0 and roc.tpr[0] == 0 and roc.fpr[-1] == 1 and roc.tpr[-1] == 1
    assert roc.tpr.tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1, 1])
    assert roc.fpr.tolist() == pytest.approx([0, 0, 0.5, 0.5, 1])
    assert roc.tpr_at(0.0) == pytest.approx(1 / 3) and roc.tpr_at(0.5) == 1.0
    assert roc_curve(torch.tensor([0.1, 0.9]), torch.tensor([1.0, 0.0])).auc == 1.0
    assert roc_curve(torch.tensor([0.9, 0.1]), torch.tensor([1.0, 0.0])).auc == 0.0


def test_best_threshold_maximises_accuracy():
    g = torch.Generator().manual_seed(0)
    same = (torch.rand(200, generator=g) < 0.5).float()
    d = torch.rand(200, generator=g) + 0.5 * (1 - same)
    t = best_threshold(d, same)
    best = accuracy_at(d, same, t)
    assert all(accuracy_at(d, same, float(c)) <= best + 1e-12 for c in torch.unique(d))
    assert accuracy_at(torch.tensor([0.1, 0.9]), torch.tensor([1.0, 0.0]), best_threshold(
        torch.tensor([0.1, 0.9]), torch.tensor([1.0, 0.0]))) == 1.0


def test_pixel_and_model_distances(digits):
    P = sample_pairs(digits.y_test, 10, seed=0)
    X = digits.X_test
    assert torch.allclose(pixel_distances(X, P), (X[P.first] - X[P.second]).norm(dim=1), atol=1e-5)
    net = SiameseNetwork(make_branch(SMALL, seed=0, device="cpu"))
    with torch.no_grad():
        assert torch.allclose(pair_distances(net, X, P), net(X[P.first], X[P.second]))


# ----------------------------------------------------------------------------- bad inputs
def test_bad_arguments_are_refused(digits):
    branch = make_branch(SMALL, seed=0, device="cpu")
    net = SiameseNetwork(branch)
    with pytest.raises(TypeError, match="branch"):
        SiameseNetwork("branch")
    with pytest.raises(ValueError, match="branch has no parameters"):
        SiameseNetwork(torch.nn.ReLU())
    with pytest.raises(ValueError, match="must not share"):
        TwinNetwork(branch, branch)
    with pytest.raises(ValueError, match="x1 and x2"):
        net(torch.rand(3, 64), torch.rand(2, 64))
    with pytest.raises(ValueError, match="x1 must be 2-D"):
        net(torch.rand(64), torch.rand(64))
    with pytest.raises(ValueError, match="side"):
        TwinNetwork(make_branch(SMALL), make_branch(SMALL)).embed(torch.rand(2, 64), side="c")
    with pytest.raises(ValueError, match="hidden_size"):
        BranchConfig(hidden_size=0)
    with pytest.raises(TypeError, match="config"):
        make_branch({"hidden_size": 3})
    with pytest.raises(ValueError, match="device"):
        make_branch(SMALL, device="tpu")


def test_bad_loss_arguments_are_refused():
    d, s = torch.tensor([0.5, 1.0]), torch.tensor([1.0, 0.0])
    with pytest.raises(ValueError, match="margin"):
        contrastive_loss(d, s, margin=0.0)
    with pytest.raises(ValueError, match="same must hold only 0"):
        contrastive_loss(d, torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="same must have the shape"):
        contrastive_loss(d, torch.tensor([1.0]))
    with pytest.raises(ValueError, match="distance must be >= 0"):
        contrastive_loss(torch.tensor([-0.1, 1.0]), s)
    with pytest.raises(TypeError, match="distance"):
        contrastive_loss([0.5, 1.0], s)
    with pytest.raises(ValueError, match="both matching"):
        roc_curve(d, torch.tensor([1.0, 1.0]))


def test_bad_pair_and_training_arguments_are_refused(digits):
    with pytest.raises(ValueError, match="at least two classes"):
        sample_pairs(torch.zeros(10, dtype=torch.int64), 4)
    with pytest.raises(ValueError, match="at least two rows"):
        sample_pairs(torch.tensor([0, 0, 1]), 4)
    with pytest.raises(ValueError, match="labels must be a 1-D integer"):
        sample_pairs(torch.rand(10), 4)
    with pytest.raises(ValueError, match="n_pairs"):
        sample_pairs(digits.y_train, 1)
    with pytest.raises(TypeError, match="generator"):
        sample_pairs(digits.y_train, 4, generator=0)
    net = SiameseNetwork(make_branch(SMALL, seed=0, device="cpu"))
    with pytest.raises(TypeError, match="model"):
        train_siamese(torch.nn.Linear(2, 2), digits.X_train, digits.y_train)
    with pytest.raises(ValueError, match="steps"):
        train_siamese(net, digits.X_train, digits.y_train, steps=0)
    with pytest.raises(ValueError, match="lr"):
        train_siamese(net, digits.X_train, digits.y_train, lr=0.0)
    with pytest.raises(ValueError, match="rows but y has"):
        train_siamese(net, digits.X_train, digits.y_train[:-1])
    with pytest.raises(TypeError, match="pairs"):
        pair_distances(net, digits.X_train, (1, 2))
    with pytest.raises(TypeError, match="pairs"):
        pixel_distances(digits.X_train, None)
    assert isinstance(sample_pairs(digits.y_train, 4), Pairs)
