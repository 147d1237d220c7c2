"""The book's formulas, typeset when the book is built (KaTeX), not in the reader's browser.

A Sphinx HTML math renderer (``html_math_renderer: tyshare_katex`` in ``_config.yml``). Each ``$…$`` and
``$$…$$`` of a chapter becomes KaTeX's HTML (what the eye reads, drawn with KaTeX's stylesheet and fonts) plus
its MathML (what a screen reader announces), written into the page. So a page shows its formulas with its
first paint (no raw TeX, no reflow once typeset), and its browser runs no maths script. With MathJax in the
browser, a warm page load here spent ~100 ms evaluating MathJax, ~100 ms typesetting the first screen before the
figures were drawn, and ~150 ms typesetting the rest; the larger page KaTeX writes costs some of that back in
layout (benchmarks/bench_pages.py; the closing notes give the numbers).

KaTeX's own script (``tyshare_lib/vendor/katex.min.js``, refreshed by ``tools/vendor_katex.sh``) runs in an
embedded V8 (the ``mini-racer`` package) while the book is built; it is never sent to a reader. A formula KaTeX
cannot typeset is a build warning naming the page and the formula (the book builds with ``-W``, so an error).
Notebooks in JupyterLab keep JupyterLab's own MathJax.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

from docutils import nodes

VENDOR = Path(__file__).parent / "vendor"
KATEX_JS = VENDOR / "katex.min.js"
KATEX_CSS = "katex/katex.min.css"  # under tyshare_lib/static, served from _static
RENDERER = "tyshare_katex"
# throwOnError: a formula KaTeX cannot read is an error, not red text on the page; strict: LaTeX that KaTeX
# only tolerates (e.g. unicode letters in maths) is an error too, so the source stays portable LaTeX.
_RENDER_JS = """
function tyshareRender(tex, display) {
  try {
    return {html: katex.renderToString(tex, {displayMode: display, throwOnError: true, strict: "error",
                                             output: "htmlAndMathml", trust: false})};
  } catch (e) {
    return {error: String(e && e.message || e)};
  }
}
"""


class TexError(ValueError):
    """A formula KaTeX cannot typeset; the message names the formula and KaTeX's reason."""


@functools.lru_cache(maxsize=1)
def _katex():
    from py_mini_racer import MiniRacer

    ctx = MiniRacer()
    ctx.eval(KATEX_JS.read_text(encoding="utf-8"))
    ctx.eval(_RENDER_JS)
    return ctx


def render(tex: str, display: bool = False) -> str:
    """KaTeX's HTML (with MathML) for the LaTeX formula ``tex``; ``display`` for a centred block.

    Raises :class:`TexError` naming the formula when KaTeX cannot typeset it.
    """
    if not isinstance(tex, str):
        raise TypeError(f"tex must be a str (a LaTeX formula), got {type(tex).__name__}")
    if not isinstance(display, bool):
        raise TypeError(f"display must be True (a block) or False (inline), got {display!r}")
    # JSON round trip: the call's arguments and result cross into V8 as plain strings, whatever the formula holds.
    out = json.loads(_katex().eval(f"JSON.stringify(tyshareRender({json.dumps(tex)}, {json.dumps(display)}))"))
    if "error" in out:
        raise TexError(f"KaTeX cannot typeset the formula {tex!r}: {out['error']}")
    return out["html"]


def display_tex(text: str) -> str:
    """A display block's LaTeX as one formula, as Sphinx's MathJax renderer forms it.

    Paragraphs (separated by a blank line) are lines of one ``aligned`` block; a paragraph holding ``\\\\`` is a
    ``split`` (an ``aligned`` when it stands inside the block of several).
    """
    parts = [p.strip() for p in text.split("\n\n") if p.strip()]
    if len(parts) > 1:
        return r"\begin{aligned}" + r"\\".join(parts) + r"\end{aligned}"
    part = parts[0] if parts else ""
    if r"\\" in part and not part.lstrip().startswith(r"\begin"):
        return r"\begin{split}" + part + r"\end{split}"
    return part


def _typeset(self, node, tex: str, display: bool) -> str:
    try:
        return render(tex, display)
    except TexError as e:
        from sphinx.util import logging

        logging.getLogger(__name__).warning(str(e), location=node, type="tyshare", subtype="tex")
        return f'<code class="tyshare-tex-error">{self.encode(tex)}</code>'


def visit_math(self, node) -> None:
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate nohighlight"))
    self.body.append(_typeset(self, node, node.astext(), display=False))
    self.body.append("</span>")
    raise nodes.SkipNode


def visit_displaymath(self, node) -> None:
    from sphinx.locale import _
    from sphinx.util.math import get_node_equation_number

    self.body.append(self.starttag(node, "div", CLASS="math notranslate nohighlight"))
    if node.get("number") and not node.get("nowrap"):
        self.body.append(f'<span class="eqno">({get_node_equation_number(self, node)})')
        self.add_permalink_ref(node, _("Link to this equation"))
        self.body.append("</span>")
    tex = node.astext() if node.get("nowrap") else display_tex(node.astext())
    self.body.append(_typeset(self, node, tex, display=True))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def setup(app) -> dict:
    app.add_html_math_renderer(RENDERER, (visit_math, None), (visit_displaymath, None))
    # On every page, not only where the body holds a formula: chapter titles with a formula (the autoencoder's)
    # are typeset in every page's navigation, the search and index pages included.
    app.add_css_file(KATEX_CSS)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
