"""Figures of the ALBERT chapter (book/albert.ipynb): the parameter counter, the paper's tables, and
what sharing does not save (time and activations grow with depth either way)."""
from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch

from ..albert import (CLOCKS, SHARING, AlbertConfig, AlbertEncoder, ParameterCount, count_parameters,
                      format_count, paper_rounding, time_forward)
from ..checks import ArgumentError, check_choice, check_int
from ..device import resolve_device
from .explorer import Explorer, Patch, apply_patch
from .style import OKABE_ITO, styled

PART_NAMES = {"embeddings": "embeddings (V·E)", "projection": "E → H projection", "attention": "attention",
              "feed_forward": "feed-forward", "layer_norms": "LayerNorms", "pooler": "pooler"}
PART_COLOURS = [OKABE_ITO[c] for c in ("sky", "yellow", "blue", "vermillion", "grey", "purple")]
SHARING_LABELS = {"none": "nothing shared", "attention": "attention shared", "ffn": "feed-forward shared",
                  "all": "all shared (ALBERT)"}
BERT_LABEL = "BERT: E = H, nothing shared"
BAR_ORDER = [BERT_LABEL, *(SHARING_LABELS[s] for s in SHARING)]  # bottom to top
# The bars' own names, short: they take the plot's width on a phone (titles and buttons keep the long names).
BAR_NAMES = {BERT_LABEL: "BERT (E = H)", SHARING_LABELS["none"]: "none shared",
             SHARING_LABELS["attention"]: "attention shared", SHARING_LABELS["ffn"]: "FFN shared",
             SHARING_LABELS["all"]: "all shared"}


# ----------------------------------------------------------------------------- compute
def compute_counts(config: AlbertConfig) -> dict[str, ParameterCount]:
    """The count of ``config``'s sizes under every sharing strategy, and of BERT (E = H, none shared)."""
    counts = {BERT_LABEL: count_parameters(config.with_(embedding_size=config.hidden_size, sharing="none"))}
    counts.update({SHARING_LABELS[s]: count_parameters(config.with_(sharing=s)) for s in SHARING})
    return counts


# ----------------------------------------------------------------------------- the counter
_SELECTED = len(PART_NAMES)  # trace index of the marker that points at the chosen strategy


def _counter_patch(config: AlbertConfig) -> Patch:
    counts = compute_counts(config)
    traces = {i: dict(x=[getattr(counts[bar], part) / 1e6 for bar in BAR_ORDER])
              for i, part in enumerate(PART_NAMES)}
    chosen = counts[SHARING_LABELS[config.sharing]].total
    bert = counts[BERT_LABEL].total
    traces[_SELECTED] = dict(x=[chosen / 1e6], y=[BAR_NAMES[SHARING_LABELS[config.sharing]]],
                             text=[f"  ◀ {format_count(chosen)}"])
    title = (f"{SHARING_LABELS[config.sharing]}: <b>{format_count(chosen)}</b> parameters"
             f"<br>BERT at these sizes: {format_count(bert)} ({bert / chosen:.1f}×)")
    longest = max(counts[bar].total for bar in BAR_ORDER)
    return Patch(traces=traces, layout=dict(title=dict(text=title),
                                            xaxis=dict(range=[0, axis_end(longest / 1e6)], autorange=False)))


AXIS_STEPS = (1, 1.5, 2, 3, 5, 7.5, 10)  # × a power of ten: where the counter's axis may end


def axis_end(longest: float) -> float:
    """Where the counter's axis ends for a longest bar of ``longest`` (millions): the first of 1, 1.5, 2, 3, 5, 7.5
    × 10^k past it with a fifth to spare (the chosen bar's label, right of it). The bars change by orders of
    magnitude along the sliders; an axis that refitted them at every step would hide that, and this one stays put
    while they grow within it (a live slider move that keeps the axis redraws only the bars, explorer.LiveSync)."""
    if not (isinstance(longest, (int, float)) and math.isfinite(longest) and longest > 0):
        raise ValueError(f"longest must be a positive number of millions, got {longest!r}")
    need = 1.2 * longest
    scale = 10.0 ** math.floor(math.log10(need))
    return next(round(m * scale, 12) for m in AXIS_STEPS if m * scale >= need * (1 - 1e-12))


def _error_patch(err: Exception) -> Patch:
    """What the counter shows for sizes that make no encoder: the reason, and the last valid bars."""
    return Patch(traces={}, layout=dict(title=dict(text=f"⚠ {html.escape(str(err))}")))


def counter_update(**fields) -> Patch:
    """The counter's patch for any field values; invalid combinations show their error instead of crashing."""
    try:
        config = AlbertConfig(**fields)
    except ValueError as err:
        return _error_patch(err)
    return _counter_patch(config)


def figure_counter(config: AlbertConfig) -> go.Figure:
    """Stacked bars of parameters by part, for every sharing strategy and for BERT, at ``config``'s sizes."""
    fig = go.Figure()
    for part, colour in zip(PART_NAMES, PART_COLOURS):
        fig.add_trace(go.Bar(y=[BAR_NAMES[b] for b in BAR_ORDER], x=[0] * len(BAR_ORDER), orientation="h", name=PART_NAMES[part],
                             marker_color=colour, hovertemplate="%{x:.2f}M<extra>" + PART_NAMES[part] + "</extra>"))
    fig.add_trace(go.Scatter(x=[0], y=[BAR_NAMES[SHARING_LABELS[config.sharing]]], mode="text", textposition="middle right",
                             showlegend=False, textfont=dict(size=18, color="black"), hoverinfo="skip"))
    # Legend at the right (a phone's layout moves it on top); below the bars is the book's slider, above them
    # the title and the book's menu.
    styled(fig, barmode="stack", height=600, xaxis_title="parameters (millions)",
           legend=dict(x=1.02, xanchor="left", y=1, yanchor="top", traceorder="normal"),
           title=dict(y=0.98, yanchor="top"), margin=dict(l=150, t=160, b=70, r=20))
    apply_patch(fig, _counter_patch(config))
    return fig


HIDDEN_SIZES = [128, 256, 512, 768, 1024, 2048, 4096]
EMBEDDING_SIZES = [32, 64, 128, 256, 512, 768, 1024]
HEADS = [1, 2, 4, 8, 12, 16, 32, 64]
INTERMEDIATE_SIZES = [512, 1024, 2048, 3072, 4096, 8192, 16384]
VOCAB_SIZES = [5000, 10000, 30000, 50000, 100000, 250000]
STATIC_LAYERS = list(range(1, 49))
STATIC_EMBEDDINGS = [64, 128, 256, 768]  # the embedding sizes of the paper's Table 3


def parameter_counter(config: AlbertConfig | None = None) -> Explorer:
    """The chapter's counter: sliders for the sizes, buttons for the sharing strategy (static: a menu of
    embedding sizes, each with a layers slider; the other sizes as in ``config``)."""
    import ipywidgets as widgets

    c = config if config is not None else AlbertConfig.preset("albert-base")
    if not isinstance(c, AlbertConfig):
        raise ValueError(f"config must be an AlbertConfig or None, got {type(c).__name__}")
    wide = widgets.Layout(width="95%")
    style = {"description_width": "13em"}

    def choice(description, options, value):
        options = sorted(set(options) | {value})
        return widgets.SelectionSlider(options=options, value=value, description=description, layout=wide, style=style)

    controls = {
        "num_hidden_layers": widgets.IntSlider(value=c.num_hidden_layers, min=1, max=48, description="layers L",
                                               layout=wide, style=style),
        "hidden_size": choice("hidden size H", HIDDEN_SIZES, c.hidden_size),
        "embedding_size": choice("embedding size E", EMBEDDING_SIZES, c.embedding_size),
        "num_attention_heads": choice("attention heads", HEADS, c.num_attention_heads),
        "intermediate_size": choice("feed-forward size", INTERMEDIATE_SIZES, c.intermediate_size),
        "vocab_size": choice("vocabulary V", VOCAB_SIZES, c.vocab_size),
        "sharing": widgets.ToggleButtons(options=[(SHARING_LABELS[s], s) for s in SHARING], value=c.sharing,
                                         description="sharing", style={**style, "button_width": "13em"},
                                         layout=widgets.Layout(margin="0 0 16px 0")),
    }
    fixed = dict(max_position_embeddings=c.max_position_embeddings, type_vocab_size=c.type_vocab_size)
    return Explorer(figure_counter(c), update=lambda **v: counter_update(**v, **fixed), controls=controls,
                    static_control="num_hidden_layers", static_values=STATIC_LAYERS, slider_prefix="L = ",
                    # short names: the menu and the slider's value share a phone's width with nothing else
                    groups={"embedding_size": [(f"E = {e}", e) for e in STATIC_EMBEDDINGS]},
                    live_layout=dict(height=520, margin_t=100, margin_b=60, title_y=0.95))


# ----------------------------------------------------------------------------- the paper's tables
@dataclass(frozen=True)
class PaperRow:
    """One row of a table of Lan et al. (2020) and the count computed for it."""

    table: str
    model: str
    config: AlbertConfig
    paper_millions: int  # as printed in the paper

    @property
    def computed(self) -> int:
        return count_parameters(self.config).total

    @property
    def matches(self) -> bool:
        """Does the computed count round to the paper's figure (whole millions)?"""
        return paper_rounding(self.computed) == self.paper_millions


def paper_rows() -> list[PaperRow]:
    """Tables 1, 3 and 4 of Lan et al. (2020) with the configuration each row describes."""
    P = AlbertConfig.preset
    base = P("albert-base")
    rows = [PaperRow("Table 1", name, P(name), m) for name, m in
            [("bert-base", 108), ("bert-large", 334), ("albert-base", 12), ("albert-large", 18),
             ("albert-xlarge", 60), ("albert-xxlarge", 235)]]
    table3 = {("none", 64): 87, ("none", 128): 89, ("none", 256): 93, ("none", 768): 108,
              ("all", 64): 10, ("all", 128): 12, ("all", 256): 16, ("all", 768): 31}
    rows += [PaperRow("Table 3", f"ALBERT-base, {'not-shared' if s == 'none' else 'all-shared'}, E = {E}",
                      base.with_(sharing=s, embedding_size=E), m) for (s, E), m in table3.items()]
    names4 = {"all": "all-shared", "attention": "shared-attention", "ffn": "shared-FFN", "none": "not-shared"}
    table4 = {(768, "all"): 31, (768, "attention"): 83, (768, "ffn"): 57, (768, "none"): 108,
              (128, "all"): 12, (128, "attention"): 64, (128, "ffn"): 38, (128, "none"): 89}
    rows += [PaperRow("Table 4", f"ALBERT-base, E = {E}, {names4[s]}", base.with_(sharing=s, embedding_size=E), m)
             for (E, s), m in table4.items()]
    return rows


def paper_table_html(rows: Sequence[PaperRow]) -> str:
    """The rows as an HTML table: paper vs computed, each mismatch marked, never adjusted."""
    out = ['<table class="tyshare-paper-table"><thead><tr><th>table</th><th>model</th><th>paper</th>'
           '<th>computed</th><th>exact count</th><th>rounds to the paper?</th></tr></thead><tbody>']
    for r in rows:
        mark = "✓" if r.matches else f"≠ {paper_rounding(r.computed)}M"
        out.append(f"<tr><td>{r.table}</td><td>{html.escape(r.model)}</td><td>{r.paper_millions}M</td>"
                   f"<td>{format_count(r.computed)}</td><td>{r.computed:,}</td><td>{mark}</td></tr>")
    out.append("</tbody></table>")
    return "".join(out)


# ----------------------------------------------------------------------------- what sharing does not save
@dataclass(frozen=True)
class DepthCost:
    """Forward-pass cost against depth, shared and unshared."""

    layers: list[int]
    seconds: dict[str, list[float]]  # sharing -> median forward time per depth
    activations: dict[str, list[int]]  # sharing -> elements written by the layers' outputs per forward
    parameters: dict[str, list[int]]
    clock: str = "wall"  # "wall": elapsed seconds; "cpu": this process's CPU seconds (see time_forward)


def measure_depth_cost(config: AlbertConfig, layers: Sequence[int] = (1, 2, 4, 8, 12), batch: int = 4,
                       tokens: int = 64, repeats: int = 5, device=None, seed: int = 0,
                       clock: str | None = None) -> DepthCost:
    """Time a forward pass and count layer-output elements for each depth, for ``sharing='all'`` and
    ``'none'``: parameters differ by a factor of L, compute and activations do not (ALBERT chapter).

    Every model is warmed up once, then timed in ``repeats`` rounds that visit every model in turn, and
    each model's median over the rounds is kept: a burst of load from another program slows one round of
    all the models rather than all the rounds of one. ``clock=None`` takes CPU time on the CPU, measured on
    one thread (robust to other programs sharing the cores), and elapsed time on a GPU.
    """
    if not isinstance(config, AlbertConfig):
        raise ArgumentError(f"config must be an AlbertConfig, got {type(config).__name__}")
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence) or not layers:
        raise ArgumentError(f"layers must be a non-empty list or tuple of depths, got {layers!r}")
    for i, L in enumerate(layers):
        check_int(f"layers[{i}]", L, low=1)
    batch = check_int("batch", batch, low=1)
    tokens = check_int("tokens", tokens, low=1, high=config.max_position_embeddings)
    repeats = check_int("repeats", repeats, low=1)
    seed = check_int("seed", seed, low=0)
    dev = resolve_device(device)
    if clock is None:
        clock = "cpu" if dev.type == "cpu" else "wall"
    check_choice("clock", clock, CLOCKS)
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, config.vocab_size, (batch, tokens), generator=g)
    activations: dict[str, list[int]] = {}
    params: dict[str, list[int]] = {}
    models: dict[tuple[str, int], AlbertEncoder] = {}
    for sharing in ("all", "none"):
        activations[sharing], params[sharing] = [], []
        for i, L in enumerate(layers):
            torch.manual_seed(seed)
            model = AlbertEncoder(config.with_(sharing=sharing, num_hidden_layers=L), device=dev).eval()
            written = []
            unique = {id(layer): layer for layer in model.layers}.values()  # a shared layer is hooked once ...
            hooks = [layer.register_forward_hook(lambda m, i, o: written.append(o.numel())) for layer in unique]
            with torch.no_grad():
                model(ids)  # ... and fires once per use (this pass is also the model's warm-up)
            for h in hooks:
                h.remove()
            activations[sharing].append(sum(written))
            params[sharing].append(sum(p.numel() for p in model.parameters()))
            models[sharing, i] = model
    rounds: dict[tuple[str, int], list[float]] = {key: [] for key in models}
    threads = torch.get_num_threads()
    if clock == "cpu":  # one thread: CPU time is then the work itself, not threads spinning while they wait
        torch.set_num_threads(1)
    try:
        for _ in range(repeats):  # round-robin: noise hits a round, and the median drops it
            for key, model in models.items():
                rounds[key].append(time_forward(model, ids, repeats=1, warmup=0, clock=clock))
    finally:
        torch.set_num_threads(threads)
    seconds = {s: [float(np.median(rounds[s, i])) for i in range(len(layers))] for s in ("all", "none")}
    return DepthCost(list(layers), seconds, activations, params, clock)


def figure_depth_cost(cost: DepthCost) -> go.Figure:
    """Forward time and parameters against depth: sharing flattens one, not the other."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.15,
                        subplot_titles=("Forward-pass time", "Parameters"))
    styles = {"all": ("all shared", OKABE_ITO["green"], "solid"), "none": ("none shared", OKABE_ITO["vermillion"], "dash")}
    for sharing, (name, colour, dash) in styles.items():
        fig.add_trace(go.Scatter(x=cost.layers, y=[1000 * s for s in cost.seconds[sharing]], name=name,
                                 line=dict(color=colour, width=4, dash=dash), marker=dict(size=10)), 1, 1)
        fig.add_trace(go.Scatter(x=cost.layers, y=[p / 1e6 for p in cost.parameters[sharing]], showlegend=False,
                                 line=dict(color=colour, width=4, dash=dash), marker=dict(size=10)), 1, 2)
    styled(fig, height=450, title="Sharing saves parameters, not compute", legend=dict(orientation="h", y=-0.25))
    fig.update_xaxes(title_text="layers L")
    fig.update_yaxes(title_text="CPU milliseconds" if cost.clock == "cpu" else "milliseconds", rangemode="tozero",
                     row=1, col=1)
    fig.update_yaxes(title_text="millions", rangemode="tozero", row=1, col=2)
    return fig
