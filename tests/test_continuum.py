"""tyshare_lib.continuum: the locally connected layer, its penalty, counts, the trainer and the measures."""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from tyshare_lib.conv import translation_equivariance_error
from tyshare_lib.continuum import (ContinuumConfig, ContinuumNet, LocallyConnected2d, _stacked, _stacked_logits,
                                   _columns, accuracy_under_shifts, continuum_parameter_count,
                                   conv_parameter_count, layer_equivariance_error, locally_connected,
                                   locally_connected_parameter_count, make_canvas_digits, max_filter_spread,
                                   position_tying_penalty, shift_images, sweep_continuum, train_continuum)

SMALL = ContinuumConfig(canvas=12, out_channels=3, kernel_size=5)


@st.composite
def conv_sizes(draw):
    c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride, padding = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * padding), 10))
    w = draw(st.integers(max(1, kw - 2 * padding), 10))
    return c_in, c_out, (h, w), (kh, kw), stride, padding


@settings(max_examples=40, deadline=None)
@given(conv_sizes(), st.integers(0, 2**31 - 1))
def test_equal_filters_equal_conv2d(sizes, seed):
    c_in, c_out, size, k, stride, padding = sizes
    torch.manual_seed(seed)
    conv = torch.nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding)
    local = LocallyConnected2d.from_conv2d(conv, size)
    x = torch.randn(2, c_in, *size)
    assert local(x).shape == conv(x).shape
    assert torch.allclose(local(x), conv(x), atol=1e-5)
    assert position_tying_penalty(local).item() == 0.0
    back = local.to_conv2d()
    assert torch.equal(back.weight, conv.weight) and torch.equal(back.bias, conv.bias)
    assert torch.allclose(back(x), conv(x), atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(conv_sizes(), st.booleans())
def test_count_is_positions_times_the_convolutions(sizes, bias):
    c_in, c_out, size, k, stride, padding = sizes
    local = LocallyConnected2d(c_in, c_out, size, k, stride, padding, bias=bias, device="cpu")
    counted = sum(p.numel() for p in local.parameters())
    assert counted == locally_connected_parameter_count(c_in, c_out, size, k, stride, padding, bias)
    assert counted == local.positions * conv_parameter_count(c_in, c_out, k, bias)


def test_each_position_uses_its_own_filter():
    """Against a loop: position (i, j) is F.conv2d of its window with weight[i, j] (the d2l twin)."""
    torch.manual_seed(1)
    local = LocallyConnected2d(2, 3, (7, 6), 3, stride=2, padding=1, device="cpu")
    x = torch.randn(2, 2, 7, 6)
    out = local(x)
    padded = F.pad(x, (1, 1, 1, 1))
    for i in range(local.out_size[0]):
        for j in range(local.out_size[1]):
            window = padded[:, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3]
            want = F.conv2d(window, local.weight[i, j], local.bias[i, j])[:, :, 0, 0]
            assert torch.allclose(out[:, :, i, j], want, atol=1e-5)


def test_penalty_zero_iff_equal_and_matches_formula():
    conv = torch.nn.Conv2d(1, 2, 3)
    local = LocallyConnected2d.from_conv2d(conv, 6)
    assert position_tying_penalty(local).item() == 0.0 and max_filter_spread(local) == 0.0
    with torch.no_grad():
        local.bias[1, 2, 0] += 0.5  # a bias alone differing is enough
    assert position_tying_penalty(local).item() > 0
    w, b = local.weight.detach(), local.bias.detach()
    P = local.positions
    want = sum(((w.reshape(P, -1)[p] - w.reshape(P, -1).mean(0)) ** 2).sum()
               + ((b.reshape(P, -1)[p] - b.reshape(P, -1).mean(0)) ** 2).sum() for p in range(P))
    assert position_tying_penalty(local).item() == pytest.approx(float(want), rel=1e-5)
    with pytest.raises(ValueError, match="not a convolution"):
        local.to_conv2d()
    assert local.to_conv2d(atol=1.0).weight.shape == conv.weight.shape


def test_shared_filter_gradient_is_the_sum_of_the_positions():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(1, 2, 3)
    local = LocallyConnected2d.from_conv2d(conv, 8)
    x = torch.rand(3, 1, 8, 8)
    conv(x).square().sum().backward()
    local(x).square().sum().backward()
    assert torch.allclose(local.weight.grad.sum(dim=(0, 1)), conv.weight.grad, atol=1e-4)
    assert torch.allclose(local.bias.grad.sum(dim=(0, 1)), conv.bias.grad, atol=1e-4)


def test_from_conv2d_copies_so_positions_can_drift():
    conv = torch.nn.Conv2d(1, 1, 3)
    local = LocallyConnected2d.from_conv2d(conv, 5)
    with torch.no_grad():
        local.weight[0, 0] += 1.0
    assert not torch.equal(local.weight[1, 1], local.weight[0, 0])
    assert torch.equal(local.weight[1, 1], conv.weight)


def test_network_counts_and_the_real_conv_at_infinity():
    for shared in (False, True):
        net = ContinuumNet(SMALL, shared=shared, device="cpu", seed=0)
        assert sum(p.numel() for p in net.parameters()) == continuum_parameter_count(SMALL, shared)
    assert isinstance(ContinuumNet(SMALL, shared=True, device="cpu").features, torch.nn.Conv2d)
    assert continuum_parameter_count(ContinuumConfig(), False) == 13_312 + 90


def test_batched_forward_equals_the_modules():
    """The trainer's stacked forward is the module's forward, for both kinds."""
    data = make_canvas_digits(2, seed=0, device="cpu")
    for shared in (False, True):
        models = [ContinuumNet(SMALL, shared=shared, device="cpu", seed=s) for s in (0, 1)]
        p = _stacked(models)
        logits = _stacked_logits(p, _columns(data.X_train, SMALL.kernel_size), shared, SMALL)
        for m, model in enumerate(models):
            assert torch.allclose(logits[m], model(data.X_train), atol=1e-5)


@pytest.fixture(scope="module")
def tiny_data():
    return [make_canvas_digits(3, seed=s, device="cpu") for s in (0, 1)]


def test_training_lowers_the_loss_and_is_seeded(tiny_data):
    a = train_continuum(tiny_data[0], 0.1, seed=0, steps=15, config=SMALL, device="cpu")
    b = train_continuum(tiny_data[0], 0.1, seed=0, steps=15, config=SMALL, device="cpu")
    assert a.losses[-1] < a.losses[0]
    assert torch.equal(a.losses, b.losses)
    assert torch.equal(a.model.features.weight, b.model.features.weight)


def test_sweep_equals_one_run_at_a_time(tiny_data):
    runs = sweep_continuum(tiny_data, [0.0, 1.0, math.inf], [0, 1], steps=10, config=SMALL, device="cpu")
    assert [(r.lam, r.seed) for r in runs] == [(lam, s) for lam in (0.0, 1.0, math.inf) for s in (0, 1)]
    for r in (runs[1], runs[2], runs[5]):
        one = train_continuum(tiny_data[[0, 1].index(r.seed)], r.lam, seed=r.seed, steps=10, config=SMALL,
                              device="cpu")
        assert torch.allclose(one.losses, r.losses, atol=1e-5)
        assert torch.allclose(one.model.features.weight, r.model.features.weight, atol=1e-5)
    assert isinstance(runs[5].model.features, torch.nn.Conv2d) and runs[5].penalty == 0.0
    # the penalty is the layer's own: tying pulls the positions together
    assert runs[2].penalty < runs[0].penalty


def test_equivariance_reuses_the_conv_chapters_measure():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(1, 3, 3).double()
    image = torch.rand(1, 9, 9, dtype=torch.float64)
    want = max(translation_equivariance_error(image[0], conv.weight[c, 0].detach(), (1, 2)) for c in range(3))
    assert layer_equivariance_error(conv, image, (1, 2)) == pytest.approx(want, abs=1e-12)
    local = LocallyConnected2d.from_conv2d(conv, 9)
    assert layer_equivariance_error(local, image, (1, 2)) < 1e-12
    with torch.no_grad():
        local.weight[3, 3] += 0.5
    assert layer_equivariance_error(local, image, (1, 2)) > 1e-3


def test_shift_images_and_accuracy_under_shifts(tiny_data):
    X = torch.zeros(1, 1, 5, 5)
    X[0, 0, 2, 2] = 1.0
    moved = shift_images(X, (1, -2))
    assert moved[0, 0, 3, 0] == 1.0 and moved.sum() == 1.0
    runs = sweep_continuum(tiny_data[:1], [0.0, math.inf], [0], steps=3, config=SMALL, device="cpu")
    acc = accuracy_under_shifts(runs, tiny_data[0], [(0, 0), (1, 0)])
    assert acc.shape == (2, 2)
    assert acc[0, 0].item() == pytest.approx(runs[0].test_accuracy, abs=1e-6)


def test_bad_inputs_are_refused(tiny_data):
    with pytest.raises(ValueError, match="kernel_size"):
        LocallyConnected2d(1, 1, 4, 6)
    with pytest.raises(ValueError, match="in_channels"):
        LocallyConnected2d(0, 1, 4, 3)
    with pytest.raises(ValueError, match="stride"):
        LocallyConnected2d(1, 1, 4, 3, stride=0)
    with pytest.raises(ValueError, match="x must have shape"):
        LocallyConnected2d(1, 1, 4, 3)(torch.rand(1, 1, 5, 5))
    with pytest.raises(TypeError, match="conv must be an nn.Conv2d"):
        LocallyConnected2d.from_conv2d(torch.nn.Linear(2, 2), 4)
    with pytest.raises(ValueError, match="groups"):
        LocallyConnected2d.from_conv2d(torch.nn.Conv2d(2, 2, 3, groups=2), 5)
    with pytest.raises(TypeError, match="layer must be a LocallyConnected2d"):
        position_tying_penalty(torch.nn.Conv2d(1, 1, 3))
    with pytest.raises(ValueError, match="lam"):
        train_continuum(tiny_data[0], -1.0, steps=1, config=SMALL)
    with pytest.raises(ValueError, match="steps"):
        train_continuum(tiny_data[0], 0.0, steps=0, config=SMALL)
    with pytest.raises(TypeError, match="data must be a CanvasDigits"):
        train_continuum("digits", 0.0)
    with pytest.raises(ValueError, match="datasets must hold one"):
        sweep_continuum(tiny_data, [0.0], [0], config=SMALL)
    with pytest.raises(ValueError, match="canvas"):
        make_canvas_digits(3, canvas=11)
    with pytest.raises(ValueError, match="n_per_class"):
        make_canvas_digits(0)
    with pytest.raises(ValueError, match="stride 1 and padding 0"):
        layer_equivariance_error(torch.nn.Conv2d(1, 1, 3, padding=1), torch.rand(1, 8, 8), (1, 1))
    with pytest.raises(TypeError, match="shift"):
        shift_images(torch.rand(1, 1, 4, 4), [1, 1])
    with pytest.raises(ValueError, match="margin"):
        accuracy_under_shifts(sweep_continuum(tiny_data[:1], [0.0], [0], steps=1, config=SMALL),
                              tiny_data[0], [(3, 0)])
    with pytest.raises(ValueError, match="windows"):
        locally_connected(torch.rand(1, 1, 6, 6), torch.rand(2, 2, 1, 1, 3, 3))
