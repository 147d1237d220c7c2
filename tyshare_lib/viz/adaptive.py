"""How one figure adapts to where it is read (issue 7): a phone, a projector, the theme's dark mode.

The built book draws every figure from a *spec* (:func:`book_spec`): the plotly figure plus three
*variants*, each a partial layout and per-trace patch that the page's script (``tyshare.js``) merges into the
figure when it applies:

* ``narrow`` — the figure is narrower than :data:`NARROW_PX` CSS pixels (a phone, a split screen): side-by-side
  panels are stacked, the legend sits in columns above them, the type is a little smaller, panel titles wrap;
* ``projector`` — the reader pressed the projector button (or opened the page with ``?projector``): text of at
  least :data:`PROJECTOR_MIN_FONT` px, thicker lines, bigger markers, high contrast, the legend at the right,
  the grid re-spaced for the big type, a figure that fits one 1280 × 720 screen with its controls;
* ``dark`` — the theme's dark mode: dark background, light text and grid.

Both come from :func:`regrid`, which works out gaps, margins, legend and controls in pixels for a type size.
In the wide layout itself, :func:`place_controls` puts the book's slider under the bottom axis title.

The title leaves the plotly figure for an HTML caption above it, which wraps at any width (a plotly title
cannot) and is read by screen readers; an explorer's frames carry their title in ``layout.meta.title`` and the
page script copies it to the caption. :func:`describe` writes the figure's text alternative.

In notebooks, :func:`tyshare_lib.theme` applies the same projector variant to every figure made afterwards
(see :func:`tyshare_lib.viz.style.styled`): one definition of the look, used by both faces.
"""
from __future__ import annotations

import copy
import html
from collections.abc import Mapping
from typing import Any

from .margins import _AXIS, _TAG, margins_needed  # one pattern for an axis key, one for a tag

NARROW_PX = 560            # below this figure width (CSS px) panels stack and the legend moves above them;
                           # a laptop's 650-px column keeps side-by-side panels (stacked, they outgrow its screen)
NARROW_MIN_PX = 340         # the narrowest figure served: a 390-px phone's column
NARROW_FONT_SIZE = 14      # a phone is held close: smaller type still reads, and more words fit on a line
NARROW_PANEL_PX = 300      # height of one panel once stacked
PROJECTOR_MIN_FONT = 24    # px; what a room reads at 1280 × 720
PROJECTOR_MAX_HEIGHT = 660  # px; with its one-line caption and its controls, on one 1280 × 720 screen
PROJECTOR_WIDTH_PX = 1200  # the figure's width in projector mode at 1280 px (the sidebars are hidden)
PROJECTOR_LINE_SCALE = 2.0
PROJECTOR_MARKER_SCALE = 1.6
PLOTLY_MARGIN = {"l": 80, "r": 80, "t": 100, "b": 80}  # plotly's own, for a side a figure leaves unset
DARK = dict(paper="#14181e", plot="#1b2028", text="#e8e8e8", grid="#3a4250", line="#b0b8c4")



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
    # The title's lines leave the figure; whatever else sat above the panels (a legend, a menu) keeps its room.
    lines = text.count("<br>") + 1 if text else 0
    margin = layout.setdefault("margin", {})
    margin["t"] = max(20, int(margin.get("t", 80)) - 28 * lines)
    for frame in spec.get("frames") or []:
        flayout = frame.get("layout") or {}
        if "title" in flayout:
            ftext = _title_text(flayout)
            flayout = {k: v for k, v in flayout.items() if k != "title"}
            flayout["meta"] = {"title": ftext}
            frame["layout"] = flayout
    return text


# ---------------------------------------------------------------------------------------------- layout
def _legend_names(spec: Mapping[str, Any]) -> list[str]:
    """The lines the legend shows: one per named trace not hidden from it (a legend group toggles its traces
    together, but each keeps its own entry), and each legend group's title."""
    names, titled = [], set()
    for trace in spec.get("data", []):
        if trace.get("showlegend") is False or not trace.get("name"):
            continue
        group_title = (trace.get("legendgrouptitle") or {}).get("text")
        if group_title and trace.get("legendgroup") not in titled:
            titled.add(trace.get("legendgroup"))
            names.append(_plain(str(group_title)))
        names.append(_plain(str(trace["name"])))
    return names


def _cells(layout: Mapping[str, Any]) -> dict[tuple, list[str]]:
    """Each distinct (x domain, y domain) that holds a cartesian subplot, with the x axes drawn in it."""
    xs, ys = _axes(layout, "x"), _axes(layout, "y")
    cells: dict[tuple, list[str]] = {}
    for xref, xaxis in xs.items():
        yref = str(xaxis.get("anchor", "y"))
        if yref in ys and not xaxis.get("overlaying"):
            cells.setdefault((_domain(xaxis), _domain(ys[yref])), []).append(xref)
    return cells


def wrap(text: str, max_chars: int) -> str:
    """Plotly rich text broken with ``<br>`` at spaces so that no line is longer than ``max_chars`` (where a
    word allows); existing breaks are kept. Plotly never wraps by itself."""
    lines = []
    for part in str(text).split("<br>"):
        line = ""
        for word in part.split(" "):
            if line and len(_plain(line + " " + word)) > max_chars:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return "<br>".join(lines)


def _within(inner: tuple[float, float], outer: tuple[float, float]) -> bool:
    return outer[0] - 1e-6 <= inner[0] and inner[1] <= outer[1] + 1e-6


def _minimal(domains: set[tuple[float, float]]) -> list[tuple[float, float]]:
    """The domains that hold no other one: the rows (or columns) of a grid where some panels span several."""
    return [d for d in domains if not any(o != d and _within(o, d) for o in domains)]


def _spread(sizes: list[float], gap: float, total: float) -> list[tuple[float, float]]:
    """Intervals of [0, 1], first at the start, with the given relative sizes and ``gap`` (a fraction) between."""
    free = max(total - gap * (len(sizes) - 1), 0.1)
    out, start = [], 0.0
    for size in sizes:
        length = free * size / sum(sizes)
        out.append((round(start, 4), round(min(start + length, 1.0), 4)))
        start += length + gap
    return out


def _axis_titled(layout: Mapping[str, Any]) -> dict[str, bool]:
    """Whether any x axis, and any y axis, has a title."""
    return {letter: any(isinstance(a.get("title"), Mapping) and a["title"].get("text")
                        for k, a in layout.items() if k.startswith(f"{letter}axis") and isinstance(a, Mapping))
            for letter in "xy"}


def _below_panels_px(layout: Mapping[str, Any], font: float) -> tuple[int, int]:
    """Pixels under the bottom panel for its tick labels and x-axis title, and for a slider (current value,
    rail, step labels; 0 without one)."""
    line = round(font * 1.3)
    xaxis_px = round(1.3 * line + (1.2 * line if _axis_titled(layout)["x"] else 0))
    slider_px = round(2 * line + 30) if layout.get("sliders") else 0
    return xaxis_px, slider_px


def _wide_legend_rows(spec: Mapping[str, Any], width_px: float = 600) -> int:
    """Rows a horizontal legend of the figure's entries takes in a laptop's column (plotly wraps entries)."""
    font = float(((spec.get("layout") or {}).get("legend") or {}).get("font", {}).get("size")
                 or ((spec.get("layout") or {}).get("font") or {}).get("size") or 17)
    total = sum((len(n) + 5) * 0.6 * font for n in _legend_names(spec))
    return max(1, -(-int(total) // int(width_px)))


def place_controls(layout: dict, legend_rows: int = 1) -> None:
    """Put the sliders and play buttons of a (wide) layout below the bottom panel's tick labels and axis title,
    and a legend placed under the panels below them, with a bottom margin that holds it all (in place)."""
    if not layout.get("sliders"):
        return
    font = float((layout.get("font") or {}).get("size") or 17)
    xaxis_px, slider_px = _below_panels_px(layout, font)
    for slider in layout["sliders"]:
        slider["pad"] = {**(slider.get("pad") or {}), "t": xaxis_px + 4}
    for menu in layout.get("updatemenus") or []:
        if menu.get("type") == "buttons" and float(menu.get("y", 1)) <= 0:
            menu["pad"] = {**(menu.get("pad") or {}), "t": xaxis_px + 4}
    margin = layout.setdefault("margin", {})
    needed = xaxis_px + slider_px + 18
    legend = layout.get("legend") or {}
    if layout.get("showlegend", True) is not False and float(legend.get("y", 1)) < 0 and legend.get("yref") != "container":
        # A legend the chapter put under the panels would sit on the slider: it goes under the slider instead.
        layout["legend"] = {**legend, "orientation": "h", "xref": "container", "x": 0.01, "xanchor": "left",
                            "yref": "container", "y": 0, "yanchor": "bottom"}
        needed += round(legend_rows * (font * 1.3 + 6) + 8)
    margin["b"] = max(int(margin.get("b", 80)), needed)


def _panel_title_cell(ann: Mapping[str, Any], cells: Mapping[tuple, Any]) -> tuple | None:
    """The panel a paper-referenced annotation titles (it sits on or just above the panel's top edge), if any."""
    if ann.get("xref", "paper") != "paper" or ann.get("yref", "paper") != "paper":
        return None
    x, y = float(ann.get("x", 0.5)), float(ann.get("y", 0.5))
    near = [c for c in cells if c[0][0] - 1e-6 <= x <= c[0][1] + 1e-6 and c[1][1] - 0.03 <= y <= c[1][1] + 0.12]
    return min(near, key=lambda c: abs(y - c[1][1])) if near else None


def regrid(spec: Mapping[str, Any], *, font: int, stack: bool, width_px: float | None = None,
           height_px: float | None = None, panel_px: float = 300, legend_chars: int = 18) -> dict:
    """A layout patch that re-spaces the figure for type of ``font`` px: gaps between panels, margins, the
    legend and the menu are worked out in pixels, then turned into plotly's fractions; panel titles are wrapped
    to their panel's width.

    ``stack`` puts every panel on a row of its own, ``panel_px`` high, with the legend in columns on top (a
    phone, at least :data:`NARROW_MIN_PX` wide). Otherwise the grid is kept, each row and column keeping its
    share, within ``width_px`` × ``height_px``, with the legend at the right (a projector: wide and short)."""
    layout = spec.get("layout", {})
    base_font = float((layout.get("font") or {}).get("size") or 17)
    line = round(font * 1.3)
    cells = _cells(layout)
    xs = _axes(layout, "x")
    annotations = layout.get("annotations") or []
    names = _legend_names(spec)
    shows_legend = layout.get("showlegend", True) is not False and bool(names)
    longest = max((len(n) for n in names), default=0) + 4  # the symbol and the space after it
    legend_right = shows_legend and not stack
    columns = 1
    if shows_legend and not legend_right:
        columns = max(1, min(len(names), int((width_px or legend_chars * 2 * font * 0.6) // (longest * font * 0.6))))
    legend_px = (-(-len(names) // columns) * (line + 3) + 10) if shows_legend and not legend_right else 0
    dropdown = any(m.get("type", "dropdown") == "dropdown" for m in layout.get("updatemenus") or [])
    menu_px = 2 * line if dropdown else 0
    axis_titled = _axis_titled(layout)
    xaxis_px, slider_px = _below_panels_px(layout, font)
    bottom = xaxis_px + (slider_px + 8 if slider_px else 0) + 10
    left = round(3.4 * font + (1.4 * font if axis_titled["y"] else 0))
    right = round(longest * font * 0.6 + 20) if legend_right else 15
    figure_px = (width_px or NARROW_MIN_PX) - left - right

    # Columns first (they do not depend on the rows), then the panel titles wrapped to their columns' width.
    cols = sorted(_minimal({c[0] for c in cells}))
    col_iv = _spread([d[1] - d[0] for d in cols], (left + 0.8 * font) / max(figure_px, 1), 1.0) if cols else []

    def new_x(cell: tuple) -> tuple[float, float]:
        if stack:
            return (0.0, 1.0)
        inside = [i for i, d in enumerate(cols) if _within(d, cell[0])]
        return (col_iv[min(inside)][0], col_iv[max(inside)][1])

    titles: dict[int, str] = {}
    title_lines = 0
    for i, ann in enumerate(annotations):
        cell = _panel_title_cell(ann, cells)
        if cell is None:
            continue
        x0, x1 = new_x(cell)
        size = float((ann.get("font") or {}).get("size") or base_font) * font / base_font
        titles[i] = wrap(str(ann.get("text", "")), max(12, int((x1 - x0) * figure_px / (0.56 * max(size, font)))))
        title_lines = max(title_lines, titles[i].count("<br>") + 1)
    title_px = round(title_lines * line * 1.15)
    top = round(10 + legend_px + menu_px + (title_px + 6 if title_lines else 0))
    row_gap_px = xaxis_px + 0.5 * line + (title_px + 8 if title_lines else 0)  # + tick length and title standoff

    patch: dict[str, Any] = {"font": {"size": font}, "margin": {"t": top, "l": left, "r": right, "b": bottom}}
    plot_px = (height_px or float(layout.get("height") or 450)) - top - bottom
    if cells:
        if stack:
            order = sorted(cells, key=lambda c: (-c[1][1], c[0][0]))  # row-major, top-left first
            plot_px = len(order) * panel_px + (len(order) - 1) * row_gap_px
            ys_new = _spread([1.0] * len(order), row_gap_px / plot_px, 1.0)
            new_domain = {cell: ((0.0, 1.0), (1 - y1, 1 - y0)) for cell, (y0, y1) in zip(order, ys_new)}
        else:
            rows = sorted(_minimal({c[1] for c in cells}), key=lambda d: -d[1])  # a spanning panel is no row
            row_iv = _spread([d[1] - d[0] for d in rows], row_gap_px / max(plot_px, 1), 1.0)
            new_domain = {}
            for cell in cells:  # a panel spanning columns or rows keeps spanning them
                inside = [i for i, d in enumerate(rows) if _within(d, cell[1])]
                new_domain[cell] = (new_x(cell), (1 - row_iv[max(inside)][1], 1 - row_iv[min(inside)][0]))
        for cell, xrefs in cells.items():
            xd, yd = new_domain[cell]
            for xref in xrefs:
                patch[_axis_key(xref)] = {"domain": [round(v, 4) for v in xd]}
                patch[_axis_key(str(xs[xref].get("anchor", "y")))] = {"domain": [round(v, 4) for v in yd]}
        patch["annotations"] = [_moved_annotation(a, cells, new_domain) for a in annotations]
        for i, text in titles.items():
            if text != annotations[i].get("text"):
                patch["annotations"][i]["text"] = text
    patch["height"] = round(plot_px + top + bottom) if stack else round(height_px or float(layout.get("height") or 450))
    for key, axis in layout.items():  # log axes: decades only (plotly's in-between digits are 0.75 × the type)
        dtick = axis.get("dtick") if isinstance(axis, Mapping) else None
        if _AXIS.match(key) and isinstance(axis, Mapping) and axis.get("type") == "log" \
                and "tickvals" not in axis and (dtick is None or str(dtick).startswith("D")):
            patch[key] = merge(patch.get(key), {"dtick": 1})
    if legend_right:
        patch["legend"] = {"orientation": "v", "xref": "paper", "yref": "paper", "x": 1.01, "y": 1,
                           "xanchor": "left", "yanchor": "top", "bgcolor": "rgba(0,0,0,0)", "font": {"size": font}}
    elif shows_legend:  # on top of everything, in columns
        patch["legend"] = {"orientation": "h", "xref": "container", "yref": "container", "x": 0.01, "y": 1,
                           "xanchor": "left", "yanchor": "top",  # columns in pixels: a fraction would be of the plot area
                           "entrywidth": int((width_px or NARROW_MIN_PX) * 0.97 / columns) - 40,
                           "entrywidthmode": "pixels", "bgcolor": "rgba(0,0,0,0)", "font": {"size": font},
                           "maxheight": 1}  # never a scroll box: every entry shown
    if dropdown:
        # plotly sizes a dropdown to its widest label, so its arrow touches that label: two spaces keep them apart
        patch["updatemenus"] = [{"y": 1.0, "yanchor": "bottom", "x": 0, "xanchor": "left",
                                 "pad": {"b": title_px + 6 if title_lines else 4, "t": 0}, "font": {"size": font},
                                 "buttons": [{"label": f"{b.get('label', '')}\u00a0\u00a0"} for b in m.get("buttons", [])]}
                                if m.get("type", "dropdown") == "dropdown" else {"font": {"size": font}}
                                for m in layout["updatemenus"]]
    # room for the outer axes' tick labels as plotly will draw them at this size, so that it draws the figure once
    need = margins_needed({**spec, "layout": merge(layout, patch)}, font=font)
    if shows_legend and not legend_right:  # plotly keeps the legend's height on top of what the axes push there
        need["t"] += top - 10
    patch["margin"] = {side: max(px, need[side]) for side, px in patch["margin"].items()}
    bottom = patch["margin"]["b"]
    if layout.get("sliders"):  # below the bottom panel's tick labels and axis title
        patch["sliders"] = [{"font": {"size": font}, "currentvalue": {"font": {"size": font}},
                             "y": 0, "yanchor": "top", "pad": {"t": xaxis_px + 4, "b": 0}} for _ in layout["sliders"]]
        plays = [m.get("type") == "buttons" for m in layout.get("updatemenus") or []]
        if any(plays) and stack:  # a phone: the slider takes the whole width, play and pause go under it, side by side
            patch["sliders"] = [merge(p, {"x": 0, "len": 1}) for p in patch["sliders"]]
            patch["updatemenus"] = merge(patch.get("updatemenus", [{} for _ in plays]), [
                {"y": 0, "yanchor": "top", "x": 0, "xanchor": "left", "direction": "right",
                 "pad": {"t": xaxis_px + slider_px + 24, "r": 0}} if play else {} for play in plays])
            patch["margin"]["b"] = bottom = bottom + 2 * line + 28
        elif any(plays):  # the play buttons sit beside the slider
            patch["updatemenus"] = merge(patch.get("updatemenus", [{} for _ in plays]), [
                {"y": 0, "yanchor": "top", "pad": {"t": xaxis_px + 4}} if play else {} for play in plays])
    return patch


def narrow_variant(spec: Mapping[str, Any]) -> dict:
    """The layout patch for a narrow figure (a phone): panels stacked one per row, legend on top."""
    return regrid(spec, font=NARROW_FONT_SIZE, stack=True, panel_px=NARROW_PANEL_PX)


def _moved_annotation(ann: Mapping[str, Any], cells: Mapping[tuple, Any], new_domain: Mapping[tuple, Any]) -> dict:
    """Where a paper-referenced annotation goes when its panel moves (a subplot title follows its panel)."""
    if ann.get("xref", "paper") != "paper" or ann.get("yref", "paper") != "paper":
        return {}
    x, y = float(ann.get("x", 0.5)), float(ann.get("y", 0.5))
    # the panel it sits in, or whose top edge it sits on (a subplot title): the nearest top edge wins
    near = [cell for cell in cells if cell[0][0] - 1e-6 <= x <= cell[0][1] + 1e-6
            and cell[1][0] - 0.02 <= y <= cell[1][1] + 0.12]
    if not near:
        return {}
    cell = min(near, key=lambda c: abs(y - c[1][1]))
    (x0, x1), (y0, y1) = cell
    (nx0, nx1), (ny0, ny1) = new_domain[cell]
    fx = (x - x0) / (x1 - x0) if x1 > x0 else 0.5
    if y >= y1 - 0.03:  # on (or above) the top edge: a panel title, which now sits right on its panel
        return {"x": round(nx0 + fx * (nx1 - nx0), 4), "y": round(ny1, 4), "yanchor": "bottom"}
    fy = (y - y0) / (y1 - y0) if y1 > y0 else 1.0
    return {"x": round(nx0 + fx * (nx1 - nx0), 4), "y": round(ny0 + fy * (ny1 - ny0), 4)}


# ---------------------------------------------------------------------------------------------- projector
def merge(a: Any, b: Any) -> Any:
    """``b`` merged into ``a`` as the page script merges a variant: dicts key by key, lists of dicts item by
    item, anything else replaced (``a`` is not changed)."""
    if isinstance(b, list):
        if isinstance(a, list) and all(isinstance(x, Mapping) for x in b):
            return [merge(x, b[i]) if i < len(b) else x for i, x in enumerate(a)] + list(b[len(a):])
        return list(b)
    if isinstance(b, Mapping):
        out = dict(a) if isinstance(a, Mapping) else {}
        for key, value in b.items():
            out[key] = merge(out.get(key), value)
        return out
    return b


def projector_variant(spec: Mapping[str, Any]) -> dict:
    """Layout and per-trace patches for a projector: big type, thick lines, high contrast, one screen high."""
    layout = spec.get("layout", {})
    base = float((layout.get("font") or {}).get("size") or 17)
    size = PROJECTOR_MIN_FONT

    def big(font: Mapping[str, Any] | None) -> dict:  # at least the minimum; larger type stays larger
        return {"size": max(size, round(float((font or {}).get("size") or base) * size / base))}

    height = min(float(layout.get("height") or 450), PROJECTOR_MAX_HEIGHT)
    out = regrid(spec, font=size, stack=False, width_px=PROJECTOR_WIDTH_PX, height_px=height)
    # text inside bars that cannot be drawn at the projector's size is hidden rather than shrunk
    out = merge(out, {"font": {"color": "#000"}, "uniformtext": {"minsize": size, "mode": "hide"}})
    for key, axis in layout.items():
        if _AXIS.match(key) and isinstance(axis, Mapping):
            out[key] = merge(out.get(key), {"gridcolor": "#b0b0b0", "linecolor": "#000", "linewidth": 2,
                                            "tickwidth": 2, "tickfont": big(axis.get("tickfont")),
                                            "title": {"font": big(None)}})
    if layout.get("annotations"):
        out["annotations"] = merge(out.get("annotations", []), [{"font": big(a.get("font"))} for a in layout["annotations"]])
    traces = []
    for trace in spec.get("data", []):
        t: dict[str, Any] = {}
        if trace.get("type", "scatter") == "scatter":
            t["line"] = {"width": round(float((trace.get("line") or {}).get("width", 2)) * PROJECTOR_LINE_SCALE, 1)}
            marker_size = (trace.get("marker") or {}).get("size", 6)
            if isinstance(marker_size, (int, float)):
                t["marker"] = {"size": round(float(marker_size) * PROJECTOR_MARKER_SCALE, 1)}
        if trace.get("text") is not None or trace.get("texttemplate") is not None:
            t["textfont"] = {"size": size}
        traces.append(t)
    return {"layout": out, "traces": traces}


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
    place_controls(spec["layout"], legend_rows=_wide_legend_rows(spec))
    # room for the outer axes' tick labels and titles, so that plotly.js draws the figure once (see margins.py)
    margin = spec["layout"].setdefault("margin", {})
    for side, px in margins_needed(spec).items():
        if px > float(margin.get(side, PLOTLY_MARGIN[side])):  # a side left to plotly's default keeps it otherwise
            margin[side] = px
    return {**spec, "config": dict(config), "title": title, "alt": describe(fig, title), "narrow_px": NARROW_PX,
            "variants": {"narrow": {"layout": narrow_variant(spec), "traces": []},
                         "projector": projector_variant(spec), "dark": dark_variant(spec)}}
