"""Figures of the continuum chapter (book/continuum.ipynb): the λ explorer over a filter grid, shifts, data size.

Three layers as everywhere in the book: ``compute_*`` (numbers only: trains the networks once, tested
without a browser), ``figure_*`` (plotly), and ``lambda_explorer`` wiring a λ slider to both faces of
one figure. Nothing trains when a slider moves: every λ was trained by :func:`compute_sweep`.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..checks import ArgumentError, check_int
from ..continuum import (SHIFTS_BY_DISTANCE, ContinuumConfig, ContinuumRun, accuracy_under_shifts,
                         first_layer_equivariance, make_canvas_digits, sweep_continuum)
from .explorer import Explorer, Patch, apply_patch
from .style import OKABE_ITO, SHARED, TASK_A, styled
from .tying import lambda_label

INF = float("inf")
LAMBDAS = [0.0, 1e-3, 1e-2, 0.1, 1.0, INF]  # the chapter's λ grid: free, four strengths of tying, a convolution
SHIFTS = [s for group in SHIFTS_BY_DISTANCE.values() for s in group]  # (0, 0), four 1-pixel, four 2-pixel
_DISTANCE = np.array([max(abs(dy), abs(dx)) for dy, dx in SHIFTS])  # (9,) distance of each shift
EQUIVARIANCE_SHIFT = (1, 1)  # one pixel down and right: the shift the equivariance measure uses
_ZERO_FLOOR = 1e-7  # where an exact 0 is drawn on a log axis
_DIVERGING = [[0.0, OKABE_ITO["blue"]], [0.5, "#ffffff"], [1.0, OKABE_ITO["vermillion"]]]


# ----------------------------------------------------------------------------- compute
@dataclass(frozen=True)
class ContinuumSweep:
    """Networks trained for every λ × seed and what they measure (arrays have λ first, seeds second)."""

    lams: list[float]
    seeds: list[int]
    runs: list[ContinuumRun]  # λ-major: run l * len(seeds) + s
    accuracy: np.ndarray  # (L, S, len(SHIFTS)) held-out accuracy on the test digits moved by each shift
    penalty: np.ndarray  # (L, S) Ω = Σₚ ‖wₚ − w̄‖² of the first layer
    equivariance: np.ndarray  # (L, S) relative equivariance error of the first layer (0 for the convolution)
    filters: np.ndarray  # (L, oh, ow, O, k, k) the first layer's filters at every position, seed seeds[0]
    n_per_class: int

    def mean_accuracy(self, distance: int) -> np.ndarray:
        """(L,) accuracy averaged over seeds and over the shifts of this many pixels (0: the centred digits)."""
        return self.accuracy[:, :, _DISTANCE == distance].mean(axis=(1, 2))


def _filters_of(run: ContinuumRun) -> np.ndarray:
    w = run.model.features.weight.detach().cpu()
    if run.model.shared:  # the convolution's one filter bank, drawn at every position
        cfg = run.model.config
        w = w.expand(cfg.out_size, cfg.out_size, *w.shape)
    return w[:, :, :, 0].numpy()  # (oh, ow, O, k, k)


def compute_sweep(lams: Sequence[float] = LAMBDAS, seeds: Sequence[int] = (0, 1, 2), n_per_class: int = 10,
                  steps: int = 100, config: ContinuumConfig | None = None, device=None) -> ContinuumSweep:
    """Train every (λ, seed) at once (``sweep_continuum``), then measure shifts, Ω and equivariance."""
    n_per_class = check_int("n_per_class", n_per_class, low=1)
    seeds = list(seeds)
    lams = list(lams)
    data = [make_canvas_digits(n_per_class, seed=check_int("seeds[i]", s, low=0), device=device) for s in seeds]
    runs = sweep_continuum(data, lams, seeds, steps=steps, config=config, device=device)
    L, S = len(lams), len(seeds)
    acc = accuracy_under_shifts(runs, data[0], SHIFTS).numpy().reshape(L, S, len(SHIFTS))
    probe = data[0].X_test[:8]
    return ContinuumSweep(
        lams=lams, seeds=seeds, runs=runs, accuracy=acc,
        penalty=np.array([r.penalty for r in runs]).reshape(L, S),
        equivariance=np.array([first_layer_equivariance(r, probe, EQUIVARIANCE_SHIFT) for r in runs]).reshape(L, S),
        filters=np.stack([_filters_of(runs[l * S]) for l in range(L)]), n_per_class=n_per_class)


def compute_data_size(sizes: Sequence[int], lams: Sequence[float], seeds: Sequence[int] = (0, 1),
                      steps: int = 100, device=None, reuse: ContinuumSweep | None = None) -> dict:
    """Held-out accuracy against training-set size: {"sizes", "lams", "centred" (L, N), "shifted" (L, N)}.

    ``shifted`` averages the 1- and 2-pixel shifts. A size equal to ``reuse.n_per_class`` takes its numbers
    from that sweep (same λ, its seeds) instead of training again.
    """
    sizes = [check_int(f"sizes[{i}]", n, low=1) for i, n in enumerate(sizes)]
    lams = list(lams)
    centred = np.empty((len(lams), len(sizes)))
    shifted = np.empty_like(centred)
    for j, n in enumerate(sizes):
        if reuse is not None and n == reuse.n_per_class:
            rows = [reuse.lams.index(lam) for lam in lams]
            acc = reuse.accuracy[rows]  # (L, S, shifts)
        else:
            data = [make_canvas_digits(n, seed=s, device=device) for s in seeds]
            runs = sweep_continuum(data, lams, list(seeds), steps=steps, device=device)
            acc = accuracy_under_shifts(runs, data[0], SHIFTS).numpy().reshape(len(lams), len(seeds), -1)
        centred[:, j] = acc[:, :, _DISTANCE == 0].mean(axis=(1, 2))
        shifted[:, j] = acc[:, :, _DISTANCE > 0].mean(axis=(1, 2))
    return {"sizes": sizes, "lams": lams, "centred": centred, "shifted": shifted}


def filter_grid(filters: np.ndarray) -> np.ndarray:
    """One channel's filters at every position (oh, ow, k, k) as one image with a blank line between them."""
    filters = np.asarray(filters, dtype=float)
    if filters.ndim != 4:
        raise ValueError(f"filters must be (oh, ow, k, k), got shape {filters.shape}")
    oh, ow, kh, kw = filters.shape
    grid = np.full((oh * (kh + 1) - 1, ow * (kw + 1) - 1), np.nan)
    for i in range(oh):
        for j in range(ow):
            grid[i * (kh + 1):i * (kh + 1) + kh, j * (kw + 1):j * (kw + 1) + kw] = filters[i, j]
    return grid


# ----------------------------------------------------------------------------- the λ explorer
_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _position(lam: float, lams: Sequence[float]) -> float:
    """Where λ sits on this chapter's λ axis: log₁₀ λ, with 0 one decade left of the grid's smallest λ > 0 and ∞
    one decade right of its largest finite λ (the tying chapter's axis puts ∞ at 10⁴, and this grid stops at 1:
    three empty decades would squeeze the ticks together on a phone)."""
    finite = [math.log10(v) for v in lams if 0 < v < INF]
    if lam == 0:
        return (min(finite) if finite else 0.0) - 1
    if math.isinf(lam):
        return (max(finite) if finite else 0.0) + 1
    return math.log10(lam)


def _tick(lam: float) -> str:
    """λ as a short tick label: '10⁻³' rather than '0.001', so that the decades' labels fit a half-width panel."""
    if 0 < lam < 0.1 and math.log10(lam).is_integer():
        return "10" + str(int(math.log10(lam))).translate(_SUPERSCRIPTS)
    return lambda_label(lam)


_GRID, _CENTRED, _SHIFTED, _NOW_CENTRED, _NOW_SHIFTED = range(5)  # trace order of the explorer figure


def _check_sweep(sweep) -> ContinuumSweep:
    if not isinstance(sweep, ContinuumSweep):
        raise ArgumentError(f"sweep must be a ContinuumSweep (see compute_sweep), got {type(sweep).__name__}")
    return sweep


def _explorer_patch(sweep: ContinuumSweep, lam: float, channel: int) -> Patch:
    """Everything that moves with λ (and the channel shown): the grid, the two markers, the title."""
    l = sweep.lams.index(lam)
    grid = filter_grid(sweep.filters[l, :, :, channel])
    z = np.round(grid, 3)  # NaN between filters: a gap plotly leaves blank
    x = _position(lam, sweep.lams)
    return Patch(
        traces={_GRID: dict(z=z),
                _NOW_CENTRED: dict(x=[x], y=[float(sweep.mean_accuracy(0)[l])]),
                _NOW_SHIFTED: dict(x=[x], y=[float(sweep.mean_accuracy(2)[l])])},
        layout=dict(title=dict(text=f"λ = {lambda_label(lam)} · Ω = {sweep.penalty[l].mean():.3g}")))


def figure_lambda_explorer(sweep: ContinuumSweep, lam: float = 0.0, channel: int = 0) -> go.Figure:
    """Left: one filter of the first layer at every position; right: held-out accuracy against λ."""
    sweep = _check_sweep(sweep)
    if lam not in sweep.lams:
        raise ValueError(f"lam must be one of the sweep's λ {sweep.lams}, got {lam!r}")
    channel = check_int("channel", channel, low=0, high=sweep.filters.shape[3] - 1)
    # the λ panel wider than the square filter grid needs: its six tick labels must fit in projector type
    fig = make_subplots(rows=1, cols=2, column_widths=[0.42, 0.58], horizontal_spacing=0.14,
                        subplot_titles=("Filter at each position", "Held-out accuracy"))
    bound = float(np.abs(sweep.filters[:, :, :, channel]).max())
    fig.add_trace(go.Heatmap(z=[[0]], colorscale=_DIVERGING, zmin=-bound, zmax=bound, showscale=False,
                             hoverongaps=False, name="filter weights"), 1, 1)  # 0
    x = [_position(v, sweep.lams) for v in sweep.lams]
    for distance, colour, name in [(0, TASK_A, "centred"), (2, SHARED, "moved 2 px")]:  # 1, 2
        fig.add_trace(go.Scatter(x=x, y=sweep.mean_accuracy(distance), mode="lines+markers", name=name,
                                 line=dict(color=colour, width=3)), 1, 2)
    for colour in (TASK_A, SHARED):  # 3, 4: the current λ
        fig.add_trace(go.Scatter(x=[0], y=[0], mode="markers", showlegend=False, hoverinfo="skip",
                                 marker=dict(size=16, color=colour, line=dict(width=2, color="black"))), 1, 2)
    styled(fig, height=470, margin=dict(t=90, b=60, l=30, r=20),
           legend=dict(orientation="h", x=1.0, xanchor="right", y=0.02, yanchor="bottom"))
    fig.update_xaxes(visible=False, row=1, col=1)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", row=1, col=1)
    ticks = [_position(v, sweep.lams) for v in sweep.lams]
    fig.update_xaxes(tickvals=ticks, ticktext=[_tick(v) for v in sweep.lams], title_text="λ",
                     tickangle=0, row=1, col=2)
    fig.update_yaxes(title_text="accuracy", range=[0, 1], row=1, col=2)
    apply_patch(fig, _explorer_patch(sweep, lam, channel))
    return fig


def lambda_explorer(sweep: ContinuumSweep, lam: float = 0.0) -> Explorer:
    """The chapter's explorer: a λ slider (static frames in the book) and, live only, a channel menu."""
    import ipywidgets as widgets

    sweep = _check_sweep(sweep)
    if lam not in sweep.lams:
        raise ValueError(f"lam must be one of the sweep's λ {sweep.lams}, got {lam!r}")
    slider = widgets.SelectionSlider(options=[(lambda_label(v), v) for v in sweep.lams], value=lam,
                                     description="λ", layout=widgets.Layout(width="95%"))
    channel = widgets.Dropdown(options=list(range(sweep.filters.shape[3])), value=0, description="filter")
    return Explorer(
        figure_lambda_explorer(sweep, lam, 0),
        update=lambda lam, channel: _explorer_patch(sweep, lam, channel),
        controls={"lam": slider, "channel": channel}, static_control="lam", static_values=sweep.lams,
        static_labels=[lambda_label(v) for v in sweep.lams], slider_prefix="λ = ")


# ----------------------------------------------------------------------------- static figures
def figure_shifts(sweep: ContinuumSweep) -> go.Figure:
    """Accuracy on digits moved 0, 1, 2 pixels against λ (top); the first layer's equivariance error (bottom)."""
    sweep = _check_sweep(sweep)
    x = [_position(v, sweep.lams) for v in sweep.lams]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.14,
                        subplot_titles=("Accuracy on moved digits", "Equivariance error, first layer"))
    for distance, colour in zip((0, 1, 2), (TASK_A, OKABE_ITO["orange"], SHARED)):
        fig.add_trace(go.Scatter(x=x, y=sweep.mean_accuracy(distance), mode="lines+markers",
                                 name=f"moved {distance} px", line=dict(color=colour, width=3)), 1, 1)
    eq = sweep.equivariance.mean(axis=1)
    fig.add_trace(go.Scatter(x=x, y=np.maximum(eq, _ZERO_FLOOR), mode="lines+markers+text", showlegend=False,
                             text=["exactly 0" if e == 0 else "" for e in eq], textposition="top left",
                             line=dict(color="black", width=3)), 2, 1)
    # The legend sits in the top panel's empty lower right (every curve is above 0.5 there), not in the
    # margin, where it fought the panel's title for the same line.
    styled(fig, height=620, legend=dict(x=0.98, xanchor="right", y=fig.layout.yaxis.domain[0] + 0.02,
                                        yanchor="bottom", bgcolor="rgba(255,255,255,0.85)"),
           margin=dict(t=50, b=60, l=80, r=20))
    fig.update_yaxes(title_text="accuracy", range=[0, 1], row=1, col=1)
    # every other decade labelled: eight decades in a half-height panel run together in projector type
    fig.update_yaxes(title_text="relative error", type="log", tickvals=[10.0 ** -k for k in range(0, 8, 2)],
                     row=2, col=1)
    fig.update_xaxes(tickvals=x, ticktext=[_tick(v) for v in sweep.lams], title_text="λ", row=2, col=1)
    return fig


def figure_data_size(result: dict) -> go.Figure:
    """Held-out accuracy against training digits per class for a few λ: centred digits and moved ones."""
    if not isinstance(result, dict) or not {"sizes", "lams", "centred", "shifted"} <= set(result):
        raise ArgumentError("result must be what compute_data_size returns")
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.06,
                        subplot_titles=("Centred digits", "Moved 1–2 px"))
    colours = [OKABE_ITO[c] for c in ("vermillion", "orange", "green", "blue")]
    for l, (lam, colour) in enumerate(zip(result["lams"], colours)):
        for col, key in ((1, "centred"), (2, "shifted")):
            fig.add_trace(go.Scatter(x=result["sizes"], y=result[key][l], mode="lines+markers",
                                     name=f"λ = {lambda_label(lam)}", showlegend=col == 1, legendgroup=str(l),
                                     line=dict(color=colour, width=3)), 1, col)
    styled(fig, height=440, legend=dict(orientation="h", x=0, y=-0.25, yanchor="top"),
           margin=dict(t=60, b=130, l=80, r=20))
    fig.update_xaxes(type="log", tickvals=result["sizes"], title_text="digits per class")
    fig.update_yaxes(title_text="accuracy", range=[0, 1], row=1, col=1)
    return fig


def pick_lambda(sweep: ContinuumSweep, distance: int = 2) -> float:
    """The finite λ > 0 of the sweep with the best accuracy on digits moved ``distance`` pixels."""
    sweep = _check_sweep(sweep)
    acc = sweep.mean_accuracy(check_int("distance", distance, low=0, high=2))
    finite = [i for i, v in enumerate(sweep.lams) if 0 < v < math.inf]
    if not finite:
        raise ValueError("the sweep has no finite λ > 0")
    return sweep.lams[max(finite, key=lambda i: acc[i])]
