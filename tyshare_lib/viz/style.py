"""One look for every figure: Okabe-Ito colours, type large enough for the back of a classroom, and the
one function that turns a figure into the HTML the built book shows."""
from __future__ import annotations

import html
import uuid
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


# The look figures made from now on take: "default", or "projector" (big type, thick lines; see theme()).
_THEME = {"name": "default"}
THEMES = ("default", "projector")


def theme(name: str = "default") -> str:
    """Switch the look of every figure and explorer made after the call: ``"projector"`` (text of at least
    24 px, thicker lines and markers, high contrast, one screen high) or ``"default"``; returns the previous
    one. The built book has the same projector look behind its header button (both come from
    :func:`tyshare_lib.viz.adaptive.projector_variant`)."""
    from ..checks import check_choice

    check_choice("name", name, set(THEMES))
    previous, _THEME["name"] = _THEME["name"], name
    return previous


def styled(fig: go.Figure, **layout: Any) -> go.Figure:
    """Apply the book's layout (fonts, margins, palette) to ``fig``, then any overrides, then the current
    :func:`theme`; returns ``fig``."""
    fig.update_layout(**LAYOUT)
    fig.update_layout(**layout)
    fig.update_xaxes(showline=True, linecolor="#444", mirror=True, ticks="outside")
    fig.update_yaxes(showline=True, linecolor="#444", mirror=True, ticks="outside")
    if _THEME["name"] == "projector":
        from .adaptive import projector_variant

        variant = projector_variant(fig.to_plotly_json())
        fig.update_layout(variant["layout"])
        for trace, patch in zip(fig.data, variant["traces"]):
            trace.update(patch)
    return fig


def _script_json(value: Any) -> str:
    """``value`` as JSON that is safe inside a <script> element."""
    return pio.json.to_json_plotly(value).replace("</", "<\\/")


def figure_html(fig: go.Figure | dict) -> str:
    """The figure as the built book shows it: an HTML caption (its title), a text alternative, and an empty
    plot that the page script ``tyshare.js`` draws from the embedded spec (with plotly.js served locally),
    adapting it to the screen, the projector mode and dark mode (see :mod:`tyshare_lib.viz.adaptive`)."""
    from .adaptive import book_spec

    source = fig if isinstance(fig, dict) else fig.to_plotly_json()
    spec = book_spec(source, {**PLOTLY_CONFIG, **(source.get("config") or {})})
    uid = uuid.uuid4().hex[:12]
    height = int(spec["layout"].get("height") or 450)
    # an animation's frames apart from the rest: the first drawing needs none of them, and a page parses them after
    # it (the convolution chapter's 2,260 frames are 2.3 of its first figure's 2.4 MB, 35-45 ms of JSON.parse here)
    frames = spec.pop("frames", None)
    payload = _script_json(spec)
    frames_html = (f'<script type="application/json" class="tyshare-figure-frames">{_script_json(frames)}</script>'
                   if frames else "")
    return (f'<figure class="tyshare-figure" aria-describedby="alt-{uid}">'
            f'<figcaption class="tyshare-figure-title" aria-live="polite">{spec["title"]}</figcaption>'
            f'<p id="alt-{uid}" class="tyshare-visually-hidden">{html.escape(spec["alt"])}</p>'
            f'<div id="{uid}" class="plotly-graph-div tyshare-plot" '
            f'style="height:{height}px; width:100%;"></div>'
            f'<script type="application/json" class="tyshare-figure-spec">{payload}</script>{frames_html}'
            # Registers the figure with tyshare.js the moment the parser reaches it, so the first figure is drawn
            # while the rest of the page is still arriving; a no-op where tyshare.js is absent.
            '<script>window.tyshare && tyshare.add(document.currentScript.parentNode)</script></figure>')


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
