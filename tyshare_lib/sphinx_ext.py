"""A small Sphinx extension that keeps the built book offline and its browser console clean.

Registered in ``_config.yml`` (``sphinx.extra_extensions``), plus a myst-nb mime renderer registered as
an entry point (``pyproject.toml``). Together they do this:

* **plotly figures render.** myst-nb knows no renderer for plotly's own mime type
  (``application/vnd.plotly.v1+json``, the only output of a figure in a Jupyter kernel since plotly 6)
  and drops the figure with "skipping unknown output mime type". :class:`PlotlyMimeRenderer` turns that
  JSON into an HTML fragment with :func:`tyshare_lib.viz.style.figure_html`, so notebooks keep plotly's
  default renderer (live in JupyterLab) and the book gets the same figure, interactive, with no kernel.

* **plotly.js, served locally, once per page.** The book's figures use four trace types, so it serves a
  plotly.js bundle with only those (1.2 MB instead of 4.8 MB; ``tools/build_plotly_bundle.sh`` makes it),
  shipped in ``tyshare_lib/static`` with its provenance, and only on pages with a figure: its script tag sits
  just before the page's first figure, so the text above is painted first and each figure is drawn as soon
  as it is parsed. Pages without figures (the first page) prefetch it for the next chapter.
* **No second icon set.** pydata-sphinx-theme draws its icons from Font Awesome's web font (in its CSS) and
  also loads Font Awesome's 1.5 MB SVG script, which redraws the same icons and then watches every change to
  the page (each figure drawn is thousands of them). The page does not load that script: its one line is
  left out of the theme's ``static/webpack-macros.html``, through a copy put first on the template path.
* **The figures' page script and style** (``tyshare.js``, ``tyshare.css``, on every page): it draws each
  figure from the spec :func:`tyshare_lib.viz.style.figure_html` embeds, adapts it to narrow screens, the
  projector mode and dark mode, and gives every slider a keyboard twin (see ``tyshare.js``).
* **No duplicate scripts.** sphinx-thebe registers its ``THEBE_JS_URL`` config script twice (once with
  filename ``None``, once with ``''``), and the second copy throws "Identifier 'THEBE_JS_URL' has already
  been declared" in the console of every page. We drop script entries that repeat an earlier one.
* **No dead widget state.** myst-nb embeds the executed notebook's ipywidgets state in each page, for a
  widget manager to restore live widgets. The book shows the static face of every explorer and loads no
  widget manager (``nb_ipywidgets_js: {}``), so that state, megabytes once a plotly ``FigureWidget``
  (an anywidget carrying its own JavaScript) is in it, would only be downloaded and never read.
* **One small page script** on plotly pages, marking handled the reason-less promise rejection plotly.js
  leaves behind when Pause interrupts an animation.

The other default console error of a Jupyter Book 1.x page, "Got invalid theme mode", is fixed by
configuration: ``html_context: {default_mode: light}`` in ``_config.yml``.
"""
from __future__ import annotations

import functools
import re
import zlib
from pathlib import Path
from typing import Any

STATIC = Path(__file__).parent / "static"
PLOTLY_JS = "plotly-tyshare.min.js"  # the plotly.js version plotly.py bundles, four trace types
PAGE_JS, PAGE_CSS = "tyshare.js", "tyshare.css"
PLOTLY_MARKER = "plotly-graph-div"  # the class of every figure's plot div (figure_html)
FIRST_FIGURE = '<figure class="tyshare-figure"'  # how every figure of figure_html begins
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# Pressing Pause (or moving the slider) during an animation makes plotly.js reject the interrupted
# Plotly.animate promise with no reason, which nothing awaits: an "Uncaught (in promise) undefined" in
# the console although the pause worked. Only that reason-less rejection is marked handled.
INTERRUPTED_ANIMATION_JS = ("window.addEventListener('unhandledrejection', e => "
                            "{ if (e.reason === undefined) e.preventDefault(); });")


class PlotlyMimeRenderer:
    """myst-nb plugin: render ``application/vnd.plotly.v1+json`` outputs as plotly HTML (no plotly.js inlined)."""

    mime_type = "application/vnd.plotly.v1+json"
    # Just after text/html (priority 0 in _config.yml), before images and text/plain.
    mime_priority_overrides = [("html", mime_type, 1)]

    @staticmethod
    def handle_mime(renderer, data, inline: bool):
        if data.mime_type != PlotlyMimeRenderer.mime_type or inline:
            return None
        from docutils import nodes

        from .viz.style import figure_html

        return [nodes.raw(text=figure_html(data.content), format="html", classes=["output", "text_html"])]


def plotly_js_source() -> Path:
    """Path of the plotly.js bundle the book serves (inside tyshare_lib/static)."""
    return STATIC / PLOTLY_JS


def _script_key(js: Any) -> tuple:
    filename = getattr(js, "filename", js) or ""  # None and '' are the same inline script
    attributes = tuple(sorted(getattr(js, "attributes", {}).items()))
    return (str(filename), attributes)


def clean_scripts(scripts: list) -> list:
    """The scripts in order, each distinct (filename, attributes) once (the first wins), minus widget state."""
    seen: set[tuple] = set()
    kept = []
    for js in scripts:
        key = _script_key(js)
        if getattr(js, "attributes", {}).get("type") == WIDGET_STATE:
            continue
        if key not in seen:
            seen.add(key)
            kept.append(js)
    return kept


def plotly_script_before_first_figure(body: str, src: str) -> str:
    """The page body with plotly.js's script tag just before its first figure (see :func:`_on_page`)."""
    tag = f'<script src="{src}"></script>'
    i = body.find(FIRST_FIGURE)
    return body[:i] + tag + body[i:] if i >= 0 else tag + body


@functools.cache
def _plotly_version_tag() -> str:
    """What Sphinx appends to its own static files (``?v=`` and a CRC32 of the file), so a new bundle is fetched."""
    return f"{zlib.crc32(plotly_js_source().read_bytes()):08x}"


def _on_page(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    src = f'{context["pathto"](f"_static/{PLOTLY_JS}", 1)}?v={_plotly_version_tag()}'
    if PLOTLY_MARKER in context.get("body", ""):
        # In the body, just before the first figure: the text above it is parsed and painted without waiting for
        # plotly.js, and each figure is drawn as soon as it is parsed (tyshare.js), before the rest of the page.
        context["body"] = plotly_script_before_first_figure(context["body"], src)
        app.add_js_file(None, body=INTERRUPTED_ANIMATION_JS, priority=199)
    else:
        # A page without figures (the book's first page, the index) fetches plotly.js when the browser is idle, so
        # the chapter a reader opens next finds it in the cache.
        context["metatags"] = f'{context.get("metatags", "")}\n<link rel="prefetch" href="{src}" as="script">'
    scripts = context.get("script_files")
    if isinstance(scripts, list):
        scripts[:] = clean_scripts(scripts)


def _serve_static(app, config) -> None:
    config.html_static_path = [*config.html_static_path, str(STATIC)]


FONTAWESOME_SCRIPT = re.compile(r"^[ \t]*<script[^>]*scripts/fontawesome\.js[^>]*></script>[ \t]*\n", re.M)


def without_fontawesome_script(macros: str) -> str:
    """The theme's webpack macros minus the line that loads Font Awesome's script (its icons stay: web font)."""
    kept, n = FONTAWESOME_SCRIPT.subn("", macros)
    if n != 1:
        raise RuntimeError(f"expected one Font Awesome script line in the theme's webpack-macros.html, found {n}")
    return kept


def _drop_fontawesome_script(app, config) -> None:
    import pydata_sphinx_theme

    theme_macros = Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / "static" / "webpack-macros.html"
    templates = Path(app.doctreedir).parent / "tyshare_templates"
    (templates / "static").mkdir(parents=True, exist_ok=True)
    (templates / "static" / "webpack-macros.html").write_text(
        without_fontawesome_script(theme_macros.read_text(encoding="utf-8")), encoding="utf-8")
    config.templates_path = [str(templates), *config.templates_path]


def setup(app) -> dict:
    app.connect("config-inited", _serve_static)
    app.connect("config-inited", _drop_fontawesome_script)
    # In the head, not deferred (15 kB, cached after the first page): figure_html's inline call after each figure
    # registers it with tyshare.js as soon as the parser has read it.
    app.add_js_file(PAGE_JS, priority=201)
    app.add_css_file(PAGE_CSS)
    # Late priority: run after sphinx-thebe, myst-nb and the theme have added their scripts.
    app.connect("html-page-context", _on_page, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
