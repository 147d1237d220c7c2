"""Benchmarks of the recurrent chapter (book/recurrent.ipynb): explorer reactions and the GPU check.

    python benchmarks/bench_recurrent.py          # bench(): live explorer reaction times (CPU)
    python benchmarks/bench_recurrent.py gpu      # gpu_check(): the module on default_device()

``bench()`` and ``gpu_check()`` are what benchmarks/bench.py and benchmarks/gpu_check.py call.
"""
from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("TYSHARE_PROGRESS", "0")

import torch  # noqa: E402

from tyshare_lib import default_device  # noqa: E402
from bench import _summary, reaction_times as _reactions  # noqa: E402 (one timing helper for every chapter)


def bench() -> dict:
    """Build times, static frame counts and live reaction times of the chapter's two explorers."""
    from tyshare_lib.viz import recurrent as viz

    results = {}
    start = time.perf_counter()
    ex = viz.unrolled_explorer()
    results["unrolled: build explorer"] = {"ms": round(1000 * (time.perf_counter() - start), 1)}
    start = time.perf_counter()
    fig = ex.static_figure()
    results["unrolled: static frames"] = {"ms": round(1000 * (time.perf_counter() - start), 1),
                                          "frames": len(fig["frames"])}
    sweep = list(range(2, viz.MAX_T + 1)) + list(range(viz.MAX_T - 1, 0, -1))
    results["unrolled: T widget reaction (budget 30 ms)"] = _summary(_reactions(ex, "T", sweep * 2))

    start = time.perf_counter()
    profile = viz.compute_gradient_profiles()
    results["gradient: precompute profiles"] = {"ms": round(1000 * (time.perf_counter() - start), 1)}
    ex = viz.gradient_explorer(profile, rho=profile.rhos[0])
    fig = ex.static_figure()
    results["gradient: static frames"] = {"frames": len(fig["frames"])}
    rhos = profile.rhos
    sweep = rhos[1:] + rhos[-2::-1]
    results["gradient: ρ widget reaction (budget 30 ms)"] = _summary(_reactions(ex, "rho", sweep * 2))
    return results


def gpu_check() -> None:
    """unroll, the per-step gradients and the regressor on default_device(), against the module and the CPU."""
    from tyshare_lib.recurrent import (RegressorConfig, count_recurrent_parameters, evaluate, make_module,
                                       step_gradients, train_regressor, unroll)

    dev = default_device()
    print(f"recurrent: device {dev}")
    for cell, nonlinearity in (("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")):
        for bidirectional in (False, True):
            cpu = make_module(cell, 5, 16, 2, batch_first=True, bidirectional=bidirectional,
                              nonlinearity=nonlinearity, dtype=torch.float64, device="cpu")
            gpu = make_module(cell, 5, 16, 2, batch_first=True, bidirectional=bidirectional,
                              nonlinearity=nonlinearity, dtype=torch.float64, device=dev)
            gpu.load_state_dict(cpu.state_dict())
            x = torch.randn(4, 30, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
            with torch.no_grad():
                ours, _ = unroll(gpu, x.to(dev))
                module_gpu, _ = gpu(x.to(dev))
                module_cpu, _ = cpu(x)
            assert ours.device.type == dev.type
            d_module = float((ours - module_gpu).abs().max())
            d_cpu = float((ours.cpu() - module_cpu).abs().max())
            print(f"recurrent: unroll {cell}/{nonlinearity} bidirectional={bidirectional} on {dev.type}: "
                  f"vs module there {d_module:.1e}, vs CPU module {d_cpu:.1e}")
            assert d_module < 1e-6 and d_cpu < 1e-6
            assert sum(p.numel() for p in gpu.parameters()) == count_recurrent_parameters(
                cell, 5, 16, 2, bidirectional=bidirectional).total
    m = make_module("lstm", 5, 16, dtype=torch.float64, device=dev)
    sg = step_gradients(m, torch.randn(25, 3, 5, dtype=torch.float64, device=dev), lambda o, s: o[-1].sum())
    err = max(float((sg.per_step[n].sum(0) - sg.tied[n]).abs().max()) for n in sg.tied)
    print(f"recurrent: 25 per-step gradients on {dev.type} sum to the tied gradient within {err:.1e}")
    assert err < 1e-10
    start = time.perf_counter()
    r = train_regressor(RegressorConfig(hidden_size=8), steps=150, lr=2e-2, device=dev)
    took = time.perf_counter() - start
    ev = evaluate(r.model, [10, 50])
    first, last = sum(r.losses[:10]) / 10, sum(r.losses[-10:]) / 10
    print(f"recurrent: tied GRU on {dev.type}, 150 steps in {took:.1f} s: loss {first:.3f} -> {last:.4f}, "
          f"held-out MSE {ev[10]:.4f} at length 10, {ev[50]:.4f} at 50")
    assert last < first / 3 and next(r.model.parameters()).device.type == dev.type


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "gpu":
        gpu_check()
    else:
        for k, v in bench().items():
            print(f"{k}: {v}")
