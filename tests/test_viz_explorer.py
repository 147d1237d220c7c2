"""tyshare_lib.viz.explorer: one update function feeds both the static frames and the live widget."""
import ipywidgets as widgets
import plotly.graph_objects as go
import pytest

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
