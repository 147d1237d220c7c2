"""Live explorers in JupyterLab: key press on a slider to the figure redrawn, against a bare FigureWidget.

    python benchmarks/bench_lab.py                 # every explorer, 15 presses each
    python benchmarks/bench_lab.py tying conv      # only the explorers whose name contains a word given
    python benchmarks/bench_lab.py --presses 30    # more presses each (default 15)

JupyterLab is started as ``tests/test_jupyterlab.py`` starts it (the repository's ``jupyter/jupyter_lab_config.py``,
loopback, fresh settings and workspaces, over a temporary folder: nothing is autosaved into the repository).
It opens a generated notebook holding (a) the *floor*: a bare plotly ``FigureWidget`` whose ipywidgets slider
changes one title, and (b) every chapter's live explorer, built cheaply (few training steps: the figures have
the book's shapes, not its numbers). Chromium (every non-loopback request blocked) focuses each slider's handle,
presses an arrow key, and times in the page, from the keydown to the last plotly.js event (``plotly_update``,
``plotly_relayout``, ..., or the overlay's own ``tyshare_moved``) of the figure or of the overlay a live explorer draws
its moving traces in: the redraw
the key caused (slider -> kernel -> ``Explorer.update`` -> comm -> plotly.js), and to the next animation frame
after it (painted). The first press of each is a warm-up, reported apart (``first_press_ms``: for an explorer,
the press that splits its figure into the big one and the overlay). Median of ``PRESSES`` presses each, the
floor's presses alternating with the explorer's; ``ratio`` = explorer median / the floor's median over those
presses (issue 7 asks ≤ 1.2).

Before/after a change of the library: ``TYSHARE_BENCH_LAB_PATH=/tmp/old`` puts another copy of ``tyshare_lib``
(e.g. ``git archive HEAD tyshare_lib | tar -x -C /tmp/old``) first on the kernel's path.
``BENCH_LAB_SETUP_S`` bounds the wait for the notebook to run (default 900 s; the training cells are slow under
load). ``bench()`` returns the same numbers as a dict, keyed for ``benchmarks/bench.py`` (whose ``chapter_modules()``
skips this module: it is not a chapter's, and it starts JupyterLab and a browser).
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import start_lab as conftest_start_lab  # noqa: E402

TOKEN = "tied-and-shared-bench"
PRESSES = 15
NOTEBOOK = "bench_lab.ipynb"

SETUP = """\
import os
os.environ["TYSHARE_PROGRESS"] = "0"
os.environ.setdefault("TYSHARE_DEVICE", "cpu")
import time
import ipywidgets as widgets
import plotly.graph_objects as go
import torch
torch.set_num_threads(1)
LIVE = {}

def bench_show(name, explorer, control):
    \"\"\"Mark the slider the browser presses and the explorer's box, and remember the explorer.\"\"\"
    box = explorer.widget
    explorer.controls[control].add_class("bench-slider")
    box.add_class("bench-explorer")
    box.add_class("bench-x-" + "".join(c if c.isalnum() else "-" for c in name.encode("ascii", "replace").decode()))
    LIVE[name] = explorer
    return box
"""

BARE = """\
# bench: bare
bare_figure = go.FigureWidget(go.Scatter(x=[0, 1, 2], y=[1, 3, 2]), layout=dict(title=dict(text="k = 0")))
bare_slider = widgets.IntSlider(value=0, min=0, max=50, description="k")
bare_slider.observe(lambda change: setattr(bare_figure.layout.title, "text", f"k = {change['new']}"), names="value")
bare_slider.add_class("bench-slider")
bare_box = widgets.VBox([bare_slider, bare_figure])
bare_box.add_class("bench-explorer")
bare_box.add_class("bench-x-bare")
bare_box
"""

# (name, control pressed, cell source ending in the explorer's widget); built as in each chapter's notebook
EXPLORERS: list[tuple[str, str, str]] = [
    ("tying λ", "lam", """\
from tyshare_lib.tying import make_two_tasks
from tyshare_lib.viz import tying as viz_tying
bench_show("tying λ", viz_tying.lambda_explorer(make_two_tasks()), "lam")"""),
    ("conv kernel step", "step", """\
from tyshare_lib.viz import conv as viz_conv
bench_show("conv kernel step", viz_conv.kernel_explorer(size=16), "step")"""),
    ("conv parameters", "size", """\
from tyshare_lib.viz import conv as viz_conv
bench_show("conv parameters", viz_conv.parameter_explorer(size=32), "size")"""),
    ("albert counter", "num_hidden_layers", """\
from tyshare_lib.viz import albert as viz_albert
bench_show("albert counter", viz_albert.parameter_counter(), "num_hidden_layers")"""),
    ("recurrent unrolled", "T", """\
from tyshare_lib.viz import recurrent as viz_rec
bench_show("recurrent unrolled", viz_rec.unrolled_explorer(T=5), "T")"""),
    ("recurrent gradient", "rho", """\
from tyshare_lib.viz import recurrent as viz_rec
bench_show("recurrent gradient", viz_rec.gradient_explorer(viz_rec.compute_gradient_profiles(), rho=1.0), "rho")"""),
    ("embeddings vocab", "vocab_size", """\
from tyshare_lib.viz import embeddings as viz_emb
bench_show("embeddings vocab", viz_emb.vocab_explorer(), "vocab_size")"""),
    ("autoencoder k", "k", """\
from sklearn.decomposition import PCA
from tyshare_lib.autoencoder import train_bottlenecks
from tyshare_lib.digits import split_digits
from tyshare_lib.viz import autoencoder as viz_ae
s = split_digits(test_fraction=0.3, seed=0, device="cpu")
mean = s.X_train.mean(0)
Xtr, Xte = s.X_train - mean, s.X_test - mean
tied = {k: m for k, (m, _) in train_bottlenecks(Xtr, list(range(1, 17)), steps=10, device="cpu").items()}
untied = {k: m for k, (m, _) in train_bottlenecks(Xtr, [2, 4, 8, 16], tied=False, steps=10, device="cpu").items()}
sweep = viz_ae.compute_sweep(Xte, mean, tied, untied, PCA(16).fit(Xtr.numpy()).components_)
bench_show("autoencoder k", viz_ae.reconstruction_explorer(sweep, k=4), "k")"""),
    ("continuum λ", "lam", """\
from tyshare_lib.viz import continuum as viz_cont
bench_show("continuum λ", viz_cont.lambda_explorer(viz_cont.compute_sweep(seeds=(0, 1, 2), steps=5, device="cpu")),
           "lam")"""),
    ("multitask λ", "lam", """\
from tyshare_lib.multitask import sweep_multitask, TRUNK
from tyshare_lib.viz import multitask as viz_mt
curves = {t: viz_mt.compute_lambda_curves(sweep_multitask(t, viz_mt.LAMBDAS, range(5), tie_sets=[TRUNK], steps=5,
                                                           device="cpu"))
          for t in ("relabelled", "permuted")}
bench_show("multitask λ", viz_mt.lambda_explorer(curves, task="relabelled", lam=1e-2), "lam")"""),
    ("distill T", "temperature", """\
from tyshare_lib.digits import split_digits
from tyshare_lib.distill import Net, NetConfig, labelled_subset, train_students, train_teacher
from tyshare_lib.viz import distill as viz_dist
split = split_digits(0.3, seed=0, device="cpu")
teacher = Net(NetConfig(widths=(64, 64), hint_layer=1), device="cpu", seed=0)
train_teacher(teacher, split.X_train, split.y_train, steps=20)
HW, TS = [0.0, 0.003, 0.01], [1.0, 3.0, 9.0]
run = train_students(teacher, viz_dist.grid_recipes(HW, TS, alpha=0.5), [0] * 9,
                     labelled_subset(split.X_train, split.y_train, per_class=5, seed=0), split.X_train,
                     config=NetConfig(widths=(12, 12, 12), hint_layer=1), steps=40, X_test=split.X_test,
                     y_test=split.y_test, log_every=4, device="cpu")
bench_show("distill T", viz_dist.grid_explorer(viz_dist.compute_grid(run, HW, TS), hint_weight=0.0, temperature=3.0),
           "temperature")"""),
    ("siamese pair", "second", """\
from tyshare_lib.digits import load_digits_tensors, split_digits
from tyshare_lib.siamese import BranchConfig, pair_distances, sample_pairs, siamese_and_twin, train_siamese
from tyshare_lib.viz import siamese as viz_siam
seen = split_digits(test_fraction=0.3, seed=0, classes=range(7))
X, y = load_digits_tensors(device="cpu")
X_new, y_new = X[y >= 7], y[y >= 7]
siamese, _ = siamese_and_twin(BranchConfig(input_size=64, hidden_size=64, embedding_size=16), seed=0, device="cpu")
train_siamese(siamese, seen.X_train, seen.y_train, steps=30, seed=0)
gallery = viz_siam.make_gallery(siamese, torch.cat([seen.X_test, X_new]), torch.cat([seen.y_test, y_new]), range(7))
P = sample_pairs(y_new, 2000, seed=2)
d = pair_distances(siamese, X_new, P)
picks = viz_siam.pick_digits(gallery, [1, 3, 4, 5, 7, 7, 8, 8, 9, 9])
bench_show("siamese pair", viz_siam.pair_explorer(gallery, 0.5, (d[P.same == 1].numpy(), d[P.same == 0].numpy()),
                                                  picks), "second")"""),
]


def make_notebook(names: list[str]) -> dict:
    """The benchmark's notebook: setup, the bare floor, then the chosen explorers, one cell each."""
    def code(src):
        return {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                "source": src.splitlines(keepends=True)}
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# Live explorers: key press to redraw\n"]},
             code(SETUP), code(BARE)]
    for name, control, src in EXPLORERS:
        if name in names:
            cells.append(code(f"# bench: {name}\n{src}\n"))
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                         "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def start_lab(home: Path):
    """A JupyterLab server over ``home/nb`` (conftest's ``start_lab``: the repository's config, fresh settings),
    with ``TYSHARE_BENCH_LAB_PATH`` (another copy of tyshare_lib to time, for before/after) first on the
    kernels' path; returns (process, base URL)."""
    pythonpath = os.pathsep.join(p for p in [os.environ.get("TYSHARE_BENCH_LAB_PATH", ""), str(ROOT)] if p)
    proc, base, _log = conftest_start_lab(home / "nb", home, TOKEN, pythonpath)
    return proc, base


# In the page: arm listeners on the explorer's graph div, then the key is pressed (by Playwright). A key may cause
# more than one plotly.js operation (a relayout of the title and an animate of the moving traces): the figure is
# redrawn at the last of them, taken once the div has been quiet for QUIET_MS. Resolves with {event_ms, paint_ms,
# events}: keydown -> that last event, and -> the animation frame after it.
QUIET_MS = 300
ARM = """([sel, quiet]) => {
  const box = document.querySelector(sel);
  // the figure, and the overlay the live explorers draw their moving traces in (tyshare_lib/viz/live_figure.js)
  const gds = [...box.querySelectorAll('.js-plotly-plot')];
  // the bare figure's title is a relayout; an explorer's patch an update, or a relayout and an animate; the
  // overlay's quick move (points moved in its SVG by live_figure.js, not by plotly.js) says 'tyshare_moved'
  const EVENTS = ['plotly_update', 'plotly_relayout', 'plotly_restyle', 'plotly_animated', 'plotly_transitioned',
                  'plotly_afterplot', 'tyshare_moved'];
  window.__bench = new Promise((resolve, reject) => {
    let t0 = null, last = null, paint = null, timer = null;
    const names = [];
    const onKey = e => { if (t0 === null) t0 = e.timeStamp; };
    document.addEventListener('keydown', onKey, {capture: true});
    const finish = () => {
      document.removeEventListener('keydown', onKey, {capture: true});
      for (const gd of gds) for (const ev of EVENTS) gd.removeListener(ev, handlers[ev]);
      resolve({event_ms: last - t0, paint_ms: paint - t0, events: names});
    };
    const handlers = {};
    for (const ev of EVENTS) {
      handlers[ev] = () => {
        if (t0 === null) return;
        last = performance.now(); names.push(ev);
        requestAnimationFrame(() => setTimeout(() => { paint = performance.now(); }, 0));
        clearTimeout(timer); timer = setTimeout(finish, quiet);
      };
      for (const gd of gds) gd.on(ev, handlers[ev]);
    }
    setTimeout(() => reject(new Error('no redraw within 10 s')), 10000);
  });
}"""

HANDLE = """([sel]) => {
  const h = document.querySelector(sel).querySelector('.bench-slider .noUi-handle');
  return [Number(h.getAttribute('aria-valuenow')), Number(h.getAttribute('aria-valuemin')),
          Number(h.getAttribute('aria-valuemax'))];
}"""


def css_class(name: str) -> str:
    """The class bench_show gives an explorer's box (the same rule as in SETUP)."""
    return "bench-x-" + "".join(c if c.isalnum() else "-" for c in name.encode("ascii", "replace").decode())


def find(page, name: str):
    """The explorer's box, scrolled into view and drawn: JupyterLab attaches only the cells near the view."""
    sel = "." + css_class(name)
    page.evaluate("document.querySelector('.jp-WindowedPanel-outer').scrollTo(0, 0)")
    for _ in range(400):
        if page.locator(sel).count():
            break
        page.evaluate("(o => o.scrollBy(0, o.clientHeight / 2))(document.querySelector('.jp-WindowedPanel-outer'))")
        page.wait_for_timeout(50)
    box = page.locator(sel).first
    box.scroll_into_view_if_needed()
    page.wait_for_function("sel => (document.querySelector(sel + ' .js-plotly-plot') || {}).data?.length > 0",
                           arg=sel, timeout=120_000)
    return sel, box


def measure(page, name: str, presses: int) -> list[dict]:
    """Press the explorer's slider ``presses`` times (walking right to its end, then left), timing each."""
    index, box = find(page, name)  # index: the box's CSS selector
    handle = box.locator(".bench-slider .noUi-handle").first
    direction = "ArrowRight"
    samples, samples_lost = [], []
    for _ in range(presses + 1):  # the first press warms up (its view's first update), not counted
        now, low, high = page.evaluate(HANDLE, [index])
        if direction == "ArrowRight" and now >= high:
            direction = "ArrowLeft"
        elif direction == "ArrowLeft" and now <= low:
            direction = "ArrowRight"
        for attempt in range(3):  # a press the slider missed (focus taken away) is pressed again, and counted
            handle.focus()
            page.evaluate(ARM, [index, QUIET_MS])
            page.keyboard.press(direction)
            try:
                samples.append(page.evaluate("window.__bench"))
                break
            except Exception:
                if attempt == 2:
                    raise
                samples_lost.append(direction)
        page.wait_for_timeout(100)  # the kernel settles (plotly's deltas come back to Python after each redraw)
    if samples_lost:
        print(f"{name}: {len(samples_lost)} key presses had no redraw within 10 s, pressed again",
              file=sys.stderr)
    return samples  # the first is the warm-up press (for an explorer, the one that splits off its overlay)


@contextlib.contextmanager
def lab_page(names: list[str]):  # noqa: C901 (one linear recipe)
    """JupyterLab with the benchmark notebook for ``names`` run in Chromium; yields (OfflinePage, setup info)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import CHROMIUM, CHROMIUM_ARGS, OfflinePage
    from playwright.sync_api import sync_playwright
    from test_jupyterlab import run_command

    home = Path(tempfile.mkdtemp(prefix="bench_lab_"))
    (home / "nb").mkdir()
    (home / "nb" / NOTEBOOK).write_text(json.dumps(make_notebook(names), indent=1, ensure_ascii=False))
    proc, base = start_lab(home)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = OfflinePage(browser.new_context(viewport={"width": 1280, "height": 900}).new_page())
            pg = page.page
            pg.goto(f"{base}/lab/workspaces/bench/tree/{NOTEBOOK}?reset&token={TOKEN}")
            pg.wait_for_selector(".jp-Notebook .jp-MarkdownCell", timeout=60_000)
            pg.wait_for_function("document.body.innerText.includes('| Idle')", timeout=120_000)
            start = time.perf_counter()
            run_command(pg, "Run All Cells")
            # every cell has run: the last code cell (attached once scrolled to) shows its execution count
            last_prompt = ("() => { const o = document.querySelector('.jp-WindowedPanel-outer'); o.scrollTo(0, 1e9);"
                           " const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].pop();"
                           f" const all = document.querySelectorAll('.jp-Notebook .jp-Cell').length >= {3 + len(names)};"
                           " return all && p && /\\d/.test(p.textContent); }")
            try:
                pg.wait_for_function(last_prompt, timeout=float(os.environ.get("BENCH_LAB_SETUP_S", 900)) * 1000,
                                     polling=500)
            except Exception:
                prompts = pg.evaluate("[...document.querySelectorAll('.jp-InputPrompt')].map(p => p.textContent)")
                raise RuntimeError(f"the notebook did not finish: prompts in view {prompts}, "
                                   f"console errors {page.console_errors[:5]}")
            pg.wait_for_function("document.body.innerText.includes('| Idle')", timeout=120_000)
            info = {"run_all_s": round(time.perf_counter() - start, 1)}
            errors = pg.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            if errors.count():
                info["stderr"] = [e[-300:] for e in errors.all_inner_texts()]
            yield page, info
            if page.blocked:
                info["blocked"] = page.blocked[:3]
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)


def run(words: list[str] | None = None, presses: int = PRESSES) -> dict:
    """Start JupyterLab, run the notebook, time every chosen explorer and the floor; return the results.

    The floor is measured with each explorer, press for press (bare, explorer, bare, ...): on this 2-core machine
    the floor drifts by ±30 % within a run, and each explorer's ratio is taken to the floor measured beside it.
    ``floor_ms`` in the results is that floor."""
    names = [n for n, _, _ in EXPLORERS if not words or any(w in n for w in words)]
    results: dict = {}
    cpu0 = os.times()
    with lab_page(names) as (page, info):
        results["_setup"] = info
        bare_all: list[dict] = []
        measure(page.page, "bare", 0)  # the bare widget's own warm-up press
        for name in names:
            try:
                first = measure(page.page, name, 0)[0]  # the warm-up press (for an explorer, the split)
                bare, samples = [], []
                for _ in range(presses):  # alternately: the same moment's load on both
                    bare += measure(page.page, "bare", 0)
                    samples += measure(page.page, name, 0)
            except Exception as err:  # one explorer that does not redraw must not hide the others
                results[name] = {"error": str(err).splitlines()[0][:200]}
                continue
            bare_all += bare
            floor = statistics.median(s["event_ms"] for s in bare)
            floor_paint = statistics.median(s["paint_ms"] for s in bare)
            ev = sorted(s["event_ms"] for s in samples)
            paint = sorted(s["paint_ms"] for s in samples)
            results[name] = {"median_ms": round(statistics.median(ev), 1), "p90_ms": round(ev[int(0.9 * (len(ev) - 1))], 1),
                             "paint_median_ms": round(statistics.median(paint), 1), "n": len(ev),
                             "floor_ms": round(floor, 1), "ratio": round(statistics.median(ev) / floor, 2),
                             "paint_ratio": round(statistics.median(paint) / floor_paint, 2),
                             "first_press_ms": round(first["event_ms"], 1)}
        if bare_all:
            ev = sorted(s["event_ms"] for s in bare_all)
            results["bare"] = {"median_ms": round(statistics.median(ev), 1), "min_ms": round(ev[0], 1),
                               "max_ms": round(ev[-1], 1), "n": len(ev)}
    cpu1 = os.times()
    results["_setup"]["load_avg_1min"] = round(os.getloadavg()[0], 2)  # others' load inflates every time
    results["_setup"]["cpu_s_children"] = round(
        (cpu1.children_user + cpu1.children_system) - (cpu0.children_user + cpu0.children_system), 1)
    return results


def bench() -> dict:
    """For benchmarks/bench.py: every explorer's JupyterLab reaction, the floor and their ratio."""
    return {f"JupyterLab key→redraw, {k}": v for k, v in run().items()}


if __name__ == "__main__":
    args = sys.argv[1:]
    presses = PRESSES
    if "--presses" in args:  # more presses, a steadier median: run to run, 15 presses move a ratio by ±0.2
        at = args.index("--presses")
        presses = int(args[at + 1])
        del args[at:at + 2]
    out = run(args, presses)
    for key, value in out.items():
        print(f"{key:22s} {value}")
