"""Figures of the recurrent chapter (book/recurrent.ipynb): the unrolled network, the gradient through time,
and one model applied at any length.

Each figure follows the book's three layers: ``compute_*`` (numbers only, tested without a browser),
``figure_*`` (plotly), and the explorers (``unrolled_explorer``, ``gradient_explorer``) wiring a slider to both.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ..checks import ArgumentError, check_int, check_real
from ..device import cpu_threads
from ..recurrent import (CELLS, count_recurrent_parameters, make_module, recurrent_weight_scale,
                         sequence_cost, step_gradients)
from .explorer import Explorer, Patch, apply_patch
from .style import OKABE_ITO, styled

CELL_LABELS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
CELL_COLOURS = {"rnn": OKABE_ITO["vermillion"], "lstm": OKABE_ITO["blue"], "gru": OKABE_ITO["purple"]}
# One colour per shared tensor, the same at every step it is used.
WEIGHT_COLOURS = {"W_x": OKABE_ITO["orange"], "W_h": OKABE_ITO["sky"], "b": OKABE_ITO["green"]}
MAX_T = 20  # the unrolled explorer's slider: T = 1 … MAX_T


# ----------------------------------------------------------------------------- counts
def counts_table_html(sizes: Sequence[tuple[int, int]], num_layers: int = 1) -> str:
    """Recurrent chapter: for each (input_size, hidden_size) and cell, the closed form, torch's own count and the
    textbook count (one bias per gate group), as an HTML table; a mismatch with torch is marked, never hidden."""
    num_layers = check_int("num_layers", num_layers, low=1)
    rows = ['<table class="tyshare-paper-table"><thead><tr><th>cell</th><th>input</th><th>hidden</th>'
            '<th>closed form</th><th>torch</th><th>textbook (one bias)</th></tr></thead><tbody>']
    for i, pair in enumerate(sizes):
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise ArgumentError(f"sizes[{i}] must be a pair (input_size, hidden_size), got {pair!r}")
        for cell in CELLS:
            c = count_recurrent_parameters(cell, *pair, num_layers=num_layers)
            module = make_module(cell, *pair, num_layers, device="cpu", seed=None)
            torch_count = sum(p.numel() for p in module.parameters())
            mark = "" if torch_count == c.total else " ≠"
            rows.append(f"<tr><td>{CELL_LABELS[cell]}</td><td>{pair[0]}</td><td>{pair[1]}</td><td>{c.total:,}</td>"
                        f"<td>{torch_count:,}{mark}</td><td>{c.textbook:,}</td></tr>")
    rows.append("</tbody></table>")
    return "".join(rows)


# ----------------------------------------------------------------------------- the unrolled network
@dataclass(frozen=True)
class UnrolledCosts:
    """Parameters, multiply-adds and stored numbers for T = 1 … max_T, for each cell (recurrent chapter)."""

    T: list[int]
    parameters: dict[str, list[int]]
    multiply_adds: dict[str, list[int]]
    stored: dict[str, list[int]]


def compute_unrolled_costs(input_size: int = 10, hidden_size: int = 20, max_T: int = MAX_T) -> UnrolledCosts:
    """:func:`~tyshare_lib.recurrent.sequence_cost` of every cell for every T up to ``max_T``."""
    max_T = check_int("max_T", max_T, low=1)
    Ts = list(range(1, max_T + 1))
    costs = {cell: [sequence_cost(cell, input_size, hidden_size, T) for T in Ts] for cell in CELLS}
    return UnrolledCosts(Ts, {c: [k.parameters for k in v] for c, v in costs.items()},
                         {c: [k.multiply_adds for k in v] for c, v in costs.items()},
                         {c: [k.stored for k in v] for c, v in costs.items()})


# trace indices of the unrolled figure
_X_NODES, _H_NODES, _WX_EDGES, _WH_EDGES, _WX_MARKS, _WH_MARKS, _B_MARKS, _FAN = range(8)
_OBJECTS = 8  # the three shared tensors, drawn once
_NOW = (18, 19, 20)  # the marker at the current T in each cost panel (after the 9 lines)
_Y_X, _Y_H, _Y_OBJ = 0.0, 1.5, 3.6


def compute_unrolled_graph(T: int) -> dict[str, list]:
    """Recurrent chapter: coordinates of the unrolled network of T steps: nodes, edges, where each shared tensor
    is used, and the fan of lines from each of the three tensors (drawn once) to its T uses. Lines are joined
    with None."""
    T = check_int("T", T, low=1)
    ts = list(range(1, T + 1))
    mid = min(max((T + 1) / 2, 3.3), 9.0)  # above the sequence's middle, clear of the legend at the top right
    objects = {"W_x": mid - 3, "W_h": mid, "b": mid + 3}
    wx_mark = [(t, (_Y_X + _Y_H) / 2) for t in ts]  # on the x_t → h_t edge
    wh_mark = [(t - 0.5, _Y_H) for t in ts]  # on the h_{t−1} → h_t edge
    b_mark = [(t + 0.22, _Y_H + 0.55) for t in ts]  # beside h_t
    fan_x, fan_y = [], []
    for name, marks in (("W_x", wx_mark), ("W_h", wh_mark), ("b", b_mark)):
        for x, y in marks:
            fan_x += [objects[name], x, None]
            fan_y += [_Y_OBJ, y, None]
    seg = lambda pairs: ([v for a, b in pairs for v in (a[0], b[0], None)],  # noqa: E731
                         [v for a, b in pairs for v in (a[1], b[1], None)])
    wx_edges = seg([((t, _Y_X + 0.25), (t, _Y_H - 0.25)) for t in ts])
    wh_edges = seg([((t - 1 + 0.22, _Y_H), (t - 0.22, _Y_H)) for t in ts])
    return dict(
        x_nodes=(ts, [_Y_X] * T, [_label("x", t, T) for t in ts]),
        h_nodes=([0, *ts], [_Y_H] * (T + 1), [_label("h", t, T) if t != 1 else _UNNAMED for t in range(T + 1)]),
        wx_edges=wx_edges, wh_edges=wh_edges,
        wx_marks=wx_mark, wh_marks=wh_mark, b_marks=b_mark,
        fan=(fan_x, fan_y), objects=objects)


_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
# An unnamed node's label is a space, not "": plotly.js removes the label of a point whose text is "" and, when a
# later redraw names that point again (T one step down: h₅ was unnamed at T = 6), draws nothing there.
_UNNAMED = " "


def _sub(t: int) -> str:
    return str(t).translate(_SUBSCRIPTS)


def _label(name: str, t: int, T: int) -> str:
    """Only the first and last nodes are named: twenty names do not fit a phone's width."""
    return f"{name}{_sub(t)}" if t <= 1 or t == T else _UNNAMED


def _unrolled_patch(T: int, costs: UnrolledCosts) -> Patch:
    g = compute_unrolled_graph(T)
    xy = lambda marks: dict(x=[m[0] for m in marks], y=[m[1] for m in marks])  # noqa: E731
    objs = g["objects"]
    traces = {
        _X_NODES: dict(x=g["x_nodes"][0], y=g["x_nodes"][1], text=g["x_nodes"][2]),
        _H_NODES: dict(x=g["h_nodes"][0], y=g["h_nodes"][1], text=g["h_nodes"][2]),
        _WX_EDGES: dict(x=g["wx_edges"][0], y=g["wx_edges"][1]),
        _WH_EDGES: dict(x=g["wh_edges"][0], y=g["wh_edges"][1]),
        _WX_MARKS: xy(g["wx_marks"]), _WH_MARKS: xy(g["wh_marks"]), _B_MARKS: xy(g["b_marks"]),
        _FAN: dict(x=g["fan"][0], y=g["fan"][1]),
        _OBJECTS: dict(x=[objs["W_x"], objs["W_h"], objs["b"]], y=[_Y_OBJ] * 3),
    }
    i = T - 1
    for trace, quantity in zip(_NOW, (costs.parameters, costs.multiply_adds, costs.stored)):
        traces[trace] = dict(x=[T] * len(CELLS), y=[quantity[c][i] / 1000 for c in CELLS])
    return Patch(traces=traces, layout=dict(title=dict(text=f"T = {T}: 3 tensors, each used {T}×")))


def figure_unrolled(T: int = 5, costs: UnrolledCosts | None = None) -> go.Figure:
    """The unrolled network at T steps (top) and what it costs for every T (bottom) (recurrent chapter)."""
    T = check_int("T", T, low=1)
    costs = costs if costs is not None else compute_unrolled_costs()
    if T > len(costs.T):
        raise ValueError(f"T must be <= {len(costs.T)} (the costs' max_T), got {T}")
    fig = make_subplots(rows=2, cols=3, row_heights=[0.6, 0.4], vertical_spacing=0.16, horizontal_spacing=0.09,
                        specs=[[{"colspan": 3}, None, None], [{}, {}, {}]],
                        subplot_titles=("", "Parameters", "Mult-adds", "Activations"))
    node = dict(mode="markers+text", textposition="middle center", hoverinfo="skip", showlegend=False,
                cliponaxis=False)  # h₀'s name may reach into the margin on a phone
    node["textposition"] = "bottom center"
    fig.add_trace(go.Scatter(marker=dict(size=18, color="white", line=dict(color="#444", width=2)),
                             textfont=dict(size=14), name="inputs", **node), 1, 1)
    node["textposition"] = "top left"
    fig.add_trace(go.Scatter(marker=dict(size=18, color="#eee", line=dict(color="#222", width=2)),
                             textfont=dict(size=14), name="states", **node), 1, 1)
    edge = dict(mode="lines", hoverinfo="skip", showlegend=False)
    fig.add_trace(go.Scatter(line=dict(color=WEIGHT_COLOURS["W_x"], width=3), **edge), 1, 1)
    fig.add_trace(go.Scatter(line=dict(color=WEIGHT_COLOURS["W_h"], width=3), **edge), 1, 1)
    outline = dict(color="#222", width=1)
    for key, symbol, size, name in (("W_x", "square", 10, "W<sub>x</sub>"), ("W_h", "diamond", 11, "W<sub>h</sub>"),
                                    ("b", "circle", 9, "b")):
        fig.add_trace(go.Scatter(mode="markers", showlegend=False, name=name,
                                 marker=dict(symbol=symbol, size=size, color=WEIGHT_COLOURS[key], line=outline),
                                 hovertemplate=f"{key}: the same tensor at every step<extra></extra>"), 1, 1)
    fig.add_trace(go.Scatter(line=dict(color="rgba(120,120,120,0.35)", width=1, dash="dot"), **edge), 1, 1)
    fig.add_trace(go.Scatter(mode="markers+text", text=["W<sub>x</sub>", "W<sub>h</sub>", "b"],
                             textposition="top center", cliponaxis=False,
                             textfont=dict(size=16), showlegend=False, hoverinfo="skip",
                             marker=dict(size=22, symbol=["square", "diamond", "circle"],
                                         color=[WEIGHT_COLOURS[k] for k in ("W_x", "W_h", "b")],
                                         line=dict(color="#222", width=2))), 1, 1)
    for col, quantity in enumerate((costs.parameters, costs.multiply_adds, costs.stored), start=2):
        for cell in CELLS:
            fig.add_trace(go.Scatter(x=costs.T, y=[v / 1000 for v in quantity[cell]], mode="lines",
                                     name=CELL_LABELS[cell], legendgroup=cell, showlegend=col == 2,
                                     line=dict(color=CELL_COLOURS[cell], width=3),
                                     hovertemplate="T = %{x}: %{y:.1f}k<extra>" + CELL_LABELS[cell] + "</extra>"),
                          2, col - 1)
    for col in (1, 2, 3):  # traces 18, 19, 20: drawn over the lines
        fig.add_trace(go.Scatter(mode="markers", showlegend=False, hoverinfo="skip",
                                 marker=dict(size=12, color=[CELL_COLOURS[c] for c in CELLS],
                                             line=dict(color="#222", width=1))),
                      2, col)
    styled(fig, height=720, title=dict(y=0.97, yanchor="top"), margin=dict(l=70, r=20, t=70, b=60),
           legend=dict(x=1, xanchor="right", y=1, yanchor="top", bgcolor="rgba(255,255,255,0.8)"))
    fig.update_annotations(font_size=15)  # the panel titles
    fig.update_xaxes(range=[-1.5, len(costs.T) + 0.7], visible=False, row=1, col=1)
    fig.update_yaxes(range=[-0.5, _Y_OBJ + 1.2], visible=False, row=1, col=1)  # room for the names in big type
    for col in (1, 2, 3):
        # one axis title, under the last panel: on a phone the panels stack, and a title between two of them
        # would sit on the next one's name
        fig.update_xaxes(title_text="T" if col == 3 else None, range=[0, len(costs.T) + 1], dtick=10, tickangle=0,
                         row=2, col=col)
        fig.update_yaxes(rangemode="tozero", row=2, col=col)
    fig.update_yaxes(title_text="thousands", row=2, col=1)
    apply_patch(fig, _unrolled_patch(T, costs))
    return fig


def unrolled_explorer(T: int = 5, input_size: int = 10, hidden_size: int = 20) -> Explorer:
    """The recurrent chapter's unrolled network with a slider over T = 1 … 20: the same three tensors at every
    step; parameters flat, work and stored activations growing."""
    import ipywidgets as widgets

    costs = compute_unrolled_costs(input_size, hidden_size, MAX_T)
    T = check_int("T", T, low=1, high=MAX_T)
    slider = widgets.IntSlider(value=T, min=1, max=MAX_T, description="T", continuous_update=True,
                               layout=widgets.Layout(width="95%"))
    return Explorer(figure_unrolled(T, costs), update=lambda T: _unrolled_patch(T, costs), controls={"T": slider},
                    static_control="T", static_values=list(range(1, MAX_T + 1)), slider_prefix="T = ",
                    live_layout=dict(height=640, legend_y=-0.1))


# ----------------------------------------------------------------------------- the gradient through time
STATIC_RHOS = [0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.5, 2.0, 3.0]  # frames of the book's slider


@dataclass(frozen=True)
class GradientProfile:
    """Norm of each step's contribution to the shared gradient, by distance from the loss (recurrent chapter)."""

    rhos: list[float]
    distance: list[int]  # 0 = the last step, where the loss is
    norms: dict[str, np.ndarray]  # cell -> (len(rhos), T): ‖contribution of the step `distance` back‖


def compute_gradient_profiles(rhos: Sequence[float] = STATIC_RHOS, T: int = 40, hidden_size: int = 32,
                              input_size: int = 4, batch: int = 8, forget_bias: float = 1.0,
                              seed: int = 0) -> GradientProfile:
    """For each ρ, set W_hh's gate blocks to ρ·(orthogonal) in a vanilla tanh RNN and in an LSTM, feed the
    same random sequence of ``T`` steps, take a loss on the last output only, and measure with
    :func:`~tyshare_lib.recurrent.step_gradients` how much each step contributes to the gradient."""
    T = check_int("T", T, low=2)
    check_int("batch", batch, low=1)
    rhos = [check_real(f"rhos[{i}]", r, low=0.0) for i, r in enumerate(rhos)]
    if not rhos:
        raise ValueError("rhos must hold at least one value")
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(T, batch, input_size, generator=g, dtype=torch.float64)  # (T, B, in)
    v = torch.randn(batch, hidden_size, generator=g, dtype=torch.float64)  # the loss reads h_T along v
    loss_fn = lambda out, state: (out[-1] * v).sum()  # noqa: E731
    norms = {}
    with cpu_threads(torch.device("cpu")):  # tiny matrices: one thread is fastest
        for cell in ("rnn", "lstm"):
            rows = []
            for rho in rhos:
                m = make_module(cell, input_size, hidden_size, dtype=torch.float64, device="cpu", seed=seed)
                recurrent_weight_scale(m, rho, forget_bias=forget_bias if cell == "lstm" else None, seed=seed)
                rows.append(step_gradients(m, x, loss_fn).step_norms().numpy()[::-1])  # distance 0 first
            norms[cell] = np.array(rows)
    return GradientProfile(rhos, list(range(T)), norms)


def _rho_index(profile: GradientProfile, rho: float) -> int:
    for i, r in enumerate(profile.rhos):
        if abs(r - rho) < 1e-12:
            return i
    raise ValueError(f"rho must be one of {profile.rhos}, got {rho}")


def _gradient_patch(profile: GradientProfile, rho: float) -> Patch:
    i = _rho_index(profile, rho)
    rnn, lstm = profile.norms["rnn"][i], profile.norms["lstm"][i]
    far = len(profile.distance) - 1
    ratio = lambda a: a[far] / a[0]  # noqa: E731
    return Patch(traces={0: dict(y=np.maximum(rnn, 1e-30)), 1: dict(y=np.maximum(lstm, 1e-30))},
                 layout=dict(title=dict(text=f"ρ = {rho:g}, {far} steps back: RNN {_power(ratio(rnn))}, "
                                             f"LSTM {_power(ratio(lstm))}")))


_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power(ratio: float) -> str:
    """A ratio as the nearest power of ten, '×10⁻¹²': titles stay short."""
    if not ratio > 0:
        return "×0"
    return "×10" + str(round(math.log10(ratio))).translate(_SUPERSCRIPTS)


def figure_gradient_profile(profile: GradientProfile, rho: float = 1.0) -> go.Figure:
    """Each step's share of the gradient against its distance from the loss, RNN and LSTM (recurrent chapter)."""
    if not isinstance(profile, GradientProfile):
        raise ArgumentError(f"profile must be a GradientProfile, got {type(profile).__name__}")
    fig = go.Figure()
    for cell, dash in (("rnn", "solid"), ("lstm", "dash")):
        fig.add_trace(go.Scatter(x=profile.distance, name=f"{CELL_LABELS[cell]}", mode="lines+markers",
                                 line=dict(color=CELL_COLOURS[cell], width=3, dash=dash), marker=dict(size=6),
                                 hovertemplate="%{x} steps back: %{y:.2e}<extra>" + CELL_LABELS[cell] + "</extra>"))
    finite = np.concatenate([a[a > 0].ravel() for a in profile.norms.values()])
    lo, hi = math.log10(max(finite.min(), 1e-30)), math.log10(finite.max())
    styled(fig, height=540, title=dict(y=0.97, yanchor="top", font=dict(size=16)),
           xaxis_title="steps back", yaxis_title="‖step's gradient‖",
           legend=dict(orientation="h", x=1, xanchor="right", y=1.01, yanchor="bottom"), margin=dict(t=100, b=60))
    # a label every third decade: the curves span some twenty decades, too many labels for a phone's panel
    decades = [k for k in range(math.ceil(lo - 0.8), math.floor(hi + 0.5) + 1) if k % 3 == 0]
    fig.update_yaxes(type="log", range=[lo - 0.8, hi + 0.5], exponentformat="power",
                     tickvals=[10.0 ** k for k in decades])
    apply_patch(fig, _gradient_patch(profile, rho))
    return fig


def gradient_explorer(profile: GradientProfile | None = None, rho: float = 1.0) -> Explorer:
    """A slider over the recurrent weights' spectral radius ρ: how much each earlier step contributes to the
    gradient, vanilla RNN against LSTM (all curves precomputed; the slider only redraws)."""
    import ipywidgets as widgets

    profile = profile if profile is not None else compute_gradient_profiles()
    if not isinstance(profile, GradientProfile):
        raise ArgumentError(f"profile must be a GradientProfile, got {type(profile).__name__}")
    _rho_index(profile, rho)
    slider = widgets.SelectionSlider(options=[(f"{r:g}", r) for r in profile.rhos], value=rho, description="ρ",
                                     continuous_update=True, layout=widgets.Layout(width="95%"))
    return Explorer(figure_gradient_profile(profile, rho), update=lambda rho: _gradient_patch(profile, rho),
                    controls={"rho": slider}, static_control="rho", static_values=profile.rhos,
                    static_labels=[f"{r:g}" for r in profile.rhos], slider_prefix="ρ = ",
                    live_layout=dict(height=460))


# ----------------------------------------------------------------------------- one model, any length
def figure_lengths(losses: Mapping[str, Sequence[float]], errors: Mapping[str, Mapping[int, float]],
                   train_max: int, baseline: float) -> go.Figure:
    """Recurrent chapter. Top: training MSE per step. Bottom: held-out MSE against sequence length (log axis),
    with the training lengths shaded and the error of always predicting the mean; NaN (no weights) is left out."""
    if set(losses) != set(errors):
        raise ValueError(f"losses and errors must name the same models, got {sorted(losses)} and {sorted(errors)}")
    check_int("train_max", train_max, low=1)
    baseline = check_real("baseline", baseline, low=0.0)
    # stacked, not side by side: two log panels do not fit a phone's width next to each other
    fig = make_subplots(rows=2, cols=1, vertical_spacing=0.2, subplot_titles=("Training", "Held out, by length"))
    colours = [OKABE_ITO["green"], OKABE_ITO["vermillion"], OKABE_ITO["blue"], OKABE_ITO["purple"]]
    longest = max(max(e) for e in errors.values())
    for (name, curve), colour in zip(losses.items(), colours):
        c = np.asarray(curve, dtype=float)
        k = max(1, len(c) // 40)
        smooth = np.convolve(c, np.ones(k) / k, mode="valid")  # a running mean, so the two curves can be told apart
        fig.add_trace(go.Scatter(x=np.arange(k, len(c) + 1), y=smooth, name=name, legendgroup=name,
                                 line=dict(color=colour, width=3)), 1, 1)
        Ls = sorted(errors[name])
        ys = [errors[name][L] for L in Ls]
        fig.add_trace(go.Scatter(x=Ls, y=[None if math.isnan(y) else y for y in ys], legendgroup=name,
                                 showlegend=False, mode="lines+markers", line=dict(color=colour, width=3),
                                 marker=dict(size=9),
                                 hovertemplate="length %{x}: MSE %{y:.4f}<extra>" + name + "</extra>"),
                      2, 1)
    fig.add_trace(go.Scatter(x=[2, longest], y=[baseline] * 2, mode="lines",
                             name="predict the mean", line=dict(color="#666", dash="dot", width=2)), 2, 1)
    fig.add_vrect(x0=2, x1=train_max, fillcolor="#999", opacity=0.15, line_width=0, row=2, col=1)
    styled(fig, height=780, legend=dict(orientation="h", x=0, y=1.04, yanchor="bottom"), margin=dict(t=90, b=70))
    fig.update_annotations(font_size=16)
    fig.update_yaxes(type="log", title_text="MSE", exponentformat="power", dtick=1)
    fig.update_xaxes(title_text="training step", tickangle=0, row=1, col=1)
    ticks = [L for L in (2, 5, 10, 20, 50, 100, 200, 500, 1000) if L <= longest]
    fig.update_xaxes(type="log", title_text="sequence length (shaded: trained)", tickvals=ticks, tickangle=0,
                     row=2, col=1)
    return fig
