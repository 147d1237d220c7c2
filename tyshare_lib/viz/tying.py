"""Figures of the tying chapter (book/tying.ipynb): the λ explorer, held-out error, capacity, training.

Each figure follows the book's three layers: ``compute_*`` (numbers only, tested without a browser),
``figure_*`` (plotly), and, for the explorer, ``lambda_explorer`` wiring one control to both.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..checks import ArgumentError, check_int, check_real
from ..tying import TwoTasks, effective_dof, make_two_tasks, mse_each, tied_path, train_tied
from .contours import auto_levels, contour_lines
from .explorer import Explorer, Patch, apply_patch
from .style import OKABE_ITO, SHARED, TASK_A, TASK_B, styled

INF = float("inf")
# The λ grid of the book: 0, then log-spaced values, then the hard-sharing limit ∞.
STATIC_LAMBDAS = [0.0, *np.logspace(-3, 3, 25).tolist(), INF]  # frames in the built book
LIVE_LAMBDAS = [0.0, *np.logspace(-3, 3, 61).tolist(), INF]  # positions of the live slider
_ZERO_AT, _INF_AT = -4.0, 4.0  # where λ = 0 and λ = ∞ sit on the log axis


def lambda_label(lam: float) -> str:
    """'0', '∞' or a short decimal: how λ is written on sliders and titles."""
    if lam == 0:
        return "0"
    if math.isinf(lam):
        return "∞"
    return f"{lam:.3g}"


def lambda_position(lam: float) -> float:
    """Where λ sits on the book's λ axis: log₁₀ λ, with 0 one decade left of 10⁻³ and ∞ one right of 10³."""
    if lam == 0:
        return _ZERO_AT
    if math.isinf(lam):
        return _INF_AT
    return math.log10(lam)


def _lambda_axis(compact: bool = False) -> dict:
    """A log axis for λ with 0 and ∞ at its ends, every other decade labelled (every decade ran the labels
    together on a phone and a projector); ``compact`` titles it just "λ" (narrow panels)."""
    ticks = [-4, -2, 0, 2, 4]
    names = {-4: "0", -3: "10⁻³", -2: "10⁻²", -1: "0.1", 0: "1", 1: "10", 2: "10²", 3: "10³", 4: "∞"}
    return dict(tickvals=ticks, ticktext=[names[t] for t in ticks], range=[-4.3, 4.3], tickangle=0,
                title_text="λ" if compact else "λ (tying strength)")


# ----------------------------------------------------------------------------- compute
@dataclass(frozen=True)
class LambdaPath:
    """The tied solution and its measures along a grid of λ (all arrays have one row per λ)."""

    lams: list[float]
    w_a: np.ndarray  # (L, d)
    w_b: np.ndarray  # (L, d)
    distance: np.ndarray  # (L,) ‖wᴬ − wᴮ‖
    dof: np.ndarray  # (L,) effective number of parameters (trace of the hat matrix)
    train_a: np.ndarray  # (L,) training MSE of task A
    train_b: np.ndarray
    test_a: np.ndarray  # (L,) held-out MSE of task A
    test_b: np.ndarray

    @property
    def test_mean(self) -> np.ndarray:
        """Held-out MSE averaged over the two tasks."""
        return (self.test_a + self.test_b) / 2


def _check_tasks(tasks) -> TwoTasks:
    if not isinstance(tasks, TwoTasks):
        raise ArgumentError(f"tasks must be a TwoTasks (see make_two_tasks), got {type(tasks).__name__}")
    return tasks


def compute_lambda_path(tasks: TwoTasks, lams: Sequence[float]) -> LambdaPath:
    """Solve the tied problem exactly for every λ in ``lams`` and measure each solution."""
    _check_tasks(tasks)
    lams = list(lams)
    wA, wB = tied_path(*tasks.train, lams)
    err = lambda X, y, W: mse_each(X, y, W).cpu().numpy()  # noqa: E731
    return LambdaPath(
        lams=lams, w_a=wA.cpu().numpy(), w_b=wB.cpu().numpy(),
        distance=(wA - wB).norm(dim=1).cpu().numpy(),
        dof=np.array([effective_dof(tasks.XA, tasks.XB, lam) for lam in lams]),
        train_a=err(tasks.XA, tasks.yA, wA), train_b=err(tasks.XB, tasks.yB, wB),
        test_a=err(tasks.XA_test, tasks.yA_test, wA), test_b=err(tasks.XB_test, tasks.yB_test, wB))


def compute_expected_heldout(lams: Sequence[float], n_draws: int = 200, **task_kwargs) -> np.ndarray:
    """Held-out MSE (mean of both tasks) for each λ, averaged over ``n_draws`` fresh training sets.

    The true weights stay fixed (``seed``); only the rows change (``data_seed`` = 0, 1, ...). This is the
    expected error a practitioner faces, free of the luck of one draw.
    """
    n_draws = check_int("n_draws", n_draws, low=1)
    total = np.zeros(len(lams))
    for k in range(n_draws):
        tasks = make_two_tasks(**{**task_kwargs, "data_seed": k})
        wA, wB = tied_path(*tasks.train, lams)
        total += ((mse_each(tasks.XA_test, tasks.yA_test, wA) + mse_each(tasks.XB_test, tasks.yB_test, wB)) / 2).numpy()
    return total / n_draws


def loss_surface(X, y, centre: np.ndarray, half_width: float, n: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training MSE of a 2-weight linear model on an n × n grid around ``centre`` (for contour plots)."""
    g1 = np.linspace(centre[0] - half_width, centre[0] + half_width, n)
    g2 = np.linspace(centre[1] - half_width, centre[1] + half_width, n)
    W1, W2 = np.meshgrid(g1, g2)  # (n, n) each
    Xn, yn = X.cpu().numpy(), y.cpu().numpy()
    pred = Xn[:, 0, None, None] * W1 + Xn[:, 1, None, None] * W2  # (rows, n, n)
    return g1, g2, ((pred - yn[:, None, None]) ** 2).mean(axis=0)


# ----------------------------------------------------------------------------- the λ explorer
# Trace order of the explorer figure; the patch below refers to these indices.
_W_A, _W_B, _GAP, _DIST_NOW, _BAR_TRAIN, _BAR_TEST = range(6, 12)


def _lambda_patch(p: LambdaPath) -> Patch:
    """Everything in the explorer that moves with λ, for the single λ in ``p``."""
    (a1, a2), (b1, b2) = p.w_a[0], p.w_b[0]
    lam = p.lams[0]
    return Patch(
        traces={
            _W_A: dict(x=[a1], y=[a2]),
            _W_B: dict(x=[b1], y=[b2]),
            _GAP: dict(x=[a1, b1], y=[a2, b2]),
            _DIST_NOW: dict(x=[lambda_position(lam)], y=[float(p.distance[0])]),
            _BAR_TRAIN: dict(y=[float(p.train_a[0]), float(p.train_b[0])]),
            _BAR_TEST: dict(y=[float(p.test_a[0]), float(p.test_b[0])]),
        },
        layout=dict(title=dict(text=f"λ = {lambda_label(lam)}   ·   ‖wᴬ − wᴮ‖ = {p.distance[0]:.3f}"
                                    f"   ·   held-out MSE {p.test_mean[0]:.2f}")))


def figure_lambda_explorer(tasks: TwoTasks, lam: float = 0.0) -> go.Figure:
    """Weight space with both tasks' loss contours, ‖wᴬ − wᴮ‖ against λ, and the four errors, at one λ."""
    _check_tasks(tasks)
    if tasks.XA.shape[1] != 2:
        raise ValueError(f"tasks must have 2 weights to draw weight space, got {tasks.XA.shape[1]}")
    path = compute_lambda_path(tasks, LIVE_LAMBDAS)
    fig = make_subplots(rows=2, cols=2, column_widths=[0.58, 0.42], horizontal_spacing=0.13, vertical_spacing=0.22,
                        specs=[[{"rowspan": 2}, {}], [None, {}]],
                        subplot_titles=("Weight space: loss of A and B", "Distance ‖wᴬ − wᴮ‖", "Error at this λ"))
    everything = np.vstack([path.w_a, path.w_b, tasks.w_true_a.numpy(), tasks.w_true_b.numpy()])
    centre = (everything.max(0) + everything.min(0)) / 2
    half = (everything.max(0) - everything.min(0)).max() / 2 + 0.6
    for X, y, colour, name in [(tasks.XA, tasks.yA, TASK_A, "A"), (tasks.XB, tasks.yB, TASK_B, "B")]:
        g1, g2, z = loss_surface(X, y, centre, half)
        log_z = np.log(z)
        # 0, 1: each task's training loss, as contour lines computed here once (a go.Contour trace makes plotly.js
        # recompute them on every draw: the first and each slider move). Spline, as plotly.js smooths a contour's
        # lines; out of the legend, as plotly.js keeps a contour.
        lx, ly = contour_lines(g1, g2, log_z, auto_levels(log_z, ncontours=14))
        fig.add_trace(go.Scatter(
            x=lx, y=ly, mode="lines", line=dict(color=colour, width=1.5, shape="spline"), opacity=0.55,
            hoverinfo="skip", showlegend=False, name=f"loss of task {name}"), row=1, col=1)
    for W, colour, name in [(path.w_a, TASK_A, "wᴬ"), (path.w_b, TASK_B, "wᴮ")]:
        fig.add_trace(go.Scatter(  # 2, 3: where each solution travels as λ goes 0 → ∞
            x=W[:, 0], y=W[:, 1], mode="lines", line=dict(color=colour, width=2, dash="dot"),
            name=f"path of {name}", hoverinfo="skip"), row=1, col=1)
    for w, colour, name in [(tasks.w_true_a, TASK_A, "A"), (tasks.w_true_b, TASK_B, "B")]:
        fig.add_trace(go.Scatter(  # 4, 5: the weights that generated the data
            x=[float(w[0])], y=[float(w[1])], mode="markers", name=f"true weights of task {name}",
            marker=dict(symbol="x-thin", size=16, line=dict(width=3, color=colour))), row=1, col=1)
    fig.add_trace(go.Scatter(x=[0], y=[0], mode="markers", name="wᴬ (fit to task A)",  # 6
                             marker=dict(size=18, color=TASK_A, line=dict(width=2, color="white"))), row=1, col=1)
    fig.add_trace(go.Scatter(x=[0], y=[0], mode="markers", name="wᴮ (fit to task B)",  # 7
                             marker=dict(size=18, color=TASK_B, symbol="diamond",
                                         line=dict(width=2, color="white"))), row=1, col=1)
    fig.add_trace(go.Scatter(x=[0, 0], y=[0, 0], mode="lines", name="wᴬ − wᴮ",  # 8
                             line=dict(color="black", width=3, dash="dash")), row=1, col=1)
    fig.add_trace(go.Scatter(  # 9: the current λ on the distance curve
        x=[0], y=[0], mode="markers", showlegend=False, marker=dict(size=16, color="black")), row=1, col=2)
    errors = np.concatenate([path.train_a, path.train_b, path.test_a, path.test_b])
    fig.add_trace(go.Bar(x=["task A", "task B"], y=[0, 0], name="train MSE",  # 10
                         marker_color=OKABE_ITO["sky"]), row=2, col=2)
    fig.add_trace(go.Bar(x=["task A", "task B"], y=[0, 0], name="held-out MSE",  # 11
                         marker_color=OKABE_ITO["orange"]), row=2, col=2)
    fig.add_trace(go.Scatter(  # 12: the distance along the whole λ grid (static)
        x=[lambda_position(v) for v in path.lams], y=path.distance, mode="lines", showlegend=False,
        line=dict(color="black", width=3), hoverinfo="skip"), row=1, col=2)
    fig.add_hline(y=tasks.noise ** 2, line=dict(dash="dot", color=OKABE_ITO["grey"], width=2), row=2, col=2)
    fig.add_trace(go.Scatter(  # 13: the noise floor's legend entry (the line itself is the hline above)
        x=[None], y=[None], mode="lines", name="noise floor", line=dict(dash="dot", color=OKABE_ITO["grey"], width=2)),
        row=2, col=2)
    # The legend sits below the book's λ slider, which the book puts ~60 px under the plotting area (under the
    # tick labels and the x-axis title) and which is ~80 px tall: 150 px (0.36) of the 418-px plotting area;
    # the ten entries take up to five rows (110 px) in a 650-px column.
    styled(fig, height=790, barmode="group", legend=dict(orientation="h", y=-0.37, yanchor="top", x=0),
           margin=dict(t=110, b=290))
    # autorange to the grid's extent, as a go.Contour trace gives (lines alone would pad y by 5% of the axis
    # and x by nothing); still autorange, so that the equal-scale constraint widens one axis as before
    grid = [dict(include=[float(g[0]), float(g[-1])], clipmin=float(g[0]), clipmax=float(g[-1])) for g in (g1, g2)]
    fig.update_xaxes(title_text="weight 1", autorangeoptions=grid[0], row=1, col=1)
    fig.update_yaxes(title_text="weight 2", autorangeoptions=grid[1], scaleanchor="x", scaleratio=1, row=1, col=1)
    fig.update_xaxes(**_lambda_axis(compact=True), row=1, col=2)
    fig.update_yaxes(title_text="distance", rangemode="tozero", row=1, col=2)
    fig.update_yaxes(title_text="MSE", range=[0, 1.1 * float(errors.max())], row=2, col=2)
    apply_patch(fig, _lambda_patch(compute_lambda_path(tasks, [lam])))
    return fig


def lambda_explorer(tasks: TwoTasks | None = None, lam: float = 0.0) -> Explorer:
    """The chapter's λ explorer: a slider over λ from 0 to ∞, live in a notebook, precomputed in the book."""
    import ipywidgets as widgets

    tasks = _check_tasks(tasks) if tasks is not None else make_two_tasks()
    lam = check_real("lam", lam, low=0.0, allow_inf=True)
    slider = widgets.SelectionSlider(
        options=[(lambda_label(v), v) for v in LIVE_LAMBDAS], value=min(LIVE_LAMBDAS, key=lambda v: abs(lambda_position(v) - lambda_position(lam))),
        description="λ", continuous_update=True, layout=widgets.Layout(width="95%"))
    return Explorer(
        figure_lambda_explorer(tasks, slider.value),
        update=lambda lam: _lambda_patch(compute_lambda_path(tasks, [lam])),
        controls={"lam": slider}, static_control="lam",
        static_values=STATIC_LAMBDAS, static_labels=[lambda_label(v) for v in STATIC_LAMBDAS], slider_prefix="λ = ",
        live_layout=dict(height=680, legend_y=-0.12, margin_b=140))  # no book slider to make room for


# ----------------------------------------------------------------------------- static figures
def figure_heldout_vs_lambda(path: LambdaPath, expected: np.ndarray | None = None, noise: float = 1.0) -> go.Figure:
    """Held-out MSE against λ: this draw, and (optionally) the average over many draws."""
    x = [lambda_position(v) for v in path.lams]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=path.test_a, name="task A (this draw)", line=dict(color=TASK_A, width=2)))
    fig.add_trace(go.Scatter(x=x, y=path.test_b, name="task B (this draw)", line=dict(color=TASK_B, width=2)))
    if expected is not None:
        fig.add_trace(go.Scatter(x=x, y=expected, name="mean of both, over draws",
                                 line=dict(color=SHARED, width=4)))
        best = int(np.argmin(expected))
        fig.add_trace(go.Scatter(x=[x[best]], y=[expected[best]], mode="markers+text", showlegend=False,
                                 text=[f"best λ ≈ {lambda_label(path.lams[best])}"], textposition="top center",
                                 marker=dict(size=14, color=SHARED)))
    fig.add_hline(y=noise ** 2, line=dict(dash="dot", color=OKABE_ITO["grey"]),
                  annotation_text="noise floor (no model can beat it)", annotation_position="bottom right")
    styled(fig, height=480, title="Held-out error: a little tying helps, sharing outright can hurt",
           yaxis_title="held-out MSE", legend=dict(orientation="h", y=-0.25))
    fig.update_xaxes(**_lambda_axis())
    return fig


def figure_capacity(path: LambdaPath) -> go.Figure:
    """‖wᴬ − wᴮ‖ and the effective number of parameters against λ, one above the other."""
    x = [lambda_position(v) for v in path.lams]
    d = path.w_a.shape[1]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12,
                        subplot_titles=("Distance between the tasks' weights", "Effective number of parameters"))
    fig.add_trace(go.Scatter(x=x, y=path.distance, line=dict(color="black", width=4), name="‖wᴬ − wᴮ‖"), 1, 1)
    fig.add_trace(go.Scatter(x=x, y=path.dof, line=dict(color=SHARED, width=4), name="effective parameters"), 2, 1)
    for level, text in [(2 * d, f"2d = {2 * d}: two separate models"), (d, f"d = {d}: one shared model")]:
        fig.add_hline(y=level, line=dict(dash="dot", color=OKABE_ITO["grey"]), row=2, col=1,
                      annotation_text=text,  # each at the end the curve is far from
                      annotation_position="top left" if level == d else "bottom right")
    styled(fig, height=620, showlegend=False, title="Tying removes capacity, smoothly")
    fig.update_xaxes(**_lambda_axis(), row=2, col=1)
    fig.update_xaxes(tickvals=_lambda_axis()["tickvals"], ticktext=_lambda_axis()["ticktext"], row=1, col=1)
    fig.update_yaxes(title_text="‖wᴬ − wᴮ‖", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="trace of hat matrix", range=[d - 0.5, 2 * d + 0.5], row=2, col=1)
    return fig


def compute_training_curves(tasks: TwoTasks, lams: Sequence[float], steps: int = 300, device=None) -> dict:
    """Gradient-descent runs for each λ: {λ: (distances per step, closed-form distance)}."""
    exact = compute_lambda_path(tasks, lams).distance
    return {lam: (train_tied(*tasks.train, lam, steps=steps, device=device).distances.numpy(), float(d))
            for lam, d in zip(lams, exact)}


def figure_training_curves(curves: dict) -> go.Figure:
    """‖wᴬ − wᴮ‖ over gradient-descent steps for several λ, each ending on its closed-form value (dashed)."""
    palette = [OKABE_ITO[c] for c in ("orange", "sky", "green", "blue", "vermillion", "purple")]
    fig = go.Figure()
    for (lam, (dist, exact)), colour in zip(curves.items(), palette):
        steps = np.arange(len(dist)) + 1  # 1 is the start: a log axis has no 0
        fig.add_trace(go.Scatter(x=steps, y=dist, name=f"λ = {lambda_label(lam)}", line=dict(color=colour, width=3)))
        fig.add_trace(go.Scatter(x=[1, steps[-1]], y=[exact, exact], mode="lines", showlegend=False,
                                 line=dict(color=colour, width=2, dash="dash"), hoverinfo="skip"))
    styled(fig, height=480, title="Gradient descent lands on the closed form (dashed) for every λ",
           xaxis_title="step (1 = the random start)", yaxis_title="‖wᴬ − wᴮ‖")
    fig.update_xaxes(type="log", dtick=1)  # decades only: the digits between them ran together on a projector
    return fig
