"""Figures of the multi-task chapter (book/multitask.ipynb): the tasks, the λ explorer, what to tie.

Three layers as everywhere in the book: ``compute_*`` (numbers from a :class:`~tyshare_lib.multitask.Sweep`,
tested without a browser), ``figure_*`` (plotly) and ``lambda_explorer`` (one control set, static frames in
the book, a live widget in a notebook). Nothing here trains: the explorer shows sweeps computed beforehand.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..checks import ArgumentError, check_choice, check_real
from ..multitask import LAYERS, Sweep, TaskPair
from .explorer import Explorer, Patch, apply_patch
from .style import OKABE_ITO, TASK_A, TASK_B, styled

INF = math.inf
# The chapter's λ grid: 0 (each alone), log-spaced values where the tie goes from loose to tight, ∞ (shared).
LAMBDAS = [0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, INF]
_ZERO_AT, _INF_AT = -5.0, -1.0  # where λ = 0 and λ = ∞ sit on the log axis
LAYER_COLOURS = {"hidden1": OKABE_ITO["orange"], "hidden2": OKABE_ITO["purple"], "head": OKABE_ITO["grey"]}
TIE_LABELS = {("hidden1",): "first layer", ("head",): "last layer (head)", ("hidden1", "hidden2"): "trunk (1 + 2)",
              ("hidden1", "hidden2", "head"): "all layers"}
SHORT_TASK = {"relabelled": "related (renamed)", "thick": "related (thick pen)", "permuted": "unrelated (shuffled)"}


def lambda_label(lam: float) -> str:
    """'0', '∞' or a short number such as '3e-04': how λ is written on sliders and titles."""
    if lam == 0:
        return "0"
    if math.isinf(lam):
        return "∞"
    return f"{lam:.0e}" if lam < 0.01 else f"{lam:g}"


def lambda_position(lam: float) -> float:
    """Where λ sits on the chapter's λ axis: log₁₀ λ, with 0 at −5 and ∞ at −1 (the grid spans 10⁻⁴…10⁻²)."""
    lam = check_real("lam", lam, low=0.0, allow_inf=True)
    if lam == 0:
        return _ZERO_AT
    if math.isinf(lam):
        return _INF_AT
    return math.log10(lam)


def _lambda_axis() -> dict:
    # One line of tick labels: what 0 and ∞ mean is in the axis title (two-line ticks pushed the title into the
    # book's slider below).
    return dict(tickvals=[-5, -4, -3, -2, -1], ticktext=["0", "10⁻⁴", "10⁻³", "10⁻²", "∞"],
                range=[-5.3, -0.7], tickangle=0)


# ----------------------------------------------------------------------------- compute
@dataclass(frozen=True)
class LambdaCurves:
    """Means and spreads over seeds along the λ grid, for one task B and one tie set (multitask chapter)."""

    task: str
    lams: list[float]
    tie_layers: tuple[str, ...]
    acc_a: np.ndarray  # (L,) mean held-out accuracy of task A over seeds, in %
    acc_a_sd: np.ndarray  # (L,) standard deviation over seeds, in %
    acc_b: np.ndarray  # (L,)
    acc_b_sd: np.ndarray
    gain_b: np.ndarray  # (L,) mean over seeds of B's accuracy minus B's accuracy alone (λ = 0), in points
    distance: np.ndarray  # (L, 3) mean ‖θᴬ_l − θᴮ_l‖ per layer (LAYERS order)
    n_seeds: int

    def at(self, lam: float) -> int:
        """Index of ``lam`` in the grid (ValueError if it is not a grid value)."""
        check_choice("lam", lam, self.lams)
        return self.lams.index(lam)


def _check_sweep(sweep) -> Sweep:
    if not isinstance(sweep, Sweep):
        raise ArgumentError(f"sweep must be a Sweep (see sweep_multitask), got {type(sweep).__name__}")
    return sweep


def compute_lambda_curves(sweep: Sweep, tie_index: int = 0) -> LambdaCurves:
    """Mean and standard deviation over seeds of both accuracies, and mean distances, along λ."""
    _check_sweep(sweep)
    if not isinstance(tie_index, int) or not 0 <= tie_index < len(sweep.tie_sets):
        raise ValueError(f"tie_index must be an int in [0, {len(sweep.tie_sets) - 1}], got {tie_index!r}")
    if 0.0 not in sweep.lams:
        raise ValueError("sweep.lams must include 0 (each task alone), the baseline of the gains")
    a = 100 * sweep.acc_a[tie_index].double().numpy()  # (L, S)
    b = 100 * sweep.acc_b[tie_index].double().numpy()
    sd = (lambda x: x.std(axis=1, ddof=1)) if len(sweep.seeds) > 1 else (lambda x: np.zeros(x.shape[0]))
    return LambdaCurves(sweep.task, list(sweep.lams), sweep.tie_sets[tie_index], a.mean(1), sd(a), b.mean(1), sd(b),
                        (b - b[sweep.lams.index(0.0)]).mean(1), sweep.distance[tie_index].double().mean(1).numpy(),
                        len(sweep.seeds))


@dataclass(frozen=True)
class TieTable:
    """Task B's held-out accuracy for each choice of tied layers at one λ, per task (multitask chapter)."""

    lam: float
    tie_sets: list[tuple[str, ...]]
    alone: dict[str, tuple[float, float]]  # task -> (mean, sd) of B's accuracy at λ = 0, in %
    tied: dict[str, list[tuple[float, float]]]  # task -> per tie set (mean, sd), in %
    gain: dict[str, list[float]]  # task -> per tie set mean gain over alone (paired by seed), in points


def compute_tie_table(sweeps: Mapping[str, Sweep], lam: float) -> TieTable:
    """For each task's sweep (tie sets × [0, lam] × seeds): B's accuracy alone and with each tie set at ``lam``."""
    if not isinstance(sweeps, Mapping) or not sweeps:
        raise ArgumentError(f"sweeps must be a non-empty dict task -> Sweep, got {type(sweeps).__name__}")
    lam = check_real("lam", lam, low=0.0, allow_inf=True)
    tie_sets = None
    alone, tied, gain = {}, {}, {}
    for task, sweep in sweeps.items():
        _check_sweep(sweep)
        if 0.0 not in sweep.lams or lam not in sweep.lams:
            raise ValueError(f"sweeps[{task!r}].lams must include 0 and lam={lam}, got {sweep.lams}")
        if tie_sets is not None and sweep.tie_sets != tie_sets:
            raise ValueError("every sweep must use the same tie_sets")
        tie_sets = sweep.tie_sets
        b = 100 * sweep.acc_b.double().numpy()  # (T, L, S)
        i0, i = sweep.lams.index(0.0), sweep.lams.index(lam)
        base = b[0, i0]  # λ = 0: the tie set does not matter, every net trains alone
        alone[task] = (float(base.mean()), float(base.std(ddof=1)) if base.size > 1 else 0.0)
        tied[task] = [(float(b[t, i].mean()), float(b[t, i].std(ddof=1)) if base.size > 1 else 0.0)
                      for t in range(len(tie_sets))]
        gain[task] = [float((b[t, i] - base).mean()) for t in range(len(tie_sets))]
    return TieTable(lam, list(tie_sets), alone, tied, gain)


# ----------------------------------------------------------------------------- the tasks, as images
def figure_tasks(pairs: Mapping[str, TaskPair], index: int = 0) -> go.Figure:
    """One held-out digit as task A sees it and as each task B sees it, with each task's label."""
    if not isinstance(pairs, Mapping) or not pairs or not all(isinstance(p, TaskPair) for p in pairs.values()):
        raise ArgumentError("pairs must be a non-empty dict task -> TaskPair")
    first = next(iter(pairs.values()))
    if not isinstance(index, int) or not 0 <= index < first.XA_test.shape[0]:
        raise ValueError(f"index must be an int in [0, {first.XA_test.shape[0] - 1}], got {index!r}")
    panels = [(first.XA_test[index], int(first.yA_test[index]), "task A")]
    panels += [(p.XB_test[index], int(p.yB_test[index]), SHORT_TASK[t]) for t, p in pairs.items()]
    fig = make_subplots(rows=1, cols=len(panels), horizontal_spacing=0.03,
                        subplot_titles=[f"{name}<br>label {y}" for _, y, name in panels])
    for c, (x, _, _) in enumerate(panels, start=1):
        fig.add_trace(go.Heatmap(z=np.round(x.reshape(8, 8).cpu().numpy(), 3), colorscale="Greys", zmin=0, zmax=1,
                                 showscale=False, hovertemplate="%{z:.2f}<extra></extra>"), 1, c)
    styled(fig, height=300, margin=dict(t=90, b=10, l=10, r=10))
    bare = dict(showticklabels=False, showgrid=False, zeroline=False, showline=False, ticks="", constrain="domain")
    fig.update_xaxes(**bare)
    fig.update_yaxes(**bare, autorange="reversed")
    for axis in fig.select_yaxes():
        axis.scaleanchor = axis.anchor
    fig.update_annotations(font_size=14)
    return fig


# ----------------------------------------------------------------------------- the λ explorer
# Trace order of the explorer figure; the patch refers to these indices.
(_A_BAND, _B_BAND, _A_MEAN, _B_MEAN, _A_NOW, _B_NOW) = range(6)
_DIST = {name: 6 + i for i, name in enumerate(LAYERS)}  # one line per layer
_DIST_NOW = 6 + len(LAYERS)


def _band(x: list[float], mean: np.ndarray, sd: np.ndarray) -> dict:
    """A closed polygon mean ± sd: along the top, back along the bottom."""
    return dict(x=x + x[::-1], y=np.round(np.concatenate([mean + sd, (mean - sd)[::-1]]), 3).tolist())


def _explorer_patch(curves: LambdaCurves, lam: float) -> Patch:
    i = curves.at(lam)
    x = [lambda_position(v) for v in curves.lams]
    traces = {
        _A_BAND: _band(x, curves.acc_a, curves.acc_a_sd),
        _B_BAND: _band(x, curves.acc_b, curves.acc_b_sd),
        _A_MEAN: dict(x=x, y=np.round(curves.acc_a, 3).tolist()),
        _B_MEAN: dict(x=x, y=np.round(curves.acc_b, 3).tolist()),
        _A_NOW: dict(x=[x[i]], y=[round(float(curves.acc_a[i]), 3)]),
        _B_NOW: dict(x=[x[i]], y=[round(float(curves.acc_b[i]), 3)]),
        _DIST_NOW: dict(x=[x[i]] * len(curves.tie_layers),
                        y=[round(float(curves.distance[i, LAYERS.index(n)]), 4) for n in curves.tie_layers]),
    }
    for j, name in enumerate(LAYERS):
        traces[_DIST[name]] = dict(x=x, y=np.round(curves.distance[:, j], 4).tolist())
    gain = curves.gain_b[i]
    title = (f"λ = {lambda_label(lam)}: B {curves.acc_b[i]:.1f} %"
             + ("" if lam == 0 else f" ({gain:+.1f} vs alone)"))
    return Patch(traces=traces, layout=dict(title=dict(text=title)))


def figure_lambda_explorer(curves: LambdaCurves, lam: float = 0.0) -> go.Figure:
    """Held-out accuracy of A and B (mean ± sd over seeds) and ‖θᴬ_l − θᴮ_l‖ per layer, against λ."""
    if not isinstance(curves, LambdaCurves):
        raise ArgumentError(f"curves must be LambdaCurves (see compute_lambda_curves), got {type(curves).__name__}")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12, row_heights=[0.6, 0.4],
                        subplot_titles=("Held-out accuracy ± 1 sd", "‖θᴬ − θᴮ‖ per layer"))
    for colour in (TASK_A, TASK_B):  # 0, 1: spread bands
        fig.add_trace(go.Scatter(x=[0], y=[0], fill="toself", mode="lines", line=dict(width=0), opacity=0.2,
                                 fillcolor=colour, hoverinfo="skip", showlegend=False), 1, 1)
    fig.add_trace(go.Scatter(x=[0], y=[0], name="task A (many labels)", mode="lines+markers",  # 2
                             line=dict(color=TASK_A, width=3), marker=dict(size=8)), 1, 1)
    fig.add_trace(go.Scatter(x=[0], y=[0], name="task B (5 per class)", mode="lines+markers",  # 3
                             line=dict(color=TASK_B, width=4), marker=dict(size=9, symbol="diamond")), 1, 1)
    for colour, symbol in ((TASK_A, "circle"), (TASK_B, "diamond")):  # 4, 5: the current λ
        fig.add_trace(go.Scatter(x=[0], y=[0], mode="markers", showlegend=False, hoverinfo="skip",
                                 marker=dict(size=18, color=colour, symbol=symbol, line=dict(width=2, color="black"))),
                      1, 1)
    for name in LAYERS:  # 6, 7, 8: distance per layer; an untied layer is dotted
        tied = name in curves.tie_layers
        fig.add_trace(go.Scatter(x=[0], y=[0], mode="lines+markers",
                                 name=f"{name}{'' if tied else ' (not tied)'}",
                                 line=dict(color=LAYER_COLOURS[name], width=3 if tied else 2,
                                           dash="solid" if tied else "dot"), marker=dict(size=7)), 2, 1)
    fig.add_trace(go.Scatter(x=[0], y=[0], mode="markers", showlegend=False, hoverinfo="skip",  # 9
                             marker=dict(size=14, color="black", symbol="circle-open", line=dict(width=3))), 2, 1)
    # The legend sits below the book's λ slider, which the book puts ~60 px under the plotting area (under the
    # tick labels and the x-axis title) and which is ~80 px tall: 150 px (0.35) of the 428-px plotting area.
    styled(fig, height=740, legend=dict(orientation="h", y=-0.37, yanchor="top", x=0),
           title=dict(y=0.98, yanchor="top"), margin=dict(t=110, b=230, l=70, r=20))
    fig.update_xaxes(**_lambda_axis(), row=1, col=1)
    fig.update_xaxes(**_lambda_axis(), title_text="λ (0: each alone, ∞: shared)", row=2, col=1)
    fig.update_yaxes(title_text="accuracy (%)", range=[50, 100], row=1, col=1)
    fig.update_yaxes(title_text="distance", rangemode="tozero", nticks=4, row=2, col=1)  # short in projector mode
    fig.update_annotations(font_size=15)
    apply_patch(fig, _explorer_patch(curves, lam))
    return fig


def lambda_explorer(curves: Mapping[str, LambdaCurves], task: str | None = None, lam: float = 0.0) -> Explorer:
    """The chapter's λ explorer: a menu of tasks B and a λ slider over the precomputed grid (multitask chapter)."""
    import ipywidgets as widgets

    if not isinstance(curves, Mapping) or not curves or not all(isinstance(c, LambdaCurves) for c in curves.values()):
        raise ArgumentError("curves must be a non-empty dict task -> LambdaCurves (see compute_lambda_curves)")
    grids = {tuple(c.lams) for c in curves.values()}
    if len(grids) != 1:
        raise ValueError("every task's curves must use the same λ grid")
    lams = list(next(iter(grids)))
    task = next(iter(curves)) if task is None else check_choice("task", task, set(curves))
    lam = check_choice("lam", check_real("lam", lam, low=0.0, allow_inf=True), lams)
    options = [(SHORT_TASK.get(t, t), t) for t in curves]
    controls = {
        "task": widgets.ToggleButtons(options=options, value=task, description="task B",
                                      style={"button_width": "14em"}),
        "lam": widgets.SelectionSlider(options=[(lambda_label(v), v) for v in lams], value=lam, description="λ",
                                       continuous_update=True, layout=widgets.Layout(width="95%")),
    }
    return Explorer(figure_lambda_explorer(curves[task], lam),
                    update=lambda task, lam: _explorer_patch(curves[task], lam),
                    controls=controls, static_control="lam", static_values=lams,
                    static_labels=[lambda_label(v) for v in lams], slider_prefix="λ = ",
                    groups={"task": [(f"task B: {SHORT_TASK.get(t, t)}", t) for t in curves]},
                    live_layout=dict(height=640, legend_y=-0.15, margin_b=120))


# ----------------------------------------------------------------------------- what to tie
def figure_what_to_tie(table: TieTable) -> go.Figure:
    """Task B's held-out accuracy (mean ± sd over seeds) alone and with each choice of tied layers."""
    if not isinstance(table, TieTable):
        raise ArgumentError(f"table must be a TieTable (see compute_tie_table), got {type(table).__name__}")
    labels = ["none (alone)"] + [TIE_LABELS.get(t, " + ".join(t)) for t in table.tie_sets]
    colours = [OKABE_ITO["sky"], OKABE_ITO["vermillion"], OKABE_ITO["green"], OKABE_ITO["yellow"]]
    fig = go.Figure()
    for (task, alone), colour in zip(table.alone.items(), colours):
        means = [alone[0]] + [m for m, _ in table.tied[task]]
        sds = [alone[1]] + [s for _, s in table.tied[task]]
        fig.add_trace(go.Bar(y=labels, x=means, orientation="h", name=SHORT_TASK.get(task, task), marker_color=colour,
                             error_x=dict(type="data", array=sds, thickness=2, width=4),
                             hovertemplate="%{x:.1f} %<extra>" + SHORT_TASK.get(task, task) + "</extra>"))
    # λ goes to the title (an HTML caption that wraps): the axis title stays short enough for a phone.
    styled(fig, height=520, barmode="group", xaxis_title="task B accuracy (%)",
           title=f"Task B's held-out accuracy for each choice of tied layers, λ = {lambda_label(table.lam)}",
           legend=dict(orientation="h", y=-0.25, yanchor="top", x=0, traceorder="normal"),
           margin=dict(l=190, t=58, b=150, r=20))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(range=[40, 100])
    return fig
