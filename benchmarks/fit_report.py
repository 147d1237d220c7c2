"""Do the book's figures fit their screens? Fault counts per page and size, then the details (issue 7).

    python benchmarks/fit_report.py                       # _build/html (or $TYSHARE_BUILT), every page, 3 sizes
    python benchmarks/fit_report.py --html /tmp/snap      # another built copy
    python benchmarks/fit_report.py --pages book/conv.html --sizes 390x844 --all
    python benchmarks/fit_report.py --json before.json    # also write every fault and figure measure
    python benchmarks/fit_report.py --screenshots /tmp/s  # full-page screenshots of every page at every size
    python benchmarks/fit_report.py --check-zoom          # real 150 % browser zoom vs the test's emulation

The same measurement as tests/test_figures_fit.py (same sizes, same in-page code, tests/figure_fit.js), written
as a report for a before/after note: a table of faults (clipped texts, overlapping texts, sideways scroll) per
page and size, the worst examples, and per figure its on-screen height with controls and its smallest text
(for projector mode). A report, not a test: exits 0 whatever it finds.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import BUILT, CHROMIUM, CHROMIUM_ARGS, OfflinePage, book_pages, serve  # noqa: E402
from test_figures_fit import SIZES, measure, new_context  # noqa: E402


def run(folder: Path, pages: list[str], sizes: list[str], screenshots: Path | None = None) -> list[dict]:
    """Measure every page at every size; one record per (size, page) with FIT_JS's report in it."""
    from playwright.sync_api import sync_playwright

    url, server = serve(folder)
    records = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for size in sizes:
                context = new_context(browser, size)
                offline = OfflinePage(context.new_page())
                for path in pages:
                    start = time.perf_counter()
                    report = measure(offline.page, f"{url}/{path}", size)
                    records.append({"size": size, "page": path, "report": report,
                                    "seconds": round(time.perf_counter() - start, 2)})
                    if screenshots is not None:
                        screenshots.mkdir(parents=True, exist_ok=True)
                        name = f"{size.replace('%', 'pct').replace('@', '_')}_{path.replace('/', '_')}.png"
                        offline.page.screenshot(path=str(screenshots / name), full_page=True)
                context.close()
            browser.close()
    finally:
        server.shutdown()
    return records


def check_zoom(folder: Path, path: str = "book/tying.html", zoom: float = 1.5) -> list[dict]:
    """Chromium's real page zoom (a profile whose default zoom is ``zoom``, window 1280 × 720) against the
    emulation the test uses (viewport 1280/zoom × 720/zoom CSS px, device scale factor ``zoom``): the
    window's CSS width, devicePixelRatio and every figure's width, in layout terms, as seen by the page."""
    import math
    import tempfile

    from playwright.sync_api import sync_playwright

    probe = ("() => ({innerWidth: innerWidth, dpr: devicePixelRatio, figures: [...document.querySelectorAll("
             "'.js-plotly-plot')].map(g => Math.round(g.getBoundingClientRect().width * 10) / 10)})")
    size = next(name for name, (_, scale) in SIZES.items() if scale == zoom)
    url, server = serve(folder)
    rows = []
    try:
        with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
            level = math.log(zoom) / math.log(1.2)  # Chromium's zoom levels are powers of 1.2
            (Path(profile) / "Default").mkdir()
            (Path(profile) / "Default" / "Preferences").write_text(json.dumps(
                {"partition": {"default_zoom_level": {"x": level}}}))
            real = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, no_viewport=True,
                                                        args=CHROMIUM_ARGS + ["--window-size=1280,720"])
            page = real.pages[0] if real.pages else real.new_page()
            measure(page, f"{url}/{path}", size)
            rows.append({"how": f"real zoom {zoom:.0%}, window 1280x720", **page.evaluate(probe)})
            real.close()
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = new_context(browser, size)
            page = context.new_page()
            measure(page, f"{url}/{path}", size)
            rows.append({"how": f"emulated {size}: viewport {SIZES[size][0]}, scale {zoom}", **page.evaluate(probe)})
            browser.close()
    finally:
        server.shutdown()
    return rows


def table(records: list[dict], sizes: list[str], pages: list[str]) -> str:
    """Faults per page (rows) and size (columns), as 'total (clipped/overlap/scroll)'."""
    cell = {}
    for r in records:
        kinds = Counter(f["kind"] for f in r["report"]["faults"])
        total = sum(kinds.values())
        cell[r["size"], r["page"]] = (f"{total} ({kinds['clipped']}/{kinds['overlap']}/{kinds['page-scroll']})"
                                      if total else "0")
    width = max(len(p) for p in pages) + 2
    lines = ["faults per page and size: total (clipped / overlapping / page scrolls sideways)",
             "page".ljust(width) + "".join(s.rjust(18) for s in sizes)]
    for path in pages:
        lines.append(path.ljust(width) + "".join(cell.get((s, path), "-").rjust(18) for s in sizes))
    totals = [sum(len(r["report"]["faults"]) for r in records if r["size"] == s) for s in sizes]
    lines.append("total".ljust(width) + "".join(str(t).rjust(18) for t in totals))
    return "\n".join(lines)


def worst(records: list[dict], n: int) -> list[str]:
    """The ``n`` worst faults, at most one per figure and size so that they show ``n`` different places to fix:
    clipped texts by the px hidden, overlaps by the side of the square of the same area, sideways scroll by
    the px it scrolls."""
    faults = [(r["size"], r["page"], f) for r in records for f in r["report"]["faults"]]
    faults.sort(key=lambda x: -(x[2]["severity"] ** 0.5 if x[2]["kind"] == "overlap" else x[2]["severity"]))
    seen, out = set(), []
    for size, page, f in faults:
        if (size, page, f["figure"]) not in seen:
            seen.add((size, page, f["figure"]))
            out.append(f"[{size}] {page}: {f['message']}")
    return out[:n]


def report(records: list[dict], sizes: list[str], pages: list[str], args) -> None:
    print(table(records, sizes, pages))
    print(f"\nthe {args.worst} worst:")
    for line in worst(records, args.worst):
        print("  " + line)
    overlaps = [dict(r, report=dict(r["report"], faults=[f for f in r["report"]["faults"] if f["kind"] == "overlap"]))
                for r in records]
    print(f"\nthe {args.worst} worst overlaps:")
    for line in worst(overlaps, args.worst):
        print("  " + line)
    print("\nper figure: on-screen height with sliders/menus (px) and smallest text (px), per size")
    for r in records:
        for f in r["report"]["figures"]:
            controls = ", ".join(f"{c['what']} at y={c['y']:.0f} ({c['height']:.0f} tall)" for c in f["controls"])
            print(f"  [{r['size']}] {r['page']} figure {f['index']} \"{f['title']}\": height {f['height']:.0f}, "
                  f"smallest text {f['minFontPx'] or 0:.1f}; controls: {controls or 'none'}")
    if args.all:
        for r in records:
            if r["report"]["faults"]:
                print(f"\n[{r['size']}] {r['page']}: {len(r['report']['faults'])} fault(s)")
                for f in r["report"]["faults"]:
                    print("  - " + f["message"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--html", type=Path, default=None, help="built book folder (default $TYSHARE_BUILT or _build/html)")
    ap.add_argument("--pages", nargs="*", default=None, help="pages under the folder (default: the toc's)")
    ap.add_argument("--sizes", nargs="*", default=list(SIZES), choices=list(SIZES))
    ap.add_argument("--worst", type=int, default=10, help="how many worst faults to print (default 10)")
    ap.add_argument("--all", action="store_true", help="print every fault, grouped by size and page")
    ap.add_argument("--json", type=Path, default=None, help="write every record to this file")
    ap.add_argument("--screenshots", type=Path, default=None, help="save full-page screenshots in this folder")
    ap.add_argument("--from-json", type=Path, default=None, help="print the report of a run saved with --json")
    ap.add_argument("--check-zoom", action="store_true",
                    help="only compare Chromium's real 150 %% zoom with the emulation the test uses")
    args = ap.parse_args(argv)
    folder = (args.html or BUILT).resolve()
    if args.from_json:
        records = json.loads(args.from_json.read_text())
        sizes = [s for s in SIZES if any(r["size"] == s for r in records)]
        pages = list(dict.fromkeys(r["page"] for r in records))
        report(records, sizes, pages, args)
        return 0
    if args.check_zoom:
        for row in check_zoom(folder):
            print(row)
        return 0
    pages = args.pages or book_pages()
    if not (folder / pages[0]).exists():
        print(f"no built book at {folder}: run `jupyter-book build . --all -W` or give --html", file=sys.stderr)
        return 0
    start, cpu = time.perf_counter(), time.process_time()
    records = run(folder, pages, args.sizes, args.screenshots)
    wall = time.perf_counter() - start
    print(f"built book: {folder}   ({len(pages)} pages × {len(args.sizes)} sizes in {wall:.0f} s wall, "
          f"{time.process_time() - cpu:.1f} s CPU in this process; Chromium's own CPU not counted)\n")
    report(records, args.sizes, pages, args)
    if args.json:
        args.json.write_text(json.dumps(records, indent=1, ensure_ascii=False))
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TYSHARE_PROGRESS", "0")
    sys.exit(main())
