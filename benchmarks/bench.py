"""Speed of what readers wait for: live widget reactions and notebook execution times.

    python benchmarks/bench.py            # everything
    python benchmarks/bench.py widgets    # only the live widgets
    python benchmarks/bench.py notebooks  # only the chapters

A benchmark, not a test: it reports medians against the budgets the issues name and exits 0.
Results are also written to benchmarks/results/latest.json (not committed).
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


def main(argv: list[str]) -> None:
    which = set(argv) or {"widgets", "notebooks"}
    results = {}
    if "widgets" in which:
        results.update(bench_widgets())
    if "notebooks" in which:
        results.update(bench_notebooks())
    import torch

    results["_machine"] = {"cpus": os.cpu_count(), "torch": torch.__version__, "device": os.environ["TYSHARE_DEVICE"]}
    for key, value in results.items():
        print(f"{key:55s} {value}")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
