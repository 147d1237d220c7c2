"""Every figure of the built book fits its screen (issue 7, item 2): on a laptop (1280 × 800), on a projector
(1280 × 720 with the browser zoomed to 150 %) and on a phone (390 × 844), no text of any plotly figure runs past
the figure, no two texts are drawn over each other, and no page scrolls sideways.

Pages come from the table of contents and figures from the page (`.js-plotly-plot`), so a new chapter is covered
without editing this file. The measuring is done in the page by `figure_fit.js` (one function, reusable by other
tests and by `benchmarks/fit_report.py`). Needs the built book: `_build/html`, or the folder named by
``TYSHARE_BUILT`` (e.g. a snapshot taken while someone else rebuilds).

The 150 % zoom is emulated as a 853 × 480 CSS viewport at device scale factor 1.5: checked against Chromium's
real page zoom (a profile whose default zoom level is 150 %, window 1280 wide), which gives the same
``innerWidth`` (853), ``devicePixelRatio`` (1.5) and the same figure widths (785 px on the tying page).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import OfflinePage, book_pages

FIT_JS = (Path(__file__).resolve().parent / "figure_fit.js").read_text()

# name: (CSS viewport, device scale factor = browser zoom)
SIZES = {
    "1280x800": ({"width": 1280, "height": 800}, 1.0),
    "1280x720@150%": ({"width": 853, "height": 480}, 1.5),
    "390x844": ({"width": 390, "height": 844}, 1.0),
}
# Indices of the plotly divs on the page that have no drawing yet.
UNDRAWN = ("[...document.querySelectorAll('.plotly-graph-div')].map((g, i) => g.querySelector('svg.main-svg') ? -1 : i)"
           ".filter(i => i >= 0)")
# Every figure's slider moved to its last step through its keyboard twin (tyshare.js), waiting until each
# caption has changed; true if the page has any slider.
TO_LAST_STEP = """async () => {
  const keys = [...document.querySelectorAll('.tyshare-key-slider')];
  for (const k of keys) {
    const caption = k.closest('figure').querySelector('.tyshare-figure-title');
    const before = caption.textContent;
    k.value = k.max;
    k.dispatchEvent(new Event('input'));
    for (let t = 0; t < 100 && caption.textContent === before; t++) await new Promise(r => setTimeout(r, 50));
  }
  await new Promise(r => setTimeout(r, 300));
  return keys.length > 0;
}"""
MAX_LISTED = 25  # faults written out in full in a failure message; the rest are counted


def open_page(page, url: str):
    """Load ``url`` and wait until every figure is drawn (the layout's settling is waited for in FIT_JS)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(url, wait_until="load")
    try:
        page.wait_for_function(f"{UNDRAWN}.length === 0", timeout=30_000)
    except PlaywrightTimeout:
        pytest.fail(f"{url}: figure(s) {page.evaluate(UNDRAWN)} (index among .plotly-graph-div) "
                    "not drawn within 30 s", pytrace=False)


def measure(page, url: str, size: str) -> dict:
    """Open ``url`` in ``page`` (a context made for ``size``) and return FIT_JS's report."""
    open_page(page, url)
    return page.evaluate(FIT_JS, {"zoom": SIZES[size][1]})


def new_context(browser, size: str):
    viewport, scale = SIZES[size]
    return browser.new_context(viewport=viewport, device_scale_factor=scale)


def describe(report: dict, size: str, path: str) -> str:
    faults = sorted(report["faults"], key=lambda f: (f["figure"] is not None, f["figure"] or 0, f["kind"]))
    lines = [f"{len(faults)} fit fault(s) at {size} on {path}:"]
    lines += [f"  - {f['message']}" for f in faults[:MAX_LISTED]]
    if len(faults) > MAX_LISTED:
        lines.append(f"  … and {len(faults) - MAX_LISTED} more (python benchmarks/fit_report.py lists them all)")
    if not report["settled"]:
        lines.append("  (the layout was still moving when measured)")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def size_pages(chromium):
    """One offline page per size, reused across the book's pages (made on first use)."""
    made: dict[str, OfflinePage] = {}
    contexts = []

    def get(size: str) -> OfflinePage:
        if size not in made:
            contexts.append(new_context(chromium, size))
            made[size] = OfflinePage(contexts[-1].new_page())
        return made[size]

    yield get
    for context in contexts:
        context.close()


@pytest.mark.parametrize("path", book_pages())
@pytest.mark.parametrize("size", list(SIZES))
def test_figures_fit(size_pages, book_url, size, path):
    """At this size, on this page: no figure text past its figure, no text over text, no sideways scroll."""
    offline = size_pages(size)
    offline.blocked.clear()
    report = measure(offline.page, f"{book_url}/{path}", size)
    assert offline.blocked == [], f"the page asked the network for {offline.blocked[:3]}"
    if report["faults"]:
        pytest.fail(describe(report, size, path), pytrace=False)
    # The other end of every slider: the longest label or the tallest bar is often at one end.
    if offline.page.evaluate(TO_LAST_STEP):
        report = offline.page.evaluate(FIT_JS, {"zoom": SIZES[size][1]})
        if report["faults"]:
            pytest.fail(describe(report, size, path) + "\n  (every slider at its last step)", pytrace=False)


# Figures with known faults (and a clean one holding every kind of text that must not count), to show the
# measurement can fail and does not cry wolf, whatever the state of the book.
KNOWN_FIGURES = r"""() => {
  const tick = {showline: true, mirror: true, ticks: 'outside'};
  const clean = Plotly.newPlot('clean', [
      {x: [1, 2, 3], y: [2, 1, 3], name: 'a line', mode: 'lines'},
      {x: [1, 50], y: [2, 2], mode: 'text', text: ['', 'off the axis'], showlegend: false}],
    {title: {text: 'A clean figure'}, xaxis: Object.assign({title: {text: 'x'}, range: [0, 4]}, tick),
     yaxis: Object.assign({title: {text: 'y'}}, tick), width: 600, height: 400,
     annotations: [{text: 'hidden', x: 2, y: 2, visible: false}, {text: 'see-through', x: 2, y: 2, opacity: 0},
                   {text: '', x: 1, y: 1}, {text: 'one note', x: 3, y: 3}]});
  const long = Plotly.newPlot('long', [{x: [1, 2], y: [1, 2]}],
    {title: {text: 'A title far too long for a figure only three hundred pixels wide, cut at the right'},
     width: 300, height: 300});
  const stack = Plotly.newPlot('stack', [{x: [1, 2], y: [1, 2]}],
    {width: 600, height: 300, annotations: [{text: 'first note', x: 1.5, y: 1.5, showarrow: false},
                                            {text: 'second note', x: 1.5, y: 1.5, showarrow: false}]});
  return Promise.all([clean, long, stack]).then(() => true);
}"""


@pytest.fixture
def known_page(chromium):
    from tyshare_lib.sphinx_ext import plotly_js_source

    context = new_context(chromium, "1280x800")
    page = context.new_page()
    page.set_content('<!doctype html><meta charset="utf-8"><body style="margin:8px">'
                     '<div id="clean"></div><div id="long"></div><div id="stack"></div></body>')
    page.add_script_tag(path=str(plotly_js_source()))
    page.evaluate(KNOWN_FIGURES)
    yield page
    context.close()


def test_the_measurement_catches_known_faults_and_only_those(known_page):
    report = known_page.evaluate(FIT_JS, {"zoom": 1})
    by_figure = {i: [f for f in report["faults"] if f["figure"] == i] for i in range(3)}
    assert by_figure[0] == [], "hidden, see-through, empty or clipped-away texts counted: " + str(by_figure[0])
    assert [f["kind"] for f in by_figure[1]] == ["clipped"] and "title" in by_figure[1][0]["message"]
    assert "beyond the left edge" in by_figure[1][0]["message"]  # a centred title sticks out on both sides
    assert [f["kind"] for f in by_figure[2]] == ["overlap"]
    assert "first note" in by_figure[2][0]["message"] and "second note" in by_figure[2][0]["message"]
    assert report["minFontPx"] > 0 and [round(f["height"]) for f in report["figures"]] == [400, 300, 300]

    known_page.evaluate("document.body.insertAdjacentHTML('beforeend', '<div style=\"width: 2000px\">wide</div>')")
    scroll = [f for f in known_page.evaluate(FIT_JS, {"zoom": 1})["faults"] if f["kind"] == "page-scroll"]
    assert len(scroll) == 1 and "div" in scroll[0]["message"]


PROJECTOR_SCREEN = {"width": 1280, "height": 720}
PROJECTOR_MIN_FONT = 24


@pytest.fixture(scope="module")
def projector_page(chromium):
    """One offline page at 1280 × 720 (a projector) that has asked for projector mode once, by URL; the mode is
    then remembered (localStorage) across the book's pages, as it is for a teacher."""
    context = chromium.new_context(viewport=PROJECTOR_SCREEN)
    page = OfflinePage(context.new_page())
    page.asked = False  # whether a page of this context has been opened with ?projector yet
    yield page
    context.close()


@pytest.mark.parametrize("path", book_pages())
def test_projector_mode_fits_one_screen(projector_page, book_url, path):
    """In projector mode (``?projector``, 1280 × 720): every figure's text is at least 24 px, nothing is clipped
    or drawn over other text, and each figure with its caption and controls fits on one screen."""
    url = f"{book_url}/{path}" + ("" if projector_page.asked else "?projector")  # then remembered, not asked
    projector_page.asked = True
    projector_page.blocked.clear()
    open_page(projector_page.page, url)
    report = projector_page.page.evaluate(FIT_JS, {"zoom": 1})
    assert projector_page.page.evaluate("document.documentElement.classList.contains('tyshare-projector')"), \
        "projector mode was not remembered from the first page"
    problems = [f["message"] for f in report["faults"]]
    for i, fig in enumerate(report["figures"]):
        if fig["heightWithCaption"] > PROJECTOR_SCREEN["height"]:
            problems.append(f"figure {i} {fig['title']!r}: {fig['heightWithCaption']:.0f} px tall with its "
                            f"caption and controls, more than the {PROJECTOR_SCREEN['height']}-px screen")
        if fig["minFontPx"] is not None and fig["minFontPx"] < PROJECTOR_MIN_FONT:
            problems.append(f"figure {i} {fig['title']!r}: smallest text {fig['minFontPx']} px "
                            f"(< {PROJECTOR_MIN_FONT})")
    assert projector_page.blocked == []
    if problems:
        pytest.fail(f"{len(problems)} projector fault(s) on {path}:\n  - " + "\n  - ".join(problems[:MAX_LISTED]),
                    pytrace=False)
