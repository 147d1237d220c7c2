"""tyshare_lib.sphinx_ext: plotly rendering in the book, one plotly.js, no duplicate or dead scripts."""
from types import SimpleNamespace

import plotly.graph_objects as go
from sphinx.builders.html._assets import _JavaScript

from tyshare_lib.sphinx_ext import WIDGET_STATE, PlotlyMimeRenderer, clean_scripts, plotly_js_source


def test_duplicate_inline_scripts_are_dropped_first_wins():
    thebe_a = _JavaScript(None, body="const THEBE_JS_URL = 'x'")
    thebe_b = _JavaScript("", body="const THEBE_JS_URL = 'x'")
    other = _JavaScript("a.js")
    kept = clean_scripts([thebe_a, other, thebe_b, _JavaScript("a.js")])
    assert kept == [thebe_a, other]


def test_widget_state_is_dropped_and_different_scripts_kept():
    state = _JavaScript(None, type=WIDGET_STATE, body="{}")
    a, b = _JavaScript(None, body="1"), _JavaScript(None, body="2")
    assert clean_scripts([a, state, b]) == [a, b]


def test_plotly_mime_renders_as_html_without_inlined_plotly_js():
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))
    data = SimpleNamespace(mime_type=PlotlyMimeRenderer.mime_type, content=fig.to_plotly_json())
    (node,) = PlotlyMimeRenderer.handle_mime(None, data, inline=False)
    html = node.astext()
    assert "plotly-graph-div" in html and "Plotly.newPlot" in html and "<script src" not in html
    other = SimpleNamespace(mime_type="text/plain", content="x")
    assert PlotlyMimeRenderer.handle_mime(None, other, inline=False) is None


def test_plotly_mime_renderer_is_registered_with_myst_nb():
    from myst_nb.core.render import get_mime_priority, load_mime_renders

    assert PlotlyMimeRenderer in load_mime_renders()
    priority = get_mime_priority("html", [("html", "text/html", 0)])
    assert priority.index("text/html") < priority.index(PlotlyMimeRenderer.mime_type) < priority.index("text/plain")


def test_plotly_js_ships_with_plotly():
    assert plotly_js_source().stat().st_size > 1_000_000
