"""tyshare_lib.conv: the hand-written cross-correlation against F.conv2d, counts against real layers,
equivariance, the shared kernel's gradient, and every bad input."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from tyshare_lib.conv import (PRESETS, conv2d, conv_parameter_count, correlation_steps, cross_correlate,
                              dense_parameter_count, kernel_gradient_by_position, load_image, output_from_steps,
                              output_size, preset_kernel, translation_equivariance_error)


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 12), w=st.integers(1, 12), kh=st.integers(1, 4), kw=st.integers(1, 4),
       stride=st.integers(1, 3), padding=st.integers(0, 2), seed=st.integers(0, 10_000))
def test_cross_correlate_equals_conv2d(h, w, kh, kw, stride, padding, seed):
    if kh > h + 2 * padding or kw > w + 2 * padding:
        return  # refused: tested below
    g = torch.Generator().manual_seed(seed)
    image = torch.randn(h, w, generator=g, dtype=torch.float64)
    kernel = torch.randn(kh, kw, generator=g, dtype=torch.float64)
    ours = cross_correlate(image, kernel, stride, padding)
    theirs = F.conv2d(image[None, None], kernel[None, None], stride=stride, padding=padding)[0, 0]
    assert ours.shape == theirs.shape
    assert torch.allclose(ours, theirs, atol=1e-12)


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", [0, 1, 2])
def test_every_stride_and_padding_on_the_photograph(stride, padding):
    image, kernel = load_image(16), preset_kernel("sharpen")
    assert torch.allclose(cross_correlate(image, kernel, stride, padding),
                          F.conv2d(image[None, None], kernel[None, None], stride=stride, padding=padding)[0, 0])


def test_steps_record_each_position():
    image = torch.arange(16.0, dtype=torch.float64).reshape(4, 4)
    kernel = torch.ones(3, 3, dtype=torch.float64)
    steps = correlation_steps(image, kernel, stride=1, padding=1)
    assert len(steps) == 16 and (steps[0].row, steps[0].col, steps[0].top, steps[0].left) == (0, 0, 0, 0)
    first = steps[0]  # top-left: the window hangs over the zero padding
    assert torch.equal(first.window, torch.tensor([[0, 0, 0], [0, 0, 1], [0, 4, 5]], dtype=torch.float64))
    assert first.value == float(first.products.sum()) == 10.0
    assert [(s.row, s.col) for s in steps[:5]] == [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0)]  # reading order


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), k=st.integers(1, 9), stride=st.integers(1, 5), padding=st.integers(0, 3))
def test_output_size_counts_the_window_positions(n, k, stride, padding):
    """Count where the window can start (0, s, 2s, ... while it fits), and ask PyTorch for the output's shape."""
    if k > n + 2 * padding:
        with pytest.raises(ValueError, match="does not fit"):
            output_size(n, k, stride, padding)
        return
    starts = len(range(0, n + 2 * padding - k + 1, stride))
    shape = F.conv2d(torch.zeros(1, 1, n, 1), torch.zeros(1, 1, k, 1), stride=(stride, 1), padding=(padding, 0)).shape
    assert output_size(n, k, stride, padding) == starts == shape[2]


@pytest.mark.parametrize("args, kwargs, error, match", [
    (((2, 5), 3), {}, TypeError, "n must be an int"),
    ((2, 5), {}, ValueError, "does not fit"),
    ((16, 3), {"stride": 0}, ValueError, "stride"),
    ((16, 3), {"padding": -1}, ValueError, "padding"),
    ((16, 0), {}, ValueError, "k must be"),
    ((16.0, 3), {}, TypeError, "n must be an int"),
])
def test_output_size_refuses_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        output_size(*args, **kwargs)


def test_parameter_counts_match_real_layers():
    for c_in, c_out, k, bias in [(1, 1, 3, True), (3, 16, 5, False), (8, 4, 1, True)]:
        layer = torch.nn.Conv2d(c_in, c_out, k, bias=bias)
        assert conv_parameter_count(c_in, c_out, k, bias) == sum(p.numel() for p in layer.parameters())
    for c_in, c_out, n, k, s, p, bias in [(1, 1, 16, 3, 1, 0, True), (2, 3, 10, 3, 2, 1, False)]:
        out = output_size(n, k, s, p)
        dense = torch.nn.Linear(c_in * n * n, c_out * out * out, bias=bias)
        assert dense_parameter_count(c_in, c_out, n, n, k, s, p, bias) == sum(q.numel() for q in dense.parameters())


def test_dense_layer_does_the_same_job():
    """The dense count is for a layer that can represent the convolution: build it and compare outputs."""
    image, kernel = load_image(8), preset_kernel("blur")
    n_out = output_size(8, 3)
    W = torch.zeros(n_out * n_out, 64, dtype=torch.float64)
    for s in correlation_steps(image, kernel):
        for a in range(3):
            for b in range(3):
                W[s.row * n_out + s.col, (s.top + a) * 8 + s.left + b] = kernel[a, b]
    assert torch.allclose((W @ image.reshape(-1)).reshape(n_out, n_out), cross_correlate(image, kernel))
    assert W.numel() == dense_parameter_count(1, 1, 8, 8, 3, bias=False)


@pytest.mark.parametrize("shift", [(3, 5), (-2, 4), (0, -6), (7, 0)])
def test_translation_equivariance(shift):
    assert translation_equivariance_error(load_image(32), preset_kernel("vertical edge"), shift) < 1e-12


def _untied(image, kernel):
    """A layer without sharing: the right half of the output uses a different kernel (twice the weights)."""
    out = conv2d(image, kernel).clone()
    out[:, out.shape[1] // 2:] *= 2
    return out


def test_equivariance_check_notices_a_layer_without_sharing():
    image, k = load_image(32), preset_kernel("vertical edge")
    err = translation_equivariance_error(image, k, (0, 5), layer=_untied)
    # By hand: the cells that cross the half-way line see their response doubled on one side only.
    out, moved = _untied(image, k), _untied(torch.roll(image, (0, 5), (0, 1)), k)
    expected = float((torch.roll(out, (0, 5), (0, 1))[:, 5:] - moved[:, 5:]).abs().max())
    assert err == pytest.approx(expected) and err > 0.1
    assert translation_equivariance_error(image, k, (0, 5)) < 1e-12  # the shared kernel: equivariant


def test_equivariance_error_of_a_known_difference():
    """A layer that adds its column index to the output is off by exactly |shift| in every compared cell."""
    image, k = load_image(16), preset_kernel("blur")

    def plus_column(x, kernel):
        out = conv2d(x, kernel)
        return out + torch.arange(out.shape[1], dtype=out.dtype)[None, :]

    for dx in (3, -2):
        assert translation_equivariance_error(image, k, (1, dx), layer=plus_column) == pytest.approx(abs(dx))
    assert translation_equivariance_error(image, k, (2, 0), layer=plus_column) == pytest.approx(0, abs=1e-12)


def test_equivariance_check_bad_input():
    image, k = load_image(16), preset_kernel("blur")
    with pytest.raises(TypeError, match="layer must be a function"):
        translation_equivariance_error(image, k, (1, 1), layer="conv")
    with pytest.raises(ValueError, match="layer must return one 2-D map"):
        translation_equivariance_error(image, k, (1, 1), layer=lambda x, kern: x.flatten())
    with pytest.raises(ValueError, match="leaves no interior"):
        translation_equivariance_error(image, k, (14, 0))
    with pytest.raises(TypeError, match="shift"):
        translation_equivariance_error(image, k, (True, 1))


def test_kernel_gradient_is_the_sum_over_positions():
    image, kernel = load_image(16), preset_kernel("sharpen")
    upstream = torch.randn(7, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    k = kernel.clone().requires_grad_()
    (F.conv2d(image[None, None], k[None, None], stride=2)[0, 0] * upstream).sum().backward()
    per_position = kernel_gradient_by_position(image, kernel, upstream, stride=2)
    assert per_position.shape == (49, 3, 3)
    assert torch.allclose(k.grad, per_position.sum(0))


def test_image_and_presets():
    for size in (8, 16, 32, 128):
        img = load_image(size)
        assert img.shape == (size, size) and 0 <= float(img.min()) and float(img.max()) <= 1
    assert float(load_image(16).std()) > 0.1  # a real photograph, not a blank
    assert set(PRESETS) == {"vertical edge", "horizontal edge", "blur", "sharpen"}
    assert torch.allclose(preset_kernel("horizontal edge"), preset_kernel("vertical edge").T)
    assert float(preset_kernel("blur").sum()) == pytest.approx(1.0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(kernel=torch.ones(5, 5, dtype=torch.float64)), "larger than the padded image"),
    (dict(stride=0), "stride"), (dict(padding=-1), "padding"),
    (dict(image=torch.ones(4, dtype=torch.float64)), "image must be 2-D"),
    (dict(kernel=torch.ones(1, 3, 3, dtype=torch.float64)), "kernel must be 2-D"),
    (dict(image=torch.tensor([[float("nan")] * 4] * 4, dtype=torch.float64)), "NaN"),
    (dict(kernel=torch.ones(3, 3, dtype=torch.long)), "floating"),
    (dict(stride=1.5), "stride"),
    (dict(kernel=torch.ones(0, 3, dtype=torch.float64)), "kernel must not be empty"),
    (dict(image=torch.ones(0, 4, dtype=torch.float64)), "image must not be empty"),
    (dict(image=torch.full((4, 4), float("inf"), dtype=torch.float64)), "image must be finite"),
    (dict(kernel=torch.full((3, 3), -float("inf"), dtype=torch.float64)), "kernel must be finite"),
    (dict(image=[[1.0] * 4] * 4), "image must be a torch.Tensor"),
])
def test_bad_input_is_refused(kwargs, match):
    args = dict(image=torch.ones(4, 4, dtype=torch.float64), kernel=torch.ones(3, 3, dtype=torch.float64),
                stride=1, padding=0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        cross_correlate(**args)


def test_other_bad_input():
    with pytest.raises(ValueError, match="size must divide 128"):
        load_image(20)
    with pytest.raises(ValueError, match="name"):
        preset_kernel("emboss")
    with pytest.raises(ValueError, match="c_out"):
        conv_parameter_count(1, 0, 3)
    with pytest.raises(ValueError, match="does not fit"):
        dense_parameter_count(1, 1, 2, 2, 5)
    with pytest.raises(ValueError, match="shift"):
        translation_equivariance_error(load_image(8), preset_kernel("blur"), (1.5, 2))
    with pytest.raises(ValueError, match="upstream"):
        kernel_gradient_by_position(load_image(8), preset_kernel("blur"), torch.ones(3, 3, dtype=torch.float64))
    with pytest.raises(TypeError, match="bias must be True or False"):
        conv_parameter_count(1, 1, 3, bias="yes")
    with pytest.raises(TypeError, match="bias must be True or False"):
        dense_parameter_count(1, 1, 8, 8, 3, bias=None)
    with pytest.raises(ValueError, match="stride"):
        conv2d(load_image(8), preset_kernel("blur"), stride=0)
    with pytest.raises(TypeError, match="steps"):
        output_from_steps([])


def test_the_exercise_solutions_numbers():
    """Numbers stated in the chapter's folded solutions."""
    assert output_size(16, 3, 2, 1) == 8
    assert conv_parameter_count(3, 64, 3) == 1_792
    dense = dense_parameter_count(3, 64, 224, 224, 3, padding=1)
    assert 4.8e11 < dense < 4.9e11 and 2.6e8 < dense / 1_792 < 2.8e8
