"""The built book in headless Chromium, with every non-local request blocked: pages render, figures move,
and the console stays clean. Needs `jupyter-book build . --all -W` first (CI does it)."""
import json
import math

import pytest
from conftest import book_pages

from tyshare_lib.albert import AlbertConfig, count_parameters
from tyshare_lib.sphinx_ext import PLOTLY_JS
from tyshare_lib.tying import make_two_tasks, tied_solution
from tyshare_lib.viz.adaptive import DARK, PROJECTOR_MIN_FONT
from tyshare_lib.viz.tying import STATIC_LAMBDAS, lambda_label

# The title a reader sees: the HTML caption above the figure (tyshare.js keeps it in step with the frame).
CAPTION_JS = "window.caption = g => g.closest('figure').querySelector('.tyshare-figure-title').textContent;"
EXPLORER_JS = "[...document.querySelectorAll('.js-plotly-plot')].find(g => (g.layout.sliders || []).length)"


# Every figure with a slider, on every page: what its traces and title show (to compare before and after a move).
SLIDER_FIGURES = "[...document.querySelectorAll('.js-plotly-plot')].filter(g => (g.layout.sliders || []).length)"
FIGURE_STATE = ("(i => { const g = " + SLIDER_FIGURES + "[i]; return JSON.stringify([caption(g), "
                "g.data.map(t => [t.x, t.y, t.z, t.text])]); })")


def wait_title_change(page, figure_js: str, old_title: str) -> None:
    """Wait (up to 10 s) until the figure's title differs from ``old_title``: the new frame is drawn."""
    page.wait_for_function(f"caption({figure_js}) !== {json.dumps(old_title)}", timeout=10_000)


def open_page(offline_page, book_url, path):
    page = offline_page.page
    page.add_init_script(CAPTION_JS)
    page.goto(f"{book_url}/{path}")
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)
    return page


@pytest.mark.parametrize("path", book_pages())
def test_page_is_offline_clean_drawn_and_every_slider_moves(offline_page, book_url, path):
    """Every page the table of contents lists (a new chapter is covered without editing this test): nothing
    requested from the network, no console error, math typeset, every figure drawn, and each plotly slider,
    moved to its other end by a click on its rail, makes its figure show something else."""
    page = open_page(offline_page, book_url, path)
    # formulas arrive typeset (tyshare_lib/sphinx_math.py): KaTeX's HTML for the eye, MathML for screen readers,
    # drawn in KaTeX's own fonts, served with the page
    formulas, typeset = page.evaluate("(() => { const m = [...document.querySelectorAll('.math')]; return [m.length, "
                                      "m.filter(x => x.querySelector('.katex-html') && x.querySelector('.katex-mathml math'))"
                                      ".length]; })()")
    assert typeset == formulas, f"{formulas - typeset} of {formulas} formulas are not typeset"
    if formulas:
        page.wait_for_function("document.fonts.status === 'loaded'", timeout=15000)
        assert page.evaluate("[...document.fonts].some(f => f.family.replace(/\"/g, '') === 'KaTeX_Main' "
                             "&& f.status === 'loaded')"), "KaTeX's main font did not load"
        # display formulas centred in the column (the theme makes div.math a flex row: tyshare.css)
        off = page.evaluate("[...document.querySelectorAll('div.math')].filter(d => d.offsetWidth).map(d => { "
                            "const a = d.getBoundingClientRect(), h = d.querySelector('.katex-html'); "
                            "const b = h.getBoundingClientRect(); if (h.scrollWidth > a.width) return 0; "
                            "const inner = [...h.children].reduce((r, c) => { const q = c.getBoundingClientRect(); "
                            "return [Math.min(r[0], q.left), Math.max(r[1], q.right)]; }, [Infinity, -Infinity]); "
                            "return Math.round(Math.abs((a.left + a.right) / 2 - (inner[0] + inner[1]) / 2)); })")
        assert max(off, default=0) < 4, f"display formulas off centre by {off} px"
    page.wait_for_function("[...document.querySelectorAll('.plotly-graph-div')]"
                           ".every(g => g.querySelector('svg.main-svg'))", timeout=30_000)
    assert offline_page.blocked == [], "the page asked the network for something"
    assert offline_page.console_errors == []
    # drawn once: plotly.js found room for every outer axis and did not widen a margin and draw it all again
    page.wait_for_function("window.tyshare.figures.every(f => f.drawn)", timeout=30_000)
    twice = page.evaluate("window.tyshare.figures.map((f, i) => '_redrawFromAutoMarginCount' in f.div._fullLayout"
                          " ? i : -1).filter(i => i >= 0)")
    assert twice == [], f"figures {twice} were drawn twice for their axes' room (tyshare_lib/viz/margins.py)"
    for i in range(page.evaluate(f"{SLIDER_FIGURES}.length")):
        figure = page.locator(".js-plotly-plot").filter(has=page.locator(".slider-rail-touch-rect")).nth(i)
        figure.scroll_into_view_if_needed()
        before = page.evaluate(f"{FIGURE_STATE}({i})")
        active, steps = page.evaluate(f"(() => {{ const s = {SLIDER_FIGURES}[{i}].layout.sliders"
                                      ".find(s => s.visible !== false); return [s.active || 0, s.steps.length]; })()")
        box = figure.locator(".slider-rail-touch-rect").first.bounding_box()
        x = box["x"] + (box["width"] - 2 if active < steps / 2 else 2)  # the far end from where it stands
        page.mouse.click(x, box["y"] + box["height"] / 2)
        page.wait_for_function(f"{FIGURE_STATE}({i}) !== {json.dumps(before)}", timeout=10_000)
    assert offline_page.console_errors == [] and offline_page.blocked == []


def test_every_plotly_figure_on_the_tying_page_is_drawn(offline_page, book_url):
    page = open_page(offline_page, book_url, "book/tying.html")
    drawn = "[...document.querySelectorAll('.plotly-graph-div')].filter(g => g.querySelector('svg.main-svg')).length"
    divs = page.evaluate("document.querySelectorAll('.plotly-graph-div').length")
    try:  # tyshare.js draws one figure per task: on a loaded machine the last comes later
        page.wait_for_function(f"{drawn} === {divs}", timeout=20_000)
    except Exception:
        pass
    assert divs >= 4 and page.evaluate(drawn) == divs
    assert page.evaluate(f"document.querySelectorAll('script[src*=\"{PLOTLY_JS}\"]').length") == 1


def test_the_theme_icons_are_drawn_from_the_web_font_without_font_awesome_script(offline_page, book_url):
    """sphinx_ext leaves Font Awesome's script out; the header's icons still show (the theme's CSS web font)."""
    page = open_page(offline_page, book_url, "book/tying.html")
    assert page.evaluate("document.querySelectorAll('script[src*=\"fontawesome\"]').length") == 0
    icons = page.evaluate("""[...document.querySelectorAll('.article-header-buttons i.fa-solid, .article-header-buttons i.fas')]
      .filter(i => i.offsetParent !== null).map(i => { const s = getComputedStyle(i, '::before');
        return {family: s.fontFamily, content: s.content, width: i.getBoundingClientRect().width}; })""")
    assert len(icons) >= 2, icons
    for icon in icons:
        assert "Font Awesome" in icon["family"] and icon["content"] not in ("none", "normal", "") and icon["width"] > 8, icon
    assert page.evaluate("document.fonts.check('900 16px \"Font Awesome 6 Free\"')")


def test_moving_the_lambda_slider_changes_the_plotted_distance(offline_page, book_url):
    page = open_page(offline_page, book_url, "book/tying.html")
    page.wait_for_function(f"!!({EXPLORER_JS})")
    tasks = make_two_tasks(n_train=8, n_test=2000, dim=2, task_gap=1.0, noise=1.0, seed=0)  # as on the page

    def shown():
        return page.evaluate(f"(() => {{ const g = {EXPLORER_JS}; const m = g.data.find(t => t.marker && t.marker.color === 'black' && t.mode === 'markers'); "
                             "return [g.layout.sliders[0].active, m.y[0], caption(g)]; })()")

    active, before, title = shown()
    assert active == 0 and "λ = 0 " in title
    a0, b0 = tied_solution(*tasks.train, 0.0)
    assert before == pytest.approx(float((a0 - b0).norm()), rel=1e-6)

    rail = page.locator(".slider-rail-touch-rect").first
    rail.scroll_into_view_if_needed()
    box = rail.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    wait_title_change(page, EXPLORER_JS, title)
    active, middle, title = shown()
    lam = STATIC_LAMBDAS[active]
    assert 0 < active < len(STATIC_LAMBDAS) - 1 and f"λ = {lambda_label(lam)} " in title
    a, b = tied_solution(*tasks.train, lam)
    assert middle == pytest.approx(float((a - b).norm()), rel=1e-6) and middle < before

    page.mouse.click(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    wait_title_change(page, EXPLORER_JS, title)
    active, end, title = shown()
    assert STATIC_LAMBDAS[active] == math.inf and end == 0 and "‖wᴬ − wᴮ‖ = 0.000" in title
    assert offline_page.console_errors == [] and offline_page.blocked == []


def test_albert_counter_slider_changes_the_displayed_count(offline_page, book_url):
    page = open_page(offline_page, book_url, "book/albert.html")
    page.wait_for_function(f"!!({EXPLORER_JS})")
    read = (f"(() => {{ const g = {EXPLORER_JS}; const s = g.data.find(t => t.mode === 'text'); "
            "const slider = g.layout.sliders.find(s => s.visible !== false); "
            "return [slider.active + 1, s.x[0], caption(g)]; })()")
    layers, shown, title = page.evaluate(read)
    config = AlbertConfig.preset("albert-base")
    assert layers == 12 and shown * 1e6 == pytest.approx(count_parameters(config).total) and "11.7M" in title
    rail = page.locator(".slider-rail-touch-rect").first  # plotly draws only the visible group's slider
    rail.scroll_into_view_if_needed()
    box = rail.bounding_box()
    page.mouse.click(box["x"] + 2, box["y"] + box["height"] / 2)  # one layer
    wait_title_change(page, EXPLORER_JS, title)
    layers, shown, title = page.evaluate(read)
    bert_one_layer = count_parameters(config.with_(num_hidden_layers=1, embedding_size=768, sharing="none")).total
    assert layers == 1 and shown * 1e6 == pytest.approx(count_parameters(config.with_(num_hidden_layers=1)).total)
    assert f"{bert_one_layer / 1e6:.1f}M" in title
    assert offline_page.console_errors == [] and offline_page.blocked == []


def test_conv_animation_advances_when_played(offline_page, book_url):
    page = open_page(offline_page, book_url, "book/conv.html")
    animation = "[...document.querySelectorAll('.js-plotly-plot')].find(g => (g.layout.sliders || []).length > 1)"
    page.wait_for_function(f"!!({animation})")
    read = (f"(() => {{ const g = {animation}; const s = g.layout.sliders.find(s => s.visible !== false); "
            "return [s.active, caption(g), g.data[5].x[0]]; })()")
    active, title, window_x = page.evaluate(read)
    assert active == 0 and title.startswith("step 1/196")
    plot = page.locator(".js-plotly-plot").first
    plot.scroll_into_view_if_needed()
    page.get_by_text("▶ Play").first.click()
    page.wait_for_function(f"({animation}).layout.sliders.find(s => s.visible !== false).active > 3", timeout=15_000)
    page.get_by_text("❚❚ Pause").first.click()
    page.wait_for_timeout(300)
    active, title, moved_x = page.evaluate(read)
    assert active > 3 and title.startswith(f"step {active + 1}/196")
    assert moved_x != window_x  # the kernel's window moved across the input
    assert offline_page.console_errors == [] and offline_page.blocked == []


ANIMATIONS = "window.tyshare.figures.filter(f => f.hasFrames)"
FRAMES_ADDED = f"{ANIMATIONS}.map(f => ((f.div._transitionData || {{}})._frames || []).length)"


@pytest.mark.parametrize("path", ["book/conv.html", "book/recurrent.html"])
def test_every_animation_gets_all_its_frames_once_the_page_has_loaded(offline_page, book_url, path):
    """Pages with two animations each: with no reader's help, each has all its frames soon after the page loaded."""
    page = open_page(offline_page, book_url, path)
    assert page.evaluate(f"{ANIMATIONS}.length") == 2
    page.wait_for_function(f"JSON.stringify({FRAMES_ADDED}) === JSON.stringify({ANIMATIONS}.map(f => f.frames.length))",
                           timeout=10_000)
    assert min(page.evaluate(FRAMES_ADDED)) > 0
    assert offline_page.console_errors == [] and offline_page.blocked == []


@pytest.mark.parametrize("how", ["pointer", "keys", "play", "menu"])
def test_an_animation_moves_before_its_frames_are_added(offline_page, book_url, how):
    """tyshare.js adds an animation's frames once the page has loaded and every figure is drawn (2.3 MB on this page;
    parsing them first held back the figures after it). A reader who moves the figure before then, with a pointer
    on plotly's slider or with the keyboard twin (slider, play button, menu of groups), gets them at once."""
    page = offline_page.page
    page.add_init_script(CAPTION_JS)
    stalled = []  # a deferred script that does not arrive: the page is parsed but neither ready nor loaded
    page.route("**/_static/scripts/bootstrap.js*", lambda route: stalled.append(route))
    page.goto(f"{book_url}/book/conv.html", wait_until="commit")
    page.wait_for_function("window.tyshare && window.tyshare.figures.length > 0 && "
                           "window.tyshare.figures.every(f => f.drawn) && document.readyState === 'interactive'",
                           timeout=30_000)
    fig = "window.tyshare.figures.find(f => f.hasFrames)"
    animation = f"({fig}).div"
    active = f"({animation}).layout.sliders.find(s => s.visible !== false).active"
    page.wait_for_timeout(300)
    assert page.evaluate(FRAMES_ADDED) == [0, 0], "the frames were added before the page had loaded"
    title = page.evaluate(f"caption({animation})")
    assert title.startswith("step 1/196")
    if how == "pointer":
        plot = page.locator(".js-plotly-plot").filter(has=page.locator(".slider-rail-touch-rect")).first
        plot.scroll_into_view_if_needed()
        box = plot.locator(".slider-rail-touch-rect").first.bounding_box()
        page.mouse.click(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)  # the slider's far end
    elif how == "keys":
        page.evaluate(f"({fig}).range.focus()")
        page.keyboard.press("End")
    elif how == "play":
        page.evaluate(f"({fig}).play.focus()")
        page.keyboard.press("Space")
        page.wait_for_function(f"{active} > 2", timeout=15_000)
        page.keyboard.press("Space")  # pause
    else:  # the last group of the menu (kernel · stride · padding)
        assert page.evaluate(f"({fig}).menu.select === document.querySelector('.tyshare-key-menu')")
        last = page.evaluate(f"({fig}).menu.select.options.length") - 1
        page.evaluate(f"({fig}).menu.select.scrollIntoView()")
        page.select_option(".tyshare-key-menu >> nth=0", str(last))
    if how in ("pointer", "keys"):
        page.wait_for_function(f"caption({animation}).startsWith('step 196/196')", timeout=10_000)
    else:
        page.wait_for_function(f"caption({animation}) !== {json.dumps(title)}", timeout=10_000)
    assert page.evaluate(f"{FRAMES_ADDED}[0] === ({fig}).frames.length")
    for route in stalled:
        route.continue_()
    page.wait_for_load_state("load")
    assert offline_page.console_errors == [] and offline_page.blocked == []


def test_keyboard_moves_the_slider_and_plays_the_animation(offline_page, book_url):
    """Tab reaches each figure's slider twin; the arrow keys move the figure; Space plays and pauses."""
    page = open_page(offline_page, book_url, "book/conv.html")
    page.wait_for_function("document.querySelectorAll('.tyshare-key-slider').length > 0", timeout=30_000)
    page.focus("body")
    for _ in range(200):  # Tab until the first slider twin has the focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('tyshare-key-slider')"):
            break
    else:
        pytest.fail("no figure slider is reachable with Tab")
    label = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert label and "slider" in label
    figure = "document.activeElement.closest('figure').querySelector('.js-plotly-plot')"
    read = f"(() => {{ const g = {figure}; const s = g.layout.sliders.find(s => s.visible !== false); return [s.active, caption(g)]; }})()"
    active, title = page.evaluate(read)
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"caption({figure}) !== {json.dumps(title)}", timeout=10_000)
    moved, _ = page.evaluate(read)
    assert moved == active + 1
    assert page.evaluate("document.activeElement.getAttribute('aria-valuetext')")  # what a screen reader says
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('tyshare-key-play')")
    page.keyboard.press("Space")
    page.wait_for_function(f"(() => {{ const g = document.querySelector('.tyshare-key-play').closest('figure')"
                           f".querySelector('.js-plotly-plot'); return g.layout.sliders.find(s => s.visible !== false)"
                           f".active > {moved + 2}; }})()", timeout=15_000)
    page.keyboard.press("Space")  # pause
    assert page.evaluate("document.activeElement.getAttribute('aria-pressed')") == "false"
    assert offline_page.console_errors == [] and offline_page.blocked == []


def test_every_figure_has_a_text_alternative(offline_page, book_url):
    page = open_page(offline_page, book_url, "book/tying.html")
    described = page.evaluate("[...document.querySelectorAll('figure.tyshare-figure')].map(f => "
                              "(document.getElementById(f.getAttribute('aria-describedby')) || {}).textContent || '')")
    assert len(described) >= 4 and all(text.startswith("Figure: ") and len(text) > 30 for text in described)


def test_dark_mode_darkens_every_figure_and_back(offline_page, book_url):
    page = open_page(offline_page, book_url, "book/tying.html")
    page.wait_for_function("[...document.querySelectorAll('.js-plotly-plot')].length >= 4 && "
                           "[...document.querySelectorAll('.js-plotly-plot')].every(g => g._fullLayout)", timeout=30_000)
    backgrounds = "[...document.querySelectorAll('.js-plotly-plot')].map(g => g._fullLayout.paper_bgcolor)"
    assert set(page.evaluate(backgrounds)) == {"#fff"} or set(page.evaluate(backgrounds)) == {"white"}
    page.evaluate("document.documentElement.dataset.theme = 'dark'")  # what the theme's switch does
    page.wait_for_function(f"{backgrounds}.every(c => c === {json.dumps(DARK['paper'])})", timeout=15_000)
    text = page.evaluate("getComputedStyle(document.querySelector('.js-plotly-plot .xtick text')).fill")
    assert text == "rgb(232, 232, 232)"  # light text on the dark figure
    around = "getComputedStyle(document.querySelector('figure.tyshare-figure').parentElement).backgroundColor"
    assert page.evaluate(around) == "rgba(0, 0, 0, 0)"  # no light backdrop around a dark figure
    page.evaluate("document.documentElement.dataset.theme = 'light'")
    page.wait_for_function(f"{backgrounds}.every(c => c !== {json.dumps(DARK['paper'])})", timeout=15_000)
    assert offline_page.console_errors == []


def test_projector_button_switches_the_mode_and_it_is_remembered(offline_page, book_url):
    page = open_page(offline_page, book_url, "book/tying.html")
    button = page.locator(".tyshare-projector-button")
    assert button.get_attribute("aria-pressed") == "false"
    font = "(() => { const g = document.querySelector('.js-plotly-plot'); return g._fullLayout.font.size; })()"
    page.wait_for_function("document.querySelector('.js-plotly-plot') && document.querySelector('.js-plotly-plot')._fullLayout")
    assert page.evaluate(font) < PROJECTOR_MIN_FONT
    button.click()
    page.wait_for_function(f"{font} >= {PROJECTOR_MIN_FONT}", timeout=15_000)
    assert page.evaluate("document.documentElement.classList.contains('tyshare-projector')")
    page.goto(f"{book_url}/book/conv.html")  # another page: still in projector mode
    page.wait_for_function(f"document.querySelector('.js-plotly-plot') && {font} >= {PROJECTOR_MIN_FONT}", timeout=30_000)
    assert page.locator(".tyshare-projector-button").get_attribute("aria-pressed") == "true"
    page.goto(f"{book_url}/book/conv.html?projector=0")
    page.wait_for_function(f"document.querySelector('.js-plotly-plot') && {font} < {PROJECTOR_MIN_FONT}", timeout=30_000)
    assert offline_page.console_errors == [] and offline_page.blocked == []


DRAW_ORDER_JS = """
window.drawOrder = [];
new MutationObserver(records => { for (const r of records) for (const n of r.addedNodes)
  if (n.nodeType === 1 && n.matches('svg.main-svg') && !n.previousElementSibling) {
    const div = n.closest('.plotly-graph-div'), all = [...document.querySelectorAll('.plotly-graph-div')];
    const painted = performance.getEntriesByType('paint').some(e => e.name === 'first-contentful-paint');
    const sidebar = !!document.querySelector('.bd-sidebar-secondary');  // parsed yet? (it follows the article)
    // plotly sets the svg's width right after adding it, in the same task
    queueMicrotask(() => window.drawOrder.push({index: all.indexOf(div), painted, sidebar, width: +n.getAttribute('width')}));
  } }).observe(document, {childList: true, subtree: true});
"""


def test_figures_are_drawn_as_parsed_in_page_order_at_their_final_width(offline_page, book_url):
    """At the top of a chapter no figure is in view: tyshare.js draws each figure, in page order, once the first screen
    is painted, as soon as the parser has read it (it need not wait for the rest of the page); a figure drawn before the
    page-contents sidebar is parsed already has its final width (book.css keeps the sidebar's room)."""
    page = offline_page.page
    # The reader comes from the book's first page, which prefetched plotly.js; then the chapter arrives at 500 kB/s
    # (a slow disk or server): the parser reads it piece by piece, and its end (the sidebar) is not there for ~0.6 s.
    page.goto(f"{book_url}/book/intro.html")
    page.wait_for_load_state("networkidle")
    page.add_init_script(DRAW_ORDER_JS)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions",
             {"offline": False, "latency": 0, "downloadThroughput": 500_000, "uploadThroughput": -1})
    page.goto(f"{book_url}/book/tying.html")
    page.wait_for_function("window.tyshare && window.tyshare.figures.every(f => f.drawn)", timeout=30_000)
    order = page.evaluate("window.drawOrder")
    n = page.evaluate("document.querySelectorAll('.plotly-graph-div').length")
    assert [d["index"] for d in order] == list(range(n)), order
    assert all(d["painted"] for d in order), "a figure was drawn before the first screen was painted"
    assert not order[0]["sidebar"], "the first figure waited for the whole page"
    final = page.evaluate("[...document.querySelectorAll('.plotly-graph-div')].map(d => d.getBoundingClientRect().width)")
    assert page.viewport_size["width"] >= 1200  # the sidebar is beside the article
    for d in order:
        assert abs(d["width"] - final[d["index"]]) <= 1, (d, final)
