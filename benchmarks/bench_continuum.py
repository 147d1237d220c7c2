"""Benchmark and GPU check of the continuum chapter (wired into bench.py / gpu_check.py by the lead)."""
from __future__ import annotations

import math
import statistics
import time

import torch


def bench() -> dict:
    """Explorer reaction times (median, p90) over λ and the filter menu, and the sweep's training time."""
    from tyshare_lib.viz import continuum as viz

    start = time.perf_counter()
    sweep = viz.compute_sweep(device="cpu")
    train_s = time.perf_counter() - start
    ex = viz.lambda_explorer(sweep)
    _ = ex.widget
    samples = []
    for _ in range(3):
        for lam in sweep.lams[1:] + sweep.lams[::-1]:
            t = time.perf_counter()
            ex.set(lam=lam)
            samples.append(time.perf_counter() - t)
    for c in (1, 2, 0):
        t = time.perf_counter()
        ex.set(channel=c)
        samples.append(time.perf_counter() - t)
    ms = sorted(1000 * s for s in samples)
    return {"continuum: sweep (18 networks)": {"s": round(train_s, 2)},
            "continuum: λ widget reaction (budget 30 ms)": {
                "median_ms": round(statistics.median(ms), 1), "p90_ms": round(ms[int(0.9 * (len(ms) - 1))], 1),
                "n": len(ms)}}


def gpu_check() -> None:
    """The layer and the trainer on default_device(), against F.conv2d and the CPU; one line per check."""
    from tyshare_lib import default_device
    from tyshare_lib.continuum import (LocallyConnected2d, make_canvas_digits, position_tying_penalty,
                                       sweep_continuum)

    dev = default_device()
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 8, 5, stride=2, padding=2, device=dev)
    local = LocallyConnected2d.from_conv2d(conv, 32)
    x = torch.randn(16, 3, 32, 32, device=dev)
    err = float((local(x) - conv(x)).abs().max())
    print(f"continuum: LocallyConnected2d on {dev} equals F.conv2d to {err:.1e}; "
          f"Ω = {position_tying_penalty(local).item()}")
    assert local.weight.device.type == dev.type and err < 1e-4 and position_tying_penalty(local).item() == 0

    data = [make_canvas_digits(5, seed=s, device=dev) for s in (0, 1)]
    lams = [0.0, 0.1, math.inf]
    start = time.perf_counter()
    on_dev = sweep_continuum(data, lams, [0, 1], steps=40, device=dev)
    took = time.perf_counter() - start
    on_cpu = sweep_continuum([make_canvas_digits(5, seed=s, device="cpu") for s in (0, 1)], lams, [0, 1],
                             steps=40, device="cpu")
    gap = max(abs(float(a.losses[-1]) - float(b.losses[-1])) for a, b in zip(on_dev, on_cpu))
    acc_gap = max(abs(a.test_accuracy - b.test_accuracy) for a, b in zip(on_dev, on_cpu))
    print(f"continuum: 6 networks × 40 steps on {dev} in {took:.2f} s; final loss within {gap:.1e} of the CPU's, "
          f"held-out accuracy within {acc_gap:.3f}")
    assert on_dev[0].model.head.weight.device.type == dev.type
    assert gap < 1e-2 and acc_gap < 0.02


if __name__ == "__main__":
    gpu_check()
    print(bench())
