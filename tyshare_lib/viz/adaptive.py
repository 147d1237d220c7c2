"""How one figure adapts to where it is read (issue 7): a phone, a projector, the theme's dark mode.

The built book draws every figure from a *spec* (:func:`book_spec`): the plotly figure plus three
*variants*, each a partial layout and per-trace patch that the page's script (``tyshare.js``) merges into the
figure when it applies:

* ``narrow`` — the figure is narrower than :data:`NARROW_PX` CSS pixels (a phone, a split screen): side-by-side
  panels are stacked, the legend sits in one row above the panels, the type is a little smaller;
* ``projector`` — the reader pressed the projector button (or opened the page with ``?projector``): text of at
  least :data:`PROJECTOR_MIN_FONT` px, thicker lines, bigger markers, high contrast, a figure that fits one
  1280 × 720 screen with its controls;
* ``dark`` — the theme's dark mode: dark background, light text and grid.

The title leaves the plotly figure for an HTML caption above it, which wraps at any width (a plotly title
cannot) and is read by screen readers; an explorer's frames carry their title in ``layout.meta.title`` and the
page script copies it to the caption. :func:`describe` writes the figure's text alternative.

In notebooks, :func:`tyshare_lib.theme` applies the same projector variant to every figure made afterwards
(see :func:`tyshare_lib.viz.style.styled`): one definition of the look, used by both faces.
"""
from __future__ import annotations

import copy
import html
import re
from collections.abc import Mapping
from typing import Any

NARROW_PX = 700            # below this figure width (CSS px) panels stack and the legend moves above them
NARROW_FONT_SIZE = 14      # a phone is held close: smaller type still reads, and more words fit on a line
NARROW_PANEL_PX = 300      # height of one panel once stacked
PROJECTOR_MIN_FONT = 24    # px; what a room reads at 1280 × 720
PROJECTOR_MAX_HEIGHT = 560  # px; figure + caption + controls on one 1280 × 720 screen
PROJECTOR_LINE_SCALE = 2.0
PROJECTOR_MARKER_SCALE = 1.6
DARK = dict(paper="#14181e", plot="#1b2028", text="#e8e8e8", grid="#3a4250", line="#b0b8c4")

_AXIS = re.compile(r"^([xy])axis(\d*)$")
_TAG = re.compile(r"<[^>]+>")


# ---------------------------------------------------------------------------------------------- helpers
def _plain(text: str) -> str:
    """A plotly rich-text string as plain text (``<br>`` becomes a space)."""
    return html.unescape(_TAG.sub(" ", text.replace("<br>", " "))).replace("  ", " ").strip()


def _title_text(layout: Mapping[str, Any]) -> str:
    title = layout.get("title")
    if isinstance(title, str):
        return title
    if isinstance(title, Mapping):
        return str(title.get("text") or "")
    return ""


def _axes(layout: Mapping[str, Any], letter: str) -> dict[str, dict]:
    """``{'x': xaxis, 'x2': xaxis2, ...}`` for the axes the layout defines (``xaxis`` always counted)."""
    found = {f"{letter}{m.group(2)}": value for key, value in layout.items()
             if (m := _AXIS.match(key)) and m.group(1) == letter and isinstance(value, Mapping)}
    found.setdefault(letter, layout.get(f"{letter}axis", {}) or {})
    return found


def _axis_key(ref: str) -> str:
    """'x2' -> 'xaxis2', 'y' -> 'yaxis'."""
    return f"{ref[0]}axis{ref[1:]}"


def _domain(axis: Mapping[str, Any]) -> tuple[float, float]:
    d = axis.get("domain") or [0.0, 1.0]
    return float(d[0]), float(d[1])


# ---------------------------------------------------------------------------------------------- title
def caption_title(spec: dict) -> str:
    """Move the figure's title (and each frame's) out of plotly, into ``layout.meta.title``; returns it.

    ``spec`` is a plotly JSON dict and is changed in place. The book shows the title as an HTML caption.
    """
    layout = spec.setdefault("layout", {})
    text = _title_text(layout)
    layout["title"] = {"text": ""}
    layout.setdefault("meta", {})
    if isinstance(layout["meta"], Mapping):
        layout["meta"] = {**layout["meta"], "title": text}
    margin = layout.setdefault("margin", {})
    top_things = bool(layout.get("updatemenus")) or _legend_on_top(layout) or _has_top_annotation(layout)
    margin["t"] = 50 if top_things else 20
    for frame in spec.get("frames") or []:
        flayout = frame.get("layout") or {}
        if "title" in flayout:
            ftext = _title_text(flayout)
            flayout = {k: v for k, v in flayout.items() if k != "title"}
            flayout["meta"] = {"title": ftext}
            frame["layout"] = flayout
    return text


def _legend_on_top(layout: Mapping[str, Any]) -> bool:
    legend = layout.get("legend") or {}
    return float(legend.get("y", 1.0)) >= 1.0 and legend.get("orientation") == "h"


def _has_top_annotation(layout: Mapping[str, Any]) -> bool:
    return any(a.get("yref") == "paper" and float(a.get("y", 0)) >= 0.98 for a in layout.get("annotations") or [])


# ---------------------------------------------------------------------------------------------- narrow
NARROW_LEGEND_CHARS = 18  # a legend entry longer than this gets a row of its own on a phone


def _legend_names(spec: Mapping[str, Any]) -> list[str]:
    """The names the legend shows (one per legend group)."""
    seen, names = set(), []
    for trace in spec.get("data", []):
        if trace.get("showlegend") is False or not trace.get("name"):
            continue
        group = trace.get("legendgroup")
        if group and group in seen:
            continue
        seen.add(group)
        names.append(_plain(str(trace["name"])))
    return names


def narrow_variant(spec: Mapping[str, Any]) -> dict:
    """The layout patch for a narrow figure: panels stacked one per row, legend on top, smaller type.

    Heights are worked out in pixels (a panel, the gap a panel's x ticks, axis title and the next panel's
    title need, the legend's rows, the menu) and turned into the paper fractions plotly wants."""
    layout = spec.get("layout", {})
    font = NARROW_FONT_SIZE
    line = round(font * 1.5)
    patch: dict[str, Any] = {"font": {"size": font}}
    margin = dict(layout.get("margin") or {})
    # Cells: each distinct (x domain, y domain) that holds a cartesian subplot.
    xs, ys = _axes(layout, "x"), _axes(layout, "y")
    cells: dict[tuple, list[str]] = {}
    for xref, xaxis in xs.items():
        yref = str(xaxis.get("anchor", "y"))
        if yref in ys and not xaxis.get("overlaying"):
            cells.setdefault((_domain(xaxis), _domain(ys[yref])), []).append(xref)
    stacked = len({c[0] for c in cells}) > 1
    titled = _has_top_annotation(layout)
    names = _legend_names(spec)
    shows_legend = layout.get("showlegend", True) is not False and bool(names)
    columns = 2 if max((len(n) for n in names), default=0) <= NARROW_LEGEND_CHARS else 1
    legend_px = (-(-len(names) // columns) * line + 8) if shows_legend else 0
    menu_px = 2 * line if layout.get("updatemenus") and any(
        m.get("type", "dropdown") == "dropdown" for m in layout["updatemenus"]) else 0
    top = 10 + legend_px + menu_px + (line + 6 if titled else 0)
    bottom = float(margin.get("b", 60))
    base_plot = float(layout.get("height") or 450) - float(margin.get("t", 80)) - bottom
    if stacked:
        order = sorted(cells, key=lambda c: (-c[1][1], c[0][0]))  # row-major, top-left first
        n = len(order)
        gap_px = 2 * line + 3 * line  # x ticks + x-axis title, then the next panel's title
        plot_px = n * NARROW_PANEL_PX + (n - 1) * gap_px
        new_domain = {}
        for i, cell in enumerate(order):
            hi = 1.0 - i * (NARROW_PANEL_PX + gap_px) / plot_px
            new_domain[cell] = (0.0, 1.0), (round(max(hi - NARROW_PANEL_PX / plot_px, 0.0), 4), round(hi, 4))
        for cell, xrefs in cells.items():
            xd, yd = new_domain[cell]
            for xref in xrefs:
                patch[_axis_key(xref)] = {"domain": list(xd)}
                patch[_axis_key(str(xs[xref].get("anchor", "y")))] = {"domain": list(yd)}
        patch["annotations"] = [_moved_annotation(a, cells, new_domain) for a in layout.get("annotations") or []]
    else:
        plot_px = max(base_plot, 260.0)
    patch["height"] = round(plot_px + top + bottom)
    patch["margin"] = {"t": top, "l": 55, "r": 15}
    if shows_legend:  # on top of everything, two columns
        patch["legend"] = {"orientation": "h", "xref": "container", "yref": "container", "x": 0.02, "y": 1,
                           "xanchor": "left", "yanchor": "top", "entrywidth": 0.96 / columns, "entrywidthmode": "fraction",
                           "bgcolor": "rgba(0,0,0,0)", "font": {"size": font - 1}}
    if menu_px:
        patch["updatemenus"] = [{"y": 1.0, "yanchor": "bottom", "pad": {"b": line + 6 if titled else 4}}
                                if m.get("type", "dropdown") == "dropdown" else {}
                                for m in layout["updatemenus"]]
    if layout.get("sliders"):
        patch["sliders"] = [{"font": {"size": font - 2}, "currentvalue": {"font": {"size": font}}}
                            for _ in layout["sliders"]]
    return patch


def _moved_annotation(ann: Mapping[str, Any], cells: Mapping[tuple, Any], new_domain: Mapping[tuple, Any]) -> dict:
    """Where a paper-referenced annotation goes when its panel moves (a subplot title follows its panel)."""
    if ann.get("xref", "paper") != "paper" or ann.get("yref", "paper") != "paper":
        return {}
    x, y = float(ann.get("x", 0.5)), float(ann.get("y", 0.5))
    for cell in cells:
        (x0, x1), (y0, y1) = cell
        if x0 - 1e-6 <= x <= x1 + 1e-6 and y0 - 0.02 <= y <= y1 + 0.12:  # inside, or its title above it
            (nx0, nx1), (ny0, ny1) = new_domain[cell]
            fx = (x - x0) / (x1 - x0) if x1 > x0 else 0.5
            fy = (y - y0) / (y1 - y0) if y1 > y0 else 1.0
            return {"x": round(nx0 + fx * (nx1 - nx0), 4), "y": round(ny0 + fy * (ny1 - ny0), 4)}
    return {}


# ---------------------------------------------------------------------------------------------- projector
def projector_variant(spec: Mapping[str, Any]) -> dict:
    """Layout and per-trace patches for a projector: big type, thick lines, high contrast, one screen high."""
    layout = spec.get("layout", {})
    base = float((layout.get("font") or {}).get("size") or 17)

    def big(font: Mapping[str, Any] | None) -> dict:  # at least the minimum; larger type stays larger
        size = (font or {}).get("size")
        return {"size": max(PROJECTOR_MIN_FONT, round(float(size or base) * PROJECTOR_MIN_FONT / base))}

    out: dict[str, Any] = {"font": {"size": PROJECTOR_MIN_FONT, "color": "#000"},
                           "height": min(float(layout.get("height") or 450), PROJECTOR_MAX_HEIGHT),
                           "legend": {"font": big((layout.get("legend") or {}).get("font"))}}
    margin = layout.get("margin") or {}
    out["margin"] = {"l": max(90, margin.get("l", 80)), "b": max(70, margin.get("b", 80))}
    for key, axis in layout.items():
        if _AXIS.match(key) and isinstance(axis, Mapping):
            out[key] = {"gridcolor": "#b0b0b0", "linecolor": "#000", "linewidth": 2, "tickwidth": 2,
                        "tickfont": big(axis.get("tickfont")), "title": {"font": big(None)}}
    if layout.get("annotations"):
        out["annotations"] = [{"font": big(a.get("font"))} for a in layout["annotations"]]
    if layout.get("sliders"):
        out["sliders"] = [{"font": big(s.get("font")), "currentvalue": {"font": big(None)}} for s in layout["sliders"]]
    if layout.get("updatemenus"):
        out["updatemenus"] = [{"font": big(m.get("font"))} for m in layout["updatemenus"]]
    traces = []
    for trace in spec.get("data", []):
        t: dict[str, Any] = {}
        if trace.get("type", "scatter") == "scatter":
            t["line"] = {"width": round(float((trace.get("line") or {}).get("width", 2)) * PROJECTOR_LINE_SCALE, 1)}
            size = (trace.get("marker") or {}).get("size", 6)
            if isinstance(size, (int, float)):
                t["marker"] = {"size": round(float(size) * PROJECTOR_MARKER_SCALE, 1)}
        if trace.get("text") is not None or trace.get("texttemplate") is not None:
            t["textfont"] = {"size": PROJECTOR_MIN_FONT}
        traces.append(t)
    return {"layout": out, "traces": traces}


# ---------------------------------------------------------------------------------------------- dark
def dark_variant(spec: Mapping[str, Any]) -> dict:
    """Layout and per-trace patches for the theme's dark mode: background, text, grid and black marks."""
    layout = spec.get("layout", {})
    out: dict[str, Any] = {"paper_bgcolor": DARK["paper"], "plot_bgcolor": DARK["plot"],
                           "font": {"color": DARK["text"]},
                           "legend": {"bgcolor": "rgba(0,0,0,0)", "font": {"color": DARK["text"]}}}
    for key, axis in layout.items():
        if _AXIS.match(key) and isinstance(axis, Mapping):
            out[key] = {"gridcolor": DARK["grid"], "linecolor": DARK["line"], "zerolinecolor": DARK["grid"],
                        "tickcolor": DARK["line"], "tickfont": {"color": DARK["text"]},
                        "title": {"font": {"color": DARK["text"]}}}
    if layout.get("annotations"):
        out["annotations"] = [{"font": {"color": DARK["text"]}, "bgcolor": "rgba(0,0,0,0)"}
                              for _ in layout["annotations"]]
    if layout.get("sliders"):
        out["sliders"] = [{"font": {"color": DARK["text"]}, "currentvalue": {"font": {"color": DARK["text"]}},
                           "bgcolor": "#3a4250", "activebgcolor": "#8899aa", "bordercolor": DARK["line"],
                           "tickcolor": DARK["line"]} for _ in layout["sliders"]]
    if layout.get("updatemenus"):
        out["updatemenus"] = [{"font": {"color": DARK["text"]}, "bgcolor": "#2a3038", "bordercolor": DARK["line"]}
                              for _ in layout["updatemenus"]]
    traces = []
    for trace in spec.get("data", []):
        t: dict[str, Any] = {}
        for part in ("line", "marker"):
            color = (trace.get(part) or {}).get("color")
            if isinstance(color, str) and color.lower() in {"black", "#000", "#000000", "#444", "#333"}:
                t[part] = {"color": DARK["text"]}
        if trace.get("type") in {"heatmap", "contour"} and trace.get("showscale", True):
            t["colorbar"] = {"tickfont": {"color": DARK["text"]}, "title": {"font": {"color": DARK["text"]}}}
        traces.append(t)
    return {"layout": out, "traces": traces}


# ---------------------------------------------------------------------------------------------- text alternative
def describe(spec: Mapping[str, Any], title: str) -> str:
    """A short text alternative: what the figure shows (title, panels, axes) and how it can be moved."""
    layout = spec.get("layout", {})
    parts = [f"Figure: {_plain(title)}." if title else "Figure."]
    panels = [_plain(str(a.get("text", ""))) for a in layout.get("annotations") or []
              if a.get("yref") == "paper" and a.get("text") and a.get("showarrow") is False]
    if panels:
        parts.append("Panels: " + "; ".join(panels[:6]) + ".")
    axes = []
    for letter in ("x", "y"):
        for ref, axis in _axes(layout, letter).items():
            t = axis.get("title")
            text = _plain(str(t.get("text", "") if isinstance(t, Mapping) else t or ""))
            if text and text not in axes:
                axes.append(text)
    if axes:
        parts.append("Axes: " + "; ".join(axes[:6]) + ".")
    names = [_plain(str(t.get("name"))) for t in spec.get("data", []) if t.get("name") and t.get("showlegend", True)]
    if names:
        parts.append("Series: " + ", ".join(dict.fromkeys(names[:8])) + ".")
    sliders = layout.get("sliders") or []
    if sliders:
        steps = sliders[0].get("steps") or []
        prefix = _plain(str((sliders[0].get("currentvalue") or {}).get("prefix", ""))).rstrip(" =:")
        what = f" of {prefix}" if prefix else ""
        parts.append(f"A slider steps through {len(steps)} values{what}"
                     + (f", from {steps[0].get('label')} to {steps[-1].get('label')}" if steps else "") + ".")
    return " ".join(parts)


# ---------------------------------------------------------------------------------------------- the spec
def book_spec(fig: Mapping[str, Any], config: Mapping[str, Any]) -> dict:
    """The figure as the book's page script draws it: data, layout, frames, config, title, text alternative
    and the three variants."""
    spec = copy.deepcopy({k: fig[k] for k in ("data", "layout", "frames") if k in fig})
    spec.setdefault("data", [])
    title = caption_title(spec)
    return {**spec, "config": dict(config), "title": title, "alt": describe(fig, title), "narrow_px": NARROW_PX,
            "variants": {"narrow": {"layout": narrow_variant(spec), "traces": []},
                         "projector": projector_variant(spec), "dark": dark_variant(spec)}}
