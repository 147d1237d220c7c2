"""tyshare_lib.tying: the closed form against independent solves, the λ → ∞ limit, the trainer, bad input."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tyshare_lib.tying import (SEED_MAX, TwoTaskLinear, effective_dof, make_two_tasks, mse, mse_each, tied_path,
                               tied_solution, train_tied, tying_penalty)

INF = math.inf


@pytest.fixture(scope="module")
def tasks():
    return make_two_tasks(n_train=8, dim=2, seed=0)


def augmented_lstsq(XA, yA, XB, yB, lam):
    """Independent route: the tied objective as one least-squares problem on stacked, scaled rows."""
    nA, d = XA.shape
    nB = XB.shape[0]
    zA, zB = torch.zeros(nA, d, dtype=XA.dtype), torch.zeros(nB, d, dtype=XA.dtype)
    eye = torch.eye(d, dtype=XA.dtype)
    A = torch.cat([torch.cat([XA / nA ** 0.5, zA], 1),
                   torch.cat([zB, XB / nB ** 0.5], 1),
                   torch.cat([lam ** 0.5 * eye, -lam ** 0.5 * eye], 1)], 0)
    b = torch.cat([yA / nA ** 0.5, yB / nB ** 0.5, torch.zeros(d, dtype=XA.dtype)])
    w = torch.linalg.lstsq(A, b[:, None]).solution[:, 0]
    return w[:d], w[d:]


@pytest.mark.parametrize("lam", [0.0, 0.01, 0.3, 1.0, 7.0, 100.0])
def test_tied_solution_equals_independent_solve(tasks, lam):
    wA, wB = tied_solution(*tasks.train, lam)
    rA, rB = augmented_lstsq(*tasks.train, lam)
    assert torch.allclose(wA, rA, atol=1e-9) and torch.allclose(wB, rB, atol=1e-9)


def test_tied_solution_is_a_stationary_point(tasks):
    wA, wB = tied_solution(*tasks.train, 0.5)
    wA, wB = wA.clone().requires_grad_(), wB.clone().requires_grad_()
    XA, yA, XB, yB = tasks.train
    J = ((XA @ wA - yA) ** 2).mean() + ((XB @ wB - yB) ** 2).mean() + 0.5 * tying_penalty([wA], [wB])
    gA, gB = torch.autograd.grad(J, [wA, wB])
    assert gA.abs().max() < 1e-10 and gB.abs().max() < 1e-10


def test_lambda_zero_is_two_independent_fits(tasks):
    wA, wB = tied_solution(*tasks.train, 0.0)
    assert torch.allclose(wA, torch.linalg.lstsq(tasks.XA, tasks.yA[:, None]).solution[:, 0], atol=1e-10)
    assert torch.allclose(wB, torch.linalg.lstsq(tasks.XB, tasks.yB[:, None]).solution[:, 0], atol=1e-10)


def test_lambda_infinity_is_the_pooled_fit(tasks):
    wA, wB = tied_solution(*tasks.train, INF)
    n = tasks.XA.shape[0]
    X = torch.cat([tasks.XA / n ** 0.5, tasks.XB / n ** 0.5])
    y = torch.cat([tasks.yA / n ** 0.5, tasks.yB / n ** 0.5])
    pooled = torch.linalg.lstsq(X, y[:, None]).solution[:, 0]
    assert torch.equal(wA, wB)
    assert torch.allclose(wA, pooled, atol=1e-10)
    big_A, big_B = tied_solution(*tasks.train, 1e7)  # the finite limit approaches it like 1/λ
    assert (big_A - pooled).norm() < 1e-5 and (big_B - pooled).norm() < 1e-5


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 12), d=st.integers(1, 4), gap=st.floats(0.0, 3.0))
def test_distance_never_grows_with_lambda(seed, n, d, gap):
    t = make_two_tasks(n_train=max(n, d), n_test=1, dim=d, task_gap=gap, seed=seed)
    lams = [0.0, 1e-3, 1e-2, 0.1, 0.5, 1, 3, 10, 100, 1e4, INF]
    wA, wB = tied_path(*t.train, lams)
    dist = (wA - wB).norm(dim=1)
    assert torch.all(dist[1:] <= dist[:-1] + 1e-10)
    assert dist[-1] == 0


def test_tied_path_solves_every_lambda_of_the_batch(tasks):
    """The batched solve against the independent least-squares route, λ by λ, in one call (∞ included)."""
    lams = [0.0, 0.2, 5.0, 1e3, INF, 0.7]
    wA, wB = tied_path(*tasks.train, lams)
    for i, lam in enumerate(lams):
        if math.isinf(lam):
            rA, rB = augmented_lstsq(*tasks.train, 1e9)  # the pooled fit, to within 1/λ
            assert torch.allclose(wA[i], rA, atol=1e-6) and torch.equal(wA[i], wB[i])
        else:
            rA, rB = augmented_lstsq(*tasks.train, lam)
            assert torch.allclose(wA[i], rA, atol=1e-9) and torch.allclose(wB[i], rB, atol=1e-9)


@pytest.mark.parametrize("lam", [0.0, 0.1, 1.0, 10.0, INF])
def test_trainer_converges_to_the_closed_form(tasks, lam):
    result = train_tied(*tasks.train, lam, steps=600)  # default device: the CPU here, CUDA in the GPU check
    wA, wB = tied_solution(*tasks.train, lam)
    assert torch.allclose(result.w_a.double(), wA, atol=1e-4)
    assert torch.allclose(result.w_b.double(), wB, atol=1e-4)
    assert result.losses[-1] <= result.losses[0]
    assert abs(float(result.distances[-1]) - float((wA - wB).norm())) < 1e-4


def test_trainer_is_seeded(tasks):
    a = train_tied(*tasks.train, 1.0, steps=20, seed=3, device="cpu")
    b = train_tied(*tasks.train, 1.0, steps=20, seed=3, device="cpu")
    assert torch.equal(a.distances, b.distances)


def test_effective_dof_runs_from_2d_to_d(tasks):
    d = tasks.XA.shape[1]
    dofs = [effective_dof(tasks.XA, tasks.XB, lam) for lam in [0.0, 0.1, 1.0, 10.0, INF]]
    assert dofs[0] == pytest.approx(2 * d) and dofs[-1] == pytest.approx(d)
    assert all(a >= b for a, b in zip(dofs, dofs[1:]))


def test_effective_dof_orthonormal_design_formula():
    """The chapter's exercise: with XᵀX/n = I, tr H = d + d / (1 + 2λ)."""
    n, d = 8, 3
    Q, _ = torch.linalg.qr(torch.randn(n, d, dtype=torch.float64, generator=torch.Generator().manual_seed(1)))
    X = Q * n ** 0.5
    for lam in [0.0, 0.25, 1.5, 40.0]:
        assert effective_dof(X, X, lam) == pytest.approx(d + d / (1 + 2 * lam))


def test_effective_dof_is_the_trace_of_the_hat_matrix(tasks):
    """Build H column by column (fit unit target vectors) and compare its trace."""
    nA, nB = tasks.XA.shape[0], tasks.XB.shape[0]
    lam = 0.7
    cols = []
    for k in range(nA + nB):
        e = torch.zeros(nA + nB, dtype=torch.float64)
        e[k] = 1
        wA, wB = tied_solution(tasks.XA, e[:nA], tasks.XB, e[nA:], lam)
        cols.append(torch.cat([tasks.XA @ wA, tasks.XB @ wB]))
    H = torch.stack(cols, dim=1)
    assert float(torch.trace(H)) == pytest.approx(effective_dof(tasks.XA, tasks.XB, lam))


def test_tying_penalty_value_and_gradient():
    a, b = torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([0.0, 4.0])
    omega = tying_penalty([a], [b])
    assert float(omega.detach()) == pytest.approx(1 + 4)
    (grad,) = torch.autograd.grad(omega, a)
    assert torch.allclose(grad, 2 * (a - b))


def test_tying_penalty_over_modules():
    m1, m2 = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    expected = ((m1.weight - m2.weight) ** 2).sum() + ((m1.bias - m2.bias) ** 2).sum()
    assert torch.allclose(tying_penalty(m1, m2), expected)
    assert float(tying_penalty(m1, m1).detach()) == 0


def test_shared_model_is_one_module_used_twice():
    m = TwoTaskLinear(2, shared=True, device="cpu")
    assert m.task_a is m.task_b
    assert sum(p.numel() for p in m.parameters()) == 2  # parameters() yields the shared weight once
    with torch.no_grad():
        m.task_a.weight[0, 0] = 42.0  # write through one use ...
    assert m.task_b.weight[0, 0] == 42.0  # ... read through the other


def test_gradient_of_a_shared_weight_is_the_sum_over_its_uses(tasks):
    """The shared weight's gradient equals the sum of the gradients two *separate* copies of it receive,
    and the closed form 2/nᴬ XᴬᵀrA + 2/nᴮ XᴮᵀrB written out by hand."""
    shared = TwoTaskLinear(2, shared=True, device="cpu", dtype=torch.float64)
    separate = TwoTaskLinear(2, shared=False, device="cpu", dtype=torch.float64)
    with torch.no_grad():
        separate.task_a.weight.copy_(shared.task_a.weight)
        separate.task_b.weight.copy_(shared.task_a.weight)
    XA, yA, XB, yB = tasks.train
    for m in (shared, separate):
        pa, pb = m(XA, XB)
        (((pa - yA) ** 2).mean() + ((pb - yB) ** 2).mean()).backward()
    total = separate.task_a.weight.grad + separate.task_b.weight.grad
    assert torch.allclose(shared.task_a.weight.grad, total)
    w = shared.w_a.detach()
    by_hand = 2 * XA.T @ (XA @ w - yA) / len(yA) + 2 * XB.T @ (XB @ w - yB) / len(yB)
    assert torch.allclose(shared.task_a.weight.grad[0], by_hand)
    assert not torch.allclose(separate.task_a.weight.grad, total)  # one use alone is not the whole gradient


def test_make_two_tasks_is_seeded_and_data_seed_keeps_weights():
    a, b = make_two_tasks(seed=4), make_two_tasks(seed=4)
    assert torch.equal(a.XA, b.XA) and torch.equal(a.w_true_a, b.w_true_a)
    c = make_two_tasks(seed=4, data_seed=1)
    assert torch.equal(a.w_true_a, c.w_true_a) and not torch.equal(a.XA, c.XA)
    assert (a.w_true_a - a.w_true_b).norm() == pytest.approx(1.0)


def test_mse_against_torch(tasks):
    g = torch.Generator().manual_seed(0)
    W = torch.randn(4, 2, dtype=torch.float64, generator=g)
    each = mse_each(tasks.XA, tasks.yA, W)
    for i in range(4):
        expected = float(torch.nn.functional.mse_loss(tasks.XA @ W[i], tasks.yA))
        assert float(each[i]) == pytest.approx(expected) and mse(tasks.XA, tasks.yA, W[i]) == pytest.approx(expected)


def test_mse_refuses_what_would_broadcast_or_fail_inside(tasks):
    X, y, w = tasks.XA, tasks.yA, torch.ones(2, dtype=torch.float64)
    with pytest.raises(ValueError, match="y must be 1-D"):
        mse(X, y[:, None], w)  # (n, 1) would broadcast to an (n, n) error and a wrong mean
    with pytest.raises(ValueError, match="w must be 1-D"):
        mse(X, y, w[None, :])
    with pytest.raises(ValueError, match="W must be 2-D"):
        mse_each(X, y, w)  # a 1-D W would give n values
    with pytest.raises(ValueError, match="one entry per column"):
        mse(X, y, torch.ones(3, dtype=torch.float64))
    with pytest.raises(TypeError, match="X must be a torch.Tensor"):
        mse(X.tolist(), y, w)
    with pytest.raises(TypeError, match="w must be a torch.Tensor"):
        mse(X, y, [1.0, 1.0])
    with pytest.raises(ValueError, match="X has 8 rows but y has 7"):
        mse(X, y[:-1], w)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("lam", [-1.0, float("nan"), "big", None, -INF, True])
def test_bad_lambda_is_refused_naming_lam(tasks, lam):
    with pytest.raises(ValueError, match="lam"):
        tied_solution(*tasks.train, lam)


def test_bad_shapes_are_refused_naming_the_argument(tasks):
    XA, yA, XB, yB = tasks.train
    with pytest.raises(ValueError, match="XA"):
        tied_solution(XA[:, 0], yA, XB, yB, 1.0)
    with pytest.raises(ValueError, match="yA"):
        tied_solution(XA, yA[:-1], XB, yB, 1.0)
    with pytest.raises(ValueError, match="columns"):
        tied_solution(XA, yA, torch.cat([XB, XB[:, :1]], 1), yB, 1.0)
    with pytest.raises(ValueError, match="yB"):
        tied_solution(XA, yA, XB, yB[:, None], 1.0)
    with pytest.raises(ValueError, match="XB"):
        tied_solution(XA, yA, XB.tolist(), yB, 1.0)
    bad = XA.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        tied_solution(bad, yA, XB, yB, 1.0)


def test_singular_independent_fit_is_explained():
    X = torch.ones(3, 2, dtype=torch.float64)  # rank 1: two weights cannot both be fitted at λ = 0
    y = torch.ones(3, dtype=torch.float64)
    with pytest.raises(ValueError, match="singular"):
        tied_solution(X, y, X, y, 0.0)


def test_bad_penalty_inputs():
    with pytest.raises(ValueError, match="shape"):
        tying_penalty([torch.zeros(2)], [torch.zeros(3)])
    with pytest.raises(ValueError, match="same number"):
        tying_penalty([torch.zeros(2)], [torch.zeros(2), torch.zeros(2)])
    with pytest.raises(TypeError, match="b must be"):
        tying_penalty([torch.zeros(2)], "w")


@pytest.mark.parametrize("kwargs, name", [({"steps": -1}, "steps"), ({"lr": 0.0}, "lr"), ({"lr": float("nan")}, "lr"),
                                          ({"device": "tpu"}, "device"), ({"seed": -2}, "seed")])
def test_trainer_bad_input(tasks, kwargs, name):
    with pytest.raises(ValueError, match=name):
        train_tied(*tasks.train, 1.0, **kwargs)


@pytest.mark.parametrize("kwargs, name", [({"n_train": 0}, "n_train"), ({"dim": 0}, "dim"),
                                          ({"task_gap": -1}, "task_gap"), ({"noise": "loud"}, "noise"),
                                          ({"seed": 2**62}, "seed"), ({"seed": SEED_MAX + 1}, "seed"),
                                          ({"data_seed": 2**62}, "data_seed"), ({"seed": 1.0}, "seed")])
def test_make_two_tasks_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_two_tasks(**kwargs)


def test_largest_seeds_work():
    t = make_two_tasks(n_test=1, seed=SEED_MAX, data_seed=SEED_MAX)
    assert torch.isfinite(t.XA).all()
    train_tied(*t.train, 1.0, steps=1, seed=SEED_MAX, device="cpu")


def test_infinite_or_empty_designs_are_refused(tasks):
    XA, yA, XB, yB = tasks.train
    for bad_value in (INF, -INF):
        bad = XA.clone()
        bad[0, 1] = bad_value
        with pytest.raises(ValueError, match="XA must be finite"):
            tied_solution(bad, yA, XB, yB, 1.0)
        with pytest.raises(ValueError, match="XA must be finite"):
            effective_dof(bad, XB, 1.0)
    bad_y = yB.clone()
    bad_y[3] = INF
    with pytest.raises(ValueError, match="yB must be finite"):
        tied_solution(XA, yA, XB, bad_y, 1.0)
    with pytest.raises(ValueError, match="XB must have at least one row"):
        effective_dof(XA, XB[:0], 1.0)
    with pytest.raises(ValueError, match="XA must have at least one row"):
        tied_solution(XA[:0], yA[:0], XB, yB, 1.0)
    with pytest.raises(ValueError, match="at least one column"):
        effective_dof(XA[:, :0], XB[:, :0], 1.0)
    with pytest.raises(TypeError, match="lams must be"):
        tied_path(XA, yA, XB, yB, 1.0)


@pytest.mark.parametrize("shared", ["no", 0, 1, None])
def test_shared_must_be_a_bool(shared):
    with pytest.raises(TypeError, match="shared must be True or False"):
        TwoTaskLinear(2, shared=shared, device="cpu")
