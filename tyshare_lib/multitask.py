"""Multi-task learning with soft tying: a small-data task borrows from a big one (Caruana 1997).

Used by the chapter *Multi-task learning* (book/multitask.ipynb). Two MLPs of the same shape, one per
task, are trained jointly on

    J = CE_A + CE_B + λ · Σ_{l ∈ tie_layers} ‖θᴬ_l − θᴮ_l‖²

where θ_l are layer l's weight and bias and the penalty of each tied layer is
:func:`tyshare_lib.tying.tying_penalty`. λ = 0 trains the two networks independently; λ = ∞ is hard
sharing: the tied layers are *one* module used by both networks (by default the trunk, so one trunk
and two heads).

Task A is digit classification with many labelled images; task B has 5-10 labelled images per class and
is either *related* to A (the same images under another name for each class, or the same classes drawn
with a thicker pen) or *unrelated* (pixels in a fixed shuffled order and classes renamed: as learnable
alone, but nothing A learns about strokes carries over).

:func:`train_multitask` trains one pair of networks (an ``nn.Module``); :func:`sweep_multitask` trains
many pairs at once (every λ × seed × tie set) with batched weights, the same maths vectorised, so the
chapter's averages over seeds fit in a few seconds of CPU.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .checks import ArgumentError, check_choice, check_int, check_real
from .device import cpu_threads, resolve_device
from .digits import N_CLASSES, SIDE, split_digits
from .progress import progress
from .tying import tying_penalty

LAYERS = ("hidden1", "hidden2", "head")  # bottom to top
TRUNK = ("hidden1", "hidden2")  # what λ = ∞ shares by default: one trunk, two heads
FIRST, LAST, ALL = ("hidden1",), ("head",), LAYERS
TASKS = ("relabelled", "thick", "permuted")
TASK_LABELS = {"relabelled": "related: same digits, classes renamed",
               "thick": "related: thicker strokes",
               "permuted": "unrelated: pixels shuffled, classes renamed"}
# Task B's name for each digit class: a derangement (no digit keeps its label).
RENAME = (3, 7, 0, 9, 5, 1, 8, 2, 6, 4)
INF = math.inf
STEPS, LR = 100, 0.02  # full-batch Adam: enough for both tasks to fit their training sets


# ----------------------------------------------------------------------------- the two tasks
@dataclass(frozen=True)
class TaskPair:
    """Task A (many labelled digits) and task B (``per_class`` labelled examples per class) (multitask chapter).

    Inputs are ``(n, 64)`` float32 pixels in [0, 1], labels int64 in 0-9. The held-out sets are the
    same 539 digits for both tasks, B's seen through its transformation.
    """

    task: str  # "relabelled", "thick" or "permuted"
    XA: torch.Tensor  # (nA, 64) training images of task A
    yA: torch.Tensor  # (nA,)
    XB: torch.Tensor  # (10 · per_class, 64) the few labelled images of task B
    yB: torch.Tensor  # (10 · per_class,)
    XA_test: torch.Tensor  # (n_test, 64)
    yA_test: torch.Tensor
    XB_test: torch.Tensor
    yB_test: torch.Tensor

    @property
    def label(self) -> str:
        """A short description of task B."""
        return TASK_LABELS[self.task]


def _pixel_order() -> torch.Tensor:
    return torch.randperm(SIDE * SIDE, generator=torch.Generator().manual_seed(1997))  # fixed for the book


def task_b_view(task: str, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Task A's images and labels ``(n, 64)``, ``(n,)`` as task B sees them (multitask chapter)."""
    check_choice("task", task, TASKS)
    check_tensor_2d("X", X)
    if task == "thick":  # a thicker pen: every pixel takes the darkest value of its 3 × 3 neighbourhood
        images = X.reshape(-1, 1, SIDE, SIDE)  # (n, 1, 8, 8)
        return F.max_pool2d(images, 3, stride=1, padding=1).reshape(-1, SIDE * SIDE), y
    rename = torch.tensor(RENAME, device=y.device)[y]
    if task == "relabelled":
        return X, rename
    return X[:, _pixel_order().to(X.device)], rename  # permuted


def check_tensor_2d(name: str, X) -> torch.Tensor:
    if not isinstance(X, torch.Tensor):
        raise ArgumentError(f"{name} must be a torch.Tensor of shape (n, 64), got {type(X).__name__}")
    if X.ndim != 2 or X.shape[1] != SIDE * SIDE:
        raise ValueError(f"{name} must have shape (n, {SIDE * SIDE}), got {tuple(X.shape)}")
    return X


def make_task_pair(task: str = "relabelled", per_class: int = 5, n_a: int = 400, seed: int = 0,
                   device: str | torch.device | None = None) -> TaskPair:
    """Task A and a task B with ``per_class`` labelled images per class, seeded (multitask chapter).

    The digits are split once (30 % held out, split seed 0). Task A takes the first ``n_a`` training
    images; task B's few images are drawn (``seed``) from the *other* training images, so B never
    sees an image A trains on.
    """
    check_choice("task", task, TASKS)
    per_class = check_int("per_class", per_class, low=1, high=50)
    n_a = check_int("n_a", n_a, low=10, high=800)
    seed = check_int("seed", seed, low=0)
    dev = resolve_device(device)
    split = split_digits(test_fraction=0.3, seed=0, device="cpu")
    XA, yA = split.X_train[:n_a], split.y_train[:n_a]
    pool_X, pool_y = split.X_train[800:], split.y_train[800:]  # 458 images, at least 42 per class
    g = torch.Generator().manual_seed(seed)
    picked = []
    for c in range(N_CLASSES):
        idx = torch.nonzero(pool_y == c).flatten()
        picked.append(idx[torch.randperm(len(idx), generator=g)[:per_class]])
    picked = torch.cat(picked)
    XB, yB = task_b_view(task, pool_X[picked], pool_y[picked])
    XB_test, yB_test = task_b_view(task, split.X_test, split.y_test)
    to = lambda t: t.to(dev)  # noqa: E731
    return TaskPair(task, to(XA), to(yA), to(XB), to(yB), to(split.X_test), to(split.y_test), to(XB_test),
                    to(yB_test))


# ----------------------------------------------------------------------------- the model
@dataclass(frozen=True)
class MultitaskConfig:
    """Sizes of each task's MLP: 64 pixels → hidden1 → hidden2 → head (10 classes) (multitask chapter)."""

    in_features: int = SIDE * SIDE  # pixels of an 8 × 8 digit
    hidden_size: int = 16  # width of both hidden layers (ReLU): small, so an unrelated task competes for it
    num_classes: int = N_CLASSES

    def __post_init__(self) -> None:
        for name in ("in_features", "hidden_size", "num_classes"):
            check_int(name, getattr(self, name), low=1)

    def layer_shapes(self) -> dict[str, tuple[int, int]]:
        """(fan_in, fan_out) of every layer, bottom to top."""
        h = self.hidden_size
        return {"hidden1": (self.in_features, h), "hidden2": (h, h), "head": (h, self.num_classes)}


def check_tie_layers(tie_layers) -> tuple[str, ...]:
    """``tie_layers`` as a tuple of distinct layer names in bottom-to-top order, or raise (multitask chapter)."""
    if isinstance(tie_layers, str) or not isinstance(tie_layers, (list, tuple)):
        raise ArgumentError(f"tie_layers must be a tuple of layer names from {list(LAYERS)}, "
                            f"got {type(tie_layers).__name__} {tie_layers!r}")
    for name in tie_layers:
        if name not in LAYERS:
            raise ValueError(f"tie_layers must name layers from {list(LAYERS)}, got {name!r}")
    if not tie_layers or len(set(tie_layers)) != len(tie_layers):
        raise ValueError(f"tie_layers must name at least one layer, each once, from {list(LAYERS)}, got {tie_layers!r}")
    return tuple(name for name in LAYERS if name in tie_layers)


class TaskNet(nn.Module):
    """One task's MLP: hidden1 → ReLU → hidden2 → ReLU → head, logits for 10 classes (multitask chapter)."""

    def __init__(self, config: MultitaskConfig, device: str | torch.device | None = None):
        super().__init__()
        dev = resolve_device(device)
        for name, (fan_in, fan_out) in config.layer_shapes().items():
            setattr(self, name, nn.Linear(fan_in, fan_out, device=dev))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.hidden1(X))  # (n, H)
        h = torch.relu(self.hidden2(h))  # (n, H)
        return self.head(h)  # (n, 10)


class TwoTaskNet(nn.Module):
    """Two TaskNets, one per task; ``shared=True`` makes the ``tie_layers`` one module in both (λ = ∞).

    With ``shared=False`` the nets are separate and :meth:`penalty` measures how far the tied layers
    are apart (multitask chapter).
    """

    def __init__(self, config: MultitaskConfig | None = None, tie_layers: Sequence[str] = TRUNK,
                 shared: bool = False, device: str | torch.device | None = None):
        super().__init__()
        config = MultitaskConfig() if config is None else config
        if not isinstance(config, MultitaskConfig):
            raise ArgumentError(f"config must be a MultitaskConfig or None, got {type(config).__name__}")
        if not isinstance(shared, bool):
            raise ArgumentError(f"shared must be True or False, got {type(shared).__name__}")
        self.config = config
        self.tie_layers = check_tie_layers(tie_layers)
        self.shared = shared
        dev = resolve_device(device)
        self.net_a = TaskNet(config, dev)
        self.net_b = TaskNet(config, dev)
        if shared:
            for name in self.tie_layers:  # hard sharing: the same module object, never a copy
                setattr(self.net_b, name, getattr(self.net_a, name))

    def forward(self, XA: torch.Tensor, XB: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.net_a(XA), self.net_b(XB)  # (nA, 10), (nB, 10)

    def penalty(self) -> torch.Tensor:
        """Ω = Σ over tied layers of ``tying_penalty(layer of A, layer of B)``: 0 when shared."""
        return sum(tying_penalty(getattr(self.net_a, n), getattr(self.net_b, n)) for n in self.tie_layers)

    def distances(self) -> dict[str, float]:
        """‖θᴬ_l − θᴮ_l‖ (weight and bias together) for every layer l, tied or not."""
        with torch.no_grad():
            return {n: float(tying_penalty(getattr(self.net_a, n), getattr(self.net_b, n)).sqrt()) for n in LAYERS}

    @torch.no_grad()
    def reset_parameters(self, seed: int) -> None:
        """PyTorch's default Linear init U(±1/√fan_in), drawn from ``seed``: A's layers, then B's.

        B's draws happen even for shared layers, so every untied layer starts the same whether or not
        the others are shared, and every λ starts from the same point.
        """
        for name, tensor in zip(_param_names(), initial_parameters(self.config, seed)):
            net, layer, kind = name.split(".")
            param = getattr(getattr(getattr(self, net), layer), kind)
            if net == "net_b" and self.shared and layer in self.tie_layers:
                continue  # this is A's parameter: it was set already
            param.copy_((tensor.T if kind == "weight" else tensor).to(param.device))  # Linear stores (out, in)


def _param_names() -> list[str]:
    return [f"{net}.{layer}.{kind}" for net in ("net_a", "net_b") for layer in LAYERS for kind in ("weight", "bias")]


def initial_parameters(config: MultitaskConfig, seed: int) -> list[torch.Tensor]:
    """The seeded start of both nets, on the CPU: per net and layer, weight ``(in, out)`` then bias ``(out,)``.

    Weights are stored ``(in, out)`` (x @ W), the transpose of ``nn.Linear.weight``.
    """
    seed = check_int("seed", seed, low=0)
    g = torch.Generator().manual_seed(seed)
    out = []
    for _net in range(2):
        for fan_in, fan_out in config.layer_shapes().values():
            bound = 1 / math.sqrt(fan_in)
            out.append(((torch.rand(fan_out, fan_in, generator=g) * 2 - 1) * bound).T)  # (in, out)
            out.append((torch.rand(fan_out, generator=g) * 2 - 1) * bound)  # (out,)
    return out


def count_parameters(config: MultitaskConfig | None = None, tie_layers: Sequence[str] = TRUNK,
                     shared: bool = False) -> int:
    """Closed-form number of distinct parameters of a :class:`TwoTaskNet` (shared layers counted once)."""
    config = MultitaskConfig() if config is None else config
    if not isinstance(config, MultitaskConfig):
        raise ArgumentError(f"config must be a MultitaskConfig or None, got {type(config).__name__}")
    tie_layers = check_tie_layers(tie_layers)
    sizes = {n: fi * fo + fo for n, (fi, fo) in config.layer_shapes().items()}
    return 2 * sum(sizes.values()) - (sum(sizes[n] for n in tie_layers) if shared else 0)


# ----------------------------------------------------------------------------- training one pair
@dataclass(frozen=True)
class MultitaskResult:
    """What :func:`train_multitask` returns: held-out accuracies, per-layer distances, the loss curve."""

    lam: float
    tie_layers: tuple[str, ...]
    acc_a: float  # held-out accuracy of task A, in [0, 1]
    acc_b: float
    train_acc_a: float
    train_acc_b: float
    distances: dict[str, float]  # ‖θᴬ_l − θᴮ_l‖ per layer after training (0 for a shared layer)
    losses: torch.Tensor  # (steps + 1,) the objective J before the first step and after each one (CPU)
    model: TwoTaskNet


def _check_pair(pair) -> TaskPair:
    if not isinstance(pair, TaskPair):
        raise ArgumentError(f"pair must be a TaskPair (see make_task_pair), got {type(pair).__name__}")
    return pair


def _check_training(lam, steps, lr, seed) -> tuple[float, int, float, int]:
    lam = check_real("lam", lam, low=0.0, allow_inf=True)
    steps = check_int("steps", steps, low=1)
    lr = check_real("lr", lr, low=0.0)
    if lr == 0:
        raise ValueError("lr must be > 0")
    seed = check_int("seed", seed, low=0)
    return lam, steps, lr, seed


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows whose largest logit is the label."""
    return float((logits.argmax(-1) == y).float().mean())


def train_multitask(pair: TaskPair, lam: float, tie_layers: Sequence[str] = TRUNK,
                    config: MultitaskConfig | None = None, steps: int = STEPS, lr: float = LR, seed: int = 0,
                    device: str | torch.device | None = None, show_progress: bool | None = None) -> MultitaskResult:
    """Train both nets jointly on CE_A + CE_B + λ·Ω with full-batch Adam; λ = inf shares ``tie_layers``.

    The start is :func:`initial_parameters` (``seed``), the same for every λ, so runs for different λ
    compare. Accuracies are measured on the held-out digits (multitask chapter).
    """
    pair = _check_pair(pair)
    lam, steps, lr, seed = _check_training(lam, steps, lr, seed)
    tie_layers = check_tie_layers(tie_layers)
    dev = resolve_device(device)
    shared = math.isinf(lam)
    model = TwoTaskNet(config, tie_layers, shared=shared, device=dev)
    model.reset_parameters(seed)
    XA, yA, XB, yB = (t.to(dev) for t in (pair.XA, pair.yA, pair.XB, pair.yB))
    opt = torch.optim.Adam(model.parameters(), lr=lr)  # parameters() yields a shared layer once
    losses = torch.empty(steps + 1, device=dev)

    def objective() -> torch.Tensor:
        logits_a, logits_b = model(XA, XB)
        loss = F.cross_entropy(logits_a, yA) + F.cross_entropy(logits_b, yB)
        return loss if shared or lam == 0 else loss + lam * model.penalty()

    with cpu_threads(dev):
        for t in progress(range(steps + 1), desc=f"multitask λ={lam:g}", show=show_progress):
            loss = objective()
            losses[t] = loss.detach()
            if t == steps:
                break
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        a_test, b_test = model(pair.XA_test.to(dev), pair.XB_test.to(dev))
        a_train, b_train = model(XA, XB)
    return MultitaskResult(lam, tie_layers, accuracy(a_test, pair.yA_test.to(dev)), accuracy(b_test, pair.yB_test.to(dev)),
                           accuracy(a_train, yA), accuracy(b_train, yB), model.distances(), losses.cpu(), model)


# ----------------------------------------------------------------------------- many pairs at once
@dataclass(frozen=True)
class Sweep:
    """Held-out accuracies and distances of many trained pairs: axis 0 tie set, 1 λ, 2 seed (multitask chapter)."""

    task: str
    lams: list[float]
    seeds: list[int]
    tie_sets: list[tuple[str, ...]]
    acc_a: torch.Tensor  # (T, L, S) held-out accuracy of task A
    acc_b: torch.Tensor  # (T, L, S)
    distance: torch.Tensor  # (T, L, S, 3) ‖θᴬ_l − θᴮ_l‖ for every layer in LAYERS order


def _batched_forward(params: list[torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    """Logits of K MLPs at once: params per layer W (K, in, out), b (K, out); X (n, 64) or (K, n, 64)."""
    h = X
    for i in range(len(LAYERS)):
        W, b = params[2 * i], params[2 * i + 1]
        h = torch.baddbmm(b[:, None, :], h.expand(W.shape[0], *h.shape[-2:]), W)  # (K, n, out)
        if i < len(LAYERS) - 1:
            h = torch.relu(h)
    return h


def sweep_multitask(task: str, lams: Sequence[float], seeds: Sequence[int], tie_sets: Sequence[Sequence[str]] = (TRUNK,),
                    per_class: int = 5, n_a: int = 400, config: MultitaskConfig | None = None, steps: int = STEPS,
                    lr: float = LR, device: str | torch.device | None = None,
                    show_progress: bool | None = None) -> Sweep:
    """Every (tie set, λ, seed) of :func:`train_multitask` at once, with batched weights (multitask chapter).

    Run k trains its own pair of nets on the task pair of its seed, from that seed's start; the loss
    summed over runs has, for each run, the gradient :func:`train_multitask` gives it, and Adam works
    element by element, so each run follows the same path as alone (up to float rounding).
    """
    check_choice("task", task, TASKS)
    if not isinstance(lams, (list, tuple)) or not lams:
        raise ArgumentError(f"lams must be a non-empty list of numbers >= 0 (inf allowed), got {lams!r}")
    lams = [check_real(f"lams[{i}]", v, low=0.0, allow_inf=True) for i, v in enumerate(lams)]
    if not isinstance(seeds, (list, tuple, range)) or not len(seeds):
        raise ArgumentError(f"seeds must be a non-empty list of ints >= 0, got {seeds!r}")
    seeds = [check_int(f"seeds[{i}]", s, low=0) for i, s in enumerate(seeds)]
    if not isinstance(tie_sets, (list, tuple)) or not tie_sets:
        raise ArgumentError(f"tie_sets must be a non-empty list of tie_layers tuples, got {tie_sets!r}")
    tie_sets = [check_tie_layers(t) for t in tie_sets]
    _, steps, lr, _ = _check_training(0.0, steps, lr, 0)
    config = MultitaskConfig() if config is None else config
    if not isinstance(config, MultitaskConfig):
        raise ArgumentError(f"config must be a MultitaskConfig or None, got {type(config).__name__}")
    dev = resolve_device(device)

    # At λ = 0 nothing is tied, so every tie set gives the same run: train it once per seed.
    wanted = [(t, lam, s) for t in tie_sets for lam in lams for s in seeds]  # tie set slowest
    key = lambda t, lam, s: ((), 0.0, s) if lam == 0 else (t, lam, s)  # noqa: E731
    runs = list(dict.fromkeys(key(*w) for w in wanted))  # K distinct runs, first-seen order
    with cpu_threads(dev):
        acc_a, acc_b, dist = _train_runs(task, runs, seeds, per_class, n_a, config, steps, lr, dev, show_progress)
    where = {r: k for k, r in enumerate(runs)}
    index = torch.tensor([where[key(*w)] for w in wanted])
    shape = (len(tie_sets), len(lams), len(seeds))
    return Sweep(task, lams, seeds, tie_sets, acc_a[index].reshape(shape), acc_b[index].reshape(shape),
                 dist[index].reshape(*shape, len(LAYERS)))


def _train_runs(task: str, runs: list[tuple[tuple[str, ...], float, int]], seeds: list[int], per_class: int, n_a: int,
                config: MultitaskConfig, steps: int, lr: float, dev: torch.device,
                show_progress: bool | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Train K runs (tie set, λ, seed) as one batch; held-out accuracies (K,), (K,) and distances (K, 3) on the CPU."""
    K = len(runs)
    pairs = {s: make_task_pair(task, per_class, n_a, s, device=dev) for s in seeds}
    first = pairs[seeds[0]]
    XB = torch.stack([pairs[s].XB for _, _, s in runs])  # (K, nB, 64)
    yB = torch.stack([pairs[s].yB for _, _, s in runs])  # (K, nB)
    inits = {s: initial_parameters(config, s) for s in seeds}
    n = 2 * len(LAYERS)  # tensors per net
    pa = [torch.stack([inits[s][i] for _, _, s in runs]).to(dev).requires_grad_() for i in range(n)]
    pb = [torch.stack([inits[s][n + i] for _, _, s in runs]).to(dev).requires_grad_() for i in range(n)]
    lam_t = torch.tensor([lam for _, lam, _ in runs], device=dev)
    tied = torch.tensor([[name in t for name in LAYERS] for t, _, _ in runs], device=dev)  # (K, 3)
    share = tied & torch.isinf(lam_t)[:, None]  # (K, 3): this layer is one module in this run
    soft = torch.where(torch.isinf(lam_t), 0.0, lam_t)[:, None] * tied  # (K, 3) λ where softly tied, else 0

    def b_params() -> list[torch.Tensor]:  # net B uses A's tensor where the layer is shared
        return [torch.where(share[:, i // 2].view(-1, *[1] * (pa[i].ndim - 1)), pa[i], pb[i]) for i in range(n)]

    def penalty() -> torch.Tensor:  # Σ_k λ_k Ω_k, as tying_penalty of √λ-scaled tensors
        scale = [soft[:, i // 2].sqrt().view(-1, *[1] * (pa[i].ndim - 1)) for i in range(n)]
        return tying_penalty([s * a for s, a in zip(scale, pa)], [s * b for s, b in zip(scale, pb)])

    opt = torch.optim.Adam(pa + pb, lr=lr)
    yA_all = first.yA.repeat(K)
    for _ in progress(range(steps), desc=f"{K} pairs ({task})", show=show_progress):
        ce_a = F.cross_entropy(_batched_forward(pa, first.XA).reshape(-1, config.num_classes), yA_all,
                               reduction="sum") / first.yA.shape[0]  # Σ_k mean CE of run k
        ce_b = F.cross_entropy(_batched_forward(b_params(), XB).reshape(-1, config.num_classes), yB.reshape(-1),
                               reduction="sum") / yB.shape[1]
        loss = ce_a + ce_b + penalty()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        pbu = b_params()
        acc_a = (_batched_forward(pa, first.XA_test).argmax(-1) == first.yA_test).float().mean(1)  # (K,)
        acc_b = (_batched_forward(pbu, first.XB_test).argmax(-1) == first.yB_test).float().mean(1)
        dist = torch.stack([((pa[2 * i] - pbu[2 * i]) ** 2).sum((1, 2)) + ((pa[2 * i + 1] - pbu[2 * i + 1]) ** 2).sum(1)
                            for i in range(len(LAYERS))], dim=1).sqrt()  # (K, 3)
    return acc_a.cpu(), acc_b.cpu(), dist.cpu()
