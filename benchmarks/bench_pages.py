"""How fast the built book's pages show their figures, offline, in headless Chromium (issue 7).

For every page of the table of contents: the bytes it loads, the time from navigation to its first plotly
figure being painted, to every figure of the first screen being painted, and to every figure of the page being
painted (median of ``--loads`` loads). Each load is a fresh browser context, so a cold cache; with ``--warm``
the reader comes from the book's first page (its scripts and styles cached, and plotly.js, which that page
prefetches once it has loaded, as when following the book's links).

    python benchmarks/bench_pages.py [--loads 5] [--built _build/html] [--warm] [page ...]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import CHROMIUM, CHROMIUM_ARGS, book_pages, serve  # noqa: E402

# Recorded from the start of navigation, for each figure: the first animation frame after its <svg> appeared,
# i.e. when the browser can paint it (plotly.js draws a figure in one task: the frame comes after the drawing).
WATCH_JS = """
window.__tyshareDrawn = new Map();
window.__tyshareTypeset = new Map();
(() => {
  const stamp = (map, el) => {
    if (el && !map.has(el)) { map.set(el, null); requestAnimationFrame(() => map.set(el, performance.now())); }
  };
  const FIGURE = 'svg.main-svg', FORMULA = '.katex, mjx-container';  // KaTeX (built) or MathJax (in the browser)
  // Only the added nodes are looked at: a query over the whole page on every batch of mutations (plotly.js makes
  // hundreds while drawing, KaTeX's pages hold tens of thousands of nodes) slowed the page it was timing.
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) {
      if (n.nodeType !== 1) continue;
      const figure = n.matches(FIGURE) ? n : n.firstElementChild && n.querySelector(FIGURE);
      if (figure) stamp(window.__tyshareDrawn, figure.closest('.plotly-graph-div'));
      const formula = n.matches(FORMULA) ? n : n.firstElementChild && n.querySelector(FORMULA);
      if (formula) stamp(window.__tyshareTypeset, formula.closest('.math'));
    }
  }).observe(document, {childList: true, subtree: true});
})();
"""
ALL_DRAWN_JS = """document.readyState !== 'loading' && document.querySelectorAll('.plotly-graph-div').length > 0 &&
  [...document.querySelectorAll('.plotly-graph-div')].every(d => window.__tyshareDrawn.get(d))"""
# first: the first figure painted; view: every figure in the first screen (as loaded, not scrolled) painted;
# all: every figure of the page painted; math: every formula of the first screen painted, typeset (what a reader sees
# first; typeset when the book is built, tyshare_lib/sphinx_math.py, so this is the first paint of the formulas).
TIMES_JS = """(() => {
  const divs = [...document.querySelectorAll('.plotly-graph-div')];
  const t = divs.map(d => window.__tyshareDrawn.get(d));
  const inView = divs.map(d => { const r = d.getBoundingClientRect(); return r.top + window.scrollY < innerHeight; });
  const inViewTimes = t.filter((x, i) => inView[i]);
  const maths = [...document.querySelectorAll('.math')].filter(m => { const r = m.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && r.top + window.scrollY < innerHeight; })  // shown, in the first screen
    .map(m => window.__tyshareTypeset.get(m));
  return {first: Math.min(...t), view: inViewTimes.length ? Math.max(...inViewTimes) : null, all: Math.max(...t),
          math: maths.length && maths.every(x => x) ? Math.max(...maths) : null};
})()"""


def measure(built: Path, loads: int = 5, pages: list[str] | None = None, warm: bool = False) -> dict[str, dict]:
    """Per page: bytes loaded, median first-figure, first-screen and all-figures times in ms (None: no figure)."""
    from playwright.sync_api import sync_playwright

    base, server = serve(built)
    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for path in pages or book_pages():
            firsts, views, alls, maths, sizes = [], [], [], [], []
            for _ in range(loads):
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                if warm:
                    page.goto(f"{base}/book/intro.html")
                    page.wait_for_load_state("load")
                page.add_init_script(WATCH_JS)
                size = [0]
                page.on("response", lambda r, size=size: size.__setitem__(0, size[0] + int(r.headers.get("content-length", 0))))
                page.goto(f"{base}/{path}")
                page.wait_for_load_state("load")
                has = page.evaluate("document.querySelectorAll('.plotly-graph-div').length") > 0
                if has:
                    page.wait_for_function(ALL_DRAWN_JS, timeout=60_000)
                    t = page.evaluate(TIMES_JS)
                    firsts.append(t["first"])
                    alls.append(t["all"])
                    if t["view"] is not None:
                        views.append(t["view"])
                    if t["math"] is not None:
                        maths.append(t["math"])
                sizes.append(size[0])
                context.close()
            med = lambda xs: statistics.median(xs) if xs else None  # noqa: E731
            results[path] = dict(bytes=max(sizes), first_ms=med(firsts), view_ms=med(views), all_ms=med(alls),
                                 first_screen_math_ms=med(maths))
        browser.close()
    server.shutdown()
    return results


def animation_rate(built: Path, seconds: float = 4.0) -> dict:
    """Frames per second the convolution chapter's animation shows while playing (asked: one per 150 ms)."""
    from playwright.sync_api import sync_playwright

    base, server = serve(built)
    anim = "[...document.querySelectorAll('.js-plotly-plot')].find(g => (g.layout.sliders || []).length > 1)"
    read = f"(() => {{ const g = {anim}; return g.layout.sliders.find(s => s.visible !== false).active; }})()"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{base}/book/conv.html")
        page.wait_for_function(f"!!({anim})", timeout=30_000)
        page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
        page.get_by_text("▶ Play").first.click()
        page.wait_for_timeout(300)
        a0, t0 = page.evaluate(read), time.perf_counter()
        page.wait_for_timeout(1000 * seconds)
        a1, t1 = page.evaluate(read), time.perf_counter()
        page.get_by_text("❚❚ Pause").first.click()
        browser.close()
    server.shutdown()
    return {"frames_per_s": round((a1 - a0) / (t1 - t0), 2)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--built", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--warm", action="store_true", help="come from the book's first page (cached assets)")
    parser.add_argument("pages", nargs="*")
    args = parser.parse_args(argv)
    print(f"{'page':28s} {'bytes':>10s} {'first fig ms':>13s} {'in view ms':>11s} {'all figs ms':>12s} "
          f"{'1st-screen math ms':>19s}")
    for path, r in measure(args.built, args.loads, args.pages or None, args.warm).items():
        fmt = lambda v: "-" if v is None else f"{v:.0f}"  # noqa: E731
        print(f"{path:28s} {r['bytes']:10,d} {fmt(r['first_ms']):>13s} {fmt(r['view_ms']):>11s} {fmt(r['all_ms']):>12s} "
              f"{fmt(r['first_screen_math_ms']):>19s}")


if __name__ == "__main__":
    main()
