"""tyshare_lib.sphinx_ext: plotly rendering in the book, one plotly.js, no duplicate or dead scripts."""
import re
from pathlib import Path
from types import SimpleNamespace

import plotly.graph_objects as go
import pytest
from sphinx.builders.html._assets import _JavaScript

from tyshare_lib.sphinx_ext import (FIRST_FIGURE, PAGE_JS, PLOTLY_JS, WIDGET_STATE, PlotlyMimeRenderer, _on_page,
                                   clean_scripts, plotly_js_source, without_fontawesome_script)
from tyshare_lib.viz.style import figure_html


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
    assert "plotly-graph-div" in html and "tyshare-figure-spec" in html and "<script src" not in html
    other = SimpleNamespace(mime_type="text/plain", content="x")
    assert PlotlyMimeRenderer.handle_mime(None, other, inline=False) is None


def test_plotly_mime_renderer_is_registered_with_myst_nb():
    from myst_nb.core.render import get_mime_priority, load_mime_renders

    assert PlotlyMimeRenderer in load_mime_renders()
    priority = get_mime_priority("html", [("html", "text/html", 0)])
    assert priority.index("text/html") < priority.index(PlotlyMimeRenderer.mime_type) < priority.index("text/plain")


def _plotly_js_version(path) -> str:
    head = path.read_text(encoding="utf-8", errors="replace")[:300]
    return re.search(r"plotly\.js.* v(\d+\.\d+\.\d+)", head).group(1)


def test_the_served_bundle_is_the_plotly_js_that_plotly_py_bundles():
    """The partial bundle must be the same plotly.js version as plotly.py's: upgrading plotly fails here until
    the bundle is refreshed (tyshare_lib/static/README.md says how)."""
    import plotly

    full = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert _plotly_js_version(plotly_js_source()) == _plotly_js_version(full)
    assert 1_000_000 < plotly_js_source().stat().st_size < full.stat().st_size / 2


def test_the_bundle_has_every_trace_type_the_book_uses():
    """Every trace type any chapter's figures use is one the served bundle registers."""
    bundle = plotly_js_source().read_text(encoding="utf-8", errors="replace")
    used = set()
    for module in Path(__file__).resolve().parent.parent.joinpath("tyshare_lib", "viz").glob("*.py"):
        used |= {name.lower() for name in re.findall(r"go\.(Scatter|Bar|Heatmap|Contour|Histogram|[A-Z]\w+)\(",
                                                     module.read_text()) if name not in {"Figure", "FigureWidget", "Frame"}}
    assert used, "no trace types found: the search pattern is wrong"
    for trace_type in used:
        assert f'moduleType:"trace",name:"{trace_type}"' in bundle.replace(" ", ""), trace_type


def test_font_awesome_script_is_left_out_of_the_theme_macros_and_nothing_else():
    import pydata_sphinx_theme

    macros = (Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / "static"
              / "webpack-macros.html").read_text(encoding="utf-8")
    kept = without_fontawesome_script(macros)
    assert "fontawesome.js" in macros and "fontawesome.js" not in kept
    assert macros.splitlines()[:3] == kept.splitlines()[:3] and len(macros.splitlines()) == len(kept.splitlines()) + 1
    assert "bootstrap.js" in kept and "pydata-sphinx-theme.js" in kept
    with pytest.raises(RuntimeError, match="found 0"):
        without_fontawesome_script(kept)  # a theme that changed the line: the build says so, not silently


class _App:
    """What _on_page uses of a Sphinx app: add_js_file, recorded."""

    def __init__(self):
        self.js = []

    def add_js_file(self, filename, **kw):
        self.js.append((filename, kw))


def _page(body: str) -> tuple[_App, dict]:
    app, context = _App(), {"body": body, "metatags": "<meta x>", "pathto": lambda p, rel: f"../{p}", "script_files": []}
    _on_page(app, "book/x", "page.html", context, None)
    return app, context


def test_a_page_with_figures_loads_plotly_just_before_its_first_figure():
    fig = figure_html(go.Figure(go.Scatter(x=[1], y=[2])))
    app, context = _page(f"<p>text above</p>{fig}<p>between</p>{fig}")
    body = context["body"]
    tag = f'<script src="../_static/{PLOTLY_JS}?v='
    assert body.count(tag) == 1 and body.index("text above") < body.index(tag) < body.index(FIRST_FIGURE)
    assert body.index(tag) + body[body.index(tag):].index("</script>") + len("</script>") == body.index(FIRST_FIGURE)
    assert "prefetch" not in context["metatags"] and [f for f, _ in app.js] == [None]  # the unhandled-rejection guard
    # each figure registers itself with tyshare.js as soon as it is parsed, and only where tyshare.js is
    assert body.count("<script>window.tyshare && tyshare.add(document.currentScript.parentNode)</script></figure>") == 2


def test_a_page_without_figures_prefetches_plotly_for_the_next():
    app, context = _page("<p>just text</p>")
    assert context["body"] == "<p>just text</p>" and app.js == []
    assert context["metatags"].startswith("<meta x>") and f'rel="prefetch" href="../_static/{PLOTLY_JS}?v=' in context["metatags"]


def test_tyshare_js_is_in_the_head_and_not_deferred():
    """The inline call after each figure needs it while the page is being parsed."""
    from tyshare_lib import sphinx_ext

    calls = []
    app = SimpleNamespace(connect=lambda *a, **k: None, add_css_file=lambda *a, **k: None,
                          add_js_file=lambda f, **kw: calls.append((f, kw)))
    sphinx_ext.setup(app)
    (kw,) = [kw for f, kw in calls if f == PAGE_JS]
    assert "loading_method" not in kw and "defer" not in kw and "async" not in kw
