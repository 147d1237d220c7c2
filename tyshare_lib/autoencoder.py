"""The tied autoencoder: the decoder uses the encoder's weight matrix transposed, W_dec = W_encᵀ.

Used by the chapter *The tied autoencoder* (book/autoencoder.ipynb). The maths, written once, for one
layer of sizes n_in → n_h:

    h = σ(W x + b)            encoder, W of shape (n_h, n_in)
    x̂ = Wᵀ h + c              tied decoder: no matrix of its own, only a bias c (n_in)
    x̂ = V h + c               untied decoder: a matrix V of shape (n_in, n_h)

Counts: tied n_in·n_h + n_h + n_in, untied 2·n_in·n_h + n_h + n_in. With σ the identity, the best tied
W has orthonormal rows spanning the top-n_h principal subspace of the data (Baldi & Hornik 1989): the
tied linear autoencoder *is* PCA up to a rotation of the code. A deep autoencoder (Hinton &
Salakhutdinov 2006) stacks layers n₀ → n₁ → … → n_L and mirrors them, each decoder layer tied to its
encoder layer.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .checks import ArgumentError, check_choice, check_int, check_real, check_tensor
from .device import cpu_threads, resolve_device
from .progress import progress

ACTIVATIONS = ("linear", "sigmoid", "relu")
OPTIMIZERS = ("lbfgs", "adam")
_ACT = {"linear": lambda t: t, "sigmoid": torch.sigmoid, "relu": torch.relu}


# ----------------------------------------------------------------------------- sizes and counts
def _check_sizes(n_inputs, n_hidden) -> list[int]:
    """[n_in, n₁, …, n_L] from n_inputs and n_hidden (an int or a list of ints), each ≥ 1."""
    n_inputs = check_int("n_inputs", n_inputs, low=1)
    if isinstance(n_hidden, int) and not isinstance(n_hidden, bool):
        hidden = [n_hidden]
    elif isinstance(n_hidden, (list, tuple)):
        hidden = list(n_hidden)
        if not hidden:
            raise ValueError("n_hidden must name at least one layer size, got an empty list")
    else:
        raise ArgumentError(f"n_hidden must be an int or a list of ints, got {type(n_hidden).__name__}")
    return [n_inputs, *(check_int(f"n_hidden[{i}]", h, low=1) for i, h in enumerate(hidden))]


def count_parameters(sizes: Sequence[int], tied: bool) -> int:
    """Closed-form parameter count of an autoencoder with layer sizes [n₀, n₁, …, n_L] (autoencoder chapter).

    Each layer a → b holds its encoder matrix a·b and bias b, and its decoder bias a; untied it also
    holds a decoder matrix of its own, b·a more.
    """
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
        raise ArgumentError(f"sizes must be a list of at least two layer sizes, got {sizes!r}")
    sizes = [check_int(f"sizes[{i}]", s, low=1) for i, s in enumerate(sizes)]
    if not isinstance(tied, bool):
        raise ArgumentError(f"tied must be True or False, got {type(tied).__name__}")
    return sum((1 if tied else 2) * a * b + a + b for a, b in zip(sizes[:-1], sizes[1:]))


@dataclass(frozen=True)
class AutoencoderConfig:
    """The sizes and choices of an :class:`Autoencoder` (autoencoder chapter)."""

    n_inputs: int  # pixels in, pixels out
    n_hidden: int | tuple[int, ...]  # the code size, or the encoder's layer sizes down to the code
    tied: bool = True  # decoder layer i uses encoder layer i's weight transposed
    activation: str = "linear"  # applied to every hidden layer (code included); the output is linear

    def __post_init__(self):
        hidden = self.n_hidden if isinstance(self.n_hidden, int) else tuple(self.n_hidden)
        _check_sizes(self.n_inputs, hidden if isinstance(hidden, int) else list(hidden))
        object.__setattr__(self, "n_hidden", hidden)
        if not isinstance(self.tied, bool):
            raise ArgumentError(f"tied must be True or False, got {type(self.tied).__name__}")
        check_choice("activation", self.activation, ACTIVATIONS)

    @property
    def sizes(self) -> list[int]:
        """[n_in, n₁, …, n_code]."""
        return _check_sizes(self.n_inputs, self.n_hidden if isinstance(self.n_hidden, int) else list(self.n_hidden))

    @property
    def num_parameters(self) -> int:
        """The closed-form count, :func:`count_parameters`."""
        return count_parameters(self.sizes, self.tied)


# ----------------------------------------------------------------------------- the model
class Autoencoder(nn.Module):
    """An autoencoder whose decoder layers reuse the encoder's weights transposed when ``tied`` (autoencoder chapter).

    ``n_hidden`` is the code size (one layer) or the list of encoder sizes down to the code (a deep
    autoencoder, mirrored by the decoder). ``activation`` ("linear", "sigmoid", "relu") is applied to
    every hidden layer, the code included; the reconstruction is linear. Tied: ``decoder_biases`` are
    the decoder's only parameters; untied: ``decoders`` are ``nn.Linear`` layers of their own.
    """

    def __init__(self, n_inputs: int, n_hidden: int | Sequence[int], tied: bool = True, activation: str = "linear",
                 device: str | torch.device | None = None, dtype: torch.dtype = torch.float32):
        super().__init__()
        self.config = AutoencoderConfig(n_inputs, n_hidden if isinstance(n_hidden, int) else tuple(n_hidden),
                                        tied, activation)
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise ArgumentError(f"dtype must be a floating torch.dtype, got {dtype!r}")
        dev = resolve_device(device)
        sizes = self.config.sizes
        self.encoders = nn.ModuleList(nn.Linear(a, b, device=dev, dtype=dtype) for a, b in zip(sizes[:-1], sizes[1:]))
        if tied:
            # The tie: no decoder weight exists. Decoder layer i reads encoders[i].weight (transposed).
            self.decoder_biases = nn.ParameterList(nn.Parameter(torch.zeros(a, device=dev, dtype=dtype))
                                                   for a in sizes[:-1])
            self.decoders = None
        else:
            self.decoders = nn.ModuleList(nn.Linear(b, a, device=dev, dtype=dtype)
                                          for a, b in zip(sizes[:-1], sizes[1:]))
            self.decoder_biases = None
        self._act = _ACT[activation]

    @property
    def tied(self) -> bool:
        return self.config.tied

    @property
    def encoder(self) -> nn.Linear:
        """The first encoder layer (the only one when ``n_hidden`` is an int)."""
        return self.encoders[0]

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code: (n, n_in) → (n, n_code)."""
        for layer in self.encoders:
            x = self._act(layer(x))  # (n, n_{i+1})
        return x

    def decode_layer(self, i: int, h: torch.Tensor) -> torch.Tensor:
        """Decoder layer i (the mirror of encoder layer i), before any activation: (n, n_{i+1}) → (n, n_i)."""
        if self.tied:
            return F.linear(h, self.encoders[i].weight.t(), self.decoder_biases[i])  # Wᵢᵀ h + cᵢ
        return self.decoders[i](h)

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """The reconstruction from the code: (n, n_code) → (n, n_in)."""
        for i in reversed(range(len(self.encoders))):
            h = self.decode_layer(i, h)
            if i > 0:  # hidden layers of the decoder take the activation; the output stays linear
                h = self._act(h)
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))  # (n, n_in)

    def decoder_weight(self, i: int = 0) -> torch.Tensor:
        """The matrix decoder layer i multiplies by, (n_i, n_{i+1}): Wᵢᵀ (a view) when tied."""
        return self.encoders[i].weight.t() if self.tied else self.decoders[i].weight


# ----------------------------------------------------------------------------- the gradient of a tied matrix
@dataclass(frozen=True)
class GradientParts:
    """The tied matrix's gradient and its two contributions (autoencoder chapter)."""

    encoder_use: torch.Tensor  # (n_h, n_in) what the loss would give W through the encoder alone
    decoder_use: torch.Tensor  # (n_h, n_in) ... through the decoder alone (transposed back to W's shape)
    tied: torch.Tensor  # (n_h, n_in) autograd's gradient of W in the tied model


def gradient_parts(model: Autoencoder, X: torch.Tensor) -> GradientParts:
    """Split the gradient of the first tied matrix W into its encoder and decoder uses (autoencoder chapter).

    Two copies of W stand in for its two uses; autograd differentiates each. The tied gradient is
    their sum: backpropagation adds up the contributions of every use of a shared tensor.
    """
    _check_model(model)
    if not model.tied:
        raise ValueError("model must be tied (tied=True): an untied model has no shared matrix to split")
    X = _check_data("X", X, model)
    W = model.encoder.weight
    w_enc = W.detach().clone().requires_grad_(True)
    w_dec = W.detach().clone().requires_grad_(True)
    h = model._act(F.linear(X, w_enc, model.encoder.bias))  # encoder use of W
    for layer in model.encoders[1:]:
        h = model._act(layer(h))
    for i in reversed(range(1, len(model.encoders))):
        h = model._act(model.decode_layer(i, h))
    x_hat = F.linear(h, w_dec.t(), model.decoder_biases[0])  # decoder use of W
    g_enc, g_dec = torch.autograd.grad(F.mse_loss(x_hat, X), [w_enc, w_dec])
    (g_tied,) = torch.autograd.grad(F.mse_loss(model(X), X), [W])
    return GradientParts(g_enc, g_dec, g_tied)


# ----------------------------------------------------------------------------- subspaces
def _orth(A: torch.Tensor) -> torch.Tensor:
    """An orthonormal basis of A's column space (SVD, rank by the usual tolerance), in float64."""
    U, s, _ = torch.linalg.svd(A.to(torch.float64), full_matrices=False)
    tol = max(A.shape) * torch.finfo(torch.float64).eps * (s[0] if len(s) else 0.0)
    return U[:, : int((s > tol).sum())]


def principal_angles(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Principal angles in degrees between the column spaces of A (n, p) and B (n, q), largest first.

    min(rank A, rank B) angles, in float64 on the CPU, equal to ``scipy.linalg.subspace_angles`` (converted
    to degrees): cosines from the singular values of Q_Aᵀ Q_B, and for small angles, where the arccos
    loses precision, sines from the part of one basis outside the other (Knyazev & Argentati 2002)
    (autoencoder chapter).
    """
    check_tensor("A", A, ndim=2)
    check_tensor("B", B, ndim=2)
    if A.shape[0] != B.shape[0]:
        raise ValueError(f"A and B must have the same number of rows, got {A.shape[0]} and {B.shape[0]}")
    if A.shape[0] == 0 or A.shape[1] == 0 or B.shape[1] == 0:
        raise ValueError(f"A and B must be non-empty, got shapes {tuple(A.shape)} and {tuple(B.shape)}")
    QA, QB = _orth(A.detach().cpu()), _orth(B.detach().cpu())
    if QA.shape[1] == 0 or QB.shape[1] == 0:
        raise ValueError("A and B must each have a non-zero column")
    M = QA.T @ QB  # (p, q)
    sigma = torch.linalg.svdvals(M).clamp(-1.0, 1.0)  # cosines, descending
    rest = QB - QA @ M if QA.shape[1] >= QB.shape[1] else QA - QB @ M.T  # the part outside the other space
    sines = torch.linalg.svdvals(rest)[: len(sigma)].clamp(-1.0, 1.0)  # descending: largest angle first
    cos_first = sigma.flip(0)  # ascending cosine: largest angle first
    small = cos_first ** 2 >= 0.5
    theta = torch.where(small, torch.arcsin(sines), torch.arccos(cos_first))  # radians
    return torch.rad2deg(theta)


def orthonormality_error(W: torch.Tensor) -> float:
    """max |WWᵀ − I| over all entries: 0 when the rows of W (k, n) are orthonormal (autoencoder chapter)."""
    check_tensor("W", W, ndim=2)
    W = W.detach().to(torch.float64)
    return float((W @ W.T - torch.eye(W.shape[0], dtype=W.dtype, device=W.device)).abs().max())


# ----------------------------------------------------------------------------- training


@dataclass
class TrainResult:
    """What :func:`train_autoencoder` returns: the loss (and optionally W) at every checkpoint (autoencoder chapter)."""

    steps: list[int]  # checkpoints: 0 (the start), record_every, 2·record_every, …, steps
    losses: torch.Tensor  # (len(steps),) full-batch training MSE at each checkpoint (CPU)
    weights: list[torch.Tensor] = field(default_factory=list)  # first encoder weight at each checkpoint (CPU copies)


def _check_model(model) -> Autoencoder:
    if not isinstance(model, Autoencoder):
        raise ArgumentError(f"model must be an Autoencoder, got {type(model).__name__}")
    return model


def _check_data(name: str, X, model: Autoencoder) -> torch.Tensor:
    check_tensor(name, X, ndim=2)
    if X.shape[1] != model.config.n_inputs:
        raise ValueError(f"{name} must have {model.config.n_inputs} columns (the model's n_inputs), got {X.shape[1]}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row")
    p = next(model.parameters())
    return X.to(p.device, p.dtype)


def reconstruction_error(model: Autoencoder, X: torch.Tensor) -> float:
    """Mean squared reconstruction error of ``model`` on rows X (n, n_in), per pixel (autoencoder chapter)."""
    _check_model(model)
    X = _check_data("X", X, model)
    with torch.no_grad(), cpu_threads(X.device):
        return float(F.mse_loss(model(X), X))


def reset_parameters(model: Autoencoder, seed: int = 0, scale: float = 1.0) -> Autoencoder:
    """Seeded start: every matrix N(0, scale²/fan_in), every bias 0 (autoencoder chapter).

    The untied decoder starts at the encoder's transpose, so tied and untied twins start at the same
    function and differ only in what training is allowed to do.
    """
    _check_model(model)
    seed = check_int("seed", seed, low=0)
    scale = check_real("scale", scale, low=0.0)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in model.encoders:
            fan_in = layer.weight.shape[1]
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=g, dtype=torch.float64) * scale / math.sqrt(fan_in))
            layer.bias.zero_()
        if model.tied:
            for c in model.decoder_biases:
                c.zero_()
        else:
            for enc, dec in zip(model.encoders, model.decoders):
                dec.weight.copy_(enc.weight.t())
                dec.bias.zero_()
    return model


def train_autoencoder(model: Autoencoder, X: torch.Tensor, steps: int = 300, *, optimizer: str = "lbfgs",
                      lr: float | None = None, batch_size: int | None = None, seed: int = 0,
                      record_every: int = 10, keep_weights: bool = False, desc: str = "training") -> TrainResult:
    """Minimise the mean squared reconstruction error of ``model`` on X (n, n_in) (autoencoder chapter).

    Seeded: the weights are reset by :func:`reset_parameters` (``seed``) and mini-batches come from a
    generator of their own, so two runs give identical numbers. ``optimizer`` "lbfgs" (full batch,
    ``steps`` L-BFGS iterations with a strong-Wolfe line search, ``lr`` default 1) or "adam" (``steps``
    updates, ``lr`` default 1e-2, ``batch_size`` None = full batch). Runs on the model's device; the
    loss (and with ``keep_weights`` a CPU copy of the first encoder weight) is recorded every
    ``record_every`` steps and at the end.
    """
    _check_model(model)
    X = _check_data("X", X, model)
    steps = check_int("steps", steps, low=0)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    seed = check_int("seed", seed, low=0)
    record_every = check_int("record_every", record_every, low=1)
    if not isinstance(keep_weights, bool):
        raise ArgumentError(f"keep_weights must be True or False, got {type(keep_weights).__name__}")
    if lr is not None:
        lr = check_real("lr", lr, low=0.0)
        if lr == 0:
            raise ValueError("lr must be > 0")
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, low=1)
        if optimizer == "lbfgs":
            raise ValueError("batch_size must be None with optimizer='lbfgs' (L-BFGS needs the full batch)")
    with cpu_threads(X.device):
        return _train(model, X, steps, optimizer, lr, batch_size, seed, record_every, keep_weights, desc)


def _train(model: Autoencoder, X: torch.Tensor, steps: int, optimizer: str, lr: float | None,
           batch_size: int | None, seed: int, record_every: int, keep_weights: bool, desc: str) -> TrainResult:
    reset_parameters(model, seed)
    params = list(model.parameters())  # a tied matrix appears once: it is stepped once
    if optimizer == "lbfgs":
        # tolerance_change=0: in float32 the loss can stall for an iteration while the subspace still turns
        opt = torch.optim.LBFGS(params, lr=lr or 1.0, history_size=20, line_search_fn="strong_wolfe",
                                tolerance_change=0.0)
    else:
        opt = torch.optim.Adam(params, lr=lr or 1e-2)
    g = torch.Generator().manual_seed(seed + 1)
    marks = sorted({*range(0, steps, record_every), steps})
    losses = torch.empty(len(marks), device=X.device)
    weights: list[torch.Tensor] = []

    def full_loss() -> torch.Tensor:
        return F.mse_loss(model(X), X)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = full_loss()
        loss.backward()
        return loss

    def record(i: int, evaluate: bool = True) -> None:
        if evaluate:
            with torch.no_grad():  # recorded on the device, read back once at the end
                losses[i] = full_loss()
        if keep_weights:
            weights.append(model.encoder.weight.detach().cpu().clone())

    record(0)
    last = len(marks) - 1
    for i in progress(range(1, len(marks)), desc=desc):
        n = marks[i] - marks[i - 1]
        if optimizer == "lbfgs":
            # n iterations in one call. Each call starts by evaluating the loss where the last one ended:
            # that is the previous checkpoint's loss, so only the final checkpoint needs an evaluation.
            opt.param_groups[0].update(max_iter=n, max_eval=n * 5 // 4 + 1)
            start_loss = opt.step(closure)
            losses[i - 1] = start_loss.detach()
            record(i, evaluate=i == last)
        else:
            for _ in range(n):
                batch = X if batch_size is None else X[torch.randperm(X.shape[0], generator=g)[:batch_size].to(X.device)]
                opt.zero_grad()
                F.mse_loss(model(batch), batch).backward()
                opt.step()
            record(i)
    return TrainResult(marks, losses.cpu(), weights)


def train_bottlenecks(X: torch.Tensor, ks: Sequence[int], *, tied: bool = True, activation: str = "linear",
                      steps: int = 100, seed: int = 0, record_every: int = 10, keep_weights: bool = False,
                      device: str | torch.device | None = None,
                      dtype: torch.dtype = torch.float32) -> dict[int, tuple[Autoencoder, TrainResult]]:
    """One autoencoder n_in → k → n_in per bottleneck size k, each trained by :func:`train_autoencoder`
    with the same seed and budget (autoencoder chapter). Returns {k: (model, result)}."""
    check_tensor("X", X, ndim=2)
    if not isinstance(ks, (list, tuple, range)) or len(ks) == 0:
        raise ArgumentError(f"ks must be a non-empty list of bottleneck sizes, got {ks!r}")
    ks = [check_int(f"ks[{i}]", k, low=1, high=X.shape[1]) for i, k in enumerate(ks)]
    out = {}
    for k in progress(ks, desc="bottleneck sizes"):
        model = Autoencoder(X.shape[1], k, tied=tied, activation=activation, device=device, dtype=dtype)
        out[k] = (model, train_autoencoder(model, X, steps, seed=seed, record_every=record_every,
                                           keep_weights=keep_weights, desc=f"k = {k}"))
    return out


def pca_basis(X: torch.Tensor, k: int) -> torch.Tensor:
    """The top-k principal directions of the rows of X (n, d) as the rows of a (k, d) float64 tensor, by SVD of
    the centred data (autoencoder chapter; scikit-learn's ``PCA(k).components_`` up to signs)."""
    check_tensor("X", X, ndim=2)
    k = check_int("k", k, low=1, high=min(X.shape))
    Xc = X.detach().to(torch.float64)
    Xc = Xc - Xc.mean(0)
    _, _, Vh = torch.linalg.svd(Xc, full_matrices=False)
    return Vh[:k]  # (k, d)
