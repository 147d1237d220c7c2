"""Figures of the tied-embeddings chapter (book/embeddings.ipynb): what the tie saves against the vocabulary
size, Press & Wolf's PTB models counted, the training curves, and the nearest-neighbour table.

As everywhere in the book: ``compute_*`` (numbers only), ``figure_*`` (plotly), ``vocab_explorer``
(one ``update`` behind the book's slider and the live widget).
"""
from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass



import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..checks import ArgumentError, check_int
from ..embeddings import PaperModel, TrainResult, count_lm_parameters, paper_models
from .explorer import Explorer, Patch, apply_patch
from .style import OKABE_ITO, SHARED, TASK_A, TASK_B, smooth, styled

# Vocabulary sizes: the book's slider steps and the live slider's positions.
STATIC_VOCABS = [1_000, 2_000, 5_000, 10_000, 20_000, 33_278, 50_000, 100_000, 250_000]
LIVE_VOCABS = sorted({int(round(v, -2)) for v in np.logspace(3, np.log10(250_000), 49)} | set(STATIC_VOCABS))
_CURVE_VOCABS = np.unique(np.round(np.logspace(3, np.log10(250_000), 80)).astype(int)).tolist()
MODEL_COLOURS = [OKABE_ITO["sky"], OKABE_ITO["orange"], OKABE_ITO["purple"]]


# ----------------------------------------------------------------------------- compute
@dataclass(frozen=True)
class Savings:
    """Counts of some models, untied and tied, at one vocabulary size."""

    vocab_size: int
    names: list[str]
    untied: list[int]
    tied: list[int]

    @property
    def fraction(self) -> list[float]:
        """Share of each untied model's parameters that the tie removes."""
        return [1 - t / u for u, t in zip(self.untied, self.tied)]


def _check_models(models) -> list[PaperModel]:
    models = list(models)
    if not models or not all(isinstance(m, PaperModel) for m in models):
        raise ArgumentError("models must be a non-empty list of PaperModel (see paper_models())")
    return models


def compute_savings(vocab_size: int, models: Sequence[PaperModel] | None = None) -> Savings:
    """Untied and tied counts of each model (default: Zaremba et al.'s three PTB LSTMs) at ``vocab_size``."""
    vocab_size = check_int("vocab_size", vocab_size, low=2)
    models = _check_models(paper_models() if models is None else models)
    configs = [m.config.with_(vocab_size=vocab_size) for m in models]
    return Savings(vocab_size, [m.name for m in models],
                   [count_lm_parameters(c.with_(tie=False)).total for c in configs],
                   [count_lm_parameters(c.with_(tie=True)).total for c in configs])


def compute_savings_curves(vocabs: Sequence[int], models: Sequence[PaperModel] | None = None) -> np.ndarray:
    """Fraction saved, one row per model and one column per vocabulary size."""
    return np.array([compute_savings(v, models).fraction for v in vocabs]).T  # (models, len(vocabs))


# ----------------------------------------------------------------------------- the vocabulary explorer
_MARKERS = 3  # traces 3, 4, 5: the current V on each model's curve; 6, 7: untied and tied bars


def _savings_patch(vocab_size: int, models: Sequence[PaperModel] | None = None) -> Patch:
    s = compute_savings(vocab_size, models)
    traces = {_MARKERS + i: dict(x=[vocab_size], y=[100 * f]) for i, f in enumerate(s.fraction)}
    traces[_MARKERS + len(s.names)] = dict(y=[u / 1e6 for u in s.untied],
                                           text=[f"{u / 1e6:.1f}M" for u in s.untied])
    traces[_MARKERS + len(s.names) + 1] = dict(y=[t / 1e6 for t in s.tied],
                                               text=[f"{t / 1e6:.1f}M" for t in s.tied])
    return Patch(traces=traces, layout=dict(title=dict(text=f"V = {vocab_size:,}: tying saves "
                                                            + " / ".join(f"{100 * f:.0f}%" for f in s.fraction))))


def figure_vocab_savings(vocab_size: int = 10_000, models: Sequence[PaperModel] | None = None) -> go.Figure:
    """Top: share of parameters the tie saves against V, per model. Bottom: both counts at ``vocab_size``."""
    vocab_size = check_int("vocab_size", vocab_size, low=2)
    models = _check_models(paper_models() if models is None else models)
    short = [m.name.split(" (")[0] for m in models]
    curves = compute_savings_curves(_CURVE_VOCABS, models)
    fig = make_subplots(rows=2, cols=1, vertical_spacing=0.24,
                        subplot_titles=("Share of parameters saved", "Parameters at this V"))
    for i, (name, colour) in enumerate(zip(short, MODEL_COLOURS)):  # 0..2: curves against V
        fig.add_trace(go.Scatter(x=_CURVE_VOCABS, y=100 * curves[i], mode="lines", name=models[i].name,
                                 line=dict(color=colour, width=4),
                                 hovertemplate="V = %{x:,}<br>%{y:.1f}% saved<extra>" + name + "</extra>"), 1, 1)
    for i, colour in enumerate(MODEL_COLOURS[:len(models)]):  # 3..5: the current V
        fig.add_trace(go.Scatter(x=[vocab_size], y=[0], mode="markers", showlegend=False, hoverinfo="skip",
                                 marker=dict(size=15, color=colour, line=dict(width=2, color="black"))), 1, 1)
    # The counts sit inside the bars' tops: above them they ran into each other (V = 1,000 on a phone) or into
    # the panel title (V = 250,000 in projector mode); a count that no longer fits at 13 px is hidden (layout).
    fig.add_trace(go.Bar(x=short, y=[0] * len(models), name="untied", marker_color=TASK_B,  # 6
                         textposition="inside", insidetextanchor="end"), 2, 1)
    fig.add_trace(go.Bar(x=short, y=[0] * len(models), name="tied", marker_color=SHARED,  # 7
                         textposition="inside", insidetextanchor="end"), 2, 1)
    fig.add_vline(x=10_000, line=dict(dash="dot", color=OKABE_ITO["grey"]), row=1, col=1)
    # The legend sits below the book's V slider, which the book puts ~60 px under the plotting area (under the
    # tick labels and the x-axis title) and which is ~80 px tall: 150 px (0.34) of the 438-px plotting area.
    styled(fig, height=740, barmode="group", legend=dict(orientation="h", y=-0.36, yanchor="top", x=0),
           margin=dict(t=90, b=240))
    # Labelled every half decade: plotly's digits between decades ran into "100k" at 768 px.
    fig.update_xaxes(type="log", title_text="vocabulary size V (dotted: PTB)", row=1, col=1,
                     tickvals=[1_000, 3_000, 10_000, 30_000, 100_000], ticktext=["1k", "3k", "10k", "30k", "100k"])
    fig.update_yaxes(title_text="% saved", range=[0, 100], row=1, col=1)
    # Decades only (each bar is labelled with its count): plotly's digits between decades were 12 px, and
    # 1, 2, 5 × 10ⁿ ran together in projector mode's short panel.
    # One range for every V the sliders reach: the book's frames do not rescale the axis (the bars of
    # V = 250,000 ran out of the panel), and a fixed axis shows the counts grow.
    ends = [compute_savings(v, models) for v in (LIVE_VOCABS[0], LIVE_VOCABS[-1])]
    counts = [c / 1e6 for e in ends for c in e.untied + e.tied]
    fig.update_yaxes(title_text="millions", type="log", dtick=1, row=2, col=1,
                     range=[float(np.log10(min(counts) / 1.3)), float(np.log10(max(counts) * 1.3))])
    fig.update_layout(uniformtext=dict(minsize=13, mode="hide"))
    apply_patch(fig, _savings_patch(vocab_size, models))
    return fig


def vocab_explorer(vocab_size: int = 10_000) -> Explorer:
    """The chapter's explorer: a slider over V for Zaremba et al.'s three LSTMs, untied and tied."""
    import ipywidgets as widgets

    vocab_size = check_int("vocab_size", vocab_size, low=2)
    if vocab_size not in LIVE_VOCABS:
        raise ValueError(f"vocab_size must be one of the slider's values ({LIVE_VOCABS[0]:,} ... "
                         f"{LIVE_VOCABS[-1]:,}, e.g. {STATIC_VOCABS}), got {vocab_size}")
    slider = widgets.SelectionSlider(options=[(f"{v:,}", v) for v in LIVE_VOCABS], value=vocab_size,
                                     description="V", continuous_update=True, layout=widgets.Layout(width="95%"))
    return Explorer(figure_vocab_savings(vocab_size), update=lambda vocab_size: _savings_patch(vocab_size),
                    controls={"vocab_size": slider}, static_control="vocab_size", static_values=STATIC_VOCABS,
                    static_labels=[f"{v:,}" for v in STATIC_VOCABS], slider_prefix="V = ",
                    live_layout=dict(height=640, legend_y=-0.15, margin_b=120))


# ----------------------------------------------------------------------------- Press & Wolf's table
def paper_table_html(models: Sequence[PaperModel] | None = None) -> str:
    """Press & Wolf's reported sizes beside ``count_lm_parameters``; a model the paper does not list says so."""
    models = _check_models(paper_models() if models is None else models)
    out = ['<table class="tyshare-paper-table"><thead><tr><th>model</th><th>untied: paper</th>'
           '<th>untied: computed</th><th>tied: paper</th><th>tied: computed</th><th>saved</th>'
           '<th>paper\'s source</th></tr></thead><tbody>']
    for m in models:
        u = count_lm_parameters(m.config.with_(tie=False)).total
        t = count_lm_parameters(m.config.with_(tie=True)).total
        paper = lambda x: "not reported" if x is None else f"{x:g}M"  # noqa: E731
        out.append(f"<tr><td>{html.escape(m.name)}</td><td>{paper(m.paper_untied)}</td><td>{u:,}</td>"
                   f"<td>{paper(m.paper_tied)}</td><td>{t:,}</td><td>{100 * (1 - t / u):.0f}%</td>"
                   f"<td>{html.escape(m.source)}</td></tr>")
    out.append("</tbody></table>")
    return "".join(out)


# ----------------------------------------------------------------------------- training curves
def _check_results(results) -> dict[str, TrainResult]:
    if not isinstance(results, Mapping) or not results or not all(
            isinstance(k, str) and isinstance(v, TrainResult) for k, v in results.items()):
        raise ArgumentError("results must be a non-empty dict {label: TrainResult} (see train_lm)")
    for label, r in results.items():
        if not r.valid_perplexity:
            raise ValueError(f"results[{label!r}] has no validation perplexity: train with valid_tokens")
    return dict(results)


def figure_perplexity_curves(results: Mapping[str, TrainResult], window: int = 25) -> go.Figure:
    """Training perplexity (running mean of the batches') and validation perplexity against the step."""
    results = _check_results(results)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.14,
                        subplot_titles=("Training batches", "Validation (last 10 %)"))
    colours = [TASK_B, OKABE_ITO["sky"], SHARED, OKABE_ITO["purple"], OKABE_ITO["black"]]
    dashes = ["solid", "dash", "solid", "dot", "dashdot"]
    for (label, r), colour, dash in zip(results.items(), colours, dashes):
        name = f"{label} ({r.parameters / 1e3:.0f}k)"
        steps = np.arange(1, len(r.train_loss) + 1)
        fig.add_trace(go.Scatter(x=steps, y=np.exp(smooth(r.train_loss, window)), name=name, legendgroup=label,
                                 line=dict(color=colour, width=3, dash=dash)), 1, 1)
        fig.add_trace(go.Scatter(x=r.eval_steps, y=r.valid_perplexity, name=name, legendgroup=label,
                                 showlegend=False, mode="lines+markers", marker=dict(size=9),
                                 line=dict(color=colour, width=3, dash=dash)), 1, 2)
    styled(fig, height=500, legend=dict(orientation="h", y=-0.25, yanchor="top", x=0), margin=dict(t=60, b=170))
    fig.update_xaxes(title_text="step")
    first = np.exp(np.concatenate([smooth(r.train_loss, window) for r in results.values()]))
    fig.update_yaxes(title_text="perplexity", type="log", row=1, col=1,  # 1, 2, 5 × 10ⁿ: plotly's digits
                     tickvals=_log_ticks(float(first.min()), float(first.max())))  # ran into 100 and 1000
    fig.update_yaxes(title_text="perplexity", row=1, col=2)
    return fig


def _log_ticks(lo: float, hi: float) -> list[float]:
    """Tick values 1, 2, 5 × 10ⁿ within [lo, hi] (a little beyond), for a log axis."""
    return [m * 10.0 ** e for e in range(-3, 8) for m in (1, 2, 5) if lo / 1.15 <= m * 10.0 ** e <= hi * 1.15]


# ----------------------------------------------------------------------------- nearest neighbours
def neighbours_table_html(words: Sequence[str], columns: Mapping[str, Mapping[str, Sequence[tuple[str, float]]]]) -> str:
    """One row per word, one column per embedding: its nearest neighbours with their cosine similarities.

    ``columns`` is ``{embedding name: {word: [(neighbour, similarity), ...]}}``.
    """
    if not isinstance(columns, Mapping) or not columns:
        raise ArgumentError("columns must be a non-empty dict {embedding name: {word: neighbours}}")
    out = ['<table class="tyshare-paper-table"><thead><tr><th>word</th>']
    out += [f"<th>{html.escape(name)}</th>" for name in columns]
    out.append("</tr></thead><tbody>")
    for w in words:
        out.append(f"<tr><td><b>{html.escape(w)}</b></td>")
        for name, table in columns.items():
            if w not in table:
                raise ValueError(f"columns[{name!r}] has no neighbours for {w!r}")
            cells = ", ".join(f"{html.escape(n)}&nbsp;<small>{s:.2f}</small>" for n, s in table[w])
            out.append(f"<td>{cells}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def figure_agreement(agreement: Mapping[str, float]) -> go.Figure:
    """Horizontal bars: Spearman agreement between pairs of embeddings (labels as keys)."""
    if not isinstance(agreement, Mapping) or not agreement:
        raise ArgumentError("agreement must be a non-empty dict {pair label: correlation}")
    labels, values = list(agreement), [float(v) for v in agreement.values()]
    fig = go.Figure(go.Bar(y=labels, x=values, orientation="h", marker_color=[TASK_A, SHARED, TASK_B][:len(labels)]
                           + [OKABE_ITO["grey"]] * max(0, len(labels) - 3),
                           text=[f"{v:.2f}" for v in values], textposition="outside", cliponaxis=False))
    styled(fig, height=330, xaxis_title="Spearman correlation", margin=dict(l=260, t=30, r=60))  # fits a phone
    fig.update_xaxes(range=[0, 1])
    fig.update_yaxes(autorange="reversed")
    return fig
