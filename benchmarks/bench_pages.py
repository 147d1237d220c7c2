"""How fast the built book's pages show their figures, offline, in headless Chromium (issue 7).

For every page of the table of contents: the bytes it loads, the time from navigation to its first plotly
figure being drawn, and to every figure being drawn (median of ``--loads`` loads, cold cache each time).

    python benchmarks/bench_pages.py [--loads 5] [--built _build/html]
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

# Recorded from the start of navigation: when the first figure and when the last one got its <svg>.
WATCH_JS = """
window.__tyshareTimes = {first: null, all: null};
new MutationObserver(() => {
  const divs = document.querySelectorAll('.plotly-graph-div');
  const drawn = [...divs].filter(d => d.querySelector('svg.main-svg')).length;
  const t = window.__tyshareTimes, now = performance.now();
  if (drawn > 0 && t.first === null) t.first = now;
  if (drawn === divs.length && drawn > 0 && document.readyState !== 'loading' && t.all === null) t.all = now;
}).observe(document, {childList: true, subtree: true});
"""


def measure(built: Path, loads: int = 5, pages: list[str] | None = None) -> dict[str, dict]:
    """Per page: bytes loaded, median first-figure and all-figures times in ms (None when it has no figure)."""
    from playwright.sync_api import sync_playwright

    base, server = serve(built)
    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for path in pages or book_pages():
            firsts, alls, sizes = [], [], []
            for _ in range(loads):
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                page.add_init_script(WATCH_JS)
                size = [0]
                page.on("response", lambda r, size=size: size.__setitem__(0, size[0] + int(r.headers.get("content-length", 0))))
                page.goto(f"{base}/{path}")
                page.wait_for_load_state("load")
                has = page.evaluate("document.querySelectorAll('.plotly-graph-div').length") > 0
                if has:
                    page.wait_for_function("window.__tyshareTimes.all !== null", timeout=60_000)
                    t = page.evaluate("window.__tyshareTimes")
                    firsts.append(t["first"])
                    alls.append(t["all"])
                sizes.append(size[0])
                context.close()
            results[path] = dict(bytes=max(sizes), first_ms=statistics.median(firsts) if firsts else None,
                                 all_ms=statistics.median(alls) if alls else None)
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
    parser.add_argument("pages", nargs="*")
    args = parser.parse_args(argv)
    print(f"{'page':28s} {'bytes':>10s} {'first fig ms':>13s} {'all figs ms':>12s}")
    for path, r in measure(args.built, args.loads, args.pages or None).items():
        fmt = lambda v: "-" if v is None else f"{v:.0f}"  # noqa: E731
        print(f"{path:28s} {r['bytes']:10,d} {fmt(r['first_ms']):>13s} {fmt(r['all_ms']):>12s}")


if __name__ == "__main__":
    main()
