"""One look for every figure: Okabe-Ito colours, type large enough for the back of a classroom, and the
one function that turns a figure into the HTML the built book shows."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
    "grey": "#999999",
}
TASK_A = OKABE_ITO["blue"]
TASK_B = OKABE_ITO["vermillion"]
SHARED = OKABE_ITO["green"]

FONT_SIZE = 17  # readable from the back row when projected
# Only the download button: zoom and pan tools add clutter on a projector and can hide a long title.
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtons": [["toImage"]]}

# A plain dict, not a go.Layout: merging a Layout that holds an expanded template into a figure costs
# about a second per figure; the template given by name costs milliseconds.
LAYOUT = dict(
    font=dict(size=FONT_SIZE, family="Helvetica, Arial, sans-serif"),
    template="plotly_white",
    margin=dict(l=70, r=30, t=80, b=60),
    legend=dict(font=dict(size=FONT_SIZE - 2)),
    colorway=list(OKABE_ITO.values()),
)


def styled(fig: go.Figure, **layout: Any) -> go.Figure:
    """Apply the book's layout (fonts, margins, palette) to ``fig``, then any overrides; returns ``fig``."""
    fig.update_layout(**LAYOUT)
    fig.update_layout(**layout)
    fig.update_xaxes(showline=True, linecolor="#444", mirror=True, ticks="outside")
    fig.update_yaxes(showline=True, linecolor="#444", mirror=True, ticks="outside")
    return fig


def figure_html(fig: go.Figure | dict, *, auto_play: bool = False) -> str:
    """The figure as an HTML fragment that expects plotly.js on the page (the book serves it once, locally)."""
    return pio.to_html(fig, include_plotlyjs=False, full_html=False, config=PLOTLY_CONFIG,
                       auto_play=auto_play, validate=False)


def smooth(values: Sequence[float] | np.ndarray, window: int) -> np.ndarray:
    """Running mean over the last ``window`` values (fewer at the start): a noisy per-batch training loss made
    readable as a curve (embeddings and Siamese chapters)."""
    from ..checks import check_int

    window = check_int("window", window, low=1)
    v = np.asarray(values, dtype=float)
    c = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, len(v) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)
