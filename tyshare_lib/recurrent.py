"""One set of weights at every time step: RNN, LSTM and GRU (book/recurrent.ipynb).

A recurrent network applies the *same* weights at every step of a sequence,

    h_t = f(W_x x_t + W_h h_{t-1} + b),

so its parameter count does not depend on the length T, while its compute and the activations kept for
backpropagation grow with T. This module holds the chapter's maths:

* :func:`count_recurrent_parameters`: the closed-form count of ``torch.nn.RNN/LSTM/GRU``;
* :func:`unroll`: the forward pass of those modules written out step by step from their own weights;
* :func:`step_gradients`: the gradient of the shared weights as a sum of one contribution per step;
* :class:`SequenceRegressor`: a recurrent model with one cell reused at every step (tied) or one cell per
  position (untied), and :func:`train_regressor` on the adding problem (:func:`adding_problem`).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import torch
from torch import nn

from .checks import ArgumentError, check_choice, check_int, check_real, check_tensor
from .device import cpu_threads, resolve_device
from .progress import progress

CELLS = ("rnn", "lstm", "gru")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # gate groups: rows of W_ih and W_hh are GATES · hidden_size
_MODULES = {nn.RNN: "rnn", nn.LSTM: "lstm", nn.GRU: "gru"}
NONLINEARITIES = ("tanh", "relu")


# ----------------------------------------------------------------------------- counting
@dataclass(frozen=True)
class RecurrentCount:
    """Parameters of a torch recurrent module by kind (recurrent chapter); ``total`` is their sum."""

    input_weights: int  # the W_ih of every layer and direction
    recurrent_weights: int  # the W_hh of every layer and direction
    biases: int  # b_ih and b_hh: PyTorch keeps two bias vectors per gate group
    duplicate_biases: int  # the b_hh half of ``biases``: a textbook cell has one bias per gate group

    @property
    def total(self) -> int:
        """What ``sum(p.numel() for p in module.parameters())`` gives."""
        return self.input_weights + self.recurrent_weights + self.biases

    @property
    def textbook(self) -> int:
        """The count with one bias vector per gate group (the papers' cells): ``total`` minus b_hh."""
        return self.total - self.duplicate_biases


def _check_cell(cell: str) -> str:
    if not isinstance(cell, str):
        raise ArgumentError(f"cell must be one of {list(CELLS)}, got {type(cell).__name__} {cell!r}")
    return check_choice("cell", cell, CELLS)


def count_recurrent_parameters(cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
                               bias: bool = True, bidirectional: bool = False) -> RecurrentCount:
    """Closed-form parameter count of ``torch.nn.RNN/LSTM/GRU`` with these arguments (recurrent chapter).

    With G gate groups (RNN 1, GRU 3, LSTM 4), D directions and H = ``hidden_size``, layer 0 has
    D·(G·H·input_size + G·H·H + 2·G·H) parameters and every later layer D·(G·H·D·H + G·H·H + 2·G·H):
    a later layer reads both directions of the layer below. The length of the sequence appears nowhere.
    """
    _check_cell(cell)
    input_size = check_int("input_size", input_size, low=1)
    hidden_size = check_int("hidden_size", hidden_size, low=1)
    num_layers = check_int("num_layers", num_layers, low=1)
    for name, flag in (("bias", bias), ("bidirectional", bidirectional)):
        if not isinstance(flag, bool):
            raise ArgumentError(f"{name} must be True or False, got {type(flag).__name__} {flag!r}")
    G, H, D = GATES[cell], hidden_size, 2 if bidirectional else 1
    inputs = sum(G * H * (input_size if layer == 0 else D * H) for layer in range(num_layers)) * D
    recurrent = num_layers * D * G * H * H
    biases = num_layers * D * 2 * G * H if bias else 0
    return RecurrentCount(inputs, recurrent, biases, biases // 2)


def make_module(cell: str, input_size: int, hidden_size: int, num_layers: int = 1, *, bias: bool = True,
                batch_first: bool = False, bidirectional: bool = False, nonlinearity: str = "tanh",
                dtype: torch.dtype = torch.float32, device=None, seed: int | None = 0) -> nn.RNNBase:
    """A ``torch.nn.RNN/LSTM/GRU`` by name, seeded, on ``device`` (recurrent chapter)."""
    _check_cell(cell)
    check_int("input_size", input_size, low=1)
    check_int("hidden_size", hidden_size, low=1)
    check_int("num_layers", num_layers, low=1)
    check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
    if cell != "rnn" and nonlinearity != "tanh":
        raise ValueError(f"nonlinearity applies to cell='rnn' only, got nonlinearity={nonlinearity!r} for {cell!r}")
    dev = resolve_device(device)
    if seed is not None:
        torch.manual_seed(check_int("seed", seed))
    kwargs = dict(num_layers=num_layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional,
                  device=dev, dtype=dtype)
    if cell == "rnn":
        return nn.RNN(input_size, hidden_size, nonlinearity=nonlinearity, **kwargs)
    return (nn.LSTM if cell == "lstm" else nn.GRU)(input_size, hidden_size, **kwargs)


# ----------------------------------------------------------------------------- one step of each cell
def rnn_step(x: torch.Tensor, h: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
             b_ih: torch.Tensor | None = None, b_hh: torch.Tensor | None = None,
             nonlinearity: str = "tanh") -> torch.Tensor:
    """h_t = f(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), f = tanh or relu, as ``nn.RNN`` (recurrent chapter)."""
    a = x @ w_ih.T + h @ w_hh.T  # (B, H)
    if b_ih is not None:
        a = a + b_ih + b_hh
    return torch.tanh(a) if nonlinearity == "tanh" else torch.relu(a)


def lstm_step(x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
              b_ih: torch.Tensor | None = None, b_hh: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step in ``nn.LSTM``'s gate order (input, forget, cell, output) -> (h_t, c_t) (recurrent chapter)."""
    gates = x @ w_ih.T + h @ w_hh.T  # (B, 4H)
    if b_ih is not None:
        gates = gates + b_ih + b_hh
    i, f, g, o = gates.chunk(4, dim=-1)  # (B, H) each
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)  # the cell state: a gated running sum
    h = torch.sigmoid(o) * torch.tanh(c)
    return h, c


def gru_step(x: torch.Tensor, h: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
             b_ih: torch.Tensor | None = None, b_hh: torch.Tensor | None = None) -> torch.Tensor:
    """One GRU step in ``nn.GRU``'s gate order (reset, update, new) (recurrent chapter).

    The reset gate multiplies W_hn h + b_hn, which is why PyTorch needs b_hh as a separate vector here.
    """
    gi = x @ w_ih.T  # (B, 3H)
    gh = h @ w_hh.T  # (B, 3H)
    if b_ih is not None:
        gi, gh = gi + b_ih, gh + b_hh
    i_r, i_z, i_n = gi.chunk(3, dim=-1)
    h_r, h_z, h_n = gh.chunk(3, dim=-1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


# ----------------------------------------------------------------------------- unrolling a torch module
# weights(layer, direction, t) -> (w_ih, w_hh, b_ih, b_hh): which tensors step t of (layer, direction) uses.
WeightsAt = Callable[[int, int, int], tuple]


def _module_info(module) -> tuple[str, str]:
    kind = next((name for cls, name in _MODULES.items() if type(module) is cls), None)
    if kind is None:
        raise ArgumentError(f"module must be a torch.nn.RNN, nn.LSTM or nn.GRU, got {type(module).__name__}")
    if getattr(module, "proj_size", 0):
        raise ValueError(f"module.proj_size must be 0 (LSTM projections are not unrolled here), got {module.proj_size}")
    if module.training and module.dropout > 0 and module.num_layers > 1:
        raise ValueError(f"module.dropout must be 0, or the module in eval(): dropout={module.dropout} is random")
    return kind, getattr(module, "nonlinearity", "tanh")


def _suffix(layer: int, direction: int) -> str:
    return f"_l{layer}" + ("_reverse" if direction else "")


def weight_names(module: nn.RNNBase, layer: int = 0, direction: int = 0) -> list[str]:
    """The torch names of one layer's and direction's weights, e.g. ``weight_ih_l0`` (recurrent chapter)."""
    names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if module.bias else [])
    return [n + _suffix(layer, direction) for n in names]


def _check_inputs(module, inputs, h0):
    check_tensor("inputs", inputs)
    if inputs.ndim not in (2, 3):
        raise ValueError(f"inputs must be 3-D (T, B, input_size), or (B, T, input_size) with batch_first, "
                         f"or 2-D (T, input_size) unbatched; got shape {tuple(inputs.shape)}")
    if inputs.shape[-1] != module.input_size:
        raise ValueError(f"inputs must have input_size = {module.input_size} features in the last dimension, "
                         f"got shape {tuple(inputs.shape)}")
    if inputs.shape[-2 if inputs.ndim == 2 else (1 if module.batch_first else 0)] == 0:
        raise ValueError("inputs must hold at least one time step")


def _unroll(kind: str, nonlinearity: str, weights: WeightsAt, x: torch.Tensor, h0, num_layers: int,
            directions: int, hidden_size: int) -> tuple[torch.Tensor, torch.Tensor | tuple]:
    """The stacked, possibly bidirectional recurrence on time-major ``x`` (T, B, in); returns (out, h_n[, c_n])."""
    T, B = x.shape[0], x.shape[1]
    if h0 is None:
        zeros = x.new_zeros(num_layers * directions, B, hidden_size)
        h0 = (zeros, zeros) if kind == "lstm" else zeros
    h_last, c_last = [], []
    layer_in = x  # (T, B, in) for layer 0, (T, B, D·H) above it
    for layer in range(num_layers):
        outs = []
        for d in range(directions):
            k = layer * directions + d
            h = h0[0][k] if kind == "lstm" else h0[k]  # (B, H)
            c = h0[1][k] if kind == "lstm" else None
            steps = range(T - 1, -1, -1) if d else range(T)
            out = [None] * T
            for t in steps:
                w = weights(layer, d, t)  # the same tensors at every t, unless step_gradients hands out copies
                if kind == "lstm":
                    h, c = lstm_step(layer_in[t], h, c, *w)
                elif kind == "gru":
                    h = gru_step(layer_in[t], h, *w)
                else:
                    h = rnn_step(layer_in[t], h, *w, nonlinearity=nonlinearity)
                out[t] = h
            outs.append(torch.stack(out))  # (T, B, H)
            h_last.append(h)
            c_last.append(c)
        layer_in = torch.cat(outs, dim=-1) if directions == 2 else outs[0]  # (T, B, D·H)
    h_n = torch.stack(h_last)  # (L·D, B, H)
    return layer_in, ((h_n, torch.stack(c_last)) if kind == "lstm" else h_n)


def _run(module, inputs, h0, weights: WeightsAt):
    kind, nonlinearity = _module_info(module)
    _check_inputs(module, inputs, h0)
    unbatched = inputs.ndim == 2
    x = inputs.unsqueeze(1) if unbatched else (inputs.transpose(0, 1) if module.batch_first else inputs)
    D = 2 if module.bidirectional else 1
    if h0 is not None:
        states = h0 if kind == "lstm" else (h0,)
        if kind == "lstm" and not (isinstance(h0, tuple) and len(h0) == 2):
            raise ArgumentError("h0 must be a tuple (h_0, c_0) for an LSTM")
        want = (module.num_layers * D, *(() if unbatched else (x.shape[1],)), module.hidden_size)
        for s in states:
            check_tensor("h0", s)
            if tuple(s.shape) != want:
                raise ValueError(f"h0 must have shape {want}, got {tuple(s.shape)}")
        if unbatched:
            h0 = tuple(s.unsqueeze(1) for s in h0) if kind == "lstm" else h0.unsqueeze(1)
    out, state = _unroll(kind, nonlinearity, weights, x, h0, module.num_layers, D, module.hidden_size)
    if unbatched:
        return out[:, 0], (tuple(s[:, 0] for s in state) if kind == "lstm" else state[:, 0])
    return (out.transpose(0, 1) if module.batch_first else out), state


def unroll(module: nn.RNNBase, inputs: torch.Tensor, h0=None):
    """``module(inputs, h0)`` computed step by step from the module's own weights (recurrent chapter).

    Works for ``nn.RNN`` (tanh or relu), ``nn.LSTM`` and ``nn.GRU``, any ``num_layers``, ``batch_first``
    either way, bidirectional or not, batched (3-D) or unbatched (2-D) input. Returns ``(output, h_n)``,
    or ``(output, (h_n, c_n))`` for an LSTM, in torch's shapes, on the inputs' device. Every step reads the
    same parameter tensors: that is the tie.
    """
    kind, _ = _module_info(module)
    params = dict(module.named_parameters())
    cache = {(l, d): tuple(params[n] for n in weight_names(module, l, d))
             for l in range(module.num_layers) for d in range(2 if module.bidirectional else 1)}
    return _run(module, inputs, h0, lambda layer, d, t: cache[(layer, d)])


# ----------------------------------------------------------------------------- the gradient as a sum over time
@dataclass(frozen=True)
class StepGradients:
    """Each step's contribution to every shared weight's gradient, and autograd's tied gradient (recurrent chapter)."""

    per_step: dict[str, torch.Tensor]  # name -> (T, *shape): the gradient through step t's use of the weight
    tied: dict[str, torch.Tensor]  # name -> shape: the gradient of the shared parameter itself
    loss: float

    def summed(self) -> dict[str, torch.Tensor]:
        """The per-step contributions added over time; equals ``tied``."""
        return {n: g.sum(dim=0) for n, g in self.per_step.items()}

    def step_norms(self) -> torch.Tensor:
        """(T,) the norm of each step's contribution, over all the module's weights together."""
        return torch.sqrt(sum((g.flatten(1) ** 2).sum(dim=1) for g in self.per_step.values()))


def _default_loss(output, state) -> torch.Tensor:
    return 0.5 * (output ** 2).sum()


def step_gradients(module: nn.RNNBase, inputs: torch.Tensor, loss_fn: Callable | None = None,
                   h0=None) -> StepGradients:
    """Give every time step its own copy of the weights, backpropagate once, and return each copy's
    gradient beside the gradient of the real, shared weights (recurrent chapter).

    ``loss_fn(output, state) -> scalar`` (default ½‖output‖²) sees the outputs in torch's layout. Step t of
    a reverse direction is the step that reads ``inputs`` at time t. The copies are leaf tensors with the
    same values, so the forward pass is unchanged and ``per_step[name].sum(0)`` equals ``tied[name]``.
    """
    kind, _ = _module_info(module)
    if loss_fn is None:
        loss_fn = _default_loss
    elif not callable(loss_fn):
        raise ArgumentError(f"loss_fn must be callable (output, state) -> scalar, got {type(loss_fn).__name__}")
    _check_inputs(module, inputs, h0)
    T = inputs.shape[-2] if inputs.ndim == 2 else inputs.shape[1 if module.batch_first else 0]
    params = dict(module.named_parameters())
    copies = {n: [p.detach().clone().requires_grad_(True) for _ in range(T)] for n, p in params.items()}

    def at(layer, d, t):
        return tuple(copies[n][t] for n in weight_names(module, layer, d))

    output, state = _run(module, inputs, h0, at)
    loss = loss_fn(output, state)
    leaves = [c for n in params for c in copies[n]]
    grads = torch.autograd.grad(loss, leaves, allow_unused=True)
    per_step, k = {}, 0
    for n, p in params.items():
        gs = [torch.zeros_like(p) if g is None else g for g in grads[k:k + T]]
        per_step[n] = torch.stack(gs)  # (T, *p.shape)
        k += T
    out_tied, state_tied = module(inputs, h0) if h0 is not None else module(inputs)
    tied = torch.autograd.grad(loss_fn(out_tied, state_tied), list(params.values()), allow_unused=True)
    tied = {n: torch.zeros_like(p) if g is None else g for (n, p), g in zip(params.items(), tied)}
    return StepGradients(per_step, tied, float(loss.detach()))


# ----------------------------------------------------------------------------- what grows with T
@dataclass(frozen=True)
class SequenceCost:
    """Parameters, multiply-adds and stored activations of one length-T sequence (recurrent chapter)."""

    T: int
    parameters: int  # the same for every T
    multiply_adds: int  # T · layers · G·H·(in + H): the two matrix products of every step
    stored: int  # numbers kept for backprop: T · layers · (G·H pre-activations + the state, H or 2H)


def sequence_cost(cell: str, input_size: int, hidden_size: int, T: int, num_layers: int = 1) -> SequenceCost:
    """What one forward pass over T steps costs a unidirectional module, by the conventions of
    :class:`SequenceCost` (recurrent chapter): parameters flat in T, work and memory linear in T."""
    _check_cell(cell)
    check_int("input_size", input_size, low=1)
    H = check_int("hidden_size", hidden_size, low=1)
    T = check_int("T", T, low=1)
    check_int("num_layers", num_layers, low=1)
    G = GATES[cell]
    macs = sum(G * H * ((input_size if l == 0 else H) + H) for l in range(num_layers))
    state = 2 * H if cell == "lstm" else H
    return SequenceCost(T, count_recurrent_parameters(cell, input_size, H, num_layers).total,
                        T * macs, T * num_layers * (G * H + state))


def recurrent_weight_scale(module: nn.RNNBase, rho: float, *, forget_bias: float | None = None,
                           seed: int = 0) -> nn.RNNBase:
    """Set every W_hh gate block of ``module`` to ρ times a random orthogonal matrix, so each block's
    spectral radius (and largest singular value) is exactly ρ; optionally set the LSTM's forget-gate biases
    (b_if + b_hf) to ``forget_bias``. Returns the module, changed in place (recurrent chapter)."""
    kind, _ = _module_info(module)
    rho = check_real("rho", rho, low=0.0)
    if forget_bias is not None:
        forget_bias = check_real("forget_bias", forget_bias)
        if kind != "lstm" or not module.bias:
            raise ValueError("forget_bias applies to an nn.LSTM with bias=True only")
    g = torch.Generator().manual_seed(check_int("seed", seed))
    H = module.hidden_size
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.startswith("weight_hh"):
                for k in range(GATES[kind]):
                    q, r = torch.linalg.qr(torch.randn(H, H, generator=g, dtype=torch.float64))
                    q = q * torch.sign(torch.diagonal(r))  # a uniformly random orthogonal matrix
                    p[k * H:(k + 1) * H] = rho * q.to(p)
            if forget_bias is not None and name.startswith("bias_"):
                p[H:2 * H] = forget_bias / 2  # b_ih and b_hh both add to the forget gate
    return module


# ----------------------------------------------------------------------------- one model, any length
def adding_problem(n: int, length: int, *, seed: int = 0, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` sequences of the adding problem (Hochreiter & Schmidhuber 1997) of ``length`` steps (recurrent chapter).

    Each step carries (value ~ U[0, 1], marker ∈ {0, 1}); exactly two steps are marked, and the target is
    the sum of their values. Returns x (n, length, 2) and y (n,), float32 on ``device``.
    """
    n = check_int("n", n, low=1)
    length = check_int("length", length, low=2)
    dev = resolve_device(device)
    g = torch.Generator().manual_seed(check_int("seed", seed))
    values = torch.rand(n, length, generator=g)
    marks = torch.rand(n, length, generator=g).argsort(dim=1)[:, :2]  # two distinct positions per sequence
    marker = torch.zeros(n, length).scatter_(1, marks, 1.0)
    x = torch.stack([values, marker], dim=-1)  # (n, length, 2)
    y = (values * marker).sum(dim=1)  # (n,)
    return x.to(dev), y.to(dev)


@dataclass(frozen=True)
class RegressorConfig:
    """A recurrent regressor: a cell over the sequence, a linear read-out of the last state (recurrent chapter)."""

    cell: str = "gru"  # "rnn", "lstm" or "gru"
    input_size: int = 2  # features per step
    hidden_size: int = 16
    tied: bool = True  # one cell at every step; False: a cell of its own for every position
    max_length: int = 10  # the untied model has this many cells and cannot read longer sequences

    def __post_init__(self):
        _check_cell(self.cell)
        check_int("input_size", self.input_size, low=1)
        check_int("hidden_size", self.hidden_size, low=1)
        check_int("max_length", self.max_length, low=1)
        if not isinstance(self.tied, bool):
            raise ArgumentError(f"tied must be True or False, got {self.tied!r}")

    def with_(self, **changes) -> "RegressorConfig":
        """A copy with some fields changed."""
        return replace(self, **changes)


_CELL_MODULES = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}


class SequenceRegressor(nn.Module):
    """h_t = cell(x_t, h_{t−1}); prediction = w·h_T + b; tied: one cell object at every t (recurrent chapter)."""

    def __init__(self, config: RegressorConfig = RegressorConfig(), device=None):
        super().__init__()
        if not isinstance(config, RegressorConfig):
            raise ArgumentError(f"config must be a RegressorConfig, got {type(config).__name__}")
        self.config = config
        dev = resolve_device(device)
        make = lambda: _CELL_MODULES[config.cell](config.input_size, config.hidden_size, device=dev)  # noqa: E731
        if config.tied:
            self.cell = make()
            self.cells = [self.cell]  # a plain list: the one cell is registered once, as self.cell
        else:
            self.cells = nn.ModuleList(make() for _ in range(config.max_length))
        self.readout = nn.Linear(config.hidden_size, 1, device=dev)

    def cell_at(self, t: int) -> nn.Module:
        """The cell that reads step t: the same object for every t when tied."""
        return self.cells[0] if self.config.tied else self.cells[t]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, input_size) -> predictions (B,)."""
        check_tensor("x", x, ndim=3)
        B, T, F = x.shape
        if F != self.config.input_size:
            raise ValueError(f"x must have input_size = {self.config.input_size} features, got {F}")
        if not self.config.tied and T > self.config.max_length:
            n = self.config.max_length
            raise ValueError(f"x has length T = {T}, but the untied model has cells for positions 1..{n} only "
                             f"(max_length): there are no weights for position {n + 1}")
        h = x.new_zeros(B, self.config.hidden_size)  # (B, H)
        c = x.new_zeros(B, self.config.hidden_size) if self.config.cell == "lstm" else None
        for t in range(T):
            if c is None:
                h = self.cell_at(t)(x[:, t], h)
            else:
                h, c = self.cell_at(t)(x[:, t], (h, c))
        return self.readout(h).squeeze(-1)  # (B,)


@dataclass
class TrainResult:
    """A trained regressor and its training-loss curve (recurrent chapter)."""

    model: SequenceRegressor
    losses: list[float] = field(default_factory=list)  # training MSE per step


def train_regressor(config: RegressorConfig, lengths: Sequence[int] = tuple(range(2, 11)), steps: int = 400,
                    batch_size: int = 64, lr: float = 1e-2, seed: int = 0, device=None,
                    show_progress: bool | None = None) -> TrainResult:
    """Train a :class:`SequenceRegressor` on the adding problem with Adam, each step one batch of one length
    drawn from ``lengths`` (recurrent chapter). Seeded: two runs give identical weights and losses."""
    if not isinstance(config, RegressorConfig):
        raise ArgumentError(f"config must be a RegressorConfig, got {type(config).__name__}")
    lengths = list(lengths)
    if not lengths:
        raise ValueError("lengths must hold at least one length")
    for i, L in enumerate(lengths):
        check_int(f"lengths[{i}]", L, low=2, high=None if config.tied else config.max_length)
    steps = check_int("steps", steps, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    lr = check_real("lr", lr, low=0.0)
    dev = resolve_device(device)
    torch.manual_seed(check_int("seed", seed))
    model = SequenceRegressor(config, device=dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed + 1)
    losses = []
    with cpu_threads(dev):
        for step in progress(range(steps), desc=f"{'tied' if config.tied else 'untied'} {config.cell}",
                             show=show_progress):
            L = lengths[int(torch.randint(len(lengths), (1,), generator=g))]
            x, y = adding_problem(batch_size, L, seed=seed * 100_003 + step, device=dev)
            loss = ((model(x) - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
    return TrainResult(model, losses)


@torch.no_grad()
def evaluate(model: SequenceRegressor, lengths: Sequence[int], n: int = 500, seed: int = 12345) -> dict[int, float]:
    """Held-out MSE on fresh adding-problem sequences of each length; NaN where the model has no weights
    for that length (the untied model past ``max_length``) (recurrent chapter)."""
    if not isinstance(model, SequenceRegressor):
        raise ArgumentError(f"model must be a SequenceRegressor, got {type(model).__name__}")
    n = check_int("n", n, low=1)
    dev = next(model.parameters()).device
    out = {}
    for L in lengths:
        check_int("length", L, low=2)
    with cpu_threads(dev):
        for L in lengths:
            if not model.config.tied and L > model.config.max_length:
                out[L] = float("nan")
                continue
            x, y = adding_problem(n, L, seed=seed + L, device=dev)
            out[L] = float(((model(x) - y) ** 2).mean())
    return out
