"""Parameter sharing in convolutions: one small kernel, applied at every position of an image.

Used by the chapter *One kernel, every position* (book/conv.ipynb). ``cross_correlate`` is written out
position by position, exactly as the chapter explains it, and is tested against
``torch.nn.functional.conv2d`` (which, like every deep-learning "convolution", is a cross-correlation).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from .checks import ArgumentError, check_bool, check_choice, check_finite_tensor, check_int

DATA = Path(__file__).parent / "data"

# The four kernels of the chapter (3 × 3). Sobel responds to vertical edges (a left-right change).
PRESETS: dict[str, list[list[float]]] = {
    "vertical edge": [[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]],
    "horizontal edge": [[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]],
    "blur": [[1 / 9] * 3] * 3,
    "sharpen": [[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]],
}


def preset_kernel(name: str) -> torch.Tensor:
    """One of :data:`PRESETS` as a (3, 3) float64 tensor."""
    check_choice("name", name, PRESETS)
    return torch.tensor(PRESETS[name], dtype=torch.float64)


def _read_pgm(path: Path) -> torch.Tensor:
    raw = path.read_bytes()
    fields, pos = [], 0
    while len(fields) < 4:  # magic, width, height, maxval; '#' starts a comment line
        while raw[pos:pos + 1].isspace():
            pos += 1
        if raw[pos:pos + 1] == b"#":
            pos = raw.index(b"\n", pos)
            continue
        end = pos
        while not raw[end:end + 1].isspace():
            end += 1
        fields.append(raw[pos:end])
        pos = end
    magic, width, height, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    if magic != b"P5" or maxval > 255:
        raise ValueError(f"{path.name}: expected an 8-bit binary PGM")
    pixels = torch.frombuffer(bytearray(raw[pos + 1:pos + 1 + width * height]), dtype=torch.uint8)
    return pixels.reshape(height, width).to(torch.float64) / maxval


def load_image(size: int = 16) -> torch.Tensor:
    """The chapter's photograph (scikit-image's CC0 "camera"), grey levels in [0, 1], as a (size, size) tensor.

    Shipped as a 128 × 128 file and area-averaged down, so ``size`` must divide 128.
    """
    size = check_int("size", size, low=1, high=128)
    if 128 % size:
        raise ValueError(f"size must divide 128 (e.g. 8, 16, 32, 64, 128), got {size}")
    image = _read_pgm(DATA / "cameraman_128.pgm")
    return F.avg_pool2d(image[None, None], 128 // size)[0, 0]  # (size, size)


# ----------------------------------------------------------------------------- the operation
def output_size(n: int, k: int, stride: int = 1, padding: int = 0) -> int:
    """Positions of a k-wide window along an n-wide input, padding p, stride s: ⌊(n+2p−k)/s⌋ + 1 (conv chapter)."""
    n, k = check_int("n", n, low=1), check_int("k", k, low=1)
    stride, padding = check_int("stride", stride, low=1), check_int("padding", padding, low=0)
    if k > n + 2 * padding:
        raise ValueError(f"a kernel of width k={k} does not fit an input of width n={n} with padding={padding}: "
                         f"k must be <= n + 2·padding = {n + 2 * padding}")
    return (n + 2 * padding - k) // stride + 1


def _check_conv_args(image, kernel, stride, padding) -> None:
    check_finite_tensor("image", image, ndim=2)  # also refuses a 0 × n image or a 0 × 3 kernel
    check_finite_tensor("kernel", kernel, ndim=2)
    check_int("stride", stride, low=1)
    check_int("padding", padding, low=0)
    for axis, name in ((0, "height"), (1, "width")):
        if kernel.shape[axis] > image.shape[axis] + 2 * padding:
            raise ValueError(f"kernel {name} {kernel.shape[axis]} is larger than the padded image {name} "
                             f"{image.shape[axis] + 2 * padding}: use a smaller kernel or more padding")


@dataclass(frozen=True)
class Step:
    """One position of the kernel: where it sits and what it computes (one animation frame)."""

    row: int  # output cell
    col: int
    top: int  # window's top-left corner in *padded* image coordinates
    left: int
    window: torch.Tensor  # (k_h, k_w) input values under the kernel
    products: torch.Tensor  # (k_h, k_w) window * kernel, element by element
    value: float  # their sum: the output cell


def correlation_steps(image: torch.Tensor, kernel: torch.Tensor, stride: int = 1, padding: int = 0) -> list[Step]:
    """Every position of the kernel, in reading order, with its window, products and sum (conv chapter)."""
    _check_conv_args(image, kernel, stride, padding)
    padded = F.pad(image, (padding, padding, padding, padding))  # zeros around: (H + 2p, W + 2p)
    kh, kw = kernel.shape
    kernel = kernel.to(image.dtype)
    steps = []
    for i in range(output_size(image.shape[0], kh, stride, padding)):
        for j in range(output_size(image.shape[1], kw, stride, padding)):
            top, left = i * stride, j * stride
            window = padded[top:top + kh, left:left + kw]
            products = window * kernel  # the SAME kernel at every position: that is the sharing
            steps.append(Step(i, j, top, left, window, products, float(products.sum())))
    return steps


def output_from_steps(steps: list[Step]) -> torch.Tensor:
    """The output map the steps write, cell by cell (on the device and in the dtype of the windows) (conv chapter)."""
    if not isinstance(steps, (list, tuple)) or not steps or not all(isinstance(s, Step) for s in steps):
        raise ArgumentError("steps must be a non-empty list of Step (see correlation_steps)")
    last = steps[-1]
    out = torch.empty(last.row + 1, last.col + 1, dtype=last.window.dtype, device=last.window.device)
    for s in steps:
        out[s.row, s.col] = s.value
    return out


def cross_correlate(image: torch.Tensor, kernel: torch.Tensor, stride: int = 1, padding: int = 0) -> torch.Tensor:
    """2-D cross-correlation written out position by position; equals ``F.conv2d`` (conv chapter)."""
    return output_from_steps(correlation_steps(image, kernel, stride, padding))


def conv2d(image: torch.Tensor, kernel: torch.Tensor, stride: int = 1, padding: int = 0) -> torch.Tensor:
    """The same result from PyTorch's own operator (fast; used for full-size images) (conv chapter)."""
    _check_conv_args(image, kernel, stride, padding)
    return F.conv2d(image[None, None], kernel.to(image.dtype)[None, None], stride=stride, padding=padding)[0, 0]


# ----------------------------------------------------------------------------- what sharing buys
def conv_parameter_count(c_in: int, c_out: int, k: int, bias: bool = True) -> int:
    """Parameters of a k × k convolution from c_in to c_out channels: independent of the image size."""
    c_in, c_out, k = check_int("c_in", c_in, low=1), check_int("c_out", c_out, low=1), check_int("k", k, low=1)
    check_bool("bias", bias)
    return c_out * c_in * k * k + (c_out if bias else 0)


def dense_parameter_count(c_in: int, c_out: int, height: int, width: int, k: int, stride: int = 1,
                          padding: int = 0, bias: bool = True) -> int:
    """Parameters of a fully connected layer mapping the same input to the same output size as the conv."""
    for name, v in (("c_in", c_in), ("c_out", c_out), ("height", height), ("width", width), ("k", k), ("stride", stride)):
        check_int(name, v, low=1)
    check_int("padding", padding, low=0)
    check_bool("bias", bias)
    if k > min(height, width) + 2 * padding:
        raise ValueError(f"a {k} × {k} kernel does not fit a {height} × {width} input with padding {padding}")
    h_out, w_out = output_size(height, k, stride, padding), output_size(width, k, stride, padding)
    n_in, n_out = c_in * height * width, c_out * h_out * w_out
    return n_in * n_out + (n_out if bias else 0)


def translation_equivariance_error(image: torch.Tensor, kernel: torch.Tensor, shift: tuple[int, int], *,
                                   layer: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None) -> float:
    """max |layer(shift(x)) − shift(layer(x))| away from the borders: 0 up to rounding for a convolution (conv chapter).

    Shifting the input moves the output by the same amount, because every position uses the same kernel.
    Only cells whose window stays inside the image in both versions are compared. ``layer(image, kernel)``
    defaults to :func:`conv2d` (stride 1, no padding); pass another map of the same output shape to
    measure how far *it* is from equivariant (a layer whose weights depend on the position is not).
    """
    check_finite_tensor("image", image, ndim=2)
    check_finite_tensor("kernel", kernel, ndim=2)
    if not (isinstance(shift, tuple) and len(shift) == 2 and all(isinstance(s, int) and not isinstance(s, bool)
                                                                  for s in shift)):
        raise ArgumentError(f"shift must be a (rows, cols) tuple of ints, got {shift!r}")
    if layer is None:
        layer = conv2d
    elif not callable(layer):
        raise ArgumentError(f"layer must be a function (image, kernel) -> output, got {type(layer).__name__}")
    dy, dx = shift
    H, W = image.shape
    kh, kw = kernel.shape
    if abs(dy) + kh > H or abs(dx) + kw > W:
        raise ValueError(f"shift {shift} leaves no interior for a {kh} × {kw} kernel on a {H} × {W} image")
    shifted = torch.roll(image, shifts=(dy, dx), dims=(0, 1))
    out, b = layer(image, kernel), layer(shifted, kernel)  # layer(x), layer(shift(x))
    if not (isinstance(out, torch.Tensor) and isinstance(b, torch.Tensor) and out.ndim == 2 and out.shape == b.shape):
        raise ValueError(f"layer must return one 2-D map of the same shape for both images, got "
                         f"{getattr(out, 'shape', type(out).__name__)} and {getattr(b, 'shape', type(b).__name__)}")
    a = torch.roll(out, shifts=(dy, dx), dims=(0, 1))  # shift(layer(x))
    # cells that saw no wrapped-around pixels in either: drop |dy| rows and |dx| cols on the wrapped side
    rows = slice(dy, None) if dy >= 0 else slice(None, dy)
    cols = slice(dx, None) if dx >= 0 else slice(None, dx)
    return float((a[rows, cols] - b[rows, cols]).abs().max())


def kernel_gradient_by_position(image: torch.Tensor, kernel: torch.Tensor, upstream: torch.Tensor,
                                stride: int = 1, padding: int = 0) -> torch.Tensor:
    """Each position's contribution to ∂L/∂kernel, upstream[i, j] · window(i, j): a (positions, k_h, k_w) tensor.

    Because the kernel is shared, autograd's gradient for it is the *sum* of these (the chapter checks it).
    """
    steps = correlation_steps(image, kernel, stride, padding)
    rows, cols = steps[-1].row + 1, steps[-1].col + 1  # the output's shape
    check_finite_tensor("upstream", upstream, ndim=2)
    if tuple(upstream.shape) != (rows, cols):
        raise ValueError(f"upstream must have the output's shape {(rows, cols)}, got {tuple(upstream.shape)}")
    return torch.stack([upstream[s.row, s.col] * s.window for s in steps])  # (positions, k_h, k_w)
