"""An interactive figure with two faces, computed once.

* In the **built book** (no kernel) it is a plotly figure whose slider steps or animation frames were
  computed at build time: each frame is the :class:`Patch` that ``update`` returns for one value.
* In a **live notebook** it is an ipywidgets explorer: the same ``update`` is called whenever a control
  moves, and what its :class:`Patch` changes is sent to a ``FigureWidget`` (:class:`LiveSync`: only the values
  that differ from the last ones sent, and moving markers and bars without a redraw of the whole figure).

One cell serves both: :meth:`Explorer._repr_mimebundle_` carries the live widget view *and* the static
HTML. JupyterLab renders the widget; the book is configured (``nb_mime_priority_overrides``) to prefer
``text/html``.
"""
from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.basedatatypes import BasePlotlyType

from ..checks import ArgumentError, check_choice
from .style import figure_html


@dataclass(frozen=True)
class Patch:
    """What changes between two states of a figure: some traces' properties and some layout properties."""

    traces: Mapping[int, Mapping[str, Any]]  # trace index -> {property: new value}
    layout: Mapping[str, Any] = field(default_factory=dict)  # nested, e.g. {"title": {"text": ...}}


def apply_patch(fig: go.Figure, patch: Patch) -> None:
    """Apply ``patch`` to ``fig`` (a Figure or a FigureWidget) in one batch."""
    with fig.batch_update():  # one message to the front-end for a FigureWidget
        for i, props in patch.traces.items():
            fig.data[i].update(props)
        if patch.layout:
            fig.layout.update(patch.layout)


# ----------------------------------------------------------------------------- the live figure: send only what changes
# A FigureWidget redraws through plotly.js. ``Plotly.update`` with a changed data array recomputes and redraws
# *every* trace and axis of the figure (contours, heatmaps, all subplots), which costs a multiple of what the
# reader's key press should cost. The live explorer sends, after each move of a control, only the trace
# properties and layout entries whose values differ from those it last sent, and, when those changes cannot move
# any axis (_axes_keep), sends them so that the front-end redraws only the moving traces and the title (the
# "overlay", see _live_bundle). ``Plotly.animate`` with ``redraw: false`` (the "animate" path, off by default)
# also redraws only the traces it is given, when plotly.js can animate them (scatter, bar).
_ANIMATABLE = {"scatter", "bar"}  # plotly.js trace modules with ``animatable: true`` that this path uses
_ANIMATE_PROPS = {"x", "y", "text", "hovertext", "customdata", "marker.color", "marker.size", "marker.opacity",
                  "line.color", "line.width", "opacity", "width"}  # redrawn by the trace's own transition
_CHEAP_LAYOUT = {"title", "annotations", "shapes"}  # relayout redraws these alone (no trace is replotted)
_ANIMATE_OPTS = {"transition": {"duration": 0}, "frame": {"duration": 0, "redraw": False}}
_OVERLAY_TYPES = {"scatter", "bar", "heatmap"}  # trace types the overlay may take (their axes checked below)
_OVERLAY_PROPS = {"x", "y", "z", "text", "textposition", "texttemplate", "textfont.color", "hovertext",
                  "hovertemplate", "customdata", "marker.color", "marker.opacity", "marker.symbol", "line.color",
                  "line.width", "line.dash", "opacity", "zmin", "zmax"}  # move nothing but the trace (no axis padding)
_OVERLAY_LAYOUT = {"title"}  # layout the overlay draws (the big figure's title is hidden while it is split)
# and a new range of an axis that stays fixed (no autorange): both figures take it (the ALBERT counter's axis end)
_OVERLAY_AXIS_PROPS = {"range", "autorange"}
_AXIS_NAME = re.compile(r"[xy]axis\d*")


def _diff(new: Mapping[str, Any], old: Mapping[str, Any] | None) -> dict:
    """The entries of ``new`` (nested dicts, plain values) that differ from ``old``; nested dicts compared by key."""
    old = old or {}
    out = {}
    for key, value in new.items():
        before = old.get(key, _MISSING)
        if isinstance(value, dict) and value and isinstance(before, dict):
            sub = _diff(value, before)
            if sub:
                out[key] = sub
        elif before is _MISSING or before != value:
            out[key] = value
    return out


def _merge(into: dict, changes: Mapping[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and value and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _fixed(axis: Mapping[str, Any]) -> bool:
    """Whether a layout axis (its plain dict) has a range of its own: a range given and no autorange."""
    return axis.get("range") is not None and axis.get("autorange") in (None, False)


def _get_in(d: Mapping[str, Any], path: str) -> Any:
    """d["a"]["b"] for path "a.b"; _MISSING where a key is absent."""
    for key in path.split("."):
        if not isinstance(d, Mapping) or key not in d:
            return _MISSING
        d = d[key]
    return d


def _paths(d: Mapping[str, Any], prefix: str = "") -> set[str]:
    out = set()
    for key, value in d.items():
        if isinstance(value, dict) and value:
            out |= _paths(value, f"{prefix}{key}.")
        else:
            out.add(f"{prefix}{key}")
    return out


_MISSING = object()


def _numbers(values: Any):
    """Finite floats of a data array, or None when it is not numeric (categories, dates)."""
    import numpy as np

    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        return None
    return arr[np.isfinite(arr)]


def _extent(trace: Mapping[str, Any], dim: str) -> tuple[float, float] | None:
    """The span a trace's data covers along ``dim`` ("x" or "y"), as its axis's autorange sees it: a heatmap's
    cells reach half a cell past their centres (and without x/y they sit at 0, 1, 2, ...); None if unknown.
    ``trace`` is the trace's plain dict (a FigureWidget's ``_data[i]``: read without plotly's validators)."""
    import numpy as np

    values = trace.get(dim)
    if trace.get("type") == "heatmap":
        shape = _shape(trace.get("z"))
        if shape is None or len(shape) != 2 or 0 in shape:
            return None
        n = shape[1] if dim == "x" else shape[0]
        if values is None:
            start, step = trace.get(f"{dim}0"), trace.get(f"d{dim}")
            start, step = float(0 if start is None else start), float(1 if step is None else step)
            return start - step / 2, start + (n - 1) * step + step / 2
        arr = _numbers(values)
        if arr is None or arr.size != n or n < 2 or not np.all(np.diff(arr) > 0):
            return None
        half = (arr[-1] - arr[0]) / (n - 1) / 2
        return float(arr[0] - half), float(arr[-1] + half)
    if values is None:
        return None
    arr = _numbers(values)
    return (float(arr.min()), float(arr.max())) if arr is not None and arr.size else None


def _shape(values: Any) -> tuple | None:
    import numpy as np

    try:
        return np.shape(np.asarray(values, dtype=float))
    except (TypeError, ValueError):
        return None


class LiveSync:
    """What a live FigureWidget was last sent, and the cheapest message for a new :class:`Patch` (all chapters).

    ``send(patch)`` diffs the patch against the values sent before (the first patch is all new), drops what did
    not change (nothing at all is sent when nothing changed), and sends the rest:

    * ``"overlay"`` (on by default, on a figure whose front-end has it: :func:`live_figure_widget`): when only
      scatter, bar and heatmap traces and the title change and no axis can move (:meth:`_axes_keep`), or an
      axis that stays fixed takes a new range (:meth:`_fixed_axis_moves`), one animate message marked for the
      overlay; the front-end redraws only the moving traces and the title (and moves that axis);
    * ``"animate"`` (``animate=True``, off by default): moving scatter/bar data through ``Plotly.animate``
      (``redraw: false``) and titles, annotations and shapes through one relayout;
    * ``"update"``: one ``Plotly.update``, as :func:`apply_patch` does (plotly.js redraws the whole figure).

    It returns the path it took (``"none"`` when nothing changed), for tests and benchmarks.
    """

    def __init__(self, fig: go.FigureWidget, animate: bool = False, overlay: bool = True):
        self.fig = fig
        # animate: off by default. In JupyterLab on a loaded 2-core machine (benchmarks/bench_lab.py, 2026-11-28)
        # the relayout + animate pair was not measurably faster than one update, and slower for the 14-trace
        # unrolled-RNN explorer: plotly.js ends an animation on an animation frame. Kept, tested.
        self.animate = animate
        self.overlay = overlay and getattr(fig, "_ty_overlay", False)
        self.traces: dict[int, dict] = {}
        self.layout: dict = {}
        self._extents: dict[tuple[int, str], tuple[float, float] | None] = {}  # _extent_of
        self._checked: dict[int | str, set[str]] = {}  # _check: properties plotly accepted, per trace

    def send(self, patch: Patch) -> str:
        traces = {}
        for i, props in patch.traces.items():
            changed = _diff(_jsonable(dict(props)), self.traces.get(i))
            if changed:
                traces[i] = changed
        layout = _diff(_jsonable(dict(patch.layout)), self.layout)
        if not traces and not layout:
            return "none"
        fresh = self._check(traces, layout)
        first = not self.traces and not self.layout  # the figure's first state: no front-end has drawn it yet
        if self.overlay and traces and not first and self._can_overlay(with_bars := self._with_bar_neighbours(traces),
                                                                        layout):
            path = "overlay"
            traces = with_bars
            self._batch_animate(traces, layout, {**_ANIMATE_OPTS, "tyOverlay": True}, fresh)
        elif self.animate and traces and self._can_animate(traces, layout):
            path = "animate"
            if layout:
                self.fig.plotly_relayout(_dotted(layout))
            self._batch_animate(traces, {}, _ANIMATE_OPTS, fresh)
        else:
            path = "update"
            apply_patch(self.fig, Patch(traces, layout))
        for i, changed in traces.items():
            _merge(self.traces.setdefault(i, {}), changed)
            for dim in ("x", "y"):
                self._extents.pop((i, dim), None)
        _merge(self.layout, layout)
        return path

    def _batch_animate(self, traces: Mapping[int, dict], layout: Mapping[str, Any], opts: dict,
                       fresh: Mapping[int | str, set[str]] | None = None) -> None:
        # FigureWidget.batch_animate always asks plotly.js for a full redraw after the transition; this is its
        # body with our options (plotly 7.1: the same private steps, so Python's copy of the figure and
        # the front-end's stay in step). The values go straight into the batch, as plotly's validators would
        # have put them there: plain lists and numbers (_jsonable), every property checked once (_check), and
        # only values that differ from the figure's: send's diff leaves out those last sent, and a property sent
        # for the first time (``fresh``) is left out if the figure already has its value (the bars added as
        # neighbours, sent unchanged, are not in ``fresh``). Through the trace objects, the validators took
        # about half of Python's time per key press (issue 7).
        fig = self.fig
        fresh = fresh or {}
        edits = fig._batch_trace_edits
        for key, props in [*traces.items(), ("layout", layout)]:
            flat = _dotted(props) if props else {}
            current = fig._layout if key == "layout" else fig._data[key]
            flat = {path: value for path, value in flat.items()
                    if path not in fresh.get(key, ()) or not BasePlotlyType._vals_equal(_get_in(current, path), value)}
            if flat and key == "layout":
                fig._batch_layout_edits.update(flat)
            elif flat:
                edits.setdefault(key, OrderedDict()).update(flat)
        for i in sorted(edits):
            edits.move_to_end(i)
        fig._perform_batch_animate(opts)

    def _check(self, traces: Mapping[int, dict], layout: Mapping[str, Any]) -> dict[int | str, set[str]]:
        """Raise ValueError (plotly's, naming the property and what it accepts) before anything is sent, if a
        property this LiveSync has not sent before is not one plotly accepts; a property is checked once.
        Returns the properties checked now, per trace index (and "layout")."""
        fresh = {}
        for key, props in [*traces.items(), ("layout", layout)]:
            flat = _dotted(props) if props else {}
            checked = self._checked.setdefault(key, set())
            if flat.keys() - checked:
                # an object of the same kind, built apart from the figure: the figure is left untouched
                (go.Layout if key == "layout" else type(self.fig.data[key]))(props)
                fresh[key] = flat.keys() - checked
                checked.update(flat)
        return fresh

    def _bar_neighbours(self, traces: Mapping[int, dict]) -> list[int]:
        """The shown bars not in ``traces`` whose place depends on a bar in ``traces``: in grouped or stacked mode
        (plotly's default is grouped), every bar of a moving bar's subplot."""
        fig = self.fig
        if (fig.layout.barmode or "group") == "overlay":
            return []
        subplot = lambda t: (t.xaxis or "x", t.yaxis or "y")  # noqa: E731
        moving = {subplot(fig.data[i]) for i in traces if fig.data[i].type == "bar"}
        return [j for j, other in enumerate(fig.data) if j not in traces and other.type == "bar"
                and other.visible is not False and subplot(other) in moving]

    def _with_bar_neighbours(self, traces: Mapping[int, dict]) -> dict[int, dict]:
        """``traces`` plus each of their bar neighbours (:meth:`_bar_neighbours`) sent with its length unchanged, so
        that the overlay draws them all (the ALBERT counter's layers move three of its six stacked parts)."""
        out = dict(traces)
        for j in self._bar_neighbours(traces):
            other = self.fig.data[j]
            # the bar's length: x for horizontal bars (plotly.js also makes bars given only x horizontal)
            across = other.orientation == "h" or (other.orientation is None and other.y is None)
            lengths = other.x if across else other.y
            if lengths is not None:  # else none to send: _can_overlay refuses, and plotly.js redraws all
                out[j] = {"x" if across else "y": _jsonable(list(lengths))}
        return out

    def _can_overlay(self, traces: Mapping[int, dict], layout: Mapping[str, Any]) -> bool:
        if not all(key in _OVERLAY_LAYOUT or self._fixed_axis_moves(key, value) for key, value in layout.items()):
            return False
        for i, changed in traces.items():
            trace = self.fig.data[i]
            if trace.type not in _OVERLAY_TYPES or _paths(changed) - _OVERLAY_PROPS:
                return False
            if trace.type == "heatmap" and getattr(trace, "transpose", False):
                return False
            if trace.type != "heatmap" and (getattr(trace, "fill", None) not in (None, "none", "toself")
                                            or getattr(trace, "stackgroup", None)):
                return False  # a fill to the next trace, a stack: drawn with other traces
            if "z" in changed and _shape(changed["z"]) != _shape(self.traces.get(i, {}).get("z", trace.z)):
                return False  # an image of another size: its axes follow it
        if self._bar_neighbours(traces):
            return False  # a grouped or stacked bar whose neighbours cannot move with it
        return self._axes_keep(traces)

    def _fixed_axis_moves(self, key: str, change: Any) -> bool:
        """Whether a layout change is only a new range for an axis that stays fixed: a range and no autorange once
        the change is made. plotly.js then moves that axis alone, with no autorange to work out."""
        if not (_AXIS_NAME.fullmatch(key) and isinstance(change, Mapping)) or set(change) - _OVERLAY_AXIS_PROPS:
            return False
        return _fixed({**(self.fig._layout.get(key) or {}), **change})

    def _can_animate(self, traces: Mapping[int, dict], layout: Mapping[str, Any]) -> bool:
        if not hasattr(self.fig, "_perform_batch_animate") or set(layout) - _CHEAP_LAYOUT:
            return False
        for i, changed in traces.items():
            trace = self.fig.data[i]
            if trace.type not in _ANIMATABLE or _paths(changed) - _ANIMATE_PROPS:
                return False
            if getattr(trace, "fill", None) not in (None, "none", "toself") or getattr(trace, "stackgroup", None):
                return False  # a fill to the next trace, a stack: drawn with other traces
        return self._axes_keep(traces)

    def _axes_keep(self, traces: Mapping[int, dict]) -> bool:
        """Whether moving these traces' x/y leaves every axis as it is: the axis has a fixed range, or the old
        and new values lie within the extent of the other traces on it (which then decide its autorange;
        a moving marker's own padding may differ by its half-width from a full redraw).

        It reads the figure's plain dicts (``_data``, ``_layout``: what plotly's objects are views of, the reader's
        zoom included), not the objects, whose every read goes through plotly's validators (issue 7: this runs at
        every key press)."""
        fig = self.fig
        data, layout = fig._data, fig._layout
        barmode = layout.get("barmode")
        for i, changed in traces.items():
            trace = data[i]
            for dim in ("x", "y"):
                if dim not in changed:
                    continue
                ref = trace.get(f"{dim}axis") or dim
                axis = layout.get(f"{dim}axis{ref[1:]}") or {}
                if _fixed(axis):
                    continue
                if trace.get("type") in ("bar", "heatmap") or barmode == "stack":
                    return False  # bars reach down to their base, cells reach half a cell past their centres
                new, old = _numbers(changed[dim]), _numbers(self.traces.get(i, {}).get(dim, trace.get(dim)))
                if new is None or old is None:
                    return False
                others = [self._extent_of(j, dim) for j, t in enumerate(data)
                          if j not in traces and (t.get(f"{dim}axis") or dim) == ref
                          and t.get("visible") not in (False, "legendonly")]  # autorange skips hidden traces
                others = [o for o in others if o is not None]
                if not others:
                    return False
                low, high = min(o[0] for o in others), max(o[1] for o in others)
                for arr in (new, old):
                    if arr.size and (arr.min() < low or arr.max() > high):
                        return False
        return True

    def _extent_of(self, j: int, dim: str) -> tuple[float, float] | None:
        """:func:`_extent` of trace ``j``, remembered until this LiveSync sends the trace new values (nothing else
        changes a live explorer's data: the front-end reports back axes, visibility and the like)."""
        key = (j, dim)
        if key not in self._extents:
            self._extents[key] = _extent(self.fig._data[j], dim)
        return self._extents[key]


# plotly's FigureWidget front-end (its "view") is patched in two ways, both in live_figure.js (methods added to
# the view's class), both found by name in plotly's bundle; if a plotly release renames what they hook, the stock
# bundle is used unchanged and the explorers redraw as plotly's own widget does.
#
# 1. Reports deferred. After every redraw a message from Python asked for, the view walks the whole figure
#    (every trace's full data, the full layout and its template) to send Python back the values plotly.js filled
#    in, before the redraw's event. Nothing in a live explorer reads those values, and the next redraw supersedes
#    them; they are sent once the figure has been still for _DELTAS_DELAY_MS (a held key's presses send one
#    report, not one each). Measured in one JupyterLab page (24 presses each, 2026-11-28, bare widget 68 ms):
#    tying 158 vs 196 ms, conv counter 88 vs 93, embeddings 143 vs 148, recurrent gradient 73 vs 74.
# 2. The overlay (LiveSync's "overlay" path). plotly.js redraws the whole figure for any change of data: in
#    Chromium, the tying explorer's figure takes 55-77 ms per key press, its title alone 15-20 ms, while the bare
#    widget's title takes 5-7 ms (plotly.js 4.1.1, 2026-11-29). A change that cannot move an axis is sent as an
#    animate message marked ``tyOverlay``; the view then splits the figure once (the moving traces and the title
#    go to a small figure drawn exactly over the big one, whose axes are frozen where they are) and afterwards
#    redraws only the small figure: 8-39 ms per press across the explorers (tying 12-20). Any other change
#    merges the two back first.
_DELTAS_DELAY_MS = 250
_LIVE_JS = Path(__file__).with_name("live_figure.js")


def _view_span(text: str) -> tuple[int, int] | None:
    """Where the view's class body lies in plotly's bundle: from its first method to the report call in its
    animate method (every method patched lies before it)."""
    start = text.find("perform_render(){")
    end = text.find("_sendTraceDeltas(", text.find("do_animate(){", start))
    return (start, end) if start >= 0 and end > start else None


def _live_bundle() -> str | None:
    """plotly's widget bundle with its view patched (reports deferred, the overlay); None if not patchable."""
    import re

    import plotly

    bundle = Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"
    if not bundle.exists():
        return None
    text = bundle.read_text(encoding="utf-8")
    span = _view_span(text)
    if span is None:
        return None
    view = text[span[0]:span[1]]
    plotly_js = re.search(r"(\w+)\.default\.animate\(this\.el,", view)
    # (pattern at a method's start, what goes after it, what its body must call: the view's, not the model's
    # methods of the same names); each must be found exactly once in the view
    # (each message is followed by its trait's reset to null, which calls the method again: nothing to do then)
    merge = r"\g<0>if(\1!==null)this._tyMerge();"
    head = r'(?<=[}};]){0}\(\)\{{var (\w+)=this\.model\.get\("_py2js_{1}"\);'
    heads = [
        (head.format("do_animate", "animate"),
         r"\g<0>if(\1!==null){if(\1.animation_opts&&\1.animation_opts.tyOverlay){this._tyOverlay(\1);return}"
         r"this._tyMerge()}", ".default.animate(this.el,"),
        (head.format("do_update", "update"), merge, ".default.update(this.el,"),
        (head.format("do_restyle", "restyle"), merge, ".default.restyle(this.el,"),
        (head.format("do_relayout", "relayout"), merge, ".default.relayout(this.el,"),
        (r"(?<=[};])autosizeFigure\(\)\{", r"\g<0>this._tyMerge();", ".Plots.resize("),
    ]
    for pattern, repl, body in heads:
        found = list(re.finditer(pattern, view))
        if len(found) != 1 or body not in view[found[0].end():found[0].end() + 600]:
            return None
        view = view[:found[0].start()] + found[0].expand(repl) + view[found[0].end():]
    out = text[:span[0]] + view + text[span[1]:]
    out, n_layout = re.subn(r"\}_sendLayoutDelta\((\w+)\)\{",
                            r"}_sendLayoutDelta(\1){this._tyDefer('L',\1)}_sendLayoutDeltaNow(\1){", out)
    out, n_trace = re.subn(r"\}_sendTraceDeltas\((\w+)\)\{",
                           r"}_sendTraceDeltas(\1){this._tyDefer('T',\1)}_sendTraceDeltasNow(\1){", out)
    if n_layout != 1 or n_trace != 1 or plotly_js is None:
        return None
    methods = (_LIVE_JS.read_text(encoding="utf-8").replace("__PLOTLY__", plotly_js.group(1) + ".default")
               .replace("__DELAY__", str(_DELTAS_DELAY_MS)))
    return out.replace("}_sendLayoutDelta(", "}" + methods + "\n_sendLayoutDelta(", 1)


_LIVE_WIDGET_CLASS: list = []


def live_figure_widget(figure: go.Figure) -> go.FigureWidget:
    """A FigureWidget for a live explorer: plotly's, with its view patched (:func:`_live_bundle`)."""
    if not _LIVE_WIDGET_CLASS:
        esm = _live_bundle()
        _LIVE_WIDGET_CLASS.append(go.FigureWidget if esm is None else
                                  type("LiveFigureWidget", (go.FigureWidget,), {"_esm": esm, "_ty_overlay": True}))
    return _LIVE_WIDGET_CLASS[0](figure)


def _dotted(d: Mapping[str, Any], prefix: str = "") -> dict:
    """{"title": {"text": t}} -> {"title.text": t}: a relayout that leaves the title's other properties alone."""
    out = {}
    for key, value in d.items():
        if isinstance(value, dict) and value:
            out.update(_dotted(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _allowed(control: Any) -> str:
    if hasattr(control, "options"):
        labels = [o[0] if isinstance(o, tuple) else o for o in control.options]
        return f"one of {labels[:3] + ['...'] + labels[-2:] if len(labels) > 6 else labels}"
    if hasattr(control, "min") and hasattr(control, "max"):
        return f"from {control.min} to {control.max}"
    return "see the control"


def _jsonable(value: Any) -> Any:
    """Plain Python for a frame (numpy arrays and scalars become lists and floats)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _group_frames(fig: go.Figure, patches: Sequence[Patch], names: Sequence[str],
                  group_layout: Mapping[str, Any] | None = None) -> list[dict]:
    """Frames (plain dicts) for one group. A trace property or top-level layout entry that is the same in
    every frame of the group rides in its first frame only; ``group_layout`` is added to that first frame."""
    props = [{i: _jsonable(dict(p.traces[i])) for i in p.traces} for p in patches]
    layouts = [_jsonable(dict(p.layout)) for p in patches]
    constant = {(i, k) for i, tr in props[0].items() for k, v in tr.items()
                if all(i in pr and pr[i].get(k) == v for pr in props[1:])}
    constant_layout = {k for k, v in layouts[0].items() if all(lay.get(k) == v for lay in layouts[1:])}
    frames = []
    for n, (pr, layout, name) in enumerate(zip(props, layouts, names)):
        keep = {i: {k: v for k, v in tr.items() if n == 0 or (i, k) not in constant} for i, tr in pr.items()}
        keep = {i: tr for i, tr in keep.items() if tr}
        indices = sorted(keep)
        if n == 0:
            layout = {**layout, **(group_layout or {})}
        else:
            layout = {k: v for k, v in layout.items() if k not in constant_layout}
        frames.append(dict(name=name, traces=indices, layout=layout,
                           data=[dict(type=fig.data[i].type, **keep[i]) for i in indices]))
    return frames


def animate_args(name: str | None, duration: int = 0) -> list:
    """plotly.js ``animate`` arguments that jump to frame ``name`` (None: play from the current frame)."""
    opts = {"mode": "immediate", "frame": {"duration": duration, "redraw": True}, "transition": {"duration": 0}}
    if name is None:
        return [None, {**opts, "fromcurrent": True}]
    return [[name], opts]


class Explorer:
    """A figure driven by controls: static frames in the book, a live widget in a notebook (all chapters).

    ``figure`` shows the initial state; ``update(**values)`` returns the :class:`Patch` for any values of
    the ``controls`` (ipywidgets keyed by the keyword ``update`` expects). In the book, the control named
    ``static_control`` becomes a plotly slider over ``static_values`` (a list, or a function of the group's
    ``{control: value}`` when the number of steps depends on the group); ``play=True`` adds play/pause
    buttons that step through them. ``groups`` (optional, ``{control: [(label, value), ...]}``) adds a
    second, coarser dimension: a menu of every combination of those controls' values, each with its own
    slider (and play buttons) over ``static_values``. Controls in neither stay at their initial values.
    ``extras`` are widgets shown with the live controls that act on them (a play button, a preset menu)
    rather than being read by ``update``. ``live_layout`` adjusts the live figure's layout, e.g. to take
    back the room the book's slider and menu need.
    """

    def __init__(self, figure: go.Figure, update: Callable[..., Patch], controls: Mapping[str, Any],
                 static_control: str, static_values: Sequence[Any] | Callable[[dict], Sequence[Any]],
                 static_labels: Sequence[str] | None = None,
                 *, groups: Mapping[str, Sequence[tuple[str, Any]]] | None = None, play: bool = False,
                 frame_ms: int = 400, slider_prefix: str = "", extras: Sequence[Any] = (),
                 live_layout: Mapping[str, Any] | None = None):
        if not controls:
            raise ValueError("controls must name at least one control")
        check_choice("static_control", static_control, set(controls))
        if callable(static_values):
            if static_labels is not None:
                raise ValueError("static_labels must be None when static_values is a function")
            labels = None
        else:
            if len(static_values) == 0:
                raise ValueError("static_values must hold at least one value")
            labels = [str(v) for v in static_values] if static_labels is None else [str(s) for s in static_labels]
            if len(labels) != len(static_values) or len(set(labels)) != len(labels):
                raise ValueError("static_labels must be as many as static_values, and distinct")
            static_values = list(static_values)
        groups = dict(groups or {})
        for name, options in groups.items():
            check_choice("groups key", name, set(controls) - {static_control})
            if not options:
                raise ValueError(f"groups[{name!r}] must list at least one (label, value) pair")
        self.figure = figure
        self.update = update
        self.controls = dict(controls)
        self.static_control = static_control
        self.static_values = static_values
        self.static_labels = labels
        self.groups = {name: list(options) for name, options in groups.items()}
        self.play = play
        self.frame_ms = frame_ms
        self.slider_prefix = slider_prefix
        self.extras = list(extras)
        self.live_layout = dict(live_layout or {})
        self._widget = None
        self.figure_widget: go.FigureWidget | None = None
        self._live: LiveSync | None = None
        self.last_reaction_s: float | None = None  # how long the last live update took (benchmark)

    # ------------------------------------------------------------------ values
    def values(self) -> dict[str, Any]:
        """The controls' current values, keyed as ``update`` expects them."""
        return {name: control.value for name, control in self.controls.items()}

    def _values_of(self, gvals: dict) -> tuple[list, list[str]]:
        """The static values and their labels within one group."""
        if callable(self.static_values):
            values = list(self.static_values(gvals))
            return values, [str(v) for v in values]
        return self.static_values, self.static_labels

    def _group_combinations(self) -> list[tuple[str, dict[str, Any]]]:
        """(label, {control: value}) for every combination of the group controls; one empty one if none."""
        combos: list[tuple[str, dict[str, Any]]] = [("", {})]
        for name, options in self.groups.items():
            combos = [(f"{lab} · {l}" if lab else str(l), {**vals, name: v}) for lab, vals in combos for l, v in options]
        return combos

    # ------------------------------------------------------------------ the book's face
    def static_figure(self) -> dict:
        """The kernel-free figure, as a plotly JSON dict: one frame per (group, static value), a slider per
        group (and play/pause), a menu over the groups.

        Frames are plain dicts (plotly's per-object validation would dominate the build time for
        animations of hundreds of frames), and a trace property that is the same in every frame of a
        group travels only in that group's first frame, through which every entry into the group passes.
        """
        fig = go.Figure(self.figure)
        base = self.values()
        combos = self._group_combinations()
        current = base[self.static_control]
        active_group = next((i for i, (_, vals) in enumerate(combos)
                             if all(base[k] == v for k, v in vals.items())), 0)
        apply_patch(fig, self.update(**{**base, **combos[active_group][1], self.static_control: current}))
        out = fig.to_plotly_json()
        out = {"data": out["data"], "layout": out["layout"]}

        frames, sliders, plays, first_names = [], [], [], []
        grouped = len(combos) > 1
        for gi, (_, gvals) in enumerate(combos):
            values, labels = self._values_of(gvals)
            names = [f"{gi}/{lab}" if grouped else lab for lab in labels]  # short: there may be thousands
            first_names.append(names[0])
            patches = [self.update(**{**base, **gvals, self.static_control: v}) for v in values]
            visibility = None
            if grouped:  # entering a group (always through its first frame) shows its slider and play buttons
                visibility = dict(
                    sliders=[{"visible": gj == gi} for gj in range(len(combos))],
                    updatemenus=[{}] + ([{"visible": gj == gi} for gj in range(len(combos))] if self.play else []))
            frames += _group_frames(fig, patches, names, visibility)
            active = next((i for i, v in enumerate(values) if v == current), 0) if gi == active_group else 0
            sliders.append(dict(
                active=active, visible=gi == active_group,
                steps=[dict(method="animate", label=lab, args=animate_args(name)) for lab, name in zip(labels, names)],
                currentvalue=dict(prefix=self.slider_prefix, font=dict(size=18)),
                pad=dict(t=40, b=10), len=0.82 if self.play else 1.0, x=0.18 if self.play else 0.0))
            if self.play:
                plays.append(dict(
                    type="buttons", direction="down", x=0.0, y=0, xanchor="left", yanchor="top",
                    pad=dict(t=45, r=10), showactive=False, visible=gi == active_group,
                    buttons=[dict(label="▶ Play", method="animate", args=[names, animate_args(None, self.frame_ms)[1]]),
                             dict(label="❚❚ Pause", method="animate",
                                  args=[[None], {"mode": "immediate", "frame": {"duration": 0, "redraw": False}}])]))
        menus = []
        if grouped:
            menus.append(dict(type="dropdown", x=0.0, y=1.0, xanchor="left", yanchor="bottom", pad=dict(b=45),
                              active=active_group, showactive=True, font=dict(size=16),
                              buttons=[dict(label=glabel, method="animate", args=animate_args(first))
                                       for (glabel, _), first in zip(combos, first_names)]))
        out["frames"] = frames
        out["layout"]["sliders"] = sliders
        out["layout"]["updatemenus"] = menus + plays
        return out

    # ------------------------------------------------------------------ the notebook's face
    @property
    def widget(self):
        """The live explorer (controls above a FigureWidget), built on first use."""
        if self._widget is None:
            import ipywidgets as widgets

            self.figure_widget = live_figure_widget(self.figure)
            self.figure_widget.update_layout(**self.live_layout)
            self._live = LiveSync(self.figure_widget)
            self._live.send(self.update(**self.values()))  # all new: one update, as apply_patch
            for control in self.controls.values():
                control.observe(self._on_change, names="value")
            self._widget = widgets.VBox([*self.extras, *self.controls.values(), self.figure_widget])
        return self._widget

    def _on_change(self, _change: dict | None = None) -> None:
        start = time.perf_counter()
        self._live.send(self.update(**self.values()))  # only what changed since the last move
        self.last_reaction_s = time.perf_counter() - start

    def set(self, **values: Any) -> None:
        """Set controls by name (as a reader would move them); the live figure follows.

        A value the control cannot take (outside its range or options) raises instead of being silently
        clamped, and leaves the control as it was.
        """
        for name in values:
            check_choice("control name", name, set(self.controls))
        _ = self.widget
        for name, value in values.items():
            control = self.controls[name]
            before = control.value
            try:
                control.value = value
                accepted = control.value == value
            except Exception as err:  # traitlets raise TraitError for a value outside the options
                accepted, reason = False, str(err)
            else:
                reason = f"the control would change it to {control.value!r}"
            if not accepted:
                control.value = before
                raise ArgumentError(f"{name}={value!r} is not a value this control accepts "
                                    f"({_allowed(control)}); {reason}")

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/html"] = figure_html(self.static_figure())
        return bundle
