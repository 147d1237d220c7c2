"""tyshare_lib.viz.margins: the room outer axes take, worked out so plotly.js draws a figure once."""
import numpy as np
import plotly.graph_objects as go
import pytest

from tyshare_lib.viz.adaptive import book_spec, narrow_variant
from tyshare_lib.viz.margins import TICK_PAD, margins_needed, text_px, tick_labels
from tyshare_lib.viz.style import PLOTLY_CONFIG


def test_text_width_follows_the_glyphs_and_the_size():
    assert text_px("1000", 17) == pytest.approx(4 * 0.556 * 17)
    assert text_px("1000", 34) == pytest.approx(2 * text_px("1000", 17))
    assert text_px("1.5", 17) < text_px("155", 17)          # a dot is narrow
    assert text_px("−1", 17) > text_px("-1", 17)            # plotly's minus sign is wider than a hyphen
    assert text_px("10<sup>−3</sup>", 17) < text_px("10−3", 17) + 3  # raised type is smaller


@pytest.mark.parametrize("values, expected", [
    ([-2.0, 1.0], "−1.5"),      # measured in Chromium: plotly's longest tick label on this axis
    ([0, 1000], "1000"),
    ([0.0, 0.012], "0.012"),
    ([0, 250_000], "250k"),
    ([0, 1e6], "800k"),
])
def test_linear_tick_labels_include_the_longest_plotly_writes(values, expected):
    labels = tick_labels({}, values)
    assert max(labels, key=lambda s: text_px(s, 17)) == expected or text_px(expected, 17) <= max(
        text_px(s, 17) for s in labels)


def test_tick_labels_honour_categories_ticktext_and_hidden_labels():
    assert tick_labels({}, ["tied", "untied", "tied"]) == ["tied", "untied"]
    assert tick_labels({"ticktext": ["0", "∞"], "tickvals": [0, 1]}, [0, 1]) == ["0", "∞"]
    assert tick_labels({"showticklabels": False}, [1, 2]) == []
    assert tick_labels({"ticksuffix": " %"}, [0, 50])[0].endswith(" %")


def test_log_tick_labels_as_plotly_writes_them():
    decades = tick_labels({"type": "log", "exponentformat": "power"}, [1e-3, 0.5])
    assert "10<sup>−3</sup>" in decades and "1" in decades
    given = tick_labels({"type": "log", "exponentformat": "power", "tickvals": [100, 1e4]}, [100, 1e4])
    assert given == ["100", "1×10<sup>4</sup>"]
    assert tick_labels({"type": "log", "tickvals": [1e-6, 1e-4]}, []) == ["1μ", "100μ"]


def test_a_titled_left_axis_with_long_labels_needs_more_room():
    def need(y, title):
        fig = go.Figure(go.Scatter(x=[0, 1], y=y))
        fig.update_yaxes(title=title, ticks="outside")
        return margins_needed(fig.to_plotly_json())["l"]

    assert need([0, 1000], "count") > need([0, 1], "count") > need([0, 1], None)
    assert 88 <= need([0, 1000], "count") <= 96  # measured in Chromium: 88 px
    assert need([0, 1], None) >= TICK_PAD


def test_only_axes_on_the_figure_edges_count():
    fig = go.Figure([go.Scatter(x=[0, 1], y=[0, 1]), go.Scatter(x=[0, 1], y=[0, 1e6], xaxis="x2", yaxis="y2")])
    fig.update_layout(xaxis=dict(domain=[0, 0.45]), xaxis2=dict(domain=[0.55, 1], anchor="y2"),
                      yaxis2=dict(anchor="x2"))
    left_only = margins_needed(fig.to_plotly_json())["l"]
    fig.update_layout(xaxis2=dict(domain=[0, 1]))  # now the million-axis is at the left edge too
    assert margins_needed(fig.to_plotly_json())["l"] > left_only


def test_mirrored_ticks_need_room_on_the_far_edges():
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1]))
    fig.update_yaxes(showticklabels=False)
    assert margins_needed(fig.to_plotly_json())["t"] == 0
    fig.update_xaxes(mirror=True, ticks="outside", ticklen=5)
    assert margins_needed(fig.to_plotly_json())["t"] >= 12  # measured: plotly pushes 12-13 px


def test_end_labels_reach_past_the_axis_ends():
    fig = go.Figure(go.Scatter(x=[0, 350], y=[0, 1]))
    need = margins_needed(fig.to_plotly_json(), font=14)
    assert need["t"] >= 18 and need["r"] >= 24  # measured at 14 px: 18 px above the y axis, 24 right of "350"
    fig.update_layout(xaxis=dict(domain=[0, 0.5]), yaxis=dict(domain=[0, 0.5]))
    assert margins_needed(fig.to_plotly_json(), font=14)["r"] == 0  # a panel away from the edges pushes nothing


def test_typed_arrays_and_frames_are_read():
    fig = go.Figure(go.Scatter(x=np.arange(3), y=np.array([0.0, 1.0, 2.0])),
                    frames=[go.Frame(data=[go.Scatter(y=np.array([0.0, 5e5, 1.0]))])])
    assert "500k" in tick_labels({}, [0.0, 5e5]) or margins_needed(fig.to_plotly_json())["l"] > 40
    json_fig = fig.to_plotly_json()
    assert margins_needed(json_fig)["l"] > margins_needed({**json_fig, "frames": []})["l"]


def test_book_spec_and_its_variants_give_the_room_up_front():
    fig = go.Figure(go.Scatter(x=[0, 1, 2], y=[-2.0, 0.5, 1000.0]))
    fig.update_layout(margin=dict(l=20, b=20), font=dict(size=17))
    fig.update_xaxes(title="step", ticks="outside")
    fig.update_yaxes(title="loss", ticks="outside")
    spec = book_spec(fig.to_plotly_json(), PLOTLY_CONFIG)
    need = margins_needed(spec)
    assert spec["layout"]["margin"]["l"] >= need["l"] > 20 and spec["layout"]["margin"]["b"] >= need["b"] > 20
    narrow = narrow_variant(spec)
    assert narrow["margin"]["l"] >= margins_needed({**spec, "layout": {**spec["layout"], **narrow}}, font=14)["l"]
