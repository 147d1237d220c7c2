"""tyshare_lib.viz.explorer: one update function feeds both the static frames and the live widget."""
import re

import ipywidgets as widgets
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from tyshare_lib.viz.explorer import Explorer, Patch, apply_patch


def make_explorer(play=False):
    fig = go.Figure([go.Scatter(x=[0], y=[0], name="point"), go.Scatter(x=[0, 1], y=[0, 1], name="fixed")])
    slider = widgets.IntSlider(value=1, min=0, max=5)
    offset = widgets.IntSlider(value=0, min=0, max=3)

    def update(k, c):
        return Patch(traces={0: dict(x=[k], y=[k * k + c])}, layout=dict(title=dict(text=f"k = {k}")))

    return Explorer(fig, update, {"k": slider, "c": offset}, static_control="k", static_values=[0, 1, 2, 3],
                    play=play)


def test_static_figure_has_one_frame_per_value_and_a_slider():
    ex = make_explorer()
    fig = ex.static_figure()
    assert [f["name"] for f in fig["frames"]] == ["0", "1", "2", "3"]
    assert [f["data"][0]["y"] for f in fig["frames"]] == [[0], [1], [4], [9]]
    assert all(f["traces"] == [0] for f in fig["frames"])  # only the moving trace travels in a frame
    (slider,) = fig["layout"]["sliders"]
    assert slider["active"] == 1 and [s["args"][0][0] for s in slider["steps"]] == ["0", "1", "2", "3"]
    assert fig["layout"]["title"]["text"] == "k = 1"  # the initial state is the control's value
    assert fig["layout"]["updatemenus"] == []
    go.Figure(fig)  # and plotly accepts the whole thing


def test_play_adds_play_and_pause():
    fig = make_explorer(play=True).static_figure()
    labels = [b["label"] for b in fig["layout"]["updatemenus"][0]["buttons"]]
    assert any("Play" in s for s in labels) and any("Pause" in s for s in labels)


def test_groups_give_a_menu_and_a_slider_per_group():
    fig0 = go.Figure([go.Scatter(x=[0], y=[0]), go.Bar(x=["a"], y=[0])])
    controls = {"k": widgets.IntSlider(value=0, min=0, max=3), "c": widgets.IntSlider(value=10, min=0, max=20)}

    def update(k, c):  # trace 1 depends only on the group: it should ride in each group's first frame only
        return Patch(traces={0: dict(x=[k], y=[c]), 1: dict(y=[c])}, layout=dict(title=dict(text=f"{c}/{k}")))

    ex = Explorer(fig0, update, controls, "k", [0, 1, 2], groups={"c": [("ten", 10), ("twenty", 20)]}, play=True)
    fig = ex.static_figure()
    names = [f["name"] for f in fig["frames"]]
    assert names == ["0/0", "0/1", "0/2", "1/0", "1/1", "1/2"]
    first, second = fig["frames"][3], fig["frames"][4]
    assert first["traces"] == [0, 1] and second["traces"] == [0]  # the constant bar travels once
    assert first["layout"]["sliders"] == [{"visible": False}, {"visible": True}]
    assert "sliders" not in second["layout"]  # entry into a group is always through its first frame
    assert [s["visible"] for s in fig["layout"]["sliders"]] == [True, False]
    menu = fig["layout"]["updatemenus"][0]
    assert [b["label"] for b in menu["buttons"]] == ["ten", "twenty"]
    assert menu["buttons"][1]["args"][0] == ["1/0"]
    play_twenty = fig["layout"]["updatemenus"][2]["buttons"][0]
    assert play_twenty["args"][0] == ["1/0", "1/1", "1/2"]  # plays its own group only


def test_live_widget_follows_every_control():
    ex = make_explorer()
    box = ex.widget
    assert isinstance(box, widgets.VBox) and ex.figure_widget.data[0].y == (1,)
    ex.set(k=3)
    assert ex.figure_widget.data[0].y == (9,) and ex.figure_widget.layout.title.text == "k = 3"
    ex.set(c=2)  # a control the static book does not walk
    assert ex.figure_widget.data[0].y == (11,)
    assert ex.last_reaction_s is not None and ex.last_reaction_s >= 0


def test_mimebundle_carries_live_view_and_static_html():
    bundle = make_explorer()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "plotly-graph-div" in bundle["text/html"]
    assert "<script src" not in bundle["text/html"]  # plotly.js is not inlined: the book serves it once


def test_apply_patch_to_plain_figure():
    fig = go.Figure([go.Bar(x=["a"], y=[1])])
    apply_patch(fig, Patch({0: {"y": [5]}}, {"title": {"text": "t"}}))
    assert fig.data[0].y == (5,) and fig.layout.title.text == "t"


def test_bad_arguments():
    ex = make_explorer()
    with pytest.raises(ValueError, match="control name"):
        ex.set(z=1)
    with pytest.raises(ValueError, match="k=99"):
        ex.set(k=99)
    fig = go.Figure()
    with pytest.raises(ValueError, match="static_control"):
        Explorer(fig, lambda k: Patch({}), {"k": widgets.IntSlider()}, "q", [1])
    with pytest.raises(ValueError, match="static_values"):
        Explorer(fig, lambda k: Patch({}), {"k": widgets.IntSlider()}, "k", [])
    with pytest.raises(ValueError, match="static_labels"):
        Explorer(fig, lambda k: Patch({}), {"k": widgets.IntSlider()}, "k", [1, 2], ["a", "a"])
    with pytest.raises(ValueError, match="groups key"):
        Explorer(fig, lambda k: Patch({}), {"k": widgets.IntSlider()}, "k", [1], groups={"k": [("a", 1)]})


def test_live_layout_changes_only_the_live_figure():
    fig = go.Figure([go.Scatter(x=[0], y=[0])], layout=dict(height=800))
    ex = Explorer(fig, lambda k: Patch({0: dict(x=[k])}), {"k": widgets.IntSlider(value=1)}, "k", [0, 1],
                  live_layout=dict(height=500))
    _ = ex.widget
    assert ex.figure_widget.layout.height == 500
    assert ex.static_figure()["layout"]["height"] == 800


# ----------------------------------------------------------------------------- the live figure sends only what changes
def sent_messages(fw):
    """Messages the FigureWidget sends to the front-end from now on, as (kind, message)."""
    log = []
    names = ["_py2js_update", "_py2js_animate", "_py2js_relayout", "_py2js_restyle"]
    fw.observe(lambda change: change["new"] is not None and log.append((change["name"], change["new"])), names=names)
    return log


def moving_point_explorer():
    fig = go.Figure([go.Scatter(x=[0, 10], y=[0, 10], mode="lines", name="path"),
                     go.Scatter(x=[0], y=[0], mode="markers", name="point"),
                     go.Heatmap(z=[[0, 1], [1, 0]], xaxis="x2", yaxis="y2")],
                    layout=dict(xaxis2=dict(domain=[0.6, 1]), xaxis=dict(domain=[0, 0.5])))

    def update(k, heat):
        return Patch(traces={1: dict(x=[k], y=[k]), 2: dict(z=[[heat, 1], [1, 0]])},
                     layout=dict(title=dict(text=f"k = {k}")))

    return Explorer(fig, update, {"k": widgets.IntSlider(value=1, min=0, max=20),
                                  "heat": widgets.IntSlider(value=0, min=0, max=3)}, "k", [0, 1])


def test_live_figure_sends_only_what_changed_through_the_overlay():
    ex = moving_point_explorer()
    _ = ex.widget
    assert ex._live.overlay  # the live explorers' FigureWidget has the overlay
    log = sent_messages(ex.figure_widget)
    ex.set(k=2)  # inside the path's extent: one message for the overlay, the moving point and the title only
    assert [kind for kind, _ in log] == ["_py2js_animate"]
    msg = log[0][1]
    assert msg["animation_opts"]["tyOverlay"] is True and msg["style_traces"] == [1]
    assert set(msg["style_data"][0]) == {"x", "y"} and msg["layout_data"] == {"title.text": "k = 2"}
    assert ex.figure_widget.data[1].x == (2,) and ex.figure_widget.layout.title.text == "k = 2"
    log.clear()
    ex.set(heat=2)  # an image of the same size: the overlay too, with the image alone
    assert [kind for kind, _ in log] == ["_py2js_animate"] and log[0][1]["style_traces"] == [2]
    assert set(log[0][1]["style_data"][0]) == {"z"} and log[0][1]["layout_data"] == {}
    assert [list(row) for row in ex.figure_widget.data[2].z] == [[2, 1], [1, 0]]
    log.clear()
    assert ex._live.send(ex.update(**ex.values())) == "none" and log == []  # nothing changed: nothing sent


def test_live_figure_validates_a_property_the_first_time_only(monkeypatch):
    """plotly's validators check each property the first time it is sent (a wrong name raises); later values go
    straight into the message, and Python's copy of the figure holds them as the validators would have."""
    ex = moving_point_explorer()
    _ = ex.widget
    ex.set(k=2)  # the point's x and y, and the title, are checked here
    log = sent_messages(ex.figure_widget)
    validated = []  # plotly objects built (each validates what it is given) or updated (the same)
    for cls in (type(ex.figure_widget.data[1]), go.Layout):
        for method in ("__init__", "update"):
            real = getattr(cls, method)
            monkeypatch.setattr(cls, method,
                                lambda self, *a, _real=real, **kw: validated.append(a) or _real(self, *a, **kw))
    ex.set(k=3)
    assert validated == [] and [kind for kind, _ in log] == ["_py2js_animate"]
    assert log[0][1]["style_data"] == [{"x": [3], "y": [3]}] and log[0][1]["layout_data"] == {"title.text": "k = 3"}
    monkeypatch.undo()
    fresh = moving_point_explorer()
    _ = fresh.widget
    fresh.set(k=3)  # the same state, reached through the validators
    def without_uid(fw):
        return [{k: v for k, v in t.items() if k != "uid"} for t in fw.to_plotly_json()["data"]]
    assert without_uid(ex.figure_widget) == without_uid(fresh.figure_widget)
    assert ex.figure_widget.data[1].x == (3,) and ex.figure_widget.layout.title.text == "k = 3"
    # a property never sent before is validated: a wrong name raises, nothing is sent
    log.clear()
    with pytest.raises(ValueError, match="colr"):
        ex._live.send(Patch({1: dict(x=[4], y=[4], marker=dict(colr="red"))}))
    assert log == []


def test_live_figure_overlay_follows_the_extent_of_a_trace_it_moved():
    """The other traces' extents decide whether a moving point stays inside the axes; a trace's extent is
    remembered only until the explorer sends it new values."""
    fig = go.Figure([go.Scatter(x=[0, 10], y=[0, 10], mode="lines"), go.Scatter(x=[0], y=[0], mode="markers")])
    ex = Explorer(fig, lambda k, span: Patch({0: dict(x=[0, span], y=[0, span]), 1: dict(x=[k], y=[k])}),
                  {"k": widgets.IntSlider(value=1, max=30), "span": widgets.IntSlider(value=10, max=30)}, "k", [1])
    _ = ex.widget
    log = sent_messages(ex.figure_widget)
    ex.set(k=2)
    assert [kind for kind, _ in log] == ["_py2js_animate"]  # inside the path: the overlay
    ex.set(span=20)  # the path grows: its axes with it
    log.clear()
    ex.set(k=15)  # inside the grown path
    assert [kind for kind, _ in log] == ["_py2js_animate"] and log[0][1]["animation_opts"]["tyOverlay"]
    log.clear()
    ex.set(k=25)  # past it
    assert [kind for kind, _ in log] == ["_py2js_update"]



def test_live_figure_overlay_takes_a_new_range_of_a_fixed_axis():
    """An axis that stays fixed may take a new range in the overlay (the ALBERT counter's axis end); an axis that
    autoranges, or any other change of an axis, is a whole redraw."""
    fig = go.Figure([go.Bar(x=["a", "b"], y=[1, 2])], layout=dict(yaxis=dict(range=[0, 10], autorange=False)))
    ex = Explorer(fig, lambda k, auto: Patch({0: dict(y=[k, 2 * k])},
                                             dict(yaxis=dict(range=[0, 10 * (1 + k // 5)], autorange=auto))),
                  {"k": widgets.IntSlider(value=1, max=20), "auto": widgets.Checkbox(value=False)}, "k", [1])
    _ = ex.widget
    log = sent_messages(ex.figure_widget)
    ex.set(k=2)  # the same range
    assert [kind for kind, _ in log] == ["_py2js_animate"] and log[0][1]["layout_data"] == {}
    log.clear()
    ex.set(k=6)  # a new range, the axis still fixed
    assert [kind for kind, _ in log] == ["_py2js_animate"] and log[0][1]["animation_opts"]["tyOverlay"]
    assert log[0][1]["layout_data"] == {"yaxis.range": [0, 20]}
    assert ex.figure_widget.layout.yaxis.range == (0, 20)
    log.clear()
    ex.set(auto=True)  # the axis autoranges from now on: plotly.js works its range out, in a whole redraw
    assert [kind for kind, _ in log] == ["_py2js_update"]
    ex._live.fig.layout.yaxis.autorange = False
    log.clear()
    ex._live.send(Patch({0: dict(y=[1, 1])}, dict(yaxis=dict(range=[0, 40], title=dict(text="new")))))
    assert [kind for kind, _ in log] == ["_py2js_update"]  # a title too: not only a range

def test_live_figure_sends_one_update_without_the_overlay():
    ex = moving_point_explorer()
    _ = ex.widget
    ex._live.overlay = False
    log = sent_messages(ex.figure_widget)
    ex.set(k=2)  # one Plotly.update, with the moving point and the title only
    assert [kind for kind, _ in log] == ["_py2js_update"]
    assert log[0][1]["style_traces"] == [1] and set(log[0][1]["style_data"]) == {"x", "y"}
    assert log[0][1]["layout_data"] == {"title.text": "k = 2"}
    log.clear()
    assert ex._live.send(ex.update(**ex.values())) == "none" and log == []


def test_live_figure_redraws_fully_when_an_axis_would_change():
    ex = moving_point_explorer()
    _ = ex.widget
    log = sent_messages(ex.figure_widget)
    ex.set(k=15)  # beyond the path: the autoranged axes must grow, so plotly.js must redraw them
    assert [kind for kind, _ in log] == ["_py2js_update"]
    log.clear()
    ex.set(k=5)  # coming back from outside: the axes shrink again
    assert [kind for kind, _ in log] == ["_py2js_update"]
    log.clear()
    ex.set(k=6)
    assert [kind for kind, _ in log] == ["_py2js_animate"] and log[0][1]["animation_opts"]["tyOverlay"]
    assert ex.figure_widget.data[1].y == (6,)


def test_live_figure_redraws_fully_for_an_image_of_another_size_or_a_layout_change():
    fig = go.Figure([go.Heatmap(z=[[0, 1], [1, 0]])])
    ex = Explorer(fig, lambda n, c: Patch({0: dict(z=[[0] * n] * n)}, dict(annotations=[dict(text=str(c))])),
                  {"n": widgets.IntSlider(value=2, min=1, max=5), "c": widgets.IntSlider(value=0)}, "n", [2])
    _ = ex.widget
    log = sent_messages(ex.figure_widget)
    ex.set(n=3)  # 3 x 3 cells: the axes follow the image
    assert [kind for kind, _ in log] == ["_py2js_update"]
    log.clear()
    ex.set(c=1)  # an annotation: only titles go to the overlay
    assert [kind for kind, _ in log] == ["_py2js_update"]


def test_live_figure_animate_path_sends_only_what_changed():
    ex = moving_point_explorer()
    _ = ex.widget
    ex._live.overlay, ex._live.animate = False, True
    log = sent_messages(ex.figure_widget)
    ex.set(k=2)  # the point moves inside the path's extent; the heatmap is as it was
    kinds = [kind for kind, _ in log]
    assert kinds == ["_py2js_relayout", "_py2js_animate"], kinds
    relayout, animate = log[0][1], log[1][1]
    assert relayout["relayout_data"] == {"title.text": "k = 2"}
    assert animate["style_traces"] == [1] and animate["animation_opts"]["frame"]["redraw"] is False
    assert "tyOverlay" not in animate["animation_opts"]
    assert ex.figure_widget.data[1].x == (2,) and ex.figure_widget.layout.title.text == "k = 2"
    log.clear()
    ex.set(heat=2)  # only the heatmap changes: a full update, with the heatmap alone
    assert [kind for kind, _ in log] == ["_py2js_update"]
    assert log[0][1]["style_traces"] == [2] and set(log[0][1]["style_data"]) == {"z"}
    assert log[0][1]["layout_data"] == {}
    log.clear()
    ex.set(k=15)  # beyond the path: a full update
    assert [kind for kind, _ in log] == ["_py2js_update"]


@pytest.mark.parametrize("orientation", ["v", "h", "only x"])
@pytest.mark.parametrize("barmode", ["group", "stack"])
def test_live_figure_overlay_takes_grouped_or_stacked_bars_with_all_their_neighbours(barmode, orientation):
    """A grouped or stacked bar's place depends on the other bars of its subplot: the overlay takes them all, the
    ones that stay sent with their lengths unchanged (y, or x for horizontal bars, which plotly.js also makes of bars
    given only x); bars of another subplot are not sent, and nothing else of a neighbour changes."""
    length = "y" if orientation == "v" else "x"
    def bar(values, **kw):
        if orientation == "only x":
            return go.Bar(x=values, **kw)
        return go.Bar(**{length: values, ("x" if length == "y" else "y"): ["a", "b"]}, orientation=orientation, **kw)
    fig = make_subplots(rows=1, cols=2)
    fig.add_trace(bar([1, 2]), row=1, col=1)
    fig.add_trace(bar([2, 1], marker=dict(color="red", line=dict(width=3))), row=1, col=1)
    fig.add_trace(bar([5, 5]), row=1, col=2)
    fig.update_layout(barmode=barmode, **{f"{length}axis": dict(range=[0, 20])})
    ex = Explorer(fig, lambda k: Patch({0: {length: [k, 2 * k]}}), {"k": widgets.IntSlider(value=1, max=5)}, "k", [1])
    _ = ex.widget
    log = sent_messages(ex.figure_widget)
    ex.set(k=3)
    assert [kind for kind, _ in log] == ["_py2js_animate"] and log[0][1]["style_traces"] == [0, 1]
    assert log[0][1]["style_data"][1] == {length: [2, 1]}  # the neighbour, unchanged
    data = ex.figure_widget.data
    assert list(getattr(data[0], length)) == [3, 6] and list(getattr(data[1], length)) == [2, 1]
    assert data[1].marker.color == "red" and data[1].marker.line.width == 3
    ex.figure_widget.layout.barmode = "overlay"  # overlaid bars do not depend on each other: only the moving one
    log.clear()
    ex.set(k=4)
    assert [kind for kind, _ in log] == ["_py2js_animate"] and log[0][1]["style_traces"] == [0]


def test_live_figure_overlay_refuses_a_stacked_bar_whose_neighbour_has_no_lengths_to_send():
    fig = go.Figure([go.Bar(x=["a", "b"], y=[1, 2]), go.Bar(x=["a", "b"], orientation="v")],
                    layout=dict(barmode="stack", yaxis=dict(range=[0, 20])))
    ex = Explorer(fig, lambda k: Patch({0: dict(y=[k, 2 * k])}), {"k": widgets.IntSlider(value=1, max=5)}, "k", [1])
    _ = ex.widget
    log = sent_messages(ex.figure_widget)
    ex.set(k=3)
    assert [kind for kind, _ in log] == ["_py2js_update"]


def test_live_figure_overlay_leaves_an_unchanged_part_of_a_trace_whole():
    """A property sent with the value it already has changes nothing in Python's copy of the figure (only the bars
    added as neighbours are sent unchanged, and only their lengths)."""
    fig = go.Figure([go.Scatter(x=[0, 1], y=[0, 1], line=dict(color="blue", width=5, dash="dot")),
                     go.Scatter(x=[0, 10], y=[0, 10])], layout=dict(xaxis=dict(range=[0, 10]), yaxis=dict(range=[0, 10])))
    # at k = 3 trace 0 is sent its own colour (new to LiveSync, the same to plotly), and trace 1 moves
    ex = Explorer(fig, lambda k: Patch({**({0: dict(line=dict(color="blue"))} if k == 3 else {}), 1: dict(y=[0, k])}),
                  {"k": widgets.IntSlider(value=1, max=5)}, "k", [1])
    _ = ex.widget
    log = sent_messages(ex.figure_widget)
    ex.set(k=3)
    line = ex.figure_widget.data[0].line
    assert (line.color, line.width, line.dash) == ("blue", 5, "dot") and list(ex.figure_widget.data[1].y) == [0, 3]
    assert [kind for kind, _ in log] == ["_py2js_animate"] and log[0][1]["style_traces"] == [1]


@pytest.mark.parametrize("path", ["overlay", "animate"])
def test_live_figure_moves_bars_alone_only_on_a_fixed_range(path):
    fig = go.Figure([go.Bar(x=["a", "b"], y=[1, 2])], layout=dict(yaxis=dict(range=[0, 10])))
    ex = Explorer(fig, lambda k: Patch({0: dict(y=[k, 2 * k])}), {"k": widgets.IntSlider(value=1, max=5)}, "k", [1])
    _ = ex.widget
    ex._live.overlay, ex._live.animate = path == "overlay", path == "animate"
    log = sent_messages(ex.figure_widget)
    ex.set(k=3)
    assert [kind for kind, _ in log] == ["_py2js_animate"] and ex.figure_widget.data[0].y == (3, 6)
    auto = Explorer(go.Figure([go.Bar(x=["a"], y=[1])]), lambda k: Patch({0: dict(y=[k])}),
                    {"k": widgets.IntSlider(value=1, max=5)}, "k", [1])
    _ = auto.widget
    auto._live.overlay, auto._live.animate = path == "overlay", path == "animate"
    log = sent_messages(auto.figure_widget)
    auto.set(k=4)  # autoranged bars: the axis follows them
    assert [kind for kind, _ in log] == ["_py2js_update"]


def test_live_figure_reports_back_to_python_after_a_quiet_spell():
    """The live figure is plotly's FigureWidget whose front-end sends its report of the values plotly.js filled
    in (a walk over the whole figure) once the figure has been still, not before each redraw's event."""
    from tyshare_lib.viz.explorer import _DELTAS_DELAY_MS, _live_bundle

    ex = make_explorer()
    _ = ex.widget
    fw = ex.figure_widget
    assert isinstance(fw, go.FigureWidget)
    esm = _live_bundle()
    assert esm is not None, "plotly's widget bundle no longer has what the live figure patches, by name"
    assert fw._esm == esm
    for name in ("_sendLayoutDelta", "_sendTraceDeltas"):  # the deferring method, then plotly's own under a new name
        assert len(re.findall(rf"[}}\n]{name}\(\w+\)\{{this\._tyDefer\(", esm)) == 1
        assert esm.count(f"}}{name}Now(") == 1
    assert esm.count("_tyDefer(k, id) {") == 1 and f"}}, {_DELTAS_DELAY_MS});" in esm
    # the view's redraws from Python, and its resize, merge the overlay back first; its animate may draw it
    assert esm.count(")this._tyMerge();") == 3 and esm.count("{this._tyMerge();") == 1  # 3 messages, a resize
    assert esm.count("this._tyOverlay(") == 1 and esm.count("return}this._tyMerge()}") == 1  # and the animate
    ex.set(k=3)  # the Python side is plotly's: the figure follows as before
    assert ex.figure_widget.data[0].y == (9,)


def test_live_figure_overlay_only_for_changes_that_move_no_axis():
    """The overlay freezes the axes: a change that could move one goes through a whole redraw."""
    fig = go.Figure([go.Scatter(x=[0, 10], y=[0, 10], name="path"),
                     go.Scatter(x=[30], y=[1], mode="markers", name="point"),
                     go.Scatter(x=[-50, 50], y=[0, 0], visible="legendonly", name="hidden")])

    def update(k, move, big):
        props = {"y": [k]}
        if move:
            props["x"] = [5]
        if big:
            props["marker"] = {"size": 30}
        return Patch({1: props})

    ex = Explorer(fig, update, {"k": widgets.IntSlider(value=1, max=50), "move": widgets.Checkbox(value=False),
                                "big": widgets.Checkbox(value=False)}, "k", [1])
    _ = ex.widget
    log = sent_messages(ex.figure_widget)
    ex.set(k=2)  # the point stays at x = 30, beyond the path: y alone moves, inside the path's extent
    assert [kind for kind, _ in log] == ["_py2js_animate"]
    log.clear()
    ex.set(move=True)  # first x sent: from 30 (the figure's own value) to 5, the x axis shrinks
    assert [kind for kind, _ in log] == ["_py2js_update"]
    log.clear()
    ex.set(k=40)  # within the legend-only trace's extent, but autorange skips hidden traces: y grows
    assert [kind for kind, _ in log] == ["_py2js_update"]
    log.clear()
    ex.set(k=3)
    ex.set(k=4)
    log.clear()
    ex.set(big=True)  # a bigger marker pads the axes differently
    assert [kind for kind, _ in log] == ["_py2js_update"]
