"""Distillation with hints: a student tied to its teacher's outputs and hidden states, not its weights.

Used by the chapter *Distillation with hints* (book/distill.ipynb). Three losses pull a small student
toward a trained teacher:

* soft targets (Hinton et al., 2015): ``T² · KL(softmax(z_t/T) ‖ softmax(z_s/T))``;
* hints (FitNets, Romero et al., 2015): ``‖r(h_s) − h_t‖²`` between a student layer, mapped by a learned
  projection ``r`` when the widths differ, and a teacher layer;
* a cosine hint (DistilBERT, Sanh et al., 2019): ``1 − cos(h_s, h_t)``.

The "tie" is between two different networks' *activations*: no tensor is shared; the hint term is a soft
constraint on what the student computes, as the tying chapter's penalty is on what two models store.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .albert import AlbertConfig, AlbertEncoder
from .checks import ArgumentError, check_int, check_real, check_tensor
from .device import cpu_threads, resolve_device
from .progress import progress


# ----------------------------------------------------------------------------- argument checks
def _check_temperature(temperature) -> float:
    t = check_real("temperature", temperature)
    if t <= 0:
        raise ValueError(f"temperature must be > 0, got {t}")
    return t


def _check_unit(name: str, value) -> float:
    v = check_real(name, value, low=0.0)
    if v > 1:
        raise ValueError(f"{name} must be in [0, 1], got {v}")
    return v


def _check_logits(name: str, value, classes: int | None = None) -> torch.Tensor:
    value = check_tensor(name, value, ndim=2)
    if value.shape[0] == 0 or value.shape[1] < 2:
        raise ValueError(f"{name} must be (batch ≥ 1, classes ≥ 2), got shape {tuple(value.shape)}")
    if classes is not None and value.shape[1] != classes:
        raise ValueError(f"{name} must have {classes} classes (columns), got shape {tuple(value.shape)}")
    return value


def _check_labels(labels, n: int, classes: int) -> torch.Tensor:
    if not isinstance(labels, torch.Tensor):
        raise ArgumentError(f"labels must be a torch.Tensor of class indices, got {type(labels).__name__}")
    if labels.dtype != torch.long or labels.shape != (n,):
        raise ValueError(f"labels must be a ({n},) torch.long tensor, got shape {tuple(labels.shape)} "
                         f"dtype {labels.dtype}")
    if labels.numel() and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"labels must lie in [0, {classes})")
    return labels


# ----------------------------------------------------------------------------- the losses
def soft_target_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """``T² · KL(softmax(teacher/T) ‖ softmax(student/T))``, averaged over the batch (distill chapter).

    The T² keeps this term's gradient the same size as temperature grows (Hinton et al., 2015, §2).
    """
    T = _check_temperature(temperature)
    student_logits = _check_logits("student_logits", student_logits)
    teacher_logits = _check_logits("teacher_logits", teacher_logits)
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f"student_logits {tuple(student_logits.shape)} and teacher_logits "
                         f"{tuple(teacher_logits.shape)} must have the same shape")
    log_p_s = F.log_softmax(student_logits / T, dim=1)  # (B, C)
    log_p_t = F.log_softmax(teacher_logits.detach() / T, dim=1)  # (B, C); the teacher is not trained
    kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=1)  # (B,)
    return T * T * kl.mean()


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
                      temperature: float, alpha: float) -> torch.Tensor:
    """``alpha · T² · KL(p_t^T ‖ p_s^T) + (1 − alpha) · CE(student, labels)``, batch means (distill chapter).

    ``alpha`` in [0, 1] weighs the soft targets against the labels; ``temperature`` > 0.
    """
    alpha = _check_unit("alpha", alpha)
    T = _check_temperature(temperature)
    student_logits = _check_logits("student_logits", student_logits)
    labels = _check_labels(labels, student_logits.shape[0], student_logits.shape[1])
    soft = soft_target_loss(student_logits, teacher_logits, T)
    return alpha * soft + (1 - alpha) * F.cross_entropy(student_logits, labels)


def _check_hidden(student_hidden, teacher_hidden, projection) -> tuple[torch.Tensor, torch.Tensor]:
    student_hidden = check_tensor("student_hidden", student_hidden, ndim=2)
    teacher_hidden = check_tensor("teacher_hidden", teacher_hidden, ndim=2)
    if projection is not None and not isinstance(projection, nn.Module):
        raise ArgumentError(f"projection must be an nn.Module (e.g. nn.Linear) or None, got {type(projection).__name__}")
    if student_hidden.shape[0] != teacher_hidden.shape[0] or student_hidden.shape[0] == 0:
        raise ValueError(f"student_hidden {tuple(student_hidden.shape)} and teacher_hidden "
                         f"{tuple(teacher_hidden.shape)} must have the same number of rows (≥ 1)")
    mapped = student_hidden if projection is None else projection(student_hidden)  # (B, D_t)
    if mapped.shape != teacher_hidden.shape:
        raise ValueError(f"student_hidden{' after projection' if projection is not None else ''} has shape "
                         f"{tuple(mapped.shape)}, teacher_hidden {tuple(teacher_hidden.shape)}: widths differ, "
                         f"pass a projection (nn.Linear(student width, teacher width))")
    return mapped, teacher_hidden.detach()


def hint_loss(student_hidden: torch.Tensor, teacher_hidden: torch.Tensor,
              projection: nn.Module | None = None) -> torch.Tensor:
    """FitNets' hint: the batch mean of ``‖r(h_s) − h_t‖²`` (squared norm over features) (distill chapter).

    ``student_hidden`` is (B, D_s), ``teacher_hidden`` (B, D_t); ``projection`` ``r`` maps D_s → D_t and
    is needed when the widths differ. The teacher side is detached.
    """
    mapped, target = _check_hidden(student_hidden, teacher_hidden, projection)
    return ((mapped - target) ** 2).sum(dim=1).mean()


def cosine_hint_loss(student_hidden: torch.Tensor, teacher_hidden: torch.Tensor,
                     projection: nn.Module | None = None) -> torch.Tensor:
    """DistilBERT's cosine loss: the batch mean of ``1 − cos(r(h_s), h_t)`` (distill chapter)."""
    mapped, target = _check_hidden(student_hidden, teacher_hidden, projection)
    return (1 - F.cosine_similarity(mapped, target, dim=1, eps=1e-8)).mean()


def hint_distance(student_hidden: torch.Tensor, teacher_hidden: torch.Tensor) -> float:
    """How far the student's layer is from the teacher's, *up to the best linear map* (distill chapter).

    The fraction of the teacher layer's variance that the least-squares fit ``h_t ≈ h_s R + b`` leaves
    unexplained (1 − R²): 0 when the teacher's layer is a linear function of the student's, 1 when the
    student's layer says nothing about it. It needs no trained projection, so it compares students
    trained with and without hints on the same scale.
    """
    hs = check_tensor("student_hidden", student_hidden, ndim=2).detach().double()
    ht = check_tensor("teacher_hidden", teacher_hidden, ndim=2).detach().double()
    if hs.shape[0] != ht.shape[0] or hs.shape[0] < 2:
        raise ValueError(f"student_hidden {tuple(hs.shape)} and teacher_hidden {tuple(ht.shape)} must have "
                         f"the same number of rows (≥ 2)")
    hs_c = hs - hs.mean(0)  # (N, D_s); centring = fitting the bias b
    ht_c = ht - ht.mean(0)  # (N, D_t)
    total = (ht_c ** 2).sum()
    if total == 0:
        return 0.0
    R = torch.linalg.lstsq(hs_c.cpu(), ht_c.cpu(), driver="gelsd").solution  # (D_s, D_t)
    residual = ((ht_c.cpu() - hs_c.cpu() @ R) ** 2).sum()
    return float(residual / total.cpu())


# ----------------------------------------------------------------------------- teacher and student
@dataclass(frozen=True)
class NetConfig:
    """An MLP for the digits: its hidden widths and which hidden layer is the hint (or guided) layer."""

    in_features: int = 64  # 8 × 8 pixels
    widths: tuple[int, ...] = (128, 128)  # hidden layer widths, input to output
    n_classes: int = 10
    hint_layer: int = 0  # index into widths: the layer whose output is matched

    def __post_init__(self) -> None:
        check_int("in_features", self.in_features, low=1)
        check_int("n_classes", self.n_classes, low=2)
        if not isinstance(self.widths, tuple) or not self.widths:
            raise ArgumentError(f"widths must be a non-empty tuple of ints, got {self.widths!r}")
        for i, w in enumerate(self.widths):
            check_int(f"widths[{i}]", w, low=1)
        check_int("hint_layer", self.hint_layer, low=0, high=len(self.widths) - 1)

    @property
    def hint_width(self) -> int:
        return self.widths[self.hint_layer]


TEACHER = NetConfig(widths=(256, 256), hint_layer=0)
STUDENT = NetConfig(widths=(12, 12, 12, 12), hint_layer=1)  # thin and deep, as FitNets' students


def count_net_parameters(config: NetConfig) -> int:
    """Weights and biases of the MLP, from the widths alone: Σ (d_in + 1) · d_out over its linear layers."""
    if not isinstance(config, NetConfig):
        raise ArgumentError(f"config must be a NetConfig, got {type(config).__name__}")
    sizes = [config.in_features, *config.widths, config.n_classes]
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


class Net(nn.Module):
    """A ReLU MLP that returns its logits and every hidden layer's output (teacher or student, distill chapter)."""

    def __init__(self, config: NetConfig = STUDENT, device: str | torch.device | None = None, seed: int = 0):
        super().__init__()
        if not isinstance(config, NetConfig):
            raise ArgumentError(f"config must be a NetConfig, got {type(config).__name__}")
        seed = check_int("seed", seed, low=0)
        self.config = config
        sizes = [config.in_features, *config.widths, config.n_classes]
        with torch.random.fork_rng(devices=[]):  # seeded init that leaves the global generator alone
            torch.manual_seed(seed)
            self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.to(resolve_device(device))

    @property
    def device(self) -> torch.device:
        return self.layers[0].weight.device

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(B, in_features) → (logits (B, n_classes), [hidden (B, w) for each width])."""
        hidden = []
        for layer in self.layers[:-1]:
            x = F.relu(layer(x))  # (B, w)
            hidden.append(x)
        return self.layers[-1](x), hidden

    def hint(self, x: torch.Tensor) -> torch.Tensor:
        """The hint (teacher) or guided (student) layer's output, (B, hint_width)."""
        return self.forward(x)[1][self.config.hint_layer]


def _check_data(X, y=None, *, name_x: str = "X", name_y: str = "y", features: int | None = None) -> None:
    X = check_tensor(name_x, X, ndim=2)
    if X.shape[0] == 0 or (features is not None and X.shape[1] != features):
        raise ValueError(f"{name_x} must be (n ≥ 1, {features}), got shape {tuple(X.shape)}")
    if y is not None:
        if not isinstance(y, torch.Tensor) or y.dtype != torch.long or y.shape != (X.shape[0],):
            raise ValueError(f"{name_y} must be a ({X.shape[0]},) torch.long tensor of labels")


def accuracy(model: Net, X: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of ``X``'s rows whose arg-max logit is the label ``y``."""
    if not isinstance(model, Net):
        raise ArgumentError(f"model must be a Net, got {type(model).__name__}")
    _check_data(X, y, features=model.config.in_features)
    with torch.no_grad():
        logits, _ = model(X.to(model.device))
    return float((logits.argmax(1) == y.to(model.device)).float().mean())


def train_teacher(teacher: Net, X: torch.Tensor, y: torch.Tensor, *, steps: int = 300, lr: float = 1e-2,
                  weight_decay: float = 1e-4, seed: int = 0, show: bool | None = None) -> list[float]:
    """Train ``teacher`` full-batch with Adam on cross-entropy; returns the loss at every step (distill chapter)."""
    if not isinstance(teacher, Net):
        raise ArgumentError(f"teacher must be a Net, got {type(teacher).__name__}")
    _check_data(X, y, features=teacher.config.in_features)
    steps = check_int("steps", steps, low=1)
    lr = check_real("lr", lr, low=0.0)
    weight_decay = check_real("weight_decay", weight_decay, low=0.0)
    seed = check_int("seed", seed, low=0)
    torch.manual_seed(seed)
    X, y = X.to(teacher.device), y.to(teacher.device)
    opt = torch.optim.Adam(teacher.parameters(), lr=lr, weight_decay=weight_decay)
    losses = []
    teacher.train()
    with cpu_threads(X.device):
        for _ in progress(range(steps), desc="teacher", show=show):
            opt.zero_grad()
            loss = F.cross_entropy(teacher(X)[0], y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    teacher.eval()
    return losses


@dataclass(frozen=True)
class Recipe:
    """How a student is trained: the weight of each term (distill chapter). All zero = cross-entropy alone."""

    alpha: float = 0.0  # soft targets vs labels, in [0, 1]
    temperature: float = 4.0  # T > 0 of the soft targets
    hint_weight: float = 0.0  # β ≥ 0 of ‖r(h_s) − h_t‖²
    cosine_weight: float = 0.0  # γ ≥ 0 of 1 − cos(r(h_s), h_t)

    def __post_init__(self) -> None:
        _check_unit("alpha", self.alpha)
        _check_temperature(self.temperature)
        check_real("hint_weight", self.hint_weight, low=0.0)
        check_real("cosine_weight", self.cosine_weight, low=0.0)


class StudentStack(nn.Module):
    """K students of one architecture trained side by side as one batched model (distill chapter).

    Member k's weights are slices ``[k]`` of stacked tensors (K, d_in, d_out), used through ``torch.bmm``:
    the members share no value, and since the loss is a sum of per-member losses, each member's gradient
    (and so its Adam step) is exactly what it would get alone. Training K small nets this way costs about
    what one costs, which is what lets the chapter train dozens of students in seconds on a CPU.
    """

    def __init__(self, config: NetConfig, seeds: Sequence[int], teacher_hint_width: int,
                 device: str | torch.device | None = None):
        super().__init__()
        if not isinstance(config, NetConfig):
            raise ArgumentError(f"config must be a NetConfig, got {type(config).__name__}")
        if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or not seeds:
            raise ArgumentError(f"seeds must be a non-empty sequence of ints, got {seeds!r}")
        seeds = [check_int(f"seeds[{i}]", s, low=0) for i, s in enumerate(seeds)]
        teacher_hint_width = check_int("teacher_hint_width", teacher_hint_width, low=1)
        self.config = config
        nets = [Net(config, device="cpu", seed=s) for s in seeds]  # each member starts as Net(config, seed=s)
        projections = []
        for s in seeds:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(s + 1_000_003)  # FitNets' regressor, seeded apart from the student
                projections.append(nn.Linear(config.hint_width, teacher_hint_width))
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([n.layers[i].weight.detach().T for n in nets])) for i in range(len(nets[0].layers)))
        self.biases = nn.ParameterList(
            nn.Parameter(torch.stack([n.layers[i].bias.detach()[None] for n in nets])) for i in range(len(nets[0].layers)))
        self.proj_weight = nn.Parameter(torch.stack([p.weight.detach().T for p in projections]))  # (K, w_s, w_t)
        self.proj_bias = nn.Parameter(torch.stack([p.bias.detach()[None] for p in projections]))  # (K, 1, w_t)
        self.to(resolve_device(device))

    @property
    def size(self) -> int:
        return self.proj_weight.shape[0]

    @property
    def device(self) -> torch.device:
        return self.proj_weight.device

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (N, d) shared by all members or (K, N, d) one batch each → (logits (K, N, C), hint (K, N, w_s))."""
        if x.ndim == 2:
            x = x.expand(self.size, *x.shape)  # (K, N, d), no copy
        hint = None
        last = len(self.weights) - 1
        for i, (W, b) in enumerate(zip(self.weights, self.biases)):
            x = torch.baddbmm(b, x, W)  # (K, N, d_out)
            if i < last:
                x = F.relu(x)
            if i == self.config.hint_layer:
                hint = x  # (K, N, w_s)
        return x, hint

    def project(self, hint: torch.Tensor) -> torch.Tensor:
        """The learned projection r: (K, N, w_s) → (K, N, w_t)."""
        return torch.baddbmm(self.proj_bias, hint, self.proj_weight)

    def member(self, k: int) -> Net:
        """Member ``k`` as a stand-alone :class:`Net` (a copy of its weights)."""
        k = check_int("k", k, low=0, high=self.size - 1)
        net = Net(self.config, device=self.device)
        with torch.no_grad():
            for layer, W, b in zip(net.layers, self.weights, self.biases):
                layer.weight.copy_(W[k].T)
                layer.bias.copy_(b[k, 0])
        return net.eval()

    def projection(self, k: int) -> nn.Linear:
        """Member ``k``'s projection as an ``nn.Linear`` (a copy)."""
        k = check_int("k", k, low=0, high=self.size - 1)
        lin = nn.Linear(*self.proj_weight.shape[1:]).to(self.device)
        with torch.no_grad():
            lin.weight.copy_(self.proj_weight[k].T)
            lin.bias.copy_(self.proj_bias[k, 0])
        return lin


@dataclass
class StudentsRun:
    """What :func:`train_students` returns: the trained stack and per-member curves (member k in column k)."""

    students: StudentStack
    recipes: list[Recipe]
    seeds: list[int]
    losses: torch.Tensor  # (steps, K) total loss of each member at every step
    logged_steps: list[int]  # steps at which the curves below were taken (0, log_every, ..., steps)
    distance: torch.Tensor  # (logs, K) hint_distance on the transfer set
    test_accuracy: torch.Tensor | None  # (logs, K) held-out accuracy, if a test set was given

    @property
    def final_accuracy(self) -> torch.Tensor:
        """(K,) held-out accuracy after training."""
        if self.test_accuracy is None:
            raise ValueError("no test set was given to train_students")
        return self.test_accuracy[-1]


def _stack_labelled(labelled, K: int, features: int, dev) -> tuple[torch.Tensor, torch.Tensor]:
    if isinstance(labelled, tuple) and len(labelled) == 2 and isinstance(labelled[0], torch.Tensor):
        labelled = [labelled] * K
    if not isinstance(labelled, Sequence) or len(labelled) != K:
        raise ValueError(f"labelled must be one (X, y) pair or a list of {K} pairs, one per member")
    for i, pair in enumerate(labelled):
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise ArgumentError(f"labelled[{i}] must be an (X, y) tuple")
        _check_data(pair[0], pair[1], name_x=f"labelled[{i}] X", name_y=f"labelled[{i}] y", features=features)
    if len({pair[0].shape[0] for pair in labelled}) != 1:
        raise ValueError("every member's labelled set must have the same number of rows")
    X = torch.stack([pair[0].to(dev) for pair in labelled])  # (K, n, d)
    y = torch.stack([pair[1].to(dev) for pair in labelled])  # (K, n)
    return X, y


def train_students(teacher: Net, recipes: Sequence[Recipe], seeds: Sequence[int], labelled,
                   X_transfer: torch.Tensor, *, config: NetConfig = STUDENT, steps: int = 300, lr: float = 1e-2,
                   X_test: torch.Tensor | None = None, y_test: torch.Tensor | None = None, log_every: int = 50,
                   device: str | torch.device | None = None, show: bool | None = None) -> StudentsRun:
    """Train one student per (recipe, seed), all at once, full-batch Adam (distill chapter).

    Member k's loss, per step: ``(1 − α) · CE(its labelled set) + α · T² · KL(teacher ‖ student on the
    transfer set) + β · hint_loss + γ · cosine_hint_loss`` (hints on the transfer set, through its own
    learned projection, trained with it). ``labelled`` is one ``(X, y)`` pair for every member or a list
    of K pairs of equal size. ``X_transfer`` is unlabelled: only the frozen teacher's outputs on it are
    used. Member k starts as ``Net(config, seed=seeds[k])``, so it reproduces a lone run of that seed.
    """
    if not isinstance(teacher, Net):
        raise ArgumentError(f"teacher must be a Net, got {type(teacher).__name__}")
    if not isinstance(config, NetConfig):
        raise ArgumentError(f"config must be a NetConfig, got {type(config).__name__}")
    if isinstance(recipes, Recipe) or not isinstance(recipes, Sequence) or not recipes:
        raise ArgumentError("recipes must be a non-empty list of Recipe")
    for i, r in enumerate(recipes):
        if not isinstance(r, Recipe):
            raise ArgumentError(f"recipes[{i}] must be a Recipe, got {type(r).__name__}")
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or len(seeds) != len(recipes):
        raise ValueError(f"seeds must be a list of {len(recipes)} ints, one per recipe")
    if config.in_features != teacher.config.in_features or config.n_classes != teacher.config.n_classes:
        raise ValueError("student config and teacher must have the same in_features and n_classes")
    features = config.in_features
    _check_data(X_transfer, name_x="X_transfer", features=features)
    if (X_test is None) != (y_test is None):
        raise ValueError("X_test and y_test must be given together")
    if X_test is not None:
        _check_data(X_test, y_test, name_x="X_test", name_y="y_test", features=features)
    steps = check_int("steps", steps, low=1)
    lr = check_real("lr", lr, low=0.0)
    log_every = check_int("log_every", log_every, low=1)
    dev = resolve_device(device)
    K = len(recipes)
    stack = StudentStack(config, list(seeds), teacher.config.hint_width, device=dev)
    Xl, yl = _stack_labelled(labelled, K, features, dev)  # (K, n, d), (K, n)
    with cpu_threads(dev):
        return _fit(stack, teacher, list(recipes), list(seeds), Xl, yl, X_transfer, steps, lr, X_test, y_test,
                    log_every, show)


def _fit(stack: StudentStack, teacher: Net, recipes: list[Recipe], seeds: list[int], Xl, yl, X_transfer, steps,
         lr, X_test, y_test, log_every, show) -> StudentsRun:
    dev = stack.device
    K = stack.size
    teacher = teacher.to(dev).eval()
    Xt = X_transfer.to(dev)
    with torch.no_grad():
        t_logits, t_hidden = teacher(Xt)  # (N, C), [(N, w_t)]
    t_hint = t_hidden[teacher.config.hint_layer]  # (N, w_t)
    col = lambda name: torch.tensor([getattr(r, name) for r in recipes], device=dev)  # noqa: E731 (K,)
    alpha, T, beta, gamma = col("alpha"), col("temperature"), col("hint_weight"), col("cosine_weight")
    log_p_t = F.log_softmax(t_logits[None] / T[:, None, None], dim=2)  # (K, N, C) at each member's T
    p_t = log_p_t.exp()
    uses_cosine = bool((gamma > 0).any())  # terms no member uses are not computed
    uses_hint = uses_cosine or bool((beta > 0).any())
    uses_transfer = uses_hint or bool((alpha > 0).any())
    Xte, yte = (X_test.to(dev), y_test.to(dev)) if X_test is not None else (None, None)
    opt = torch.optim.Adam(stack.parameters(), lr=lr)
    losses, logged, distance, acc = [], [], [], []

    def log(step: int) -> None:
        with torch.no_grad():
            _, hint = stack(Xt)  # (K, N, w_s)
            logged.append(step)
            distance.append([hint_distance(hint[k], t_hint) for k in range(K)])
            if Xte is not None:
                logits, _ = stack(Xte)  # (K, M, C)
                acc.append((logits.argmax(2) == yte).float().mean(1).tolist())

    stack.train()
    for step in progress(range(steps), desc=f"{K} student{'s' if K > 1 else ''}", show=show):
        if step % log_every == 0:
            log(step)
        opt.zero_grad()
        logits_l, _ = stack(Xl)  # (K, n, C)
        ce = F.cross_entropy(logits_l.transpose(1, 2), yl, reduction="none").mean(1)  # (K,)
        loss = (1 - alpha) * ce
        if uses_transfer:
            logits_t, hint = stack(Xt)  # (K, N, C), (K, N, w_s)
            log_p_s = F.log_softmax(logits_t / T[:, None, None], dim=2)  # (K, N, C)
            kl = (p_t * (log_p_t - log_p_s)).sum(2).mean(1)  # (K,)
            loss = loss + alpha * T * T * kl
            if uses_hint:
                mapped = stack.project(hint)  # (K, N, w_t)
                sq = ((mapped - t_hint) ** 2).sum(2).mean(1)  # (K,)
                loss = loss + beta * sq
                if uses_cosine:
                    cos = (1 - F.cosine_similarity(mapped, t_hint[None], dim=2, eps=1e-8)).mean(1)  # (K,)
                    loss = loss + gamma * cos
        loss.sum().backward()  # members are independent: each gets its own loss's gradient
        opt.step()
        losses.append(loss.detach())
    stack.eval()
    log(steps)
    return StudentsRun(stack, recipes, seeds, torch.stack(losses).cpu(), logged,
                       torch.tensor(distance), torch.tensor(acc) if acc else None)


@dataclass
class StudentRun:
    """What :func:`train_student` returns: the trained student, its projection and its curves."""

    student: Net
    projection: nn.Linear | None  # student hint width → teacher hint width; None if no hint term
    losses: list[float]  # total loss at every step
    logged_steps: list[int]  # steps at which the curves below were taken
    distance: list[float]  # hint_distance on the transfer set
    test_accuracy: list[float]  # on the held-out set (empty if none was given)


def train_student(student: Net, teacher: Net, X_labelled: torch.Tensor, y_labelled: torch.Tensor,
                  X_transfer: torch.Tensor, *, steps: int = 300, lr: float = 1e-2, alpha: float = 0.0,
                  temperature: float = 4.0, hint_weight: float = 0.0, cosine_weight: float = 0.0,
                  X_test: torch.Tensor | None = None, y_test: torch.Tensor | None = None,
                  log_every: int = 50, seed: int = 0, show: bool | None = None) -> StudentRun:
    """Train ``student`` in place on any mix of the three terms (distill chapter); one member of
    :func:`train_students`, starting from ``student``'s current weights.

    ``(1 − alpha) · CE(labelled) + alpha · T² · KL(teacher ‖ student on X_transfer) + hint_weight ·
    hint_loss + cosine_weight · cosine_hint_loss``; ``seed`` seeds the learned projection.
    """
    if not isinstance(student, Net):
        raise ArgumentError(f"student must be a Net, got {type(student).__name__}")
    if not isinstance(teacher, Net):
        raise ArgumentError(f"teacher must be a Net, got {type(teacher).__name__}")
    config = student.config
    if config.in_features != teacher.config.in_features or config.n_classes != teacher.config.n_classes:
        raise ValueError("student and teacher must have the same in_features and n_classes")
    _check_data(X_labelled, y_labelled, name_x="X_labelled", name_y="y_labelled", features=config.in_features)
    _check_data(X_transfer, name_x="X_transfer", features=config.in_features)
    if (X_test is None) != (y_test is None):
        raise ValueError("X_test and y_test must be given together")
    if X_test is not None:
        _check_data(X_test, y_test, name_x="X_test", name_y="y_test", features=config.in_features)
    recipe = Recipe(alpha=alpha, temperature=temperature, hint_weight=hint_weight, cosine_weight=cosine_weight)
    steps = check_int("steps", steps, low=1)
    lr = check_real("lr", lr, low=0.0)
    log_every = check_int("log_every", log_every, low=1)
    seed = check_int("seed", seed, low=0)
    dev = student.device
    stack = StudentStack(config, [seed], teacher.config.hint_width, device=dev)
    with torch.no_grad():  # start from the student as it is
        for layer, W, b in zip(student.layers, stack.weights, stack.biases):
            W[0].copy_(layer.weight.T)
            b[0, 0].copy_(layer.bias)
    Xl, yl = X_labelled.to(dev)[None], y_labelled.to(dev)[None]  # (1, n, d), (1, n)
    with cpu_threads(dev):
        run = _fit(stack, teacher, [recipe], [seed], Xl, yl, X_transfer, steps, lr, X_test, y_test, log_every, show)
    with torch.no_grad():
        trained = stack.member(0)
        for layer, new in zip(student.layers, trained.layers):
            layer.weight.copy_(new.weight)
            layer.bias.copy_(new.bias)
    student.eval()
    uses_hint = hint_weight > 0 or cosine_weight > 0
    return StudentRun(student, stack.projection(0) if uses_hint else None, run.losses[:, 0].tolist(),
                      run.logged_steps, run.distance[:, 0].tolist(),
                      run.test_accuracy[:, 0].tolist() if run.test_accuracy is not None else [])


# ----------------------------------------------------------------------------- DistilBERT's recipe
def distilbert_config(teacher: AlbertConfig, every: int = 2) -> AlbertConfig:
    """The student's sizes: the teacher's, with one layer in ``every`` kept (DistilBERT: 12 → 6)."""
    if not isinstance(teacher, AlbertConfig):
        raise ArgumentError(f"teacher must be an AlbertConfig, got {type(teacher).__name__}")
    every = check_int("every", every, low=1, high=teacher.num_hidden_layers)
    if teacher.sharing != "none":
        raise ValueError(f"teacher must not share layers (sharing='none'), got sharing={teacher.sharing!r}")
    return teacher.with_(num_hidden_layers=len(range(0, teacher.num_hidden_layers, every)))


def distilbert_student(teacher: AlbertEncoder, every: int = 2) -> AlbertEncoder:
    """A student initialised from the teacher, as DistilBERT: embeddings, pooler, and layers 0, every, 2·every, ...

    The values are copied (an initialisation, not a tie): after this, the two train separately.
    """
    if not isinstance(teacher, AlbertEncoder):
        raise ArgumentError(f"teacher must be an AlbertEncoder, got {type(teacher).__name__}")
    config = distilbert_config(teacher.config, every)
    student = AlbertEncoder(config, device=teacher.device)
    state = {k: v for k, v in teacher.state_dict().items() if not k.startswith("layers.")}
    for i, j in enumerate(range(0, teacher.config.num_hidden_layers, every)):
        state.update({f"layers.{i}.{k}": v for k, v in teacher.layers[j].state_dict().items()})
    student.load_state_dict(state)
    return student


def kept_layers(num_hidden_layers: int, every: int = 2) -> list[int]:
    """Which teacher layers a student keeps: 0, every, 2·every, ... (DistilBERT: 0, 2, 4, 6, 8, 10)."""
    num_hidden_layers = check_int("num_hidden_layers", num_hidden_layers, low=1)
    every = check_int("every", every, low=1, high=num_hidden_layers)
    return list(range(0, num_hidden_layers, every))




# ----------------------------------------------------------------------------- the chapter's setting
def labelled_subset(X: torch.Tensor, y: torch.Tensor, per_class: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``per_class`` rows of each class of (X, y), drawn with ``seed``: the few labelled examples (distill chapter)."""
    _check_data(X, y)
    per_class = check_int("per_class", per_class, low=1)
    seed = check_int("seed", seed, low=0)
    g = torch.Generator().manual_seed(seed)
    picked = []
    for c in torch.unique(y).tolist():
        idx = torch.nonzero(y.cpu() == c).flatten()
        if len(idx) < per_class:
            raise ValueError(f"per_class={per_class} but class {c} has only {len(idx)} rows")
        picked.append(idx[torch.randperm(len(idx), generator=g)[:per_class]])
    idx = torch.cat(picked).to(X.device)
    return X[idx], y[idx]


# The four students of the chapter's comparison: one term switched on at a time, same budget.
RECIPES: dict[str, Recipe] = {
    "cross-entropy": Recipe(),
    "+ soft targets": Recipe(alpha=0.5, temperature=4.0),
    "+ hints": Recipe(hint_weight=0.003),
    "+ both": Recipe(alpha=0.5, temperature=4.0, hint_weight=0.003),
}


def members(recipes: dict[str, Recipe], seeds: int) -> tuple[list[Recipe], list[int]]:
    """Recipe-major members for :func:`train_students`: each recipe once for each seed 0, ..., seeds − 1."""
    if not isinstance(recipes, dict) or not recipes:
        raise ArgumentError("recipes must be a non-empty dict of name -> Recipe")
    seeds = check_int("seeds", seeds, low=1)
    return [r for r in recipes.values() for _ in range(seeds)], [s for _ in recipes for s in range(seeds)]
