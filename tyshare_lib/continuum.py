"""From tying to sharing in a real network: one λ takes a locally connected layer to a convolution.

Used by the chapter *One λ from a locally connected layer to a convolution* (book/continuum.ipynb).
A locally connected layer has its own filter wₚ (and bias) at every output position p; a convolution
has one filter for all of them. The position-tying penalty

    Ω(w) = Σₚ ‖wₚ − w̄‖²,   w̄ = the mean filter over positions,

is 0 exactly when the layer is a convolution. Training with loss + λ·Ω moves the layer continuously
from λ = 0 (every position on its own) to λ = ∞, which is a real ``nn.Conv2d``: hard sharing is soft
tying at λ = ∞, as the tying chapter shows for two linear models.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .checks import ArgumentError, check_int, check_real, check_tensor
from .conv import output_size
from .device import cpu_threads, resolve_device
from .digits import N_CLASSES, SIDE, split_digits
from .progress import progress


# ----------------------------------------------------------------------------- argument helpers
def _pair(name: str, value, low: int) -> tuple[int, int]:
    """An int or a pair of ints, each >= low, as (height, width)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a (height, width) pair, got {value!r}")
        return (check_int(f"{name}[0]", value[0], low=low), check_int(f"{name}[1]", value[1], low=low))
    v = check_int(name, value, low=low)
    return (v, v)


def output_shape(input_size, kernel_size, stride=1, padding=0) -> tuple[int, int]:
    """(out_h, out_w): the positions a kernel takes on an input, as ``nn.Conv2d`` computes them (continuum chapter)."""
    (h, w), (kh, kw) = _pair("input_size", input_size, 1), _pair("kernel_size", kernel_size, 1)
    (sh, sw), (ph, pw) = _pair("stride", stride, 1), _pair("padding", padding, 0)
    if kh > h + 2 * ph or kw > w + 2 * pw:
        raise ValueError(f"kernel_size {(kh, kw)} is larger than the padded input {(h + 2 * ph, w + 2 * pw)}: "
                         "use a smaller kernel or more padding")
    return output_size(h, kh, sh, ph), output_size(w, kw, sw, pw)


# ----------------------------------------------------------------------------- the layer
class LocallyConnected2d(nn.Module):
    """A convolution without sharing: its own filter and bias at every output position (continuum chapter).

    ``weight`` is (out_h, out_w, out_channels, in_channels, k_h, k_w): ``weight[i, j]`` has the shape of
    ``nn.Conv2d.weight`` and is the filter bank used at output position (i, j). ``bias`` is
    (out_h, out_w, out_channels). Input and output shapes are those of ``nn.Conv2d`` with the same sizes.
    """

    def __init__(self, in_channels: int, out_channels: int, input_size: int | tuple[int, int],
                 kernel_size: int | tuple[int, int], stride: int | tuple[int, int] = 1,
                 padding: int | tuple[int, int] = 0, bias: bool = True, device: str | torch.device | None = None,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels, low=1)
        self.out_channels = check_int("out_channels", out_channels, low=1)
        self.input_size = _pair("input_size", input_size, 1)
        self.kernel_size = _pair("kernel_size", kernel_size, 1)
        self.stride = _pair("stride", stride, 1)
        self.padding = _pair("padding", padding, 0)
        if not isinstance(bias, bool):
            raise ArgumentError(f"bias must be a bool, got {type(bias).__name__}")
        self.out_size = output_shape(self.input_size, self.kernel_size, self.stride, self.padding)
        dev = resolve_device(device)
        oh, ow = self.out_size
        kh, kw = self.kernel_size
        self.weight = nn.Parameter(torch.empty(oh, ow, out_channels, in_channels, kh, kw, device=dev, dtype=dtype))
        self.bias = nn.Parameter(torch.empty(oh, ow, out_channels, device=dev, dtype=dtype)) if bias else None
        self.reset_parameters()

    @property
    def positions(self) -> int:
        """Number of output positions, each with its own filter bank."""
        return self.out_size[0] * self.out_size[1]

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Every position's filter drawn independently as ``nn.Conv2d`` draws its one: U(±1/√fan_in)."""
        _uniform_(self.weight, self.in_channels * self.kernel_size[0] * self.kernel_size[1], generator)
        if self.bias is not None:
            _uniform_(self.bias, self.in_channels * self.kernel_size[0] * self.kernel_size[1], generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels or tuple(x.shape[2:]) != self.input_size:
            raise ValueError(f"x must have shape (batch, {self.in_channels}, {self.input_size[0]}, "
                             f"{self.input_size[1]}), got {tuple(x.shape)}")
        return locally_connected(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, input_size={self.input_size}, "
                f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"positions={self.positions}")

    @classmethod
    def from_conv2d(cls, conv: nn.Conv2d, input_size: int | tuple[int, int]) -> LocallyConnected2d:
        """The locally connected layer that computes exactly what ``conv`` does on inputs of ``input_size``:
        the convolution's filter copied to every position (copies, so they can then drift apart)."""
        if not isinstance(conv, nn.Conv2d):
            raise ArgumentError(f"conv must be an nn.Conv2d, got {type(conv).__name__}")
        if conv.groups != 1 or conv.dilation != (1, 1) or isinstance(conv.padding, str) \
                or conv.padding_mode != "zeros":
            raise ValueError("conv must have groups=1, dilation=1, zero padding given as numbers "
                             f"(got groups={conv.groups}, dilation={conv.dilation}, padding={conv.padding!r}, "
                             f"padding_mode={conv.padding_mode!r})")
        layer = cls(conv.in_channels, conv.out_channels, input_size, conv.kernel_size, conv.stride, conv.padding,
                    bias=conv.bias is not None, device=conv.weight.device, dtype=conv.weight.dtype)
        with torch.no_grad():
            layer.weight.copy_(conv.weight.expand_as(layer.weight))  # (oh, ow, C_out, C_in, kh, kw)
            if conv.bias is not None:
                layer.bias.copy_(conv.bias.expand_as(layer.bias))
        return layer

    def to_conv2d(self, atol: float = 1e-6) -> nn.Conv2d:
        """The convolution this layer is, when every position's filter and bias agree within ``atol``;
        raises ValueError saying how far apart they are otherwise."""
        atol = check_real("atol", atol, low=0.0)
        spread = max_filter_spread(self)
        if spread > atol:
            raise ValueError(f"the filters at different positions differ by up to {spread:.3g} > atol={atol:g}: "
                             "this layer is not a convolution (train it with a larger λ, or raise atol)")
        conv = nn.Conv2d(self.in_channels, self.out_channels, self.kernel_size, self.stride, self.padding,
                         bias=self.bias is not None, device=self.weight.device, dtype=self.weight.dtype)
        with torch.no_grad():  # the mean filter, as position (0, 0)'s plus the mean deviation: exact when all agree
            conv.weight.copy_(self.weight[0, 0] + (self.weight - self.weight[:1, :1]).mean(dim=(0, 1)))
            if self.bias is not None:
                conv.bias.copy_(self.bias[0, 0] + (self.bias - self.bias[:1, :1]).mean(dim=(0, 1)))
        return conv


def _uniform_(t: torch.Tensor, fan_in: int, generator: torch.Generator | None) -> None:
    bound = 1.0 / math.sqrt(fan_in)  # what nn.Conv2d / nn.Linear's default initialisation amounts to
    with torch.no_grad():
        if generator is None:
            t.uniform_(-bound, bound)
        else:  # drawn on the CPU, so the same seed gives the same start on every device
            t.copy_(torch.rand(t.shape, generator=generator, dtype=t.dtype) * (2 * bound) - bound)


def locally_connected(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                      stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0) -> torch.Tensor:
    """The locally connected layer as a function: ``F.conv2d`` with a different filter at each position.

    x (B, C_in, H, W); weight (out_h, out_w, C_out, C_in, k_h, k_w); bias (out_h, out_w, C_out) or None.
    Unfold cuts every window into a column; one einsum applies each position's own filter to its column.
    """
    oh, ow, c_out, c_in, kh, kw = weight.shape
    cols = F.unfold(x, (kh, kw), padding=padding, stride=stride)  # (B, C_in·kh·kw, oh·ow)
    if cols.shape[-1] != oh * ow:
        raise ValueError(f"weight has {oh} × {ow} positions but x gives {cols.shape[-1]} windows")
    w = weight.reshape(oh * ow, c_out, c_in * kh * kw)  # (P, C_out, K)
    out = torch.einsum("bkp,pok->bop", cols, w)  # (B, C_out, P): position p uses only its own filter
    if bias is not None:
        out = out + bias.reshape(oh * ow, c_out).T  # (C_out, P)
    return out.reshape(x.shape[0], c_out, oh, ow)


# ----------------------------------------------------------------------------- the penalty
def _check_layer(layer) -> LocallyConnected2d:
    if not isinstance(layer, LocallyConnected2d):
        raise ArgumentError(f"layer must be a LocallyConnected2d, got {type(layer).__name__}")
    return layer


def _position_penalty(weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """Σₚ ‖wₚ − w̄‖² (+ the same for the biases), positions on the first two axes."""
    return sum(((d - d.mean(dim=(0, 1), keepdim=True)) ** 2).sum() for d in _deviations(weight, bias))


def _deviations(weight: torch.Tensor, bias: torch.Tensor | None) -> list[torch.Tensor]:
    """Each position's filter (and bias) minus position (0, 0)'s: the spread around the mean is unchanged,
    and equal filters give exact zeros, so Ω is exactly 0 for a convolution despite rounding in the mean."""
    return [t - t[:1, :1] for t in (weight, bias) if t is not None]


def position_tying_penalty(layer: LocallyConnected2d) -> torch.Tensor:
    """Ω = Σₚ ‖wₚ − w̄‖² over output positions p, filters and biases, w̄ the mean over positions (continuum chapter).

    Differentiable; 0 exactly when every position holds the same filter, i.e. when the layer is a convolution.
    """
    layer = _check_layer(layer)
    return _position_penalty(layer.weight, layer.bias)


def max_filter_spread(layer: LocallyConnected2d) -> float:
    """Largest |wₚ − w̄| entry over positions, filters and biases: 0 when the layer is a convolution."""
    layer = _check_layer(layer)
    with torch.no_grad():
        return max(float((d - d.mean(dim=(0, 1), keepdim=True)).abs().max())
                   for d in _deviations(layer.weight, layer.bias))


# ----------------------------------------------------------------------------- counts
def conv_parameter_count(in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                         bias: bool = True) -> int:
    """Parameters of one ``nn.Conv2d``: one filter bank, whatever the image size (continuum chapter)."""
    c_in, c_out = check_int("in_channels", in_channels, low=1), check_int("out_channels", out_channels, low=1)
    kh, kw = _pair("kernel_size", kernel_size, 1)
    return c_out * c_in * kh * kw + (c_out if bias else 0)


def locally_connected_parameter_count(in_channels: int, out_channels: int, input_size: int | tuple[int, int],
                                      kernel_size: int | tuple[int, int], stride: int | tuple[int, int] = 1,
                                      padding: int | tuple[int, int] = 0, bias: bool = True) -> int:
    """Parameters of a :class:`LocallyConnected2d`: positions × the convolution's (continuum chapter)."""
    oh, ow = output_shape(input_size, kernel_size, stride, padding)
    return oh * ow * conv_parameter_count(in_channels, out_channels, kernel_size, bias)


# ----------------------------------------------------------------------------- translation equivariance
def layer_equivariance_error(layer: nn.Module, image: torch.Tensor, shift: tuple[int, int]) -> float:
    """max |layer(shift(x)) − shift(layer(x))| away from the borders, over channels (continuum chapter).

    The measure of :func:`tyshare_lib.conv.translation_equivariance_error` (same rolls, same cells
    compared), applied to a whole first layer: a ``LocallyConnected2d`` or an ``nn.Conv2d`` with stride 1
    and no padding. ``image`` is (C_in, H, W). It is 0 up to rounding for a convolution.
    """
    if isinstance(layer, LocallyConnected2d):
        stride, padding, c_in = layer.stride, layer.padding, layer.in_channels
    elif isinstance(layer, nn.Conv2d):
        stride, padding, c_in = layer.stride, layer.padding, layer.in_channels
    else:
        raise ArgumentError(f"layer must be a LocallyConnected2d or an nn.Conv2d, got {type(layer).__name__}")
    if tuple(stride) != (1, 1) or tuple(padding) != (0, 0):
        raise ValueError(f"layer must have stride 1 and padding 0 to compare shifts, got {stride} and {padding}")
    check_tensor("image", image, ndim=3)
    if image.shape[0] != c_in:
        raise ValueError(f"image must have {c_in} channels (the layer's in_channels), got {image.shape[0]}")
    if not (isinstance(shift, tuple) and len(shift) == 2 and all(isinstance(s, int) for s in shift)):
        raise ArgumentError(f"shift must be a (rows, cols) tuple of ints, got {shift!r}")
    dy, dx = shift
    kh, kw = layer.kernel_size
    if abs(dy) + kh > image.shape[1] or abs(dx) + kw > image.shape[2]:
        raise ValueError(f"shift {shift} leaves no interior for a {kh} × {kw} kernel on a "
                         f"{image.shape[1]} × {image.shape[2]} image")
    with torch.no_grad():
        x = image.to(_param_of(layer))[None]  # (1, C_in, H, W)
        a = torch.roll(layer(x), shifts=(dy, dx), dims=(2, 3))  # shift(layer(x))
        b = layer(torch.roll(x, shifts=(dy, dx), dims=(2, 3)))  # layer(shift(x))
    rows = slice(dy, None) if dy >= 0 else slice(None, dy)
    cols = slice(dx, None) if dx >= 0 else slice(None, dx)
    return float((a[..., rows, cols] - b[..., rows, cols]).abs().max())


def _param_of(module: nn.Module) -> torch.Tensor:
    return next(module.parameters())


# ----------------------------------------------------------------------------- the digits on a canvas
@dataclass(frozen=True)
class CanvasDigits:
    """Few training digits and a held-out set, each 8 × 8 digit centred on a larger blank canvas (continuum chapter)."""

    X_train: torch.Tensor  # (n, 1, canvas, canvas) in [0, 1]
    y_train: torch.Tensor  # (n,) int64
    X_test: torch.Tensor  # (m, 1, canvas, canvas): the held-out digits, centred like the training ones
    y_test: torch.Tensor  # (m,)
    canvas: int

    @property
    def margin(self) -> int:
        """Blank pixels around the centred digit on each side: how far it can be shifted without cropping."""
        return (self.canvas - SIDE) // 2


def shift_images(X: torch.Tensor, shift: tuple[int, int]) -> torch.Tensor:
    """Images (n, C, H, W) moved by (rows, cols) pixels, zeros coming in (nothing wraps around)."""
    check_tensor("X", X, ndim=4)
    if not (isinstance(shift, tuple) and len(shift) == 2 and all(isinstance(s, int) for s in shift)):
        raise ArgumentError(f"shift must be a (rows, cols) tuple of ints, got {shift!r}")
    dy, dx = shift
    if abs(dy) >= X.shape[2] or abs(dx) >= X.shape[3]:
        raise ValueError(f"shift {shift} moves the images ({X.shape[2]} × {X.shape[3]}) out of the frame")
    return F.pad(X, (dx, -dx, dy, -dy))  # negative padding crops: the frame keeps its size


def make_canvas_digits(n_per_class: int = 10, canvas: int = 12, seed: int = 0, test_fraction: float = 0.3,
                       device: str | torch.device | None = None) -> CanvasDigits:
    """``n_per_class`` training digits per class, drawn by ``seed``, and a fixed held-out set (continuum chapter).

    The held-out digits are the same for every ``seed`` (scikit-learn's digits split once, stratified,
    with seed 0); only which few training digits are drawn from the rest changes with ``seed``.
    """
    n_per_class = check_int("n_per_class", n_per_class, low=1, high=120)
    canvas = check_int("canvas", canvas, low=SIDE, high=64)
    if (canvas - SIDE) % 2:
        raise ValueError(f"canvas must be 8 plus an even margin (8, 10, 12, ...), got {canvas}")
    seed = check_int("seed", seed, low=0)
    dev = resolve_device(device)
    split = split_digits(test_fraction, seed=0)
    g = torch.Generator().manual_seed(seed)
    idx = torch.cat([torch.nonzero(split.y_train == c).flatten()[
        torch.randperm(int((split.y_train == c).sum()), generator=g)[:n_per_class]] for c in range(N_CLASSES)])
    if len(idx) < n_per_class * N_CLASSES:
        raise ValueError(f"n_per_class={n_per_class} is more than some class has in the training pool")
    idx = idx[torch.randperm(len(idx), generator=g)]
    m = (canvas - SIDE) // 2

    def place(X: torch.Tensor) -> torch.Tensor:
        return F.pad(X.reshape(-1, 1, SIDE, SIDE), (m, m, m, m)).to(dev)  # (n, 1, canvas, canvas)

    return CanvasDigits(place(split.X_train[idx]), split.y_train[idx].to(dev), place(split.X_test),
                        split.y_test.to(dev), canvas)


# ----------------------------------------------------------------------------- the network
@dataclass(frozen=True)
class ContinuumConfig:
    """The small digit classifier of the continuum chapter."""

    canvas: int = 12  # input images are canvas × canvas, one channel
    out_channels: int = 8  # filters of the first layer (per position when locally connected)
    kernel_size: int = 5  # k × k filters, stride 1, no padding
    n_classes: int = N_CLASSES

    def __post_init__(self):
        check_int("canvas", self.canvas, low=2)
        check_int("out_channels", self.out_channels, low=1)
        check_int("kernel_size", self.kernel_size, low=1, high=self.canvas)
        check_int("n_classes", self.n_classes, low=2)

    @property
    def out_size(self) -> int:
        """Side of the first layer's output map: the number of positions is its square."""
        return self.canvas - self.kernel_size + 1


class ContinuumNet(nn.Module):
    """First layer (locally connected, or ``nn.Conv2d`` when ``shared``) → ReLU → max over all positions
    → linear (continuum chapter).

    The max over positions asks "did this filter fire anywhere?": with a convolution below it the
    network barely notices where a digit sits; with a locally connected layer it does.
    """

    def __init__(self, config: ContinuumConfig | None = None, shared: bool = False,
                 device: str | torch.device | None = None, seed: int | None = None):
        super().__init__()
        self.config = cfg = config if config is not None else ContinuumConfig()
        if not isinstance(cfg, ContinuumConfig):
            raise ArgumentError(f"config must be a ContinuumConfig, got {type(cfg).__name__}")
        if not isinstance(shared, bool):
            raise ArgumentError(f"shared must be a bool, got {type(shared).__name__}")
        dev = resolve_device(device)
        self.shared = shared
        if shared:  # λ = ∞: one filter bank, used at every position by the convolution itself
            self.features = nn.Conv2d(1, cfg.out_channels, cfg.kernel_size, device=dev)
        else:
            self.features = LocallyConnected2d(1, cfg.out_channels, cfg.canvas, cfg.kernel_size, device=dev)
        self.head = nn.Linear(cfg.out_channels, cfg.n_classes, device=dev)
        if seed is not None:
            self.reset_parameters(check_int("seed", seed, low=0))

    def reset_parameters(self, seed: int) -> None:
        """Seeded start, drawn on the CPU (the same numbers on every device), U(±1/√fan_in) as torch draws.

        The convolution starts from a filter bank c₀; the locally connected layer of the same seed from
        c₀ plus an offset of the same size drawn for each position, so every λ starts near the same place.
        """
        g = torch.Generator().manual_seed(seed)
        fan = self.config.kernel_size ** 2
        f = self.features
        c0_w, c0_b = torch.empty(f.weight.shape[-4:]), torch.empty(f.bias.shape[-1:])  # (O, 1, k, k), (O,)
        _uniform_(c0_w, fan, g)
        _uniform_(c0_b, fan, g)
        with torch.no_grad():
            if self.shared:
                f.weight.copy_(c0_w)
                f.bias.copy_(c0_b)
            else:
                _uniform_(f.weight, fan, g)  # (oh, ow, O, 1, k, k) offsets, then the common start added
                _uniform_(f.bias, fan, g)
                f.weight.add_(c0_w.to(f.weight.device))
                f.bias.add_(c0_b.to(f.bias.device))
        _uniform_(self.head.weight, self.head.in_features, g)
        _uniform_(self.head.bias, self.head.in_features, g)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.features(x))  # (B, C, s, s), s = canvas − k + 1
        return self.head(h.amax(dim=(2, 3)))  # strongest response of each filter anywhere -> (B, n_classes)

    def penalty(self) -> torch.Tensor:
        """Ω of the first layer: Σₚ ‖wₚ − w̄‖² (exactly 0 for the convolution)."""
        if self.shared:
            return torch.zeros((), device=self.features.weight.device)
        return position_tying_penalty(self.features)


def continuum_parameter_count(config: ContinuumConfig, shared: bool) -> int:
    """Closed-form parameter count of :class:`ContinuumNet` (continuum chapter)."""
    if not isinstance(config, ContinuumConfig):
        raise ArgumentError(f"config must be a ContinuumConfig, got {type(config).__name__}")
    if shared:
        first = conv_parameter_count(1, config.out_channels, config.kernel_size)
    else:
        first = locally_connected_parameter_count(1, config.out_channels, config.canvas, config.kernel_size)
    return first + config.out_channels * config.n_classes + config.n_classes


# ----------------------------------------------------------------------------- training
@dataclass
class ContinuumRun:
    """One trained network of :func:`train_continuum` / :func:`sweep_continuum` and what it scored."""

    lam: float
    seed: int
    n_per_class: int
    model: ContinuumNet  # trained, on the device it trained on
    losses: torch.Tensor  # (steps,) training objective (cross-entropy + λ·Ω) before each step, on the CPU
    train_accuracy: float
    test_accuracy: float
    penalty: float  # Ω of the first layer at the end


def _check_data(data) -> CanvasDigits:
    if not isinstance(data, CanvasDigits):
        raise ArgumentError(f"data must be a CanvasDigits (see make_canvas_digits), got {type(data).__name__}")
    return data


def _check_train_args(steps, lr) -> tuple[int, float]:
    steps = check_int("steps", steps, low=1)
    lr = check_real("lr", lr, low=0.0)
    if lr == 0:
        raise ValueError("lr must be > 0")
    return steps, lr


def _columns(X: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Every k × k window of every image, cut once: (n, 1, S, S) -> (P, n, K) (training reuses them each step)."""
    return F.unfold(X, kernel_size).permute(2, 0, 1).contiguous()  # (P, n, K), K = k²


def _stacked(models: list[ContinuumNet]) -> dict[str, torch.Tensor]:
    """The models' parameters stacked along a new first axis (M, ...), as fresh leaves to optimise.

    A locally connected layer is stored as its mean filter w̄ ("features.mean_*", (M, O, 1, k, k)) plus each
    position's deviation δₚ = wₚ − w̄ ("features.weight"/"features.bias"): the same function of wₚ = w̄ + δₚ,
    but Adam then moves the common filter with the gradient of every position, as it moves a convolution's.
    (On wₚ directly, a large λ makes Adam's steps a stiff tug-of-war and training stalls.)
    """
    p = {name: torch.stack([dict(m.named_parameters())[name].detach() for m in models])
         for name, _ in models[0].named_parameters()}
    if not models[0].shared:
        for kind in ("weight", "bias"):
            v = p[f"features.{kind}"]  # (M, oh, ow, ...)
            mean = v.mean(dim=(1, 2))
            p[f"features.mean_{kind}"] = mean
            p[f"features.{kind}"] = v - mean[:, None, None]
    return {name: t.contiguous().requires_grad_() for name, t in p.items()}


def _first_layer(p: dict[str, torch.Tensor], shared: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The first layer's filters and biases from the stacked parameters: wₚ = w̄ + δₚ, or the one shared w."""
    if shared:
        return p["features.weight"], p["features.bias"]  # (M, O, 1, k, k), (M, O)
    return (p["features.mean_weight"][:, None, None] + p["features.weight"],  # (M, oh, ow, O, 1, k, k)
            p["features.mean_bias"][:, None, None] + p["features.bias"])  # (M, oh, ow, O)


def _stacked_logits(p: dict[str, torch.Tensor], cols: torch.Tensor, shared: bool, cfg: ContinuumConfig) -> torch.Tensor:
    """What :meth:`ContinuumNet.forward` computes, for M stacked networks at once: (M, n, classes).

    ``cols`` is (M, P, n, K) (each network its own data) or (P, n, K) (the same data for all). Locally
    connected: position p applies its own filter w[p] to its window; convolution (``shared``): the one
    filter w is applied to every window, the sharing written as the same tensor used for all p.
    """
    w, b = _first_layer(p, shared)
    M, O, K = w.shape[0], cfg.out_channels, cfg.kernel_size ** 2
    w = w.reshape(M, 1 if shared else -1, O, K)  # (M, P or 1, O, K)
    b = b.reshape(M, 1 if shared else -1, 1, O)  # (M, P or 1, 1, O)
    if cols.ndim == 3:
        cols = cols.expand(M, *cols.shape)  # a view: no copy of the windows
    h = torch.relu(torch.matmul(cols, w.transpose(-1, -2)) + b)  # (M, P, n, O): filter at p · window at p
    h = h.amax(dim=1)  # (M, n, O): each filter's strongest response over all positions
    return torch.baddbmm(p["head.bias"][:, None, :], h, p["head.weight"].transpose(1, 2))  # (M, n, classes)


class _Adam:
    """Adam (Kingma & Ba 2015, torch's defaults), written out: it is elementwise, so stacked networks
    are stepped exactly as if each had its own optimiser. (Also spares the notebook the two seconds
    ``torch.optim`` takes to import torch._dynamo on first use.)"""

    def __init__(self, params: list[torch.Tensor], lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.params, self.lr, self.betas, self.eps, self.t = params, lr, betas, eps, 0
        self.m = [torch.zeros_like(q) for q in params]
        self.v = [torch.zeros_like(q) for q in params]

    @torch.no_grad()
    def step(self, grads: Sequence[torch.Tensor]) -> None:
        self.t += 1
        b1, b2 = self.betas
        for q, g, m, v in zip(self.params, grads, self.m, self.v):
            m.lerp_(g, 1 - b1)  # m ← β₁m + (1 − β₁)g
            v.mul_(b2).addcmul_(g, g, value=1 - b2)  # v ← β₂v + (1 − β₂)g²
            denom = (v / (1 - b2 ** self.t)).sqrt_().add_(self.eps)
            q.addcdiv_(m, denom, value=-self.lr / (1 - b1 ** self.t))


def _train_group(models: list[ContinuumNet], lams: list[float], cols: torch.Tensor, y: torch.Tensor,
                 steps: int, lr: float, desc: str) -> torch.Tensor:
    """Train same-shaped networks side by side, their parameters stacked along a first axis (M, ...).

    Network m minimises its own CE_m + λ_m Ω_m on its own data (``cols`` (M, P, n, K), ``y`` (M, n)). The
    summed loss gives each network exactly its own gradient and Adam works entry by entry, so this is
    training them one after the other, only in one loop. Returns the losses (steps, M) on the CPU; the
    trained values are written back into ``models``.
    """
    cfg, shared = models[0].config, models[0].shared
    p = _stacked(models)
    lam = torch.tensor([0.0 if math.isinf(v) else v for v in lams], device=cols.device)  # (M,)
    M, n = y.shape
    opt = _Adam(list(p.values()), lr=lr)
    losses = torch.empty(steps, M, device=cols.device)
    with cpu_threads(cols.device):
        _run_steps(p, opt, lam, cols, y, steps, desc, shared, cfg, losses)
    with torch.no_grad():
        w, b = _first_layer(p, shared)
        for m, model in enumerate(models):
            model.features.weight.copy_(w[m])
            model.features.bias.copy_(b[m])
            model.head.weight.copy_(p["head.weight"][m])
            model.head.bias.copy_(p["head.bias"][m])
    return losses.cpu()


def _run_steps(p, opt, lam, cols, y, steps, desc, shared, cfg, losses) -> None:
    M, n = y.shape
    for t in progress(range(steps), desc=desc):
        logits = _stacked_logits(p, cols, shared, cfg)  # (M, n, classes)
        loss = F.cross_entropy(logits.reshape(M * n, -1), y.reshape(-1), reduction="none").reshape(M, n).mean(1)
        if not shared:  # Ω_m = Σₚ ‖wₚ − w̄‖² = Σₚ ‖δₚ − δ̄‖², positions on axes 1 and 2
            d, e = p["features.weight"], p["features.bias"]
            omega = ((d - d.mean(dim=(1, 2), keepdim=True)) ** 2).flatten(1).sum(1) \
                + ((e - e.mean(dim=(1, 2), keepdim=True)) ** 2).flatten(1).sum(1)
            loss = loss + lam * omega  # (M,)
        grads = torch.autograd.grad(loss.sum(), opt.params)
        opt.step(grads)
        losses[t] = loss.detach()


def _accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(X).argmax(dim=1) == y).float().mean())


def train_continuum(data: CanvasDigits, lam: float, seed: int = 0, steps: int = 100, lr: float = 0.03,
                    config: ContinuumConfig | None = None, device: str | torch.device | None = None) -> ContinuumRun:
    """Train one :class:`ContinuumNet` with cross-entropy + λ·Ω by full-batch Adam (continuum chapter).

    λ = 0: a free locally connected layer; finite λ > 0: its positions pulled toward their mean filter;
    λ = inf: a real ``nn.Conv2d`` in its place. ``seed`` fixes the start; the data are ``data``'s.
    """
    return sweep_continuum([data], [lam], [seed], steps, lr, config, device)[0]


def sweep_continuum(datasets: Sequence[CanvasDigits], lams: Sequence[float], seeds: Sequence[int],
                    steps: int = 100, lr: float = 0.03, config: ContinuumConfig | None = None,
                    device: str | torch.device | None = None) -> list[ContinuumRun]:
    """Train a network for every (λ, seed), all at once; ``datasets[i]`` is the training data of ``seeds[i]``.

    Returns the runs λ-major: run ``l * len(seeds) + s`` has ``lams[l]`` and ``seeds[s]``. The same numbers
    as calling :func:`train_continuum` for each pair (the tests check it), in one vmapped loop per kind
    (locally connected for finite λ, convolutional for λ = ∞) instead of one loop per network.
    """
    datasets = list(datasets)
    for i, d in enumerate(datasets):
        _check_data(d)
    lams = [check_real(f"lams[{i}]", v, low=0.0, allow_inf=True) for i, v in enumerate(lams)]
    seeds = [check_int(f"seeds[{i}]", s, low=0) for i, s in enumerate(seeds)]
    if not lams or not seeds:
        raise ValueError("lams and seeds must each hold at least one value")
    if len(datasets) != len(seeds):
        raise ValueError(f"datasets must hold one CanvasDigits per seed: {len(datasets)} for {len(seeds)} seeds")
    steps, lr = _check_train_args(steps, lr)
    cfg = config if config is not None else ContinuumConfig(canvas=datasets[0].canvas)
    if not isinstance(cfg, ContinuumConfig):
        raise ArgumentError(f"config must be a ContinuumConfig, got {type(cfg).__name__}")
    sizes = {(d.canvas, tuple(d.X_train.shape)) for d in datasets}
    if len(sizes) != 1 or datasets[0].canvas != cfg.canvas:
        raise ValueError(f"datasets must all have config.canvas = {cfg.canvas} and the same training-set size, "
                         f"got {sorted(sizes)}")
    dev = resolve_device(device)
    cols = torch.stack([_columns(d.X_train.to(dev), cfg.kernel_size) for d in datasets])  # (S, P, n, K)
    ys = torch.stack([d.y_train.to(dev) for d in datasets])  # (S, n)
    pairs = [(lam, s) for lam in lams for s in range(len(seeds))]
    runs: list[ContinuumRun | None] = [None] * len(pairs)
    for shared in (False, True):
        which = [i for i, (lam, _) in enumerate(pairs) if math.isinf(lam) == shared]
        if not which:
            continue
        models = [ContinuumNet(cfg, shared=shared, device=dev, seed=seeds[pairs[i][1]]) for i in which]
        group_lams = [pairs[i][0] for i in which]
        data_idx = torch.tensor([pairs[i][1] for i in which], device=dev)
        losses = _train_group(models, group_lams, cols[data_idx], ys[data_idx], steps, lr,
                              desc="convolution (λ = ∞)" if shared else "locally connected (finite λ)")
        for k, (i, model) in enumerate(zip(which, models)):
            lam, s = pairs[i]
            d = datasets[s]
            runs[i] = ContinuumRun(
                lam=lam, seed=seeds[s], n_per_class=len(d.y_train) // cfg.n_classes, model=model,
                losses=losses[:, k], train_accuracy=_accuracy(model, d.X_train.to(dev), d.y_train.to(dev)),
                test_accuracy=_accuracy(model, d.X_test.to(dev), d.y_test.to(dev)),
                penalty=float(model.penalty().detach()))
    return runs  # type: ignore[return-value]


# ----------------------------------------------------------------------------- evaluation
SHIFTS_BY_DISTANCE: dict[int, list[tuple[int, int]]] = {  # the chapter's test shifts, grouped by distance
    0: [(0, 0)],
    1: [(1, 0), (-1, 0), (0, 1), (0, -1)],
    2: [(2, 0), (-2, 0), (0, 2), (0, -2)],
}


def _check_runs(runs) -> list[ContinuumRun]:
    runs = list(runs) if isinstance(runs, (list, tuple)) else runs
    if not isinstance(runs, list) or not runs or not all(isinstance(r, ContinuumRun) for r in runs):
        raise ArgumentError("runs must be a non-empty list of ContinuumRun (from train_continuum or sweep_continuum)")
    return runs


def accuracy_under_shifts(runs: Sequence[ContinuumRun], data: CanvasDigits,
                          shifts: Sequence[tuple[int, int]]) -> torch.Tensor:
    """Held-out accuracy of every run on the test digits moved by each shift: an (runs, shifts) CPU tensor.

    Shifts are (rows, cols) in pixels, at most the canvas margin, so no digit is cropped (continuum chapter).
    """
    runs = _check_runs(runs)
    data = _check_data(data)
    shifts = list(shifts)
    for i, s in enumerate(shifts):
        if not (isinstance(s, tuple) and len(s) == 2 and all(isinstance(v, int) for v in s)):
            raise ArgumentError(f"shifts[{i}] must be a (rows, cols) tuple of ints, got {s!r}")
        if max(abs(s[0]), abs(s[1])) > data.margin:
            raise ValueError(f"shifts[{i}] = {s} moves digits by more than the canvas margin {data.margin}")
    out = torch.empty(len(runs), len(shifts))
    for shared in (False, True):
        which = [i for i, r in enumerate(runs) if r.model.shared == shared]
        if not which:
            continue
        models = [runs[i].model for i in which]
        cfg, dev = models[0].config, models[0].head.weight.device
        with torch.no_grad(), cpu_threads(dev):
            p = {k: v.detach() for k, v in _stacked(models).items()}
            X, y = data.X_test.to(dev), data.y_test.to(dev)
            for j, s in enumerate(shifts):
                logits = _stacked_logits(p, _columns(shift_images(X, s), cfg.kernel_size), shared, cfg)  # (M, m, C)
                out[which, j] = (logits.argmax(dim=2) == y).float().mean(dim=1).cpu()
    return out


def first_layer_equivariance(run: ContinuumRun, images: torch.Tensor, shift: tuple[int, int]) -> float:
    """Mean over ``images`` (n, 1, S, S) of :func:`layer_equivariance_error` of the run's first layer, divided
    by the layer's largest response: 0 (up to rounding) only for the convolution (continuum chapter)."""
    if not isinstance(run, ContinuumRun):
        raise ArgumentError(f"run must be a ContinuumRun, got {type(run).__name__}")
    check_tensor("images", images, ndim=4)
    layer = run.model.features
    errors = []
    with torch.no_grad():
        for x in images:
            scale = float(layer(x[None].to(_param_of(layer))).abs().max())
            errors.append(layer_equivariance_error(layer, x, shift) / max(scale, 1e-12))
    return sum(errors) / len(errors)
