"""tyshare_lib.recurrent: counts against torch, unroll against torch, the gradient as a sum over time,
the tied/untied regressor, and every bad input."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from tyshare_lib import recurrent as rc
from tyshare_lib.checks import ArgumentError
from tyshare_lib.recurrent import (RegressorConfig, SequenceRegressor, adding_problem, count_recurrent_parameters,
                                   evaluate, make_module, recurrent_weight_scale, sequence_cost, step_gradients,
                                   train_regressor, unroll)

KINDS = [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]


# ----------------------------------------------------------------------------- counts
@settings(max_examples=40, deadline=None)
@given(cell=st.sampled_from(rc.CELLS), n=st.integers(1, 12), H=st.integers(1, 12), layers=st.integers(1, 3),
       bias=st.booleans(), bidirectional=st.booleans())
def test_closed_form_count_equals_torch(cell, n, H, layers, bias, bidirectional):
    m = make_module(cell, n, H, layers, bias=bias, bidirectional=bidirectional, device="cpu", seed=None)
    c = count_recurrent_parameters(cell, n, H, layers, bias=bias, bidirectional=bidirectional)
    assert isinstance(c.total, int)
    assert c.total == sum(p.numel() for p in m.parameters())
    params = dict(m.named_parameters())
    assert c.input_weights == sum(p.numel() for k, p in params.items() if k.startswith("weight_ih"))
    assert c.recurrent_weights == sum(p.numel() for k, p in params.items() if k.startswith("weight_hh"))
    assert c.biases == sum(p.numel() for k, p in params.items() if k.startswith("bias"))
    assert c.textbook == c.total - (c.biases // 2)


def test_count_does_not_depend_on_length_but_the_cost_does():
    costs = [sequence_cost("lstm", 3, 5, T) for T in (1, 2, 7)]
    assert {k.parameters for k in costs} == {count_recurrent_parameters("lstm", 3, 5).total}
    assert [k.multiply_adds for k in costs] == [T * 4 * 5 * (3 + 5) for T in (1, 2, 7)]
    assert [k.stored for k in costs] == [T * (4 * 5 + 2 * 5) for T in (1, 2, 7)]
    assert sequence_cost("gru", 3, 5, 4, num_layers=2).multiply_adds == 4 * 3 * 5 * ((3 + 5) + (5 + 5))


def test_sutskever_count_rounds_to_the_paper():
    enc = count_recurrent_parameters("lstm", 1000, 1000, num_layers=4)
    assert round(enc.total / 1e6) == 32
    assert round((160_000_000 + 80_000_000 + 2 * enc.total + 80_080_000) / 1e6) == 384


# ----------------------------------------------------------------------------- unroll equals torch
@pytest.mark.parametrize("cell,nonlinearity", KINDS)
@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_unroll_equals_torch(cell, nonlinearity, layers, batch_first, bidirectional):
    m = make_module(cell, 3, 4, layers, batch_first=batch_first, bidirectional=bidirectional,
                    nonlinearity=nonlinearity, dtype=torch.float64, device="cpu", seed=layers)
    x = torch.randn((2, 6, 3) if batch_first else (6, 2, 3), dtype=torch.float64)
    D = 2 if bidirectional else 1
    h0 = torch.randn(layers * D, 2, 4, dtype=torch.float64)
    h0 = (h0, torch.randn(layers * D, 2, 4, dtype=torch.float64)) if cell == "lstm" else h0
    for state0 in (None, h0):
        ref_out, ref_state = m(x) if state0 is None else m(x, state0)
        out, state = unroll(m, x, state0)
        assert out.shape == ref_out.shape
        assert torch.allclose(out, ref_out, atol=1e-6, rtol=0)
        pairs = zip(state, ref_state) if cell == "lstm" else [(state, ref_state)]
        for a, b in pairs:
            assert a.shape == b.shape and torch.allclose(a, b, atol=1e-6, rtol=0)


@pytest.mark.parametrize("cell", rc.CELLS)
def test_unroll_unbatched_input(cell):
    m = make_module(cell, 3, 4, 2, dtype=torch.float64, device="cpu")
    x = torch.randn(5, 3, dtype=torch.float64)
    (a, ha), (b, hb) = m(x), unroll(m, x)
    assert a.shape == b.shape and torch.allclose(a, b, atol=1e-10)
    ha, hb = (h if isinstance(h, tuple) else (h,) for h in (ha, hb))  # an LSTM's state is (h, c)
    assert all(u.shape == v.shape and torch.allclose(u, v, atol=1e-10) for u, v in zip(ha, hb, strict=True))


def test_unroll_reads_the_modules_own_tensors():
    """Write through the module's weight: unroll sees it (no copy was taken)."""
    m = make_module("gru", 3, 4, device="cpu")
    x = torch.randn(5, 2, 3)
    before, _ = unroll(m, x)
    with torch.no_grad():
        m.weight_hh_l0.mul_(2)
    after, _ = unroll(m, x)
    assert not torch.allclose(before, after)
    assert torch.allclose(after, m(x)[0], atol=1e-5)


def test_step_functions_match_torch_cells():
    torch.manual_seed(1)
    x, h, c = torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4)
    lc, gc, rcell = nn.LSTMCell(3, 4), nn.GRUCell(3, 4), nn.RNNCell(3, 4, nonlinearity="relu")
    w = lambda m: (m.weight_ih, m.weight_hh, m.bias_ih, m.bias_hh)  # noqa: E731
    hl, cl = rc.lstm_step(x, h, c, *w(lc))
    rl = lc(x, (h, c))
    assert torch.allclose(hl, rl[0], atol=1e-6) and torch.allclose(cl, rl[1], atol=1e-6)
    assert torch.allclose(rc.gru_step(x, h, *w(gc)), gc(x, h), atol=1e-6)
    assert torch.allclose(rc.rnn_step(x, h, *w(rcell), nonlinearity="relu"), rcell(x, h), atol=1e-6)


# ----------------------------------------------------------------------------- the gradient is a sum over time
@pytest.mark.parametrize("cell,nonlinearity", KINDS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_step_gradients_sum_to_the_tied_gradient(cell, nonlinearity, bidirectional):
    m = make_module(cell, 3, 4, 2, bidirectional=bidirectional, nonlinearity=nonlinearity,
                    dtype=torch.float64, device="cpu")
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    sg = step_gradients(m, x, loss_fn=lambda out, state: (out[-1] ** 3).sum())
    assert set(sg.per_step) == {n for n, _ in m.named_parameters()}
    for name, p in m.named_parameters():
        assert sg.per_step[name].shape == (5, *p.shape)
        assert torch.allclose(sg.per_step[name].sum(0), sg.tied[name], atol=1e-10)
    # the tied gradient is autograd's own gradient of the module's parameters
    m.zero_grad()
    (m(x)[0][-1] ** 3).sum().backward()
    assert all(torch.allclose(p.grad, sg.tied[n], atol=1e-12) for n, p in m.named_parameters())
    # more than one step contributes (the sum is not a single term)
    assert (sg.step_norms() > 0).sum() > 1


def test_step_gradients_first_step_does_not_reach_w_hh_from_zero_state():
    m = make_module("rnn", 3, 4, dtype=torch.float64, device="cpu")
    sg = step_gradients(m, torch.randn(4, 2, 3, dtype=torch.float64))
    assert torch.all(sg.per_step["weight_hh_l0"][0] == 0)  # h_0 = 0: step 1's use of W_h has no effect
    assert sg.per_step["weight_hh_l0"][1].abs().sum() > 0


def test_spectral_radius_decides_vanishing():
    x = torch.randn(30, 2, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    loss = lambda out, state: out[-1].sum()  # noqa: E731
    spans = []
    for rho in (0.5, 1.5):
        m = recurrent_weight_scale(make_module("rnn", 3, 16, dtype=torch.float64, device="cpu"), rho)
        assert torch.allclose(torch.linalg.matrix_norm(m.weight_hh_l0, ord=2), torch.tensor(rho, dtype=torch.float64))
        n = step_gradients(m, x, loss).step_norms()
        spans.append(float(n[0] / n[-1]))
    assert spans[0] < 1e-6 < 1 < spans[1]
    lstm = recurrent_weight_scale(make_module("lstm", 3, 16, dtype=torch.float64, device="cpu"), 0.5, forget_bias=1.0)
    assert torch.allclose(lstm.bias_ih_l0[16:32] + lstm.bias_hh_l0[16:32], torch.ones(16, dtype=torch.float64))


# ----------------------------------------------------------------------------- one model, any length
def test_adding_problem():
    x, y = adding_problem(50, 7, seed=3, device="cpu")
    assert x.shape == (50, 7, 2) and y.shape == (50,)
    assert torch.all(x[..., 1].sum(1) == 2)
    assert torch.allclose(y, (x[..., 0] * x[..., 1]).sum(1))
    assert torch.equal(adding_problem(50, 7, seed=3, device="cpu")[0], x)


def test_tied_regressor_reuses_one_cell_untied_does_not():
    tied = SequenceRegressor(RegressorConfig(hidden_size=5), device="cpu")
    untied = SequenceRegressor(RegressorConfig(hidden_size=5, tied=False, max_length=4), device="cpu")
    assert all(tied.cell_at(t) is tied.cell for t in range(50))
    assert len({id(untied.cell_at(t)) for t in range(4)}) == 4
    gru = 3 * (5 * 2 + 5 * 5 + 2 * 5)
    assert sum(p.numel() for p in tied.parameters()) == gru + 6
    assert sum(p.numel() for p in untied.parameters()) == 4 * gru + 6
    # write through the cell at step 0, read it at step 30
    with torch.no_grad():
        tied.cell_at(0).weight_hh.fill_(0.25)
    assert torch.all(tied.cell_at(30).weight_hh == 0.25)
    x = torch.randn(3, 5, 2)
    with pytest.raises(ValueError, match="max_length"):
        untied(x)


def test_tied_gradient_is_sum_of_the_uses_in_the_regressor():
    torch.manual_seed(0)
    model = SequenceRegressor(RegressorConfig(cell="rnn", hidden_size=4), device="cpu").double()
    x, y = adding_problem(6, 5, device="cpu")
    x, y = x.double(), y.double()
    W = model.cell.weight_hh
    copies = [W.detach().clone().requires_grad_(True) for _ in range(5)]
    h = torch.zeros(6, 4, dtype=torch.float64)
    for t in range(5):
        h = rc.rnn_step(x[:, t], h, model.cell.weight_ih, copies[t], model.cell.bias_ih, model.cell.bias_hh)
    loss_copies = ((model.readout(h).squeeze(-1) - y) ** 2).mean()
    per_step = torch.autograd.grad(loss_copies, copies)
    tied = torch.autograd.grad(((model(x) - y) ** 2).mean(), W)[0]
    assert torch.allclose(sum(per_step), tied, atol=1e-12)


def test_training_lowers_the_loss_and_is_seeded():
    cfg = RegressorConfig(hidden_size=6)
    a = train_regressor(cfg, lengths=(2, 5), steps=60, batch_size=32, device="cpu")
    b = train_regressor(cfg, lengths=(2, 5), steps=60, batch_size=32, device="cpu")
    assert a.losses == b.losses
    assert sum(a.losses[-10:]) / 10 < 0.5 * sum(a.losses[:10]) / 10
    ev = evaluate(a.model, [3, 12], n=50)
    assert set(ev) == {3, 12} and all(math.isfinite(v) for v in ev.values())
    u = train_regressor(cfg.with_(tied=False, max_length=5), lengths=(2, 5), steps=5, batch_size=8, device="cpu")
    ev = evaluate(u.model, [5, 6], n=20)
    assert math.isfinite(ev[5]) and math.isnan(ev[6])


# ----------------------------------------------------------------------------- the chapter's exercise numbers
def test_the_exercise_solutions_numbers():
    n, H = 7, 11
    assert count_recurrent_parameters("lstm", n, H, 2, bidirectional=True).total == 4840
    for cell, merges in (("lstm", True), ("gru", False)):
        m = make_module(cell, 3, 4, dtype=torch.float64, device="cpu")
        x = torch.randn(5, 2, 3, dtype=torch.float64)
        before, _ = unroll(m, x)
        with torch.no_grad():
            m.bias_ih_l0 += m.bias_hh_l0
            m.bias_hh_l0.zero_()
        gap = (unroll(m, x)[0] - before).abs().max().item()
        assert (gap < 1e-12) == merges


# ----------------------------------------------------------------------------- bad inputs
def test_bad_inputs_raise_naming_the_argument():
    with pytest.raises(ValueError, match="cell"):
        count_recurrent_parameters("transformer", 3, 4)
    with pytest.raises(ArgumentError, match="cell"):
        count_recurrent_parameters(None, 3, 4)
    with pytest.raises(ValueError, match="hidden_size"):
        count_recurrent_parameters("rnn", 3, 0)
    with pytest.raises(ValueError, match="input_size"):
        count_recurrent_parameters("rnn", -1, 4)
    with pytest.raises(ValueError, match="num_layers"):
        count_recurrent_parameters("gru", 3, 4, num_layers=0)
    with pytest.raises(TypeError, match="bidirectional"):
        count_recurrent_parameters("gru", 3, 4, bidirectional="yes")
    with pytest.raises(TypeError, match="hidden_size"):
        count_recurrent_parameters("gru", 3, 4.0)
    with pytest.raises(ValueError, match="nonlinearity"):
        make_module("lstm", 3, 4, nonlinearity="relu", device="cpu")
    m = make_module("lstm", 3, 4, device="cpu")
    with pytest.raises(ValueError, match="input_size"):
        unroll(m, torch.randn(5, 2, 7))
    with pytest.raises(ValueError, match="inputs must be 3-D"):
        unroll(m, torch.randn(5, 2, 3, 1))
    with pytest.raises(TypeError, match="inputs"):
        unroll(m, [[1.0, 2.0, 3.0]])
    with pytest.raises(TypeError, match="module"):
        unroll(nn.Linear(3, 4), torch.randn(5, 2, 3))
    with pytest.raises(TypeError, match="h0"):
        unroll(m, torch.randn(5, 2, 3), torch.zeros(1, 2, 4))
    with pytest.raises(ValueError, match="h0 must have shape"):
        unroll(make_module("gru", 3, 4, device="cpu"), torch.randn(5, 2, 3), torch.zeros(2, 2, 4))
    with pytest.raises(ValueError, match="proj_size"):
        unroll(nn.LSTM(3, 4, proj_size=2), torch.randn(5, 2, 3))
    with pytest.raises(ValueError, match="dropout"):
        unroll(nn.GRU(3, 4, num_layers=2, dropout=0.5), torch.randn(5, 2, 3))
    with pytest.raises(TypeError, match="loss_fn"):
        step_gradients(m, torch.randn(5, 2, 3), loss_fn="mse")
    with pytest.raises(ValueError, match="forget_bias"):
        recurrent_weight_scale(make_module("gru", 3, 4, device="cpu"), 1.0, forget_bias=1.0)
    with pytest.raises(ValueError, match="rho"):
        recurrent_weight_scale(m, -1.0)
    with pytest.raises(ValueError, match="length"):
        adding_problem(4, 1)
    with pytest.raises(ValueError, match="cell"):
        RegressorConfig(cell="mlp")
    with pytest.raises(ValueError, match="max_length"):
        RegressorConfig(max_length=0)
    with pytest.raises(ValueError, match=r"lengths\[1\]"):
        train_regressor(RegressorConfig(tied=False, max_length=5), lengths=(2, 6), steps=1)
    with pytest.raises(ValueError, match="steps"):
        train_regressor(RegressorConfig(), steps=0)
    with pytest.raises(TypeError, match="config"):
        SequenceRegressor({"cell": "gru"})
    with pytest.raises(ValueError, match="x must have input_size"):
        SequenceRegressor(RegressorConfig(), device="cpu")(torch.randn(2, 3, 5))
    with pytest.raises(TypeError, match="model"):
        evaluate(nn.GRU(2, 3), [5])
    with pytest.raises(ValueError, match="T"):
        sequence_cost("rnn", 3, 4, 0)
