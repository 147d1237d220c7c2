"""Figures of the distillation chapter (book/distill.ipynb): which terms help, the hint-weight × temperature
explorer, and DistilBERT's sizes beside BERT's.

Each figure follows the book's three layers: ``compute_*`` (numbers only, tested without a browser),
``figure_*`` (plotly), and ``grid_explorer`` wiring two controls to both.
"""
from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..albert import AlbertConfig, count_parameters, format_count
from ..checks import ArgumentError, check_choice
from ..distill import Recipe, StudentsRun, distilbert_config
from .explorer import Explorer, Patch, apply_patch
from .style import OKABE_ITO, styled

TERM_COLOURS = [OKABE_ITO[c] for c in ("grey", "blue", "orange", "green", "purple", "vermillion")]


def _check_run(run) -> StudentsRun:
    if not isinstance(run, StudentsRun):
        raise ArgumentError(f"run must be a StudentsRun (from train_students), got {type(run).__name__}")
    if run.test_accuracy is None:
        raise ValueError("run must have been trained with a test set (X_test, y_test)")
    return run


# ----------------------------------------------------------------------------- which terms help
@dataclass(frozen=True)
class TermsResult:
    """Per recipe: held-out accuracy of every seed after training and the mean hint distance over training."""

    names: list[str]
    steps: list[int]  # logged steps
    final_accuracy: np.ndarray  # (R, S) one row per recipe, one column per seed
    distance: np.ndarray  # (R, logs) mean over seeds of the hint distance

    @property
    def mean(self) -> np.ndarray:
        return self.final_accuracy.mean(1)

    @property
    def std(self) -> np.ndarray:
        """Sample standard deviation over seeds (0 with one seed)."""
        S = self.final_accuracy.shape[1]
        return self.final_accuracy.std(1, ddof=1) if S > 1 else np.zeros(len(self.names))

    def row(self, name: str) -> int:
        return self.names.index(check_choice("name", name, self.names))


def compute_terms(run: StudentsRun, names: Sequence[str], seeds_per_recipe: int) -> TermsResult:
    """Group a run whose members are ``names[0]`` × seeds, then ``names[1]`` × seeds, ... (recipe-major)."""
    run = _check_run(run)
    R, S = len(names), seeds_per_recipe
    if S < 1 or R * S != len(run.recipes):
        raise ValueError(f"names ({R}) × seeds_per_recipe ({S}) must equal the run's {len(run.recipes)} members")
    acc = run.final_accuracy.numpy().reshape(R, S)
    dist = run.distance.numpy().T.reshape(R, S, -1).mean(1)  # (R, logs)
    return TermsResult(list(names), list(run.logged_steps), acc, dist)


def figure_terms(result: TermsResult) -> go.Figure:
    """Left: held-out accuracy of each recipe (a bar for the mean, a dot per seed). Right: hint distance."""
    if not isinstance(result, TermsResult):
        raise ArgumentError(f"result must be a TermsResult, got {type(result).__name__}")
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.14, column_widths=[0.45, 0.55],
                        subplot_titles=("Held-out accuracy", "Hint distance"))
    # Horizontal bars, each recipe's name written in its bar: readable at any width (as tick labels under
    # vertical bars the names ran into each other; beside them, they took a third of a phone's width).
    for i, name in enumerate(result.names):
        colour = TERM_COLOURS[i % len(TERM_COLOURS)]
        fig.add_trace(go.Bar(y=[name], x=[100 * result.mean[i]], orientation="h", marker=dict(color=colour, opacity=0.6),
                             text=[name], textposition="inside", insidetextanchor="start", constraintext="none",
                             textfont=dict(color="black"),
                             error_x=dict(type="data", array=[100 * result.std[i]], color="#333"),
                             showlegend=False, hovertemplate="%{x:.1f} %<extra>" + name + "</extra>"), 1, 1)
        fig.add_trace(go.Scatter(y=[name] * result.final_accuracy.shape[1], x=100 * result.final_accuracy[i],
                                 mode="markers", marker=dict(color="black", size=8), showlegend=False,
                                 hovertemplate="seed: %{x:.1f} %<extra></extra>"), 1, 1)
        fig.add_trace(go.Scatter(x=result.steps, y=result.distance[i], name=name, mode="lines",
                                 line=dict(color=colour, width=4, dash="dash" if "hint" in name or "both" in name
                                           else "solid")), 1, 2)
    styled(fig, height=480, legend=dict(orientation="h", y=-0.3, x=0), margin=dict(b=140, t=60))
    fig.update_xaxes(title_text="accuracy (%)", range=[0, 100], row=1, col=1)
    fig.update_yaxes(autorange="reversed", showticklabels=False, ticks="", row=1, col=1)  # first recipe on top
    fig.update_yaxes(title_text="1 − R²", range=[0, None], rangemode="tozero", row=1, col=2)
    fig.update_xaxes(title_text="training step", row=1, col=2)
    return fig


# ----------------------------------------------------------------------------- the hint weight × temperature grid
@dataclass(frozen=True)
class Grid:
    """Curves of a run over a hint-weight × temperature grid: ``accuracy[i, j]`` is β_i, T_j's curve."""

    hint_weights: list[float]
    temperatures: list[float]
    steps: list[int]
    accuracy: np.ndarray  # (nβ, nT, logs) held-out accuracy
    distance: np.ndarray  # (nβ, nT, logs) hint distance
    alpha: float  # the soft-target weight every cell used

    def index(self, hint_weight: float, temperature: float) -> tuple[int, int]:
        """(i, j) of a grid point; raises if it is not on the grid."""
        check_choice("hint_weight", hint_weight, self.hint_weights)
        check_choice("temperature", temperature, self.temperatures)
        return self.hint_weights.index(hint_weight), self.temperatures.index(temperature)


def grid_recipes(hint_weights: Sequence[float], temperatures: Sequence[float], alpha: float = 0.5) -> list[Recipe]:
    """The recipes of the grid, hint-weight-major: (β₀, T₀), (β₀, T₁), ..."""
    if not hint_weights or not temperatures:
        raise ValueError("hint_weights and temperatures must each hold at least one value")
    return [Recipe(alpha=alpha, temperature=T, hint_weight=b) for b in hint_weights for T in temperatures]


def compute_grid(run: StudentsRun, hint_weights: Sequence[float], temperatures: Sequence[float]) -> Grid:
    """Reshape a run trained on :func:`grid_recipes` into the grid's curves (checked against its recipes)."""
    run = _check_run(run)
    nb, nt = len(hint_weights), len(temperatures)
    if nb * nt != len(run.recipes):
        raise ValueError(f"the grid has {nb} × {nt} points but the run has {len(run.recipes)} members")
    for k, r in enumerate(run.recipes):
        if (r.hint_weight, r.temperature) != (hint_weights[k // nt], temperatures[k % nt]):
            raise ValueError(f"member {k} was trained with β={r.hint_weight}, T={r.temperature}, not the grid's")
    alphas = {r.alpha for r in run.recipes}
    if len(alphas) != 1:
        raise ValueError("every member of the grid must use the same alpha")
    logs = len(run.logged_steps)
    return Grid(list(hint_weights), list(temperatures), list(run.logged_steps),
                run.test_accuracy.numpy().T.reshape(nb, nt, logs), run.distance.numpy().T.reshape(nb, nt, logs),
                alphas.pop())


_ACC, _DIST = 0, 1  # trace indices of the selected point's curves


def grid_update(grid: Grid, hint_weight: float, temperature: float) -> Patch:
    """The explorer's patch for one grid point: its two curves and a title with its final numbers."""
    i, j = grid.index(hint_weight, temperature)
    acc, dist = grid.accuracy[i, j], grid.distance[i, j]
    title = f"β = {hint_weight:g}, T = {temperature:g}: {100 * acc[-1]:.1f} %, 1 − R² = {dist[-1]:.2f}"
    return Patch(traces={_ACC: dict(y=(100 * acc).tolist()), _DIST: dict(y=dist.tolist())},
                 layout=dict(title=dict(text=title)))


def figure_grid(grid: Grid, hint_weight: float, temperature: float) -> go.Figure:
    """Held-out accuracy and hint distance over training at one (β, T), beside every other grid point (grey)."""
    if not isinstance(grid, Grid):
        raise ArgumentError(f"grid must be a Grid, got {type(grid).__name__}")
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.14,
                        subplot_titles=("Held-out accuracy", "Hint distance"))
    colour = OKABE_ITO["blue"]
    # zorder: the chosen curves are drawn over the grey ones (and a live figure redraws only them)
    fig.add_trace(go.Scatter(x=grid.steps, y=[0] * len(grid.steps), mode="lines+markers", name="chosen β, T",
                             line=dict(color=colour, width=5), zorder=1), 1, 1)
    fig.add_trace(go.Scatter(x=grid.steps, y=[0] * len(grid.steps), mode="lines+markers", showlegend=False,
                             line=dict(color=colour, width=5), zorder=1), 1, 2)
    for i in range(len(grid.hint_weights)):  # every grid point, faint: where the chosen one sits
        for j in range(len(grid.temperatures)):
            first = i == 0 and j == 0
            fig.add_trace(go.Scatter(x=grid.steps, y=(100 * grid.accuracy[i, j]).tolist(), mode="lines",
                                     line=dict(color="#bbb", width=1.5), name="other β, T", showlegend=first,
                                     hoverinfo="skip"), 1, 1)
            fig.add_trace(go.Scatter(x=grid.steps, y=grid.distance[i, j].tolist(), mode="lines",
                                     line=dict(color="#bbb", width=1.5), showlegend=False, hoverinfo="skip"), 1, 2)
    # The legend sits at the figure's top right, beside the β menu: below, the book's slider takes the room.
    styled(fig, height=560, legend=dict(orientation="h", x=1, xanchor="right", yref="container", y=1, yanchor="top"),
           margin=dict(t=150, b=120), title=dict(y=0.97, yanchor="top", font=dict(size=18)))
    fig.update_yaxes(title_text="accuracy (%)", range=[0, 100], row=1, col=1)
    fig.update_yaxes(title_text="1 − R²", range=[0, 1], row=1, col=2)
    fig.update_xaxes(title_text="training step")
    apply_patch(fig, grid_update(grid, hint_weight, temperature))
    return fig


def grid_explorer(grid: Grid, hint_weight: float | None = None, temperature: float | None = None) -> Explorer:
    """Hint weight β (menu in the book, buttons live) × temperature T (slider): curves at that grid point."""
    import ipywidgets as widgets

    if not isinstance(grid, Grid):
        raise ArgumentError(f"grid must be a Grid, got {type(grid).__name__}")
    b0 = grid.hint_weights[0] if hint_weight is None else hint_weight
    t0 = grid.temperatures[len(grid.temperatures) // 2] if temperature is None else temperature
    grid.index(b0, t0)
    wide = widgets.Layout(width="95%")
    controls = {
        "hint_weight": widgets.ToggleButtons(options=[(f"β = {b:g}", b) for b in grid.hint_weights], value=b0,
                                             description="hint weight"),
        "temperature": widgets.SelectionSlider(options=[(f"{t:g}", t) for t in grid.temperatures], value=t0,
                                               description="temperature T", layout=wide,
                                               style={"description_width": "10em"}),
    }
    return Explorer(figure_grid(grid, b0, t0), update=lambda **v: grid_update(grid, **v), controls=controls,
                    static_control="temperature", static_values=grid.temperatures,
                    static_labels=[f"{t:g}" for t in grid.temperatures], slider_prefix="T = ",
                    groups={"hint_weight": [(f"hint weight β = {b:g}", b) for b in grid.hint_weights]},
                    live_layout=dict(margin_t=90, title_y=0.95))


# ----------------------------------------------------------------------------- DistilBERT beside BERT
BERT_VOCAB = 30522  # BERT's uncased WordPiece vocabulary (DistilBERT keeps it)
PAPER = dict(bert_millions=110, distilbert_millions=66, bert_seconds=668, distilbert_seconds=410,
             bert_glue=79.5, distilbert_glue=77.0)  # Sanh et al. (2019), Tables 1 and 3


@dataclass(frozen=True)
class DistilbertSizes:
    """BERT-base and its 6-layer student counted with the ALBERT chapter's formula."""

    bert: int  # with pooler and token-type table, as the library's encoder is built
    student: int
    bert_no_extras: int  # without the pooler and the token-type table (DistilBERT drops both)
    student_no_extras: int


def compute_distilbert_sizes(vocab_size: int = BERT_VOCAB) -> DistilbertSizes:
    """Count BERT-base (V = ``vocab_size``) and the student that keeps one layer in two."""
    bert = AlbertConfig.preset("bert-base", vocab_size=vocab_size)
    student = distilbert_config(bert, every=2)

    def extras(c: AlbertConfig) -> int:
        return count_parameters(c).pooler + c.type_vocab_size * c.embedding_size

    nb, ns = count_parameters(bert).total, count_parameters(student).total
    return DistilbertSizes(nb, ns, nb - extras(bert), ns - extras(student))


def distilbert_table_html(sizes: DistilbertSizes, speedup: float | None = None) -> str:
    """The paper's numbers beside the library's, never adjusted."""
    if not isinstance(sizes, DistilbertSizes):
        raise ArgumentError(f"sizes must be DistilbertSizes, got {type(sizes).__name__}")
    p = PAPER
    rows = [
        ("parameters, BERT-base", f"{p['bert_millions']}M",
         f"{format_count(sizes.bert)} ({format_count(sizes.bert_no_extras)} without pooler, token types)"),
        ("parameters, DistilBERT (6 layers)", f"{p['distilbert_millions']}M",
         f"{format_count(sizes.student)} ({format_count(sizes.student_no_extras)} without pooler, token types)"),
        ("size of the student", f"{p['distilbert_millions'] / p['bert_millions']:.0%}",
         f"{sizes.student_no_extras / sizes.bert_no_extras:.0%}"),
        ("inference speed-up", f"{p['bert_seconds']} s / {p['distilbert_seconds']} s = "
                               f"{p['bert_seconds'] / p['distilbert_seconds']:.2f}×",
         "—" if speedup is None else f"{speedup:.2f}× (small encoder, this CPU)"),
        ("GLUE macro-score", f"{p['distilbert_glue']} / {p['bert_glue']} = "
                             f"{p['distilbert_glue'] / p['bert_glue']:.0%}", "not reproduced (no pre-training here)"),
    ]
    out = ['<table class="tyshare-paper-table"><thead><tr><th></th><th>Sanh et al. (2019)</th>'
           '<th>this library</th></tr></thead><tbody>']
    out += [f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td><td>{html.escape(c)}</td></tr>" for a, b, c in rows]
    out.append("</tbody></table>")
    return "".join(out)

