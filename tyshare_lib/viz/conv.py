"""Figures of the convolution chapter (book/conv.ipynb): the sliding kernel, full-size filters,
parameter counts against image size, and translation equivariance."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ..checks import ArgumentError, check_choice, check_int
from ..conv import (PRESETS, Step, conv2d, conv_parameter_count, correlation_steps, dense_parameter_count,
                    load_image, output_from_steps, output_size, preset_kernel)
from .explorer import Explorer, Patch, apply_patch
from .style import OKABE_ITO, styled

DIVERGING = "PuOr"  # colour-blind-safe diverging scale (ColorBrewer), white at zero
WINDOW = OKABE_ITO["orange"]
CELL = OKABE_ITO["green"]
GREY = [[0, "black"], [1, "white"]]


def _image_axes(fig: go.Figure) -> None:
    """Every panel drawn as an image: no ticks or grid, row 0 at the top, square pixels."""
    bare = dict(showticklabels=False, showgrid=False, zeroline=False, showline=False, ticks="", constrain="domain")
    fig.update_xaxes(**bare)
    fig.update_yaxes(**bare, autorange="reversed")
    for axis in fig.select_yaxes():
        axis.scaleanchor = axis.anchor  # the x axis of its own panel


# ----------------------------------------------------------------------------- compute
@dataclass(frozen=True)
class Slide:
    """One kernel sliding over one image: every step, plus what the figure draws that does not move."""

    steps: tuple[Step, ...]  # in reading order
    rows: int  # output shape
    cols: int
    padded_z: list  # the zero-padded input, rounded for the figure
    output_z: list  # the whole output, rounded for the figure
    output_lim: float  # symmetric colour range of the output


@lru_cache(maxsize=64)
def _slide_cached(image_key: bytes, shape: tuple, kernel: tuple, stride: int, padding: int) -> Slide:
    image = torch.frombuffer(bytearray(image_key), dtype=torch.float64).reshape(shape)
    k = torch.tensor(kernel, dtype=torch.float64).reshape(3, 3)
    steps = tuple(correlation_steps(image, k, stride, padding))
    out = output_from_steps(list(steps)).numpy()
    rows, cols = out.shape
    padded = torch.nn.functional.pad(image, (padding,) * 4).numpy()
    return Slide(steps, rows, cols, np.round(padded, 3).tolist(), np.round(out, 3).tolist(),
                 float(np.abs(out).max()) or 1.0)


def compute_slide(image: torch.Tensor, kernel: tuple, stride: int, padding: int) -> Slide:
    """Every step of a 3 × 3 kernel (9 numbers, row by row) over ``image``; cached, so that moving the
    step slider costs no recomputation."""
    if len(kernel) != 9 or not all(isinstance(w, (int, float)) and np.isfinite(w) for w in kernel):
        raise ArgumentError(f"kernel must be 9 finite numbers (a 3 × 3 kernel, row by row), got {kernel!r}")
    check_choice("stride", stride, (1, 2))
    check_choice("padding", padding, (0, 1))
    image = image.to(torch.float64).contiguous()
    return _slide_cached(image.numpy().tobytes(), tuple(image.shape), tuple(float(w) for w in kernel), stride, padding)


def _rect(top: float, left: float, h: float, w: float) -> dict:
    """Outline of cells [top, top+h) × [left, left+w) in heatmap coordinates."""
    x0, x1, y0, y1 = left - 0.5, left + w - 0.5, top - 0.5, top + h - 0.5
    return dict(x=[x0, x1, x1, x0, x0], y=[y0, y0, y1, y1, y0])


def _not_yet(row: int, col: int, rows: int, cols: int) -> dict:
    """Polygon covering the output cells after (row, col) in reading order: what is not computed yet."""
    r, c = row, col
    e = 0.6  # a little past the cell edges, so no anti-aliased sliver of a future cell shows
    x = [c + 0.5, cols - 1 + e, cols - 1 + e, -e, -e, c + 0.5, c + 0.5]
    y = [r - 0.5, r - 0.5, rows - 1 + e, rows - 1 + e, r + 0.5, r + 0.5, r - 0.5]
    return dict(x=x, y=y)


def _fmt(v: float) -> str:
    return f"{v:.2f}"


def _fmt_weight(v: float) -> str:
    return f"{v:.2g}" if v >= 0 else f"({v:.2g})"


# ----------------------------------------------------------------------------- the sliding-kernel explorer
# trace order
_INPUT, _KERNEL, _PRODUCTS, _OUTPUT, _MASK, _WINDOW, _CELL = range(7)


def slide_patch(image: torch.Tensor, kernel: tuple, stride: int, padding: int, step: int) -> Patch:
    """Everything the animation shows at ``step`` (1 = the first position; clamped to the last one)."""
    slide = compute_slide(image, kernel, stride, padding)
    steps = slide.steps
    step = min(max(int(step), 1), len(steps)) - 1
    s = steps[step]
    k = np.array(kernel).reshape(3, 3)
    products = s.products.numpy()
    window = s.window.numpy()
    # window value over weight, on two lines: a cell is as narrow as it is tall, and projector type is 24 px
    text = [[f"{_fmt(window[i, j])}<br>·{_fmt_weight(k[i, j])}" for j in range(3)] for i in range(3)]
    plim = float(np.abs(k).max()) or 1.0
    rows, cols = len(slide.padded_z), len(slide.padded_z[0])  # the padded input's rows and columns
    title = (f"step {step + 1}/{len(steps)}: the <span style='color:{WINDOW}'>■</span> window × the kernel, summed: "
             f"<span style='color:{CELL}'>■</span> output[{s.row}, {s.col}] = <b>{_fmt(s.value)}</b>")
    return Patch(
        traces={
            _INPUT: dict(z=slide.padded_z),
            _KERNEL: dict(z=k.tolist(), text=[[f"{v:.3g}" for v in row] for row in k], zmin=-plim, zmax=plim),
            _PRODUCTS: dict(z=np.round(products, 3).tolist(), text=text, zmin=-plim, zmax=plim),
            _OUTPUT: dict(z=slide.output_z, zmin=-slide.output_lim, zmax=slide.output_lim),
            _MASK: _not_yet(s.row, s.col, slide.rows, slide.cols),
            _WINDOW: _rect(s.top, s.left, 3, 3),
            _CELL: _rect(s.row, s.col, 1, 1),
        },
        # the input panel's axes on the image's edges and the output panel's where autorange puts them (the mask
        # reaches 0.1 past the cells on three sides), fixed: left to autorange, the input's grew by half a cell
        # while the window touched its top or bottom row (the image jumped as the window changed rows), and a live
        # figure redraws only what moves (viz/explorer.py, LiveSync)
        layout=dict(title=dict(text=title),
                    xaxis=dict(range=[-0.5, cols - 0.5], autorange=False),
                    yaxis=dict(range=[rows - 0.5, -0.5], autorange=False),
                    xaxis4=dict(range=[-0.6, slide.cols - 0.4], autorange=False),
                    yaxis4=dict(range=[slide.rows - 0.4, -0.5], autorange=False)))


def figure_slide(image: torch.Tensor, kernel: tuple, stride: int = 1, padding: int = 0, step: int = 1) -> go.Figure:
    """Input with the kernel's window, the kernel (the same nine numbers at every step), the products, and
    the output filling in cell by cell."""
    # One row, in the order of the computation: four square panels fit a laptop's column, stack on a phone, and
    # leave a projector's short screen the height for two lines of 24-px numbers in each 3 × 3 cell.
    fig = make_subplots(rows=1, cols=4, horizontal_spacing=0.04,
                        subplot_titles=("Input", "Kernel", "Products", "Output"))
    fig.add_trace(go.Heatmap(z=[[0]], colorscale=GREY, zmin=0, zmax=1, showscale=False,
                             hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra>input</extra>"), 1, 1)
    fig.add_trace(go.Heatmap(z=[[0]], text=[[""]], texttemplate="%{text}", textfont=dict(size=16),
                             colorscale=DIVERGING, showscale=False, xgap=2, ygap=2,
                             hovertemplate="weight %{z:.3f}<extra>kernel</extra>"), 1, 2)
    fig.add_trace(go.Heatmap(z=[[0]], text=[[""]], texttemplate="%{text}", textfont=dict(size=13),
                             colorscale=DIVERGING, showscale=False, xgap=2, ygap=2,
                             hovertemplate="%{text} = %{z:.3f}<extra>product</extra>"), 1, 3)
    fig.add_trace(go.Heatmap(z=[[0]], colorscale=DIVERGING, showscale=False,
                             hovertemplate="output[%{y}, %{x}] = %{z:.3f}<extra></extra>"), 1, 4)
    fig.add_trace(go.Scatter(x=[0], y=[0], fill="toself", fillcolor="white", mode="lines",
                             line=dict(width=0), hoverinfo="skip", showlegend=False), 1, 4)
    fig.add_trace(go.Scatter(x=[0], y=[0], mode="lines", line=dict(color=WINDOW, width=5), hoverinfo="skip",
                             name="kernel window"), 1, 1)
    fig.add_trace(go.Scatter(x=[0], y=[0], mode="lines", line=dict(color=CELL, width=5), hoverinfo="skip",
                             name="cell being written"), 1, 4)
    # 470 px high: a projector's variant keeps the height, and needs it for squares of ~200 px; on a laptop the
    # panels are as wide as a quarter column and stay under their titles (constraintoward top)
    styled(fig, height=470, showlegend=False, title=dict(font=dict(size=18), y=0.97, yanchor="top"),
           margin=dict(t=115, b=60, l=20, r=20))
    _image_axes(fig)
    fig.update_yaxes(constraintoward="top")
    apply_patch(fig, slide_patch(image, kernel, stride, padding, step))
    return fig


class KernelEditor:
    """Nine number boxes for a 3 × 3 kernel; ``value`` is the tuple of nine weights (row by row)."""

    def __new__(cls, value: tuple):
        import ipywidgets as widgets
        import traitlets

        class _Editor(widgets.GridBox):
            value = traitlets.Tuple()

            def __init__(self, initial):
                boxes = [widgets.FloatText(value=float(w), step=0.1, layout=widgets.Layout(width="7em"))
                         for w in initial]
                super().__init__(children=boxes, layout=widgets.Layout(grid_template_columns="repeat(3, 7.5em)"))
                self.value = tuple(float(w) for w in initial)
                self._syncing = False
                for b in boxes:
                    b.observe(self._from_boxes, names="value")
                self.observe(self._to_boxes, names="value")

            def _from_boxes(self, _change):
                if not self._syncing:
                    self.value = tuple(b.value for b in self.children)

            def _to_boxes(self, change):
                self._syncing = True
                try:
                    for b, w in zip(self.children, change["new"]):
                        b.value = float(w)
                finally:
                    self._syncing = False

        return _Editor(value)


def _flat(name: str) -> tuple:
    return tuple(float(w) for row in PRESETS[name] for w in row)


PRESET_ORDER = list(PRESETS)


def kernel_explorer(size: int = 16, preset: str = "vertical edge", stride: int = 1, padding: int = 0) -> Explorer:
    """The sliding-kernel animation: static frames for every preset, stride and padding in the book; in a
    notebook, a step slider with play, the nine weights editable, and stride/padding toggles."""
    import ipywidgets as widgets

    check_choice("preset", preset, PRESETS)
    check_choice("stride", stride, (1, 2))
    check_choice("padding", padding, (0, 1))
    image = load_image(size)
    kernel = _flat(preset)
    n_steps = lambda s, p: output_size(size, 3, s, p) ** 2  # noqa: E731
    step = widgets.IntSlider(value=1, min=1, max=n_steps(stride, padding), description="step",
                             layout=widgets.Layout(width="60%"))
    play = widgets.Play(value=1, min=1, max=step.max, interval=150, description="play")
    widgets.jslink((play, "value"), (step, "value"))
    editor = KernelEditor(kernel)
    presets = widgets.Dropdown(options=PRESET_ORDER, value=preset, description="preset")
    strides = widgets.ToggleButtons(options=[1, 2], value=stride, description="stride")
    paddings = widgets.ToggleButtons(options=[0, 1], value=padding, description="padding")

    def on_preset(change):
        editor.value = _flat(change["new"])  # one assignment: the figure recomputes once

    def on_shape(_change):
        step.max = play.max = n_steps(strides.value, paddings.value)

    presets.observe(on_preset, names="value")
    strides.observe(on_shape, names="value")
    paddings.observe(on_shape, names="value")
    return Explorer(
        figure_slide(image, kernel, stride, padding),
        update=lambda step, kernel, stride, padding: slide_patch(image, kernel, stride, padding, step),
        controls={"kernel": editor, "step": step, "stride": strides, "padding": paddings},  # shown in this order
        static_control="step", static_values=lambda g: range(1, n_steps(g["stride"], g["padding"]) + 1),
        groups={"kernel": [(name, _flat(name)) for name in PRESET_ORDER],
                "stride": [("stride 1", 1), ("stride 2", 2)], "padding": [("padding 0", 0), ("padding 1", 1)]},
        play=True, frame_ms=150, slider_prefix="step ", live_layout=dict(height=400, margin_t=80, margin_b=30),
        extras=[widgets.HBox([play, presets]), widgets.HTML("<b>kernel weights</b> (edit any of the nine)")])


# ----------------------------------------------------------------------------- static figures
def image_row(panels: list[tuple[np.ndarray, str, bool]], title: str, height: int = 330) -> go.Figure:
    """A row of images with square pixels: (values, panel title, signed?) each; signed ones use the diverging
    scale centred on zero, the others grey levels in [0, 1]."""
    fig = make_subplots(rows=1, cols=len(panels), horizontal_spacing=0.02, subplot_titles=[t for _, t, _ in panels])
    for c, (z, _, signed) in enumerate(panels, start=1):
        lim = float(np.abs(z).max()) or 1.0
        colours = dict(colorscale=DIVERGING, zmin=-lim, zmax=lim) if signed else dict(colorscale=GREY, zmin=0, zmax=1)
        fig.add_trace(go.Heatmap(z=np.round(z, 3), showscale=False, hoverinfo="skip", **colours), 1, c)
    styled(fig, height=height, title=title, margin=dict(t=100, b=20, l=10, r=10))
    _image_axes(fig)
    fig.update_annotations(font_size=15)
    return fig


def figure_filters(size: int = 64) -> go.Figure:
    """The photograph and its four filtered versions, full size: each detector finds its pattern everywhere."""
    image = load_image(size)
    panels = [(image.numpy(), "original", False)]
    for name in PRESET_ORDER:
        out = conv2d(image, preset_kernel(name), padding=1).numpy()
        panels.append((out, name, name not in ("blur", "sharpen")))  # edge maps are signed
    return image_row(panels, f"One 3 × 3 kernel, applied at every position of a {size} × {size} image")


SIZES = [8, 16, 32, 64, 128, 256, 512]


def compute_parameter_counts(size: int, c_in: int = 1, c_out: int = 1, k: int = 3) -> dict:
    """Conv and dense parameter counts for a size × size input (padding keeps the output the same size)."""
    size = check_int("size", size, low=k)
    conv = conv_parameter_count(c_in, c_out, k)
    dense = dense_parameter_count(c_in, c_out, size, size, k, padding=k // 2)
    return dict(size=size, conv=conv, dense=dense, ratio=dense / conv)


def _count_patch(size: int) -> Patch:
    c = compute_parameter_counts(size)
    # the counts are written on the side of the marker that has room (right of it for small n, left for large)
    side = "middle left" if SIZES.index(size) >= len(SIZES) / 2 else "middle right"
    return Patch(traces={2: dict(x=[size, size], y=[c["conv"], c["dense"]],
                                 text=[f"{c['conv']:,}", f"{c['dense']:,}"], textposition=side)},
                 layout=dict(title=dict(text=f"{size} × {size} image: conv {c['conv']:,} parameters, "
                                             f"dense {c['dense']:,} (<b>{c['ratio']:,.0f}×</b>)")))


def parameter_explorer(size: int = 32) -> Explorer:
    """Conv versus dense parameters against image size (log axes), a slider over the size."""
    import ipywidgets as widgets

    check_choice("size", size, SIZES)
    counts = [compute_parameter_counts(n) for n in SIZES]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=SIZES, y=[c["dense"] for c in counts], name="fully connected (no sharing)",
                             line=dict(color=OKABE_ITO["vermillion"], width=4), mode="lines+markers"))
    fig.add_trace(go.Scatter(x=SIZES, y=[c["conv"] for c in counts], name="3 × 3 convolution (shared)",
                             line=dict(color=OKABE_ITO["blue"], width=4), mode="lines+markers"))
    fig.add_trace(go.Scatter(x=[size, size], y=[1, 1], mode="markers+text", textposition="middle right",
                             marker=dict(size=16, color="black"), showlegend=False, textfont=dict(size=16)))
    styled(fig, height=520, xaxis_title="image side n (pixels)", yaxis_title="parameters",
           legend=dict(x=0.02, y=0.98, bgcolor="rgba(255,255,255,0.8)"), margin=dict(b=150))
    fig.update_xaxes(type="log", tickvals=SIZES)
    # every other decade labelled: eleven decades of labels run together in projector type
    fig.update_yaxes(type="log", exponentformat="power", tickvals=[10.0 ** k for k in range(0, 12, 2)])
    apply_patch(fig, _count_patch(size))
    slider = widgets.SelectionSlider(options=SIZES, value=size, description="image side")
    return Explorer(fig, update=_count_patch, controls={"size": slider}, static_control="size",
                    static_values=SIZES, slider_prefix="n = ")


def figure_equivariance(size: int = 32, shift: tuple[int, int] = (4, 6), preset: str = "vertical edge") -> go.Figure:
    """Input, shifted input, and both outputs: the output moves with the input."""
    image = load_image(size)
    k = preset_kernel(preset)
    if not (isinstance(shift, tuple) and len(shift) == 2 and all(isinstance(v, int) for v in shift)):
        raise ArgumentError(f"shift must be a (rows, cols) tuple of ints, got {shift!r}")
    shifted = torch.roll(image, shifts=shift, dims=(0, 1))
    # short panel names: four panels share a phone's or a projector's width (the title says what happens)
    return image_row([(image.numpy(), "input", False), (shifted.numpy(), f"shifted {shift}", False),
                      (conv2d(image, k).numpy(), "output", True),
                      (conv2d(shifted, k).numpy(), "output (shifted)", True)],
                     "Shift the input, and the output shifts with it", height=320)
