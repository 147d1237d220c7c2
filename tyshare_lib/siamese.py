"""Siamese networks: one branch f_θ applied to two inputs, and the distance between what it returns.

Used by the chapter *Siamese twins* (book/siamese.ipynb). Bromley et al. (1993) verified signatures
with two "identical sub-networks joined at their outputs"; identical because they are one network.
Here the branch maps an 8 × 8 digit to an embedding, the pair's distance is

    d(x₁, x₂) = ‖f_θ(x₁) − f_θ(x₂)‖₂

and training pulls matching pairs together and pushes others at least a margin m apart with the
contrastive loss of Hadsell, Chopra & LeCun (2006):

    L = mean( s · d² + (1 − s) · max(0, m − d)² ),   s = 1 for a matching pair, 0 otherwise.

A pair is declared "same" when d ≤ a threshold t; sweeping t traces the ROC curve.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .checks import ArgumentError, check_int, check_real, check_tensor
from .device import cpu_threads, resolve_device
from .progress import progress


# ----------------------------------------------------------------------------- the models
@dataclass(frozen=True)
class BranchConfig:
    """Sizes of one branch: a two-layer perceptron from pixels to an embedding (Siamese chapter)."""

    input_size: int = 64  # pixels of an 8 × 8 digit
    hidden_size: int = 64  # width of the hidden layer (ReLU)
    embedding_size: int = 16  # width of the embedding the distance is measured in

    def __post_init__(self):
        for name in ("input_size", "hidden_size", "embedding_size"):
            check_int(name, getattr(self, name), low=1)

    @property
    def num_parameters(self) -> int:
        """Closed form: (input + 1)·hidden + (hidden + 1)·embedding weights and biases."""
        return (self.input_size + 1) * self.hidden_size + (self.hidden_size + 1) * self.embedding_size


def make_branch(config: BranchConfig | None = None, *, seed: int | None = None,
                device: str | torch.device | None = None) -> nn.Sequential:
    """One branch, ``(B, input_size) -> (B, embedding_size)``, on ``device``; ``seed`` fixes its init (Siamese chapter)."""
    config = BranchConfig() if config is None else config
    if not isinstance(config, BranchConfig):
        raise ArgumentError(f"config must be a BranchConfig or None, got {type(config).__name__}")
    if seed is not None:
        seed = check_int("seed", seed, low=0)
    dev = resolve_device(device)
    with torch.random.fork_rng(devices=[]):  # a seeded init that leaves the global generator as it was
        if seed is not None:
            torch.manual_seed(seed)
        branch = nn.Sequential(nn.Linear(config.input_size, config.hidden_size), nn.ReLU(),
                               nn.Linear(config.hidden_size, config.embedding_size))
    return branch.to(dev)


def _check_branch(name: str, branch: object) -> nn.Module:
    if not isinstance(branch, nn.Module):
        raise ArgumentError(f"{name} must be an nn.Module (the branch that embeds one input), got {type(branch).__name__}")
    if not any(True for _ in branch.parameters()):
        raise ValueError(f"{name} has no parameters: there is nothing to share or train")
    return branch


def _device_of(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


def _check_inputs(x1: torch.Tensor, x2: torch.Tensor) -> None:
    check_tensor("x1", x1, ndim=2)
    check_tensor("x2", x2, ndim=2)
    if x1.shape != x2.shape:
        raise ValueError(f"x1 and x2 must have the same shape (pairs row by row), got {tuple(x1.shape)} and {tuple(x2.shape)}")


def euclidean(e1: torch.Tensor, e2: torch.Tensor) -> torch.Tensor:
    """Row-wise ‖e1 − e2‖₂, ``(B, E), (B, E) -> (B,)`` (Siamese chapter).

    Computed as sqrt(Σ diff² + tiny) so that its gradient stays finite when two embeddings coincide.
    """
    return ((e1 - e2).pow(2).sum(dim=1) + 1e-12).sqrt()  # (B,)


class SiameseNetwork(nn.Module):
    """Two inputs, one branch: ``forward(x1, x2)`` is ‖branch(x1) − branch(x2)‖ (Siamese chapter).

    The one ``branch`` module embeds both inputs, so ``parameters()`` are exactly the branch's, counted
    once, and the distance is symmetric: d(x₁, x₂) = d(x₂, x₁).
    """

    def __init__(self, branch: nn.Module):
        super().__init__()
        self.branch = _check_branch("branch", branch)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The branch's embedding of ``x``: ``(B, input_size) -> (B, embedding_size)``."""
        check_tensor("x", x, ndim=2)
        return self.branch(x)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        """Distances of the pairs ``(x1[i], x2[i])``: ``(B, D), (B, D) -> (B,)``."""
        _check_inputs(x1, x2)
        return self._distance(x1, x2)

    def _distance(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        return euclidean(self.branch(x1), self.branch(x2))  # the same module, called twice


class TwinNetwork(nn.Module):
    """The untied baseline: first input through ``branch_a``, second through ``branch_b`` (Siamese chapter).

    Same interface as :class:`SiameseNetwork`, twice the parameters, and no reason to be symmetric.
    """

    def __init__(self, branch_a: nn.Module, branch_b: nn.Module):
        super().__init__()
        _check_branch("branch_a", branch_a)
        _check_branch("branch_b", branch_b)
        ids_a = {id(p) for p in branch_a.parameters()}
        if branch_a is branch_b or any(id(p) in ids_a for p in branch_b.parameters()):
            raise ValueError("branch_a and branch_b must not share parameters: that is a SiameseNetwork")
        self.branch_a = branch_a
        self.branch_b = branch_b

    def embed(self, x: torch.Tensor, side: str = "a") -> torch.Tensor:
        """The embedding of ``x`` by ``branch_a`` (``side='a'``, first inputs) or ``branch_b`` (``'b'``)."""
        check_tensor("x", x, ndim=2)
        if side not in ("a", "b"):
            raise ValueError(f"side must be 'a' or 'b', got {side!r}")
        return (self.branch_a if side == "a" else self.branch_b)(x)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        """Distances ‖branch_a(x1[i]) − branch_b(x2[i])‖: ``(B, D), (B, D) -> (B,)``."""
        _check_inputs(x1, x2)
        return self._distance(x1, x2)

    def _distance(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        return euclidean(self.branch_a(x1), self.branch_b(x2))


def siamese_and_twin(config: BranchConfig | None = None, seed: int = 0,
                     device: str | torch.device | None = None) -> tuple[SiameseNetwork, TwinNetwork]:
    """A Siamese network and its untied twin, whose first branch starts from the Siamese branch's values."""
    seed = check_int("seed", seed, low=0)
    siamese = SiameseNetwork(make_branch(config, seed=seed, device=device))
    twin = TwinNetwork(make_branch(config, seed=seed, device=device), make_branch(config, seed=seed + 1, device=device))
    return siamese, twin


# ----------------------------------------------------------------------------- the loss
def _check_distance_same(distance: object, same: object) -> torch.Tensor:
    check_tensor("distance", distance, ndim=1)
    if not isinstance(same, torch.Tensor):
        raise ArgumentError(f"same must be a torch.Tensor of 0s and 1s, got {type(same).__name__}")
    if same.shape != distance.shape:
        raise ValueError(f"same must have the shape of distance {tuple(distance.shape)}, got {tuple(same.shape)}")
    if same.numel() and not ((same == 0) | (same == 1)).all():
        raise ValueError("same must hold only 0 (different pair) and 1 (matching pair)")
    return same.to(distance.dtype)


def contrastive_loss(distance: torch.Tensor, same: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """mean(s·d² + (1 − s)·max(0, m − d)²) over the batch (Hadsell, Chopra & LeCun 2006) (Siamese chapter).

    ``distance`` (B,) ≥ 0, ``same`` (B,) of 0/1, ``margin`` m > 0: different pairs farther apart than m
    cost nothing.
    """
    same = _check_distance_same(distance, same)
    margin = check_real("margin", margin, low=0.0)
    if margin == 0:
        raise ValueError("margin must be > 0: with no margin, different pairs are never pushed apart")
    if distance.numel() == 0:
        raise ValueError("distance must hold at least one pair")
    if (distance < 0).any():
        raise ValueError("distance must be >= 0")
    pull = same * distance.pow(2)  # (B,) matching pairs: pulled together
    push = (1 - same) * torch.clamp(margin - distance, min=0).pow(2)  # (B,) others: pushed out to the margin
    return (pull + push).mean()


# ----------------------------------------------------------------------------- pairs
@dataclass(frozen=True)
class Pairs:
    """Pairs of rows of one data set: ``first[i]`` with ``second[i]``; ``same[i]`` is 1.0 if their labels match."""

    first: torch.Tensor  # (P,) int64 row indices
    second: torch.Tensor  # (P,) int64 row indices
    same: torch.Tensor  # (P,) float32, 1.0 matching, 0.0 different

    def __len__(self) -> int:
        return int(self.first.shape[0])


def _check_labels(labels: object) -> torch.Tensor:
    if not isinstance(labels, torch.Tensor):
        raise ArgumentError(f"labels must be a torch.Tensor of class labels, got {type(labels).__name__}")
    if labels.ndim != 1 or labels.is_floating_point() or labels.dtype == torch.bool:
        raise ValueError(f"labels must be a 1-D integer tensor, got shape {tuple(labels.shape)} and dtype {labels.dtype}")
    return labels


class _PairSampler:
    """The class structure of ``labels``, computed once, from which balanced pairs are drawn many times."""

    def __init__(self, labels: torch.Tensor):
        labels = labels.cpu()
        classes, counts = torch.unique(labels, return_counts=True)  # sorted
        if len(classes) < 2:
            raise ValueError(f"labels must hold at least two classes to make different pairs, got {classes.tolist()}")
        if (counts < 2).any():
            raise ValueError(f"every class needs at least two rows to make a matching pair; counts {counts.tolist()}")
        self.order = torch.argsort(labels, stable=True)  # rows grouped by class
        self.counts = counts
        self.start = torch.cumsum(counts, 0) - counts  # (K,) where each class begins in ``order``

    def draw(self, n_batches: int, batch_size: int, g: torch.Generator) -> tuple[torch.Tensor, ...]:
        """``(first, second, same)``, each ``(n_batches, batch_size)``: every batch balanced, drawn at once."""
        order, start, counts, K = self.order, self.start, self.counts, len(self.counts)
        n_same, n_diff = batch_size // 2, batch_size - batch_size // 2

        def member(u: torch.Tensor, n: torch.Tensor) -> torch.Tensor:  # the ⌊u·n⌋-th of n members
            return (u * n).long().clamp(max=n - 1)

        c = torch.randint(K, (n_batches, n_same), generator=g)
        i = member(torch.rand(n_batches, n_same, generator=g), counts[c])
        j = member(torch.rand(n_batches, n_same, generator=g), counts[c] - 1)
        j = j + (j >= i).long()  # a different member of the same class
        ca = torch.randint(K, (n_batches, n_diff), generator=g)
        cb = (ca + torch.randint(1, K, (n_batches, n_diff), generator=g)) % K  # another class
        a = member(torch.rand(n_batches, n_diff, generator=g), counts[ca])
        b = member(torch.rand(n_batches, n_diff, generator=g), counts[cb])
        first = order[torch.cat([start[c] + i, start[ca] + a], dim=1)]  # (n_batches, batch_size)
        second = order[torch.cat([start[c] + j, start[cb] + b], dim=1)]
        same = torch.cat([torch.ones(n_batches, n_same), torch.zeros(n_batches, n_diff)], dim=1)
        perm = torch.argsort(torch.rand(n_batches, batch_size, generator=g), dim=1)  # interleave within a batch
        return first.gather(1, perm), second.gather(1, perm), same.gather(1, perm)


def _generator(generator: torch.Generator | None, seed: int) -> torch.Generator:
    if generator is None:
        return torch.Generator().manual_seed(check_int("seed", seed, low=0))
    if not isinstance(generator, torch.Generator):
        raise ArgumentError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    return generator


def sample_pairs(labels: torch.Tensor, n_pairs: int, *, generator: torch.Generator | None = None,
                 seed: int = 0) -> Pairs:
    """Balanced pairs: ``n_pairs // 2`` matching and the rest different, classes drawn uniformly (Siamese chapter).

    A matching pair is two distinct rows of one class; a different pair, rows of two distinct classes.
    Seeded by ``seed``, or drawn from ``generator`` (a CPU ``torch.Generator``) when one is given.
    Indices are returned on the CPU.
    """
    labels = _check_labels(labels)
    n_pairs = check_int("n_pairs", n_pairs, low=2)
    g = _generator(generator, seed)
    first, second, same = _PairSampler(labels).draw(1, n_pairs, g)
    return Pairs(first[0], second[0], same[0])


# ----------------------------------------------------------------------------- training
@dataclass(frozen=True)
class TrainResult:
    """What :func:`train_siamese` returns: the loss of every step's batch (on the CPU)."""

    losses: torch.Tensor  # (steps,)


def _check_data(X: object, y: object) -> None:
    check_tensor("X", X, ndim=2)
    _check_labels(y)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} labels: they must match")


def train_siamese(model: SiameseNetwork | TwinNetwork, X: torch.Tensor, y: torch.Tensor, *, steps: int = 600,
                  batch_size: int = 128, lr: float = 3e-3, margin: float = 1.0, seed: int = 0,
                  desc: str = "training") -> TrainResult:
    """Adam on the contrastive loss over fresh balanced pairs each step, on the model's device (Siamese chapter).

    The pairs depend only on ``seed`` and ``y``, so a Siamese network and its twin trained with the same
    arguments see exactly the same pairs: the same budget.
    """
    if not isinstance(model, (SiameseNetwork, TwinNetwork)):
        raise ArgumentError(f"model must be a SiameseNetwork or a TwinNetwork, got {type(model).__name__}")
    _check_data(X, y)
    steps = check_int("steps", steps, low=1)
    batch_size = check_int("batch_size", batch_size, low=2)
    lr = check_real("lr", lr, low=0.0)
    if lr == 0:
        raise ValueError("lr must be > 0")
    margin = check_real("margin", margin, low=0.0)
    if margin == 0:
        raise ValueError("margin must be > 0")
    seed = check_int("seed", seed, low=0)
    dev = _device_of(model)
    X = X.to(dev, torch.float32)
    g = torch.Generator().manual_seed(seed)
    sampler = _PairSampler(y)
    firsts, seconds, sames = (t.to(dev) for t in sampler.draw(steps, batch_size, g))  # (steps, B) each
    # parameters() yields a shared tensor once; foreach: one fused update for all tensors
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)
    losses = torch.empty(steps, device=dev)
    model.train()
    with cpu_threads(dev):
        for step in progress(range(steps), desc=desc):
            same = sames[step]
            d = model._distance(X[firsts[step]], X[seconds[step]])  # (B,) forward without its checks
            loss = (same * d.pow(2) + (1 - same) * torch.clamp(margin - d, min=0).pow(2)).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses[step] = loss.detach()  # stays on the device: no per-step synchronisation
    model.eval()
    return TrainResult(losses.cpu())


@torch.no_grad()
def pair_distances(model: SiameseNetwork | TwinNetwork, X: torch.Tensor, pairs: Pairs) -> torch.Tensor:
    """The model's distance for every pair of rows of ``X``, ``(P,)`` on the CPU (Siamese chapter)."""
    if not isinstance(model, (SiameseNetwork, TwinNetwork)):
        raise ArgumentError(f"model must be a SiameseNetwork or a TwinNetwork, got {type(model).__name__}")
    check_tensor("X", X, ndim=2)
    if not isinstance(pairs, Pairs):
        raise ArgumentError(f"pairs must be a Pairs, got {type(pairs).__name__}")
    dev = _device_of(model)
    X = X.to(dev, torch.float32)
    return model(X[pairs.first.to(dev)], X[pairs.second.to(dev)]).cpu()


def pixel_distances(X: torch.Tensor, pairs: Pairs) -> torch.Tensor:
    """The baseline: Euclidean distance between the raw pixels of each pair, ``(P,)`` (Siamese chapter)."""
    check_tensor("X", X, ndim=2)
    if not isinstance(pairs, Pairs):
        raise ArgumentError(f"pairs must be a Pairs, got {type(pairs).__name__}")
    X = X.cpu().float()
    return euclidean(X[pairs.first], X[pairs.second])


# ----------------------------------------------------------------------------- verification
@dataclass(frozen=True)
class Roc:
    """A ROC curve for "same if d ≤ t": one point per distinct threshold, from accepting nothing to everything."""

    fpr: torch.Tensor  # (T,) float64 false-positive rate: different pairs accepted
    tpr: torch.Tensor  # (T,) float64 true-positive rate: matching pairs accepted
    thresholds: torch.Tensor  # (T,) float64; the first is -inf (accept nothing)

    @property
    def auc(self) -> float:
        """Area under the curve by the trapezoid rule: the chance that a random matching pair is closer than
        a random different pair (ties count half)."""
        return float(torch.trapezoid(self.tpr, self.fpr))

    def tpr_at(self, fpr: float) -> float:
        """The highest true-positive rate among thresholds whose false-positive rate is ≤ ``fpr``."""
        fpr = check_real("fpr", fpr, low=0.0)
        return float(self.tpr[self.fpr <= fpr + 1e-12].max())


def roc_curve(distance: torch.Tensor, same: torch.Tensor) -> Roc:
    """The ROC of verification "same if distance ≤ t" over every threshold t (Siamese chapter).

    ``distance`` (P,) and ``same`` (P,) of 0/1 with both kinds of pair present. Written from scratch: sort by
    distance, and each distinct distance adds the pairs it accepts to the running counts.
    """
    same = _check_distance_same(distance, same).double().cpu()
    distance = distance.double().cpu()
    n_pos, n_neg = float(same.sum()), float((1 - same).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("same must contain both matching (1) and different (0) pairs to draw a ROC curve")
    d, order = torch.sort(distance, stable=True)
    s = same[order]
    tp, fp = torch.cumsum(s, 0), torch.cumsum(1 - s, 0)  # accepted so far, if t = d[k]
    last = torch.ones_like(d, dtype=torch.bool)
    last[:-1] = d[1:] != d[:-1]  # a threshold accepts every pair at that distance at once
    zero = torch.zeros(1, dtype=torch.float64)
    return Roc(fpr=torch.cat([zero, fp[last] / n_neg]), tpr=torch.cat([zero, tp[last] / n_pos]),
               thresholds=torch.cat([torch.full((1,), -torch.inf, dtype=torch.float64), d[last]]))


def accuracy_at(distance: torch.Tensor, same: torch.Tensor, threshold: float) -> float:
    """The fraction of pairs classified right by "same if distance ≤ threshold" (Siamese chapter)."""
    same = _check_distance_same(distance, same)
    threshold = check_real("threshold", threshold, allow_inf=True)
    return float(((distance <= threshold).to(same.dtype) == same).to(torch.float64).mean())


def best_threshold(distance: torch.Tensor, same: torch.Tensor) -> float:
    """The threshold of highest accuracy, halfway between two consecutive distinct distances (Siamese chapter)."""
    roc = roc_curve(distance, same)
    same = same.double()
    n_pos, n_neg = float(same.sum()), float((1 - same).sum())
    correct = roc.tpr * n_pos + (1 - roc.fpr) * n_neg  # (T,) right answers at each threshold
    k = int(torch.argmax(correct))
    t = roc.thresholds
    if k == 0:
        return float(t[1]) - 1e-6
    if k == len(t) - 1:
        return float(t[k]) + 1e-6
    return float((t[k] + t[k + 1]) / 2)
