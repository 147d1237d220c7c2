"""Speed of what readers wait for: live widget reactions and notebook execution times.

    python benchmarks/bench.py            # everything but lab
    python benchmarks/bench.py widgets    # only the live widgets
    python benchmarks/bench.py notebooks  # only the chapters
    python benchmarks/bench.py browser    # only the built pages (needs the build and Chromium)
    python benchmarks/bench.py lab        # only the live explorers in JupyterLab (Chromium)

A benchmark, not a test: it reports medians against the budgets the issues name and exits 0.
Results are also written to benchmarks/results/latest.json (not committed). The tying, convolution and ALBERT
widgets are timed here; every later chapter brings ``benchmarks/bench_<chapter>.py`` (found by ``chapter_modules``).
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TYSHARE_DEVICE", "cpu")
os.environ.setdefault("TYSHARE_PROGRESS", "0")


def _summary(samples_s: list[float]) -> dict:
    ms = sorted(1000 * s for s in samples_s)
    return {"median_ms": round(statistics.median(ms), 2), "p90_ms": round(ms[int(0.9 * (len(ms) - 1))], 2),
            "max_ms": round(ms[-1], 2), "n": len(ms)}


def reaction_times(explorer, name: str, values: list) -> list[float]:
    """Time from a control's value being set to the live figure being updated, for each value in turn."""
    _ = explorer.widget
    samples = []
    for v in values:
        start = time.perf_counter()
        explorer.set(**{name: v})
        samples.append(time.perf_counter() - start)
    return samples


def bench_widgets() -> dict:
    from tyshare_lib.tying import make_two_tasks
    from tyshare_lib.viz import tying as viz_tying

    results = {}
    tasks = make_two_tasks()
    start = time.perf_counter()
    ex = viz_tying.lambda_explorer(tasks)
    results["tying: build explorer"] = {"ms": round(1000 * (time.perf_counter() - start), 1)}
    start = time.perf_counter()
    fig = ex.static_figure()
    results["tying: static frames"] = {"ms": round(1000 * (time.perf_counter() - start), 1),
                                       "frames": len(fig["frames"])}
    lams = viz_tying.LIVE_LAMBDAS
    sweep = [lams[i] for i in list(range(1, len(lams))) + list(range(len(lams) - 2, -1, -1))]
    results["tying: λ widget reaction (budget 30 ms)"] = _summary(reaction_times(ex, "lam", sweep * 2))
    results.update(bench_conv_widgets())
    results.update(bench_albert_widgets())
    for name, module in chapter_modules():
        if hasattr(module, "bench"):
            results.update({f"{name}: {k}": v for k, v in module.bench().items()})
    return results


def chapter_modules() -> list[tuple[str, object]]:
    """The newer chapters' benchmark modules, ``benchmarks/bench_<chapter>.py``, each with ``bench() -> dict``
    (live explorer reaction times) and ``gpu_check()`` (its model on ``default_device()``, run by gpu_check.py)."""
    import importlib.util

    found = []
    for path in sorted(Path(__file__).parent.glob("bench_*.py")):
        if not (ROOT / "book" / f"{path.stem.removeprefix('bench_')}.ipynb").exists():
            continue  # bench_pages.py, bench_lab.py: not a chapter's
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        found.append((path.stem.removeprefix("bench_"), module))
    return found


def bench_conv_widgets() -> dict:
    from tyshare_lib.conv import load_image
    from tyshare_lib.viz import conv as viz_conv

    results = {}
    image = load_image(32)
    kernel = tuple(w for row in viz_conv.PRESETS["vertical edge"] for w in row)
    samples = []
    for trial in range(5):  # a new kernel each time, so the cache cannot help
        k = (kernel[0] + trial * 1e-3, *kernel[1:])
        start = time.perf_counter()
        n = len(viz_conv.compute_slide(image, k, 1, 0).steps)
        frames = [viz_conv.slide_patch(image, k, 1, 0, step) for step in range(1, n + 1)]
        samples.append(time.perf_counter() - start)
    results["conv: all frames, 32×32 image, 3×3 kernel (budget 200 ms)"] = {
        **_summary(samples), "frames": len(frames)}
    ex = viz_conv.kernel_explorer(size=16)
    start = time.perf_counter()
    fig = ex.static_figure()
    results["conv: book animation, 16×16, 4 presets × 2 strides × 2 paddings"] = {
        "ms": round(1000 * (time.perf_counter() - start), 1), "frames": len(fig["frames"])}
    _ = ex.widget
    editor = ex.controls["kernel"]
    samples = []
    for i in range(40):  # the reader edits the centre weight
        weights = list(editor.value)
        weights[4] = 1.0 + 0.05 * (i + 1)
        start = time.perf_counter()
        editor.value = tuple(weights)
        samples.append(time.perf_counter() - start)
    results["conv: live widget, edited weight (budget 50 ms)"] = _summary(samples)
    results["conv: live widget, step slider"] = _summary(reaction_times(ex, "step", list(range(2, 150))))
    return results


def bench_albert_widgets() -> dict:
    import torch

    from tyshare_lib.albert import PRESETS, AlbertConfig, AlbertEncoder, count_parameters, time_forward
    from tyshare_lib.viz import albert as viz_albert

    results = {}
    for name in PRESETS:
        config = AlbertConfig.preset(name)
        reps = 1000
        start = time.perf_counter()
        for _ in range(reps):
            count_parameters(config)
        results[f"albert: count_parameters({name}) (budget 1 ms)"] = {
            "us": round(1e6 * (time.perf_counter() - start) / reps, 1)}
    ex = viz_albert.parameter_counter()
    layers = list(range(1, 49)) + list(range(47, 0, -1))
    results["albert: counter reaction, layers slider (budget 30 ms)"] = _summary(
        reaction_times(ex, "num_hidden_layers", layers))
    results["albert: counter reaction, sharing buttons"] = _summary(
        reaction_times(ex, "sharing", ["none", "attention", "ffn", "all"] * 10))
    torch.manual_seed(0)
    ids = torch.randint(0, 30000, (8, 128))
    for sharing in ("all", "none"):
        config = AlbertConfig.preset("albert-base", sharing=sharing)
        start = time.perf_counter()
        model = AlbertEncoder(config, device=os.environ["TYSHARE_DEVICE"]).eval()
        built = time.perf_counter() - start
        seconds = time_forward(model, ids, repeats=3)
        results[f"albert: ALBERT-base sharing={sharing}: build, forward 8×128"] = {
            "build_ms": round(1000 * built, 1), "forward_ms": round(1000 * seconds, 1),
            "parameters": sum(p.numel() for p in model.parameters())}
    return results


def bench_notebooks() -> dict:
    import nbformat
    from nbclient import NotebookClient

    results = {}
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
        client.execute()
        results[f"notebook {path.name} (kernel start included)"] = {"s": round(time.perf_counter() - start, 2)}
    return results


def bench_browser() -> dict:
    """Built pages in headless Chromium (network blocked): per page, bytes and the times to the first figure, the
    first screen's figures and every figure painted (median of 5 loads, cold and coming from the book's first
    page, ``bench_pages.py``); and the convolution animation's frame rate."""
    sys.path.insert(0, str(ROOT / "tests"))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_pages
    from conftest import BUILT

    if not (BUILT / "book" / "conv.html").exists():
        return {"browser": "skipped: build the book first (jupyter-book build . --all -W)"}
    results = {f"page {path}": r for path, r in bench_pages.measure(BUILT, loads=5).items()}
    results.update({f"page {path} (from the first page)": r
                    for path, r in bench_pages.measure(BUILT, loads=5, warm=True).items()})
    results["browser: conv animation playing (150 ms a frame = 6.7 fps asked)"] = bench_pages.animation_rate(BUILT)
    return results


def bench_lab() -> dict:
    """Live explorers in JupyterLab: key press to redraw, against a bare FigureWidget measured in the same run."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_lab as lab

    return lab.bench()


def main(argv: list[str]) -> None:
    which = set(argv) or {"widgets", "notebooks", "browser"}  # "lab" takes minutes: asked for by name
    results = {}
    if "widgets" in which:
        results.update(bench_widgets())
    if "notebooks" in which:
        results.update(bench_notebooks())
    if "browser" in which:
        results.update(bench_browser())
    if "lab" in which:
        results.update(bench_lab())
    import torch

    results["_machine"] = {"cpus": os.cpu_count(), "torch": torch.__version__, "device": os.environ["TYSHARE_DEVICE"]}
    for key, value in results.items():
        print(f"{key:55s} {value}")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
