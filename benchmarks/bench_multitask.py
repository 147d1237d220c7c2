"""Multi-task chapter: the λ explorer's reaction time and the sweep's cost (bench), the models on the GPU (gpu_check).

Run by ``benchmarks/bench.py`` (``bench()``) and ``benchmarks/gpu_check.py`` (``gpu_check()``); also runnable
alone: ``python benchmarks/bench_multitask.py [gpu]``.
"""
from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TYSHARE_PROGRESS", "0")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tyshare_lib.device import default_device  # noqa: E402
from tyshare_lib.multitask import (TRUNK, TwoTaskNet, count_parameters, make_task_pair,  # noqa: E402
                                   sweep_multitask, train_multitask)

INF = math.inf
from bench import _summary  # noqa: E402 (one timing helper for every chapter)


def bench() -> dict:
    """The book's sweep (7 λ × 5 seeds, one task B) timed in CPU seconds; the explorer's reaction to each control."""
    from tyshare_lib.viz import multitask as viz

    results = {}
    cpu, wall = time.process_time(), time.perf_counter()
    sweeps = {"relabelled": sweep_multitask("relabelled", viz.LAMBDAS, range(5), device="cpu")}
    results["sweep of 35 network pairs (one task B)"] = {"cpu_s": round(time.process_time() - cpu, 2),
                                                         "wall_s": round(time.perf_counter() - wall, 2)}
    sweeps["permuted"] = sweep_multitask("permuted", viz.LAMBDAS, range(5), steps=10, device="cpu")  # shape only
    curves = {t: viz.compute_lambda_curves(s) for t, s in sweeps.items()}
    start = time.perf_counter()
    ex = viz.lambda_explorer(curves)
    _ = ex.widget
    results["build explorer"] = {"ms": round(1000 * (time.perf_counter() - start), 1)}
    start = time.perf_counter()
    static = ex.static_figure()
    results["static frames"] = {"ms": round(1000 * (time.perf_counter() - start), 1), "frames": len(static["frames"])}
    samples = []
    for _round in range(3):
        for lam in viz.LAMBDAS:
            start = time.perf_counter()
            ex.set(lam=lam)
            samples.append(time.perf_counter() - start)
    results["λ slider reaction (budget 30 ms)"] = _summary(samples)
    samples = []
    for _round in range(5):
        for task in ("permuted", "relabelled"):
            start = time.perf_counter()
            ex.set(task=task)
            samples.append(time.perf_counter() - start)
    results["task buttons reaction (budget 30 ms)"] = _summary(samples)
    return results


def gpu_check() -> None:
    """Both trainers on default_device(), against the CPU and against each other; one line per check."""
    dev = default_device()
    pair_cpu = make_task_pair("relabelled", seed=0, device="cpu")
    pair_dev = make_task_pair("relabelled", seed=0, device=dev)
    m = TwoTaskNet(tie_layers=TRUNK, shared=True, device=dev)
    n = sum(p.numel() for p in m.parameters())
    print(f"multitask: shared trunk on {dev}: one module {m.net_a.hidden1 is m.net_b.hidden1}, "
          f"{n} parameters (closed form {count_parameters(shared=True)})")
    assert m.net_a.hidden1.weight.device.type == dev.type and n == count_parameters(shared=True)
    for lam in (0.0, 1e-2, INF):
        start = time.perf_counter()
        r_dev = train_multitask(pair_dev, lam, steps=100, seed=0, device=dev)
        took = time.perf_counter() - start
        r_cpu = train_multitask(pair_cpu, lam, steps=100, seed=0, device="cpu")
        first = float((r_dev.losses[:10] - r_cpu.losses[:10]).abs().max())
        print(f"multitask: λ={lam}: {dev} vs cpu, loss over the first 10 steps differs by {first:.1e}; held-out B "
              f"{r_dev.acc_b:.3f} vs {r_cpu.acc_b:.3f}, A {r_dev.acc_a:.3f} vs {r_cpu.acc_a:.3f} ({took * 1000:.0f} ms)")
        assert first < 1e-3 and abs(r_dev.acc_b - r_cpu.acc_b) < 0.05 and abs(r_dev.acc_a - r_cpu.acc_a) < 0.03
        assert r_dev.model.net_a.hidden1.weight.device.type == dev.type
    lams = [0.0, 1e-2, INF]
    start = time.perf_counter()
    s = sweep_multitask("relabelled", lams, [0], device=dev)
    took = time.perf_counter() - start
    for i, lam in enumerate(lams):
        r = train_multitask(pair_dev, lam, seed=0, device=dev)
        diff = abs(float(s.acc_b[0, i, 0]) - r.acc_b)
        print(f"multitask: batched sweep on {dev} vs one run, λ={lam}: held-out B differs by {diff:.4f} "
              f"(sweep of 3 runs: {took * 1000:.0f} ms)")
        assert diff < 0.02
    start = time.perf_counter()
    big = sweep_multitask("relabelled", [0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, INF], range(5), device=dev)
    print(f"multitask: the book's sweep of 35 pairs on {dev}: {time.perf_counter() - start:.2f} s; "
          f"mean held-out B alone {float(big.acc_b[0, 0].mean()):.3f}, shared {float(big.acc_b[0, -1].mean()):.3f}")
    assert float(big.acc_b[0, -1].mean()) > float(big.acc_b[0, 0].mean())


if __name__ == "__main__":
    if sys.argv[1:] == ["gpu"]:
        gpu_check()
    else:
        for key, value in bench().items():
            print(f"{key}: {value}")
