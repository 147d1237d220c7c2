"""Formulas typeset at build time (tyshare_lib/sphinx_math.py): KaTeX in an embedded V8, its CSS and fonts served."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tyshare_lib.sphinx_ext import STATIC
from tyshare_lib.sphinx_math import KATEX_CSS, RENDERER, TexError, display_tex, render


def test_an_inline_formula_becomes_katex_html_and_mathml():
    out = render(r"\lVert w^A - w^B \rVert^2")
    assert out.startswith('<span class="katex">') and "katex-display" not in out
    assert '<span class="katex-html" aria-hidden="true">' in out  # the eye reads this ...
    mathml = re.search(r"<math.*?</math>", out, re.S).group(0)  # ... a screen reader this
    assert "<mi>w</mi>" in mathml and "<mi>A</mi>" in mathml and "∥" in mathml
    assert r"\lVert w^A - w^B \rVert^2" in out  # the source, as MathML annotation (copy-paste)


def test_a_display_formula_is_a_centred_block():
    out = render(r"\Omega = \lVert w^A - w^B \rVert^2", display=True)
    assert out.startswith('<span class="katex-display">') and 'display="block"' in out


@pytest.mark.parametrize("tex, reason", [
    (r"\frac{1}{", "expected '}'"),
    ("x_", "Expected group after '_'"),
    (r"\undefinedmacro x", r"Undefined control sequence: \undefinedmacro"),
    ("é = 1", "LaTeX-incompatible"),  # strict: input LaTeX itself would reject is an error too
])
def test_a_formula_katex_cannot_typeset_is_an_error_naming_it(tex, reason):
    with pytest.raises(TexError) as e:
        render(tex)
    assert repr(tex) in str(e.value) and reason.lower() in str(e.value).lower()


@pytest.mark.parametrize("tex, display, message", [
    (None, False, "tex must be a str"),
    (3.0, False, "tex must be a str"),
    ("x", "yes", "display must be True"),
])
def test_bad_arguments_are_named(tex, display, message):
    with pytest.raises(TypeError, match=message):
        render(tex, display)


def test_display_blocks_are_formed_as_sphinx_forms_them_for_mathjax():
    assert display_tex("a = b") == "a = b"
    assert display_tex(r"a &= b \\ c &= d") == r"\begin{split}a &= b \\ c &= d\end{split}"
    assert display_tex(r"\begin{aligned} a &= b \\ c &= d \end{aligned}") == r"\begin{aligned} a &= b \\ c &= d \end{aligned}"
    assert display_tex("a = b\n\nc = d") == r"\begin{aligned}a = b\\c = d\end{aligned}"
    for tex in ["a = b", r"a &= b \\ c &= d", "a &= b\n\nc &= d", r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}"]:
        render(display_tex(tex), display=True)  # each is one formula KaTeX reads


def test_the_stylesheet_names_only_fonts_that_are_shipped():
    css = (STATIC / KATEX_CSS).read_text(encoding="utf-8")
    fonts = re.findall(r"url\(([^)]+)\)", css)
    assert len(fonts) >= 15 and all(f.endswith(".woff2") for f in fonts), fonts
    missing = [f for f in fonts if not (STATIC / "katex" / f).is_file()]
    assert missing == []


def _build(tmp_path: Path, body: str) -> tuple[str, str]:
    from io import StringIO

    from sphinx.application import Sphinx

    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(f"extensions = ['tyshare_lib.sphinx_math']\nhtml_math_renderer = '{RENDERER}'\n")
    (src / "index.rst").write_text(body)
    warnings = StringIO()
    app = Sphinx(str(src), str(src), str(tmp_path / "out"), str(tmp_path / "doctrees"), "html",
                 status=None, warning=warnings, freshenv=True)
    app.build()
    return (tmp_path / "out" / "index.html").read_text(encoding="utf-8"), warnings.getvalue()


def test_a_sphinx_page_gets_typeset_formulas_and_the_stylesheet_and_no_mathjax(tmp_path):
    html, warnings = _build(tmp_path, "Title\n=====\n\nInline :math:`\\lambda \\to \\infty`.\n\n"
                                      ".. math::\n   :label: omega\n\n   \\Omega = \\lVert w^A - w^B \\rVert^2\n\n"
                                      "See :eq:`omega`.\n")
    assert warnings == ""
    assert html.count('class="katex"') == 2 and "katex-display" in html
    assert '<span class="eqno">(1)' in html and 'id="equation-omega"' in html  # numbered, and a link target
    assert KATEX_CSS in html and "mathjax" not in html.lower() and r"\(" not in html


def test_a_bad_formula_is_a_build_warning_naming_page_and_formula(tmp_path):
    html, warnings = _build(tmp_path, "Title\n=====\n\nBroken :math:`\\frac{1}{`.\n")
    assert "index.rst" in warnings and r"\\frac{1}{" in warnings and "KaTeX" in warnings
    assert 'class="tyshare-tex-error"' in html  # the page shows the source, not a half-typeset formula


def test_every_built_page_with_a_formula_links_katex_stylesheet():
    """Formulas also sit in every page's navigation (a chapter title with one), the search and index pages too."""
    from conftest import BUILT, _missing

    pages = sorted(BUILT.rglob("*.html"))
    if not pages:
        _missing("the book is not built: run `jupyter-book build . --all -W` first")
    with_formulas = [p for p in pages if 'class="katex"' in p.read_text(encoding="utf-8")]
    assert len(with_formulas) >= 3
    unstyled = [str(p.relative_to(BUILT)) for p in with_formulas if KATEX_CSS not in p.read_text(encoding="utf-8")]
    assert unstyled == []
