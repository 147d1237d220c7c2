"""Screenshots of the built book for the README: the λ explorer as a laptop, a projector (projector mode),
a phone and dark mode show it. Needs the build (`jupyter-book build . --all -W`) and Chromium.

    python tools/screenshots.py            # writes book/_static/screenshots/tying-*.png
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import BUILT, CHROMIUM, CHROMIUM_ARGS, serve  # noqa: E402

OUT = ROOT / "book" / "_static" / "screenshots"
# name: (viewport, device scale factor, query, dark)
SHOTS = {
    "tying-explorer": ({"width": 1280, "height": 800}, 1, "", False),
    "tying-projector": ({"width": 1280, "height": 720}, 1, "?projector", False),
    "tying-phone": ({"width": 390, "height": 844}, 2, "?projector=0", False),
    "tying-dark": ({"width": 1280, "height": 800}, 1, "?projector=0", True),
}
EXPLORER = "[...document.querySelectorAll('figure.tyshare-figure')].find(f => f.querySelector('.tyshare-keys'))"


def main() -> None:
    from playwright.sync_api import sync_playwright

    base, server = serve(BUILT)
    url = f"{base}/book/tying.html"
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, (viewport, scale, query, dark) in SHOTS.items():
            context = browser.new_context(viewport=viewport, device_scale_factor=scale,
                                          color_scheme="dark" if dark else "light")
            page = context.new_page()
            if dark:
                page.add_init_script("localStorage.setItem('theme', 'dark'); localStorage.setItem('mode', 'dark');")
            page.goto(url + query, wait_until="load")
            page.wait_for_function(f"!!({EXPLORER})", timeout=60_000)
            page.wait_for_timeout(2000)  # the figures drawn and the page's late layout done, then scroll
            page.evaluate(f"({EXPLORER}).scrollIntoView()")
            page.wait_for_timeout(800)
            if viewport["width"] < 500:  # a phone: the whole explorer, however tall
                box = page.evaluate(f"(() => {{ const r = ({EXPLORER}).getBoundingClientRect(); "
                                    "return {x: 0, y: r.top + window.scrollY, width: window.innerWidth, height: r.height}; })()")
                page.screenshot(path=str(OUT / f"{name}.png"), full_page=True, clip=box)
            else:
                page.screenshot(path=str(OUT / f"{name}.png"))
            print(OUT / f"{name}.png")
            context.close()
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
