"""tyshare_lib.viz.adaptive and the book's face of a figure: narrow, projector and dark variants, the caption,
the text alternative, and tyshare_lib.theme() for notebooks."""
import json
import re

import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

import tyshare_lib
from tyshare_lib.checks import ArgumentError
from tyshare_lib.viz import adaptive
from tyshare_lib.viz.explorer import Explorer, Patch
from tyshare_lib.viz.style import figure_html, styled


def three_panels() -> go.Figure:
    """Two panels side by side over a third: the shape of the tying chapter's explorer."""
    fig = make_subplots(rows=2, cols=2, specs=[[{}, {}], [{"colspan": 2}, None]],
                        subplot_titles=("left panel", "right panel", "bottom panel"))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], name="a"), 1, 1)
    fig.add_trace(go.Bar(x=["p", "q"], y=[1, 2], name="b"), 1, 2)
    fig.add_trace(go.Scatter(x=[0, 1], y=[1, 0], name="c", line=dict(color="black")), 2, 1)
    return styled(fig, title="A title", height=600)


def merged(spec: dict, variant: dict) -> dict:
    return adaptive.merge(spec["layout"], variant["layout"])


def test_narrow_stacks_side_by_side_panels_top_to_bottom_without_overlap():
    spec = adaptive.book_spec(three_panels().to_plotly_json(), {})
    layout = merged(spec, spec["variants"]["narrow"])
    cells = sorted({(tuple(layout[f"xaxis{s}"]["domain"]), tuple(layout[f"yaxis{s}"]["domain"])) for s in ("", "2", "3")},
                   key=lambda c: -c[1][1])
    assert len(cells) == 3 and all(x == (0.0, 1.0) for x, _ in cells)  # full width each
    (_, top), (_, middle), (_, bottom) = cells
    assert top[0] > middle[1] and middle[0] > bottom[1]  # one per row, gaps between
    # row-major: the left panel first, then the right one
    assert layout["yaxis"]["domain"] == list(top) and layout["yaxis2"]["domain"] == list(middle)
    # subplot titles follow their panels: each sits on its panel's top edge
    tops = {a["text"]: a["y"] for a in layout["annotations"]}
    assert tops["left panel"] == pytest.approx(top[1]) and tops["right panel"] == pytest.approx(middle[1])
    assert layout["height"] > 600 and layout["legend"]["orientation"] == "h"


def test_narrow_leaves_a_single_column_figure_unstacked():
    fig = styled(go.Figure(go.Scatter(y=[1, 2], name="only")), title="t", height=400)
    spec = adaptive.book_spec(fig.to_plotly_json(), {})
    narrow = spec["variants"]["narrow"]["layout"]
    assert narrow["xaxis"]["domain"] == [0.0, 1.0] and narrow["yaxis"]["domain"] == [0.0, 1.0]
    assert narrow["height"] >= adaptive.NARROW_PANEL_PX


def test_projector_keeps_the_grid_and_spaces_it_for_big_type():
    spec = adaptive.book_spec(three_panels().to_plotly_json(), {})
    layout = merged(spec, spec["variants"]["projector"])
    left, right, bottom = (layout[k]["domain"] for k in ("xaxis", "xaxis2", "xaxis3"))
    assert left[1] < right[0] and bottom == [left[0], right[1]]  # side by side; the wide panel still spans both
    top_row, bottom_row = layout["yaxis"]["domain"], layout["yaxis3"]["domain"]
    gap_px = (top_row[0] - bottom_row[1]) * (layout["height"] - layout["margin"]["t"] - layout["margin"]["b"])
    assert gap_px >= 3 * adaptive.PROJECTOR_MIN_FONT  # ticks, axis title and the next panel's title fit between


def test_projector_makes_every_font_at_least_24px_and_lines_thicker():
    fig = three_panels()
    fig.update_layout(sliders=[dict(steps=[dict(label="1", method="skip")], font=dict(size=12))],
                      annotations=[*fig.layout.annotations, dict(text="note", font=dict(size=30), x=0, y=0)])
    spec = adaptive.book_spec(fig.to_plotly_json(), {})
    variant = spec["variants"]["projector"]
    layout = merged(spec, variant)
    sizes = [layout["font"]["size"], layout["sliders"][0]["font"]["size"], layout["legend"]["font"]["size"]]
    sizes += [a["font"]["size"] for a in layout["annotations"]]
    sizes += [layout[k]["tickfont"]["size"] for k in layout if re.match(r"[xy]axis\d*$", k)]
    assert min(sizes) >= adaptive.PROJECTOR_MIN_FONT
    assert layout["annotations"][-1]["font"]["size"] > 30  # larger type stays larger
    assert layout["height"] <= adaptive.PROJECTOR_MAX_HEIGHT
    assert variant["traces"][0]["line"]["width"] > 2 and "line" not in variant["traces"][1]  # bars keep theirs


def test_dark_recolours_background_text_grid_and_black_marks():
    spec = adaptive.book_spec(three_panels().to_plotly_json(), {})
    variant = spec["variants"]["dark"]
    layout = merged(spec, variant)
    assert layout["paper_bgcolor"] == adaptive.DARK["paper"] and layout["font"]["color"] == adaptive.DARK["text"]
    assert layout["xaxis2"]["gridcolor"] == adaptive.DARK["grid"]
    assert variant["traces"][2]["line"]["color"] == adaptive.DARK["text"]  # a black line would vanish
    assert variant["traces"][0] == {}


def test_the_title_becomes_a_caption_and_each_frame_carries_its_own():
    fig = styled(go.Figure(go.Scatter(x=[0], y=[0])), title="start")
    explorer = Explorer(fig, lambda v: Patch({0: {"y": [v]}}, {"title": {"text": f"v = {v}"}}),
                        {"v": type("C", (), {"value": 1})()}, "v", [1, 2, 3])
    spec = adaptive.book_spec(explorer.static_figure(), {})
    assert spec["title"] == "v = 1" and spec["layout"]["title"]["text"] == ""
    assert [f["layout"]["meta"]["title"] for f in spec["frames"]] == ["v = 1", "v = 2", "v = 3"]
    assert all("title" not in f["layout"] for f in spec["frames"])


def test_the_text_alternative_says_what_the_figure_shows_and_how_it_moves():
    fig = three_panels()
    fig.update_layout(xaxis_title="weight 1", sliders=[dict(currentvalue=dict(prefix="λ = "), steps=[
        dict(label="0", method="skip"), dict(label="∞", method="skip")])])
    text = adaptive.describe(fig.to_plotly_json(), "A <b>title</b>")
    assert text.startswith("Figure: A title.")
    assert "left panel" in text and "weight 1" in text and "Series: a, b, c" in text
    assert "slider steps through 2 values of λ, from 0 to ∞" in text


def test_figure_html_embeds_a_parseable_spec_caption_and_alternative():
    html = figure_html(styled(go.Figure(go.Scatter(y=[1], name="</script>")), title="T &amp; U"))
    spec = json.loads(re.search(r'class="tyshare-figure-spec">(.*?)</script>', html, re.S).group(1))
    assert spec["data"][0]["name"] == "</script>"  # escaped inside the script element, intact once parsed
    assert '<figcaption class="tyshare-figure-title" aria-live="polite">T &amp; U</figcaption>' in html
    assert 'aria-describedby="alt-' in html and "Figure: T &amp; U." in html
    assert spec["narrow_px"] == adaptive.NARROW_PX and set(spec["variants"]) == {"narrow", "projector", "dark"}


def test_figure_html_keeps_an_animations_frames_apart_and_a_still_figure_without_them():
    fig = styled(go.Figure(go.Scatter(y=[1]), frames=[go.Frame(name="a", data=[go.Scatter(y=[2], name="</b>")])]))
    html = figure_html(fig)
    spec = json.loads(re.search(r'class="tyshare-figure-spec">(.*?)</script>', html, re.S).group(1))
    frames = json.loads(re.search(r'class="tyshare-figure-frames">(.*?)</script>', html, re.S).group(1))
    assert "frames" not in spec and [f["name"] for f in frames] == ["a"] and frames[0]["data"][0]["name"] == "</b>"
    assert "tyshare-figure-frames" not in figure_html(styled(go.Figure(go.Scatter(y=[1]))))


def test_theme_switches_figures_made_after_the_call_and_refuses_unknown_names():
    before = styled(go.Figure(go.Scatter(y=[1, 2])))
    assert tyshare_lib.theme("projector") == "default"
    try:
        after = styled(go.Figure(go.Scatter(y=[1, 2])))
        assert after.layout.font.size >= adaptive.PROJECTOR_MIN_FONT and after.data[0].line.width >= 4
        assert before.layout.font.size < adaptive.PROJECTOR_MIN_FONT  # made before: unchanged
    finally:
        assert tyshare_lib.theme("default") == "projector"
    assert styled(go.Figure(go.Scatter(y=[1]))).layout.font.size < adaptive.PROJECTOR_MIN_FONT
    with pytest.raises(ArgumentError, match="name"):
        tyshare_lib.theme("dark-ish")


def test_the_book_slider_sits_below_the_bottom_axis_title_with_room_for_it():
    fig = styled(go.Figure(go.Scatter(x=[0], y=[0])), xaxis_title="training step", margin=dict(b=40))
    explorer = Explorer(fig, lambda v: Patch({0: {"y": [v]}}), {"v": type("C", (), {"value": 1})()}, "v", [1, 2])
    layout = adaptive.book_spec(explorer.static_figure(), {})["layout"]
    xaxis_px, slider_px = adaptive._below_panels_px(layout, 17)
    assert layout["sliders"][0]["pad"]["t"] > xaxis_px > 2 * 17  # tick labels and the axis title come first
    assert layout["margin"]["b"] >= xaxis_px + slider_px


def test_wrap_breaks_at_spaces_and_keeps_given_breaks():
    assert adaptive.wrap("Weight space: loss contours of A and B", 16) == "Weight space:<br>loss contours of<br>A and B"
    assert adaptive.wrap("short<br>kept as is", 40) == "short<br>kept as is"
    assert adaptive.wrap("<b>bold</b> words here", 10) == "<b>bold</b> words<br>here"  # tags take no room


def test_long_panel_titles_are_wrapped_to_their_panel_in_narrow_and_projector_layouts():
    fig = make_subplots(rows=1, cols=2, subplot_titles=("A rather long title for a narrow panel indeed", "b"))
    fig.add_trace(go.Scatter(y=[1]), 1, 1)
    fig.add_trace(go.Scatter(y=[1]), 1, 2)
    spec = adaptive.book_spec(styled(fig).to_plotly_json(), {})
    for name in ("narrow", "projector"):
        text = merged(spec, spec["variants"][name])["annotations"][0]["text"]
        assert "<br>" in text and text.replace("<br>", " ") == "A rather long title for a narrow panel indeed", name


def test_a_legend_under_the_panels_moves_below_the_book_slider():
    fig = styled(go.Figure([go.Scatter(y=[1], name="one"), go.Scatter(y=[2], name="two")]),
                 legend=dict(orientation="h", y=-0.3), margin=dict(b=120))
    explorer = Explorer(fig, lambda v: Patch({0: {"y": [v]}}), {"v": type("C", (), {"value": 1})()}, "v", [1, 2])
    layout = adaptive.book_spec(explorer.static_figure(), {})["layout"]
    assert layout["legend"]["yref"] == "container" and layout["legend"]["y"] == 0
    xaxis_px, slider_px = adaptive._below_panels_px(layout, 17)
    assert layout["margin"]["b"] >= xaxis_px + slider_px + 17  # the slider, then a row of legend


def test_on_a_phone_play_and_pause_go_under_a_full_width_slider():
    fig = styled(go.Figure(go.Scatter(x=[0], y=[0])), xaxis_title="x")
    explorer = Explorer(fig, lambda v: Patch({0: {"y": [v]}}), {"v": type("C", (), {"value": 1})()}, "v", [1, 2],
                        play=True)
    spec = adaptive.book_spec(explorer.static_figure(), {})
    layout = merged(spec, spec["variants"]["narrow"])
    slider, buttons = layout["sliders"][0], layout["updatemenus"][-1]
    assert slider["x"] == 0 and slider["len"] == 1 and buttons["direction"] == "right"
    assert buttons["pad"]["t"] > slider["pad"]["t"] + 2 * adaptive.NARROW_FONT_SIZE  # a row of their own
    assert layout["margin"]["b"] > buttons["pad"]["t"]


def test_legend_lines_are_every_shown_trace_and_each_group_title():
    """What plotly's legend lists: a legend group keeps one entry per trace, plus its title; hidden ones go."""
    from tyshare_lib.viz.adaptive import _legend_names

    spec = {"data": [
        {"name": "tied", "legendgroup": "train", "legendgrouptitle": {"text": "train"}},
        {"name": "untied", "legendgroup": "train"},
        {"name": "tied", "legendgroup": "test", "legendgrouptitle": {"text": "test"}},
        {"name": "tied again", "legendgroup": "test", "showlegend": False},
        {"name": None},
    ]}
    assert _legend_names(spec) == ["train", "tied", "untied", "test", "tied"]
