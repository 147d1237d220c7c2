"""An interactive figure with two faces, computed once.

* In the **built book** (no kernel) it is a plotly figure whose slider steps or animation frames were
  computed at build time: each frame is the :class:`Patch` that ``update`` returns for one value.
* In a **live notebook** it is an ipywidgets explorer: the same ``update`` is called whenever a control
  moves, and its :class:`Patch` is applied to a ``FigureWidget``.

One cell serves both: :meth:`Explorer._repr_mimebundle_` carries the live widget view *and* the static
HTML. JupyterLab renders the widget; the book is configured (``nb_mime_priority_overrides``) to prefer
``text/html``.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go

from ..checks import ArgumentError, check_choice
from .style import figure_html


@dataclass(frozen=True)
class Patch:
    """What changes between two states of a figure: some traces' properties and some layout properties."""

    traces: Mapping[int, Mapping[str, Any]]  # trace index -> {property: new value}
    layout: Mapping[str, Any] = field(default_factory=dict)  # nested, e.g. {"title": {"text": ...}}


def apply_patch(fig: go.Figure, patch: Patch) -> None:
    """Apply ``patch`` to ``fig`` (a Figure or a FigureWidget) in one batch."""
    ctx = fig.batch_update() if isinstance(fig, go.FigureWidget) else _nullcontext()
    with ctx:
        for i, props in patch.traces.items():
            fig.data[i].update(props)
        if patch.layout:
            fig.layout.update(patch.layout)


def _allowed(control: Any) -> str:
    if hasattr(control, "options"):
        labels = [o[0] if isinstance(o, tuple) else o for o in control.options]
        return f"one of {labels[:3] + ['...'] + labels[-2:] if len(labels) > 6 else labels}"
    if hasattr(control, "min") and hasattr(control, "max"):
        return f"from {control.min} to {control.max}"
    return "see the control"


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _frame(fig: go.Figure, patch: Patch, name: str) -> go.Frame:
    indices = sorted(patch.traces)
    data = [dict(type=fig.data[i].type, **patch.traces[i]) for i in indices]
    return go.Frame(data=data, traces=indices, layout=dict(patch.layout), name=name)


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
    ``static_control`` becomes a plotly slider over ``static_values`` (the others stay at their initial
    values); ``play=True`` adds play/pause buttons that step through them.
    """

    def __init__(self, figure: go.Figure, update: Callable[..., Patch], controls: Mapping[str, Any],
                 static_control: str, static_values: Sequence[Any], static_labels: Sequence[str] | None = None,
                 *, play: bool = False, frame_ms: int = 400, slider_prefix: str = ""):
        if not controls:
            raise ValueError("controls must name at least one control")
        check_choice("static_control", static_control, set(controls))
        if len(static_values) == 0:
            raise ValueError("static_values must hold at least one value")
        labels = [str(v) for v in static_values] if static_labels is None else [str(s) for s in static_labels]
        if len(labels) != len(static_values) or len(set(labels)) != len(labels):
            raise ValueError("static_labels must be as many as static_values, and distinct")
        self.figure = figure
        self.update = update
        self.controls = dict(controls)
        self.static_control = static_control
        self.static_values = list(static_values)
        self.static_labels = labels
        self.play = play
        self.frame_ms = frame_ms
        self.slider_prefix = slider_prefix
        self._widget = None
        self.figure_widget: go.FigureWidget | None = None
        self.last_reaction_s: float | None = None  # how long the last live update took (benchmark)

    # ------------------------------------------------------------------ values
    def values(self) -> dict[str, Any]:
        """The controls' current values, keyed as ``update`` expects them."""
        return {name: control.value for name, control in self.controls.items()}

    # ------------------------------------------------------------------ the book's face
    def static_figure(self) -> go.Figure:
        """The kernel-free figure: one frame per static value, a slider (and play/pause) to move between them."""
        fig = go.Figure(self.figure)
        base = self.values()
        frames = [_frame(fig, self.update(**{**base, self.static_control: v}), label)
                  for v, label in zip(self.static_values, self.static_labels)]
        fig.frames = frames
        current = base[self.static_control]
        active = next((i for i, v in enumerate(self.static_values) if v == current), 0)
        apply_patch(fig, self.update(**{**base, self.static_control: self.static_values[active]}))
        steps = [dict(method="animate", label=label, args=animate_args(label)) for label in self.static_labels]
        fig.update_layout(sliders=[dict(
            active=active, steps=steps, currentvalue=dict(prefix=self.slider_prefix, font=dict(size=18)),
            pad=dict(t=40, b=10), len=0.9 if self.play else 1.0, x=0.1 if self.play else 0.0)])
        if self.play:
            fig.update_layout(updatemenus=[dict(
                type="buttons", direction="left", x=0.0, y=0, xanchor="left", yanchor="top",
                pad=dict(t=75, r=10), showactive=False,
                buttons=[dict(label="▶ Play", method="animate", args=animate_args(None, self.frame_ms)),
                         dict(label="❚❚ Pause", method="animate",
                              args=[[None], {"mode": "immediate", "frame": {"duration": 0, "redraw": False}}])])])
        return fig

    # ------------------------------------------------------------------ the notebook's face
    @property
    def widget(self):
        """The live explorer (controls above a FigureWidget), built on first use."""
        if self._widget is None:
            import ipywidgets as widgets

            self.figure_widget = go.FigureWidget(self.figure)
            apply_patch(self.figure_widget, self.update(**self.values()))
            for control in self.controls.values():
                control.observe(self._on_change, names="value")
            self._widget = widgets.VBox([*self.controls.values(), self.figure_widget])
        return self._widget

    def _on_change(self, _change: dict | None = None) -> None:
        start = time.perf_counter()
        apply_patch(self.figure_widget, self.update(**self.values()))
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
