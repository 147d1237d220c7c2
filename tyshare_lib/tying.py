"""Soft parameter tying: two tasks, two weight vectors, and a penalty λ‖wᴬ − wᴮ‖² pulling them together.

Used by the chapter *Soft tying* (book/tying.ipynb). The maths, written once:

    J(wᴬ, wᴮ) = mean((Xᴬwᴬ − yᴬ)²) + mean((Xᴮwᴮ − yᴮ)²) + λ‖wᴬ − wᴮ‖²

Setting the gradient to zero gives a 2d × 2d linear system (with Gᵀ = XᵀX/n, b = Xᵀy/n)

    [Gᴬ + λI    −λI  ] [wᴬ]   [bᴬ]
    [  −λI    Gᴮ + λI] [wᴮ] = [bᴮ]

and as λ → ∞ the two blocks are forced equal: (Gᴬ + Gᴮ) w = bᴬ + bᴮ, one shared w (hard sharing).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .checks import ArgumentError, check_bool, check_finite_tensor, check_int, check_real
from .device import resolve_device


# ----------------------------------------------------------------------------- the penalty
def _tensors_of(name: str, x: nn.Module | Sequence[torch.Tensor]) -> list[torch.Tensor]:
    if isinstance(x, nn.Module):
        return list(x.parameters())
    if isinstance(x, torch.Tensor):
        return [x]
    if isinstance(x, (list, tuple)) and all(isinstance(t, torch.Tensor) for t in x):
        return list(x)
    raise ArgumentError(f"{name} must be an nn.Module, a tensor or a list of tensors, got {type(x).__name__}")


def tying_penalty(a: nn.Module | Sequence[torch.Tensor], b: nn.Module | Sequence[torch.Tensor]) -> torch.Tensor:
    """Ω = Σᵢ ‖aᵢ − bᵢ‖² over matching parameters of two modules (or two lists of tensors); differentiable."""
    ta, tb = _tensors_of("a", a), _tensors_of("b", b)
    if len(ta) != len(tb):
        raise ValueError(f"a and b must hold the same number of tensors, got {len(ta)} and {len(tb)}")
    if not ta:
        raise ValueError("a and b hold no tensors: there is nothing to tie")
    for i, (x, y) in enumerate(zip(ta, tb)):
        if x.shape != y.shape:
            raise ValueError(f"tensor {i} of a has shape {tuple(x.shape)} but tensor {i} of b has {tuple(y.shape)}")
    return sum(((x - y) ** 2).sum() for x, y in zip(ta, tb))


# ----------------------------------------------------------------------------- the exact minimiser
def _check_design(name: str, X: torch.Tensor) -> None:
    """A design matrix: a finite floating (n, d) tensor with at least one row and one column."""
    check_finite_tensor(name, X, ndim=2, nonempty=False)
    if X.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row, got shape {tuple(X.shape)}")
    if X.shape[1] == 0:
        raise ValueError(f"{name} must have at least one column (weight), got shape {tuple(X.shape)}")


def _check_targets(name: str, y: torch.Tensor, X: torch.Tensor, x_name: str) -> None:
    """Targets for X: a finite floating 1-D tensor with one entry per row of X (not (n, 1): that broadcasts)."""
    check_finite_tensor(name, y, ndim=1, nonempty=False)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"{x_name} has {X.shape[0]} rows but {name} has {y.shape[0]} entries: they must match")


def _check_task(prefix: str, X: torch.Tensor, y: torch.Tensor) -> None:
    _check_design(f"X{prefix}", X)
    _check_targets(f"y{prefix}", y, X, f"X{prefix}")


def _check_tasks(XA, yA, XB, yB) -> None:
    _check_task("A", XA, yA)
    _check_task("B", XB, yB)
    if XA.shape[1] != XB.shape[1]:
        raise ValueError(f"XA and XB must have the same number of columns (weights), got {XA.shape[1]} and {XB.shape[1]}")


def _solve_device(t: torch.Tensor) -> torch.device:
    # MPS has no float64; the closed form is tiny, so it is solved on the CPU there.
    return torch.device("cpu") if t.device.type == "mps" else t.device


def _gram(X: torch.Tensor) -> torch.Tensor:
    """G = XᵀX / n in float64: the curvature one task's mean squared error puts on its weights."""
    X = X.to(_solve_device(X), torch.float64)
    return X.T @ X / X.shape[0]  # (d, d)


def _moment(X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """b = Xᵀy / n in float64: the right-hand side of one task's normal equations."""
    X, y = X.to(_solve_device(X), torch.float64), y.to(_solve_device(X), torch.float64)
    return X.T @ y / X.shape[0]  # (d,)


def _tied_matrix(GA: torch.Tensor, GB: torch.Tensor, lam: float | torch.Tensor) -> torch.Tensor:
    """M = [[GA + λI, −λI], [−λI, GB + λI]], the system of the tied objective (half its Hessian).

    ``lam`` is a number, or an (L, 1, 1) tensor for L systems at once (then M is (L, 2d, 2d)).
    """
    eye = torch.eye(GA.shape[0], dtype=GA.dtype, device=GA.device)
    top = torch.cat(torch.broadcast_tensors(GA + lam * eye, -lam * eye), dim=-1)
    bottom = torch.cat(torch.broadcast_tensors(-lam * eye, GB + lam * eye), dim=-1)
    return torch.cat([top, bottom], dim=-2)


def _solve(G: torch.Tensor, b: torch.Tensor, what: str) -> torch.Tensor:
    try:
        return torch.linalg.solve(G, b)
    except RuntimeError as err:  # torch raises _LinAlgError (a RuntimeError) for singular systems
        raise ValueError(f"{what} is singular: give each task at least as many independent rows as weights, or use lam > 0") from err


def tied_path(XA: torch.Tensor, yA: torch.Tensor, XB: torch.Tensor, yB: torch.Tensor,
              lams: Sequence[float]) -> tuple[torch.Tensor, torch.Tensor]:
    """The exact minimisers for many λ at once: wᴬ and wᴮ as (len(lams), d) float64 tensors (tying chapter)."""
    _check_tasks(XA, yA, XB, yB)
    if isinstance(lams, (str, bytes)) or not isinstance(lams, Sequence):
        raise ArgumentError(f"lams must be a list or tuple of numbers >= 0, got {type(lams).__name__}")
    lam_list = [check_real(f"lam[{i}]", v, low=0.0, allow_inf=True) for i, v in enumerate(lams)]
    GA, bA = _gram(XA), _moment(XA, yA)
    GB, bB = _gram(XB), _moment(XB, yB)
    d = GA.shape[0]
    wA = torch.empty(len(lam_list), d, dtype=torch.float64, device=GA.device)
    wB = torch.empty_like(wA)
    finite = [i for i, lam in enumerate(lam_list) if math.isfinite(lam)]
    if finite:
        lam = torch.tensor([lam_list[i] for i in finite], dtype=torch.float64, device=GA.device)[:, None, None]
        rhs = torch.cat([bA, bB]).expand(len(finite), 2 * d)  # (L, 2d)
        w = _solve(_tied_matrix(GA, GB, lam), rhs, "the tied system [[GA + lam I, -lam I], [-lam I, GB + lam I]]")
        wA[finite], wB[finite] = w[:, :d], w[:, d:]
    infinite = [i for i, lam in enumerate(lam_list) if math.isinf(lam)]
    if infinite:
        w = _solve(GA + GB, bA + bB, "the pooled system XAᵀXA/nA + XBᵀXB/nB")  # hard sharing: one w
        wA[infinite] = w
        wB[infinite] = w
    return wA, wB


def tied_solution(XA: torch.Tensor, yA: torch.Tensor, XB: torch.Tensor, yB: torch.Tensor,
                  lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The exact minimiser (wᴬ, wᴮ) of the tied objective for one λ ≥ 0 (λ = inf is hard sharing) (tying chapter)."""
    lam = check_real("lam", lam, low=0.0, allow_inf=True)
    wA, wB = tied_path(XA, yA, XB, yB, [lam])
    return wA[0], wB[0]


def effective_dof(XA: torch.Tensor, XB: torch.Tensor, lam: float) -> float:
    """Effective number of parameters of the tied fit: the trace of its hat matrix, 2d at λ = 0, d at λ = ∞.

    The fitted values are ŷ = H y with y = [yᴬ; yᴮ]; tr H counts how many directions the fit can follow
    the noise in (Hastie, Tibshirani & Friedman, *Elements of Statistical Learning*, §7.6).
    """
    lam = check_real("lam", lam, low=0.0, allow_inf=True)
    for name, X in (("XA", XA), ("XB", XB)):
        _check_design(name, X)  # no rows would make G = XᵀX/n a 0/0
    if XA.shape[1] != XB.shape[1]:
        raise ValueError(f"XA and XB must have the same number of columns, got {XA.shape[1]} and {XB.shape[1]}")
    GA, GB = _gram(XA), _gram(XB)
    if math.isinf(lam):
        G = GA + GB
        return float(torch.trace(_solve(G, G, "the pooled system XAᵀXA/nA + XBᵀXB/nB")))
    G = torch.block_diag(GA, GB)
    # H = blockdiag(XA, XB) M⁻¹ blockdiag(XAᵀ/nA, XBᵀ/nB), and tr(AB) = tr(BA) turns it into tr(M⁻¹ G).
    return float(torch.trace(_solve(_tied_matrix(GA, GB, lam), G, "the tied system")))


# ----------------------------------------------------------------------------- the two tasks
SEED_MAX = 2**32 - 1  # largest seed the task generator and the trainer accept
@dataclass(frozen=True)
class TwoTasks:
    """Two related linear-regression tasks with few training rows each and a large held-out set (tying chapter)."""

    XA: torch.Tensor  # (nA, d) training inputs of task A
    yA: torch.Tensor  # (nA,)
    XB: torch.Tensor  # (nB, d)
    yB: torch.Tensor  # (nB,)
    XA_test: torch.Tensor  # held-out rows of task A, drawn from the same distribution
    yA_test: torch.Tensor
    XB_test: torch.Tensor
    yB_test: torch.Tensor
    w_true_a: torch.Tensor  # (d,) the weights that generated task A
    w_true_b: torch.Tensor
    noise: float  # standard deviation of the label noise: noise² is the best held-out MSE possible

    @property
    def train(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(XA, yA, XB, yB), the arguments of :func:`tied_solution`."""
        return self.XA, self.yA, self.XB, self.yB


def make_two_tasks(n_train: int = 8, n_test: int = 2000, dim: int = 2, task_gap: float = 1.0,
                   noise: float = 1.0, seed: int = 0, data_seed: int = 0) -> TwoTasks:
    """Draw two tasks whose true weights differ by ``task_gap`` (in norm) around a common centre (tying chapter).

    Inputs are standard normal, targets y = Xw + noise·ε. Few rows and much noise make each
    independent fit unreliable, which is where pulling the two fits together pays. ``seed`` fixes the
    true weights; ``data_seed`` fixes the rows drawn, so the same two tasks can be
    sampled again and again.
    """
    n_train = check_int("n_train", n_train, low=1)
    n_test = check_int("n_test", n_test, low=1)
    dim = check_int("dim", dim, low=1)
    task_gap = check_real("task_gap", task_gap, low=0.0)
    noise = check_real("noise", noise, low=0.0)
    # The rows' generator is seeded with seed·1000003 + data_seed + 1, which must stay below 2⁶⁴.
    seed = check_int("seed", seed, low=0, high=SEED_MAX)
    data_seed = check_int("data_seed", data_seed, low=0, high=SEED_MAX)
    g = torch.Generator().manual_seed(seed)
    centre = torch.randn(dim, generator=g, dtype=torch.float64)
    direction = torch.randn(dim, generator=g, dtype=torch.float64)
    direction = direction / direction.norm()
    w_a, w_b = centre + direction * task_gap / 2, centre - direction * task_gap / 2
    g = torch.Generator().manual_seed(seed * 1_000_003 + data_seed + 1)  # rows: a stream of their own

    def draw(w: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        X = torch.randn(n, dim, generator=g, dtype=torch.float64)
        return X, X @ w + noise * torch.randn(n, generator=g, dtype=torch.float64)

    XA, yA = draw(w_a, n_train)
    XB, yB = draw(w_b, n_train)
    XA_test, yA_test = draw(w_a, n_test)
    XB_test, yB_test = draw(w_b, n_test)
    return TwoTasks(XA, yA, XB, yB, XA_test, yA_test, XB_test, yB_test, w_a, w_b, noise)


def mse(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> float:
    """Mean squared error of the linear predictor Xw against y: X (n, d), y (n,), w (d,) (tying chapter)."""
    _check_design("X", X)
    check_finite_tensor("w", w, ndim=1, nonempty=False)
    return float(mse_each(X, y, w[None, :])[0])


def mse_each(X: torch.Tensor, y: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Mean squared error of every row of W (L, d) as a linear predictor on (X, y): an (L,) tensor (tying chapter).

    X is (n, d) and y is (n,); a y of shape (n, 1) is refused, since it would broadcast to an (n, n) error.
    """
    _check_design("X", X)
    _check_targets("y", y, X, "X")
    check_finite_tensor("W", W, ndim=2, nonempty=False)
    if W.shape[1] != X.shape[1]:
        raise ValueError(f"W (and w) must have one entry per column of X ({X.shape[1]}), got shape {tuple(W.shape)}")
    W = W.to(X.device, X.dtype)
    return ((X @ W.T - y[:, None]) ** 2).mean(dim=0)  # (n, L) residuals -> (L,)


# ----------------------------------------------------------------------------- gradient descent in torch
class TwoTaskLinear(nn.Module):
    """Two linear heads without bias; ``shared=True`` makes them one module used twice (λ = ∞) (tying chapter)."""

    def __init__(self, dim: int, shared: bool = False, device: str | torch.device | None = None,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        dim = check_int("dim", dim, low=1)
        shared = check_bool("shared", shared)
        if dtype not in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
            raise ArgumentError(f"dtype must be a floating torch dtype, got {dtype!r}")
        dev = resolve_device(device)
        self.task_a = nn.Linear(dim, 1, bias=False, device=dev, dtype=dtype)
        # Hard sharing is the *same* module object, not a copy: one weight, two uses.
        self.task_b = self.task_a if shared else nn.Linear(dim, 1, bias=False, device=dev, dtype=dtype)

    def forward(self, XA: torch.Tensor, XB: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.task_a(XA).squeeze(-1), self.task_b(XB).squeeze(-1)  # (nA,), (nB,)

    @property
    def w_a(self) -> torch.Tensor:
        return self.task_a.weight[0]

    @property
    def w_b(self) -> torch.Tensor:
        return self.task_b.weight[0]


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train_tied` returns: the end point and the distance ‖wᴬ − wᴮ‖ after every step."""

    w_a: torch.Tensor  # (d,) on the CPU
    w_b: torch.Tensor
    distances: torch.Tensor  # (steps + 1,) distance before the first step and after each one
    losses: torch.Tensor  # (steps + 1,) the tied objective J at the same moments
    lr: float


def _lipschitz(XA: torch.Tensor, XB: torch.Tensor, lam: float) -> float:
    """Largest eigenvalue of the objective's Hessian, so that lr = 1/L is a safe gradient-descent step."""
    GA, GB = _gram(XA.cpu()), _gram(XB.cpu())
    M = GA + GB if math.isinf(lam) else _tied_matrix(GA, GB, lam)  # one shared w, or the pair (wᴬ, wᴮ)
    return 2 * float(torch.linalg.eigvalsh(M)[-1])


def train_tied(XA: torch.Tensor, yA: torch.Tensor, XB: torch.Tensor, yB: torch.Tensor, lam: float,
               steps: int = 2000, lr: float | None = None, seed: int = 0,
               device: str | torch.device | None = None) -> TrainResult:
    """Full-batch gradient descent on the tied objective; λ = inf trains one shared weight (tying chapter).

    ``lr=None`` takes 1/L, L the largest curvature of the objective, the fastest step that never diverges.
    The start is the same random pair of weights for every λ (seeded), so curves for different λ compare.
    """
    _check_tasks(XA, yA, XB, yB)
    lam = check_real("lam", lam, low=0.0, allow_inf=True)
    steps = check_int("steps", steps, low=0)
    seed = check_int("seed", seed, low=0, high=SEED_MAX)
    if lr is not None:
        lr = check_real("lr", lr, low=0.0)
        if lr == 0:
            raise ValueError("lr must be > 0")
    dev = resolve_device(device)
    lr = lr if lr is not None else 1.0 / _lipschitz(XA, XB, lam)

    shared = math.isinf(lam)
    model = TwoTaskLinear(XA.shape[1], shared=shared, device=dev)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model.task_a.weight.copy_(torch.randn(model.task_a.weight.shape, generator=g))
        if not shared:
            model.task_b.weight.copy_(torch.randn(model.task_b.weight.shape, generator=g))
    XA, yA, XB, yB = (t.to(dev, torch.float32) for t in (XA, yA, XB, yB))
    params = list(model.parameters())  # parameters() yields a shared weight once, so it is stepped once
    distances = torch.empty(steps + 1, device=dev)
    losses = torch.empty(steps + 1, device=dev)

    def objective() -> torch.Tensor:
        pred_a, pred_b = model(XA, XB)
        loss = ((pred_a - yA) ** 2).mean() + ((pred_b - yB) ** 2).mean()
        return loss if shared or lam == 0 else loss + lam * tying_penalty(model.task_a, model.task_b)

    for t in range(steps + 1):
        loss = objective()
        with torch.no_grad():  # recorded on the device, read back once: no per-step synchronisation
            distances[t] = (model.w_a - model.w_b).norm()
            losses[t] = loss
        if t == steps:
            break
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():  # plain gradient descent, written out (torch.optim adds nothing here)
            for p, g in zip(params, grads):
                p -= lr * g
    return TrainResult(model.w_a.detach().cpu(), model.w_b.detach().cpu(), distances.cpu(), losses.cpu(), lr)
