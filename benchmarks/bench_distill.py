"""Benchmarks of the distillation chapter (book/distill.ipynb), wired into bench.py and gpu_check.py.

    python benchmarks/bench_distill.py          # bench(): explorer reaction times and training time
    python benchmarks/bench_distill.py gpu      # gpu_check(): the trainer on default_device() vs the CPU
"""
from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("TYSHARE_PROGRESS", "0")

import torch  # noqa: E402

from tyshare_lib import default_device  # noqa: E402
from tyshare_lib.digits import split_digits  # noqa: E402
from tyshare_lib.distill import (RECIPES, Net, NetConfig, labelled_subset, members, soft_target_loss,  # noqa: E402
                                 train_students, train_teacher, hint_loss)

from bench import _summary  # noqa: E402 (one timing helper for every chapter)

TEACHER = NetConfig(widths=(64, 64), hint_layer=1)
STUDENT = NetConfig(widths=(12, 12, 12), hint_layer=1)


def _setting(device, steps: int = 150):
    split = split_digits(0.3, seed=0, device=device)
    teacher = Net(TEACHER, device=device, seed=0)
    train_teacher(teacher, split.X_train, split.y_train, steps=steps)
    return split, teacher


def bench() -> dict:
    """The β × T explorer's reaction (budget 30 ms median) and the chapter's batched training time (CPU)."""
    from tyshare_lib.viz import distill as viz

    results = {}
    hw, ts = [0.0, 0.003, 0.01], [1.0, 3.0, 9.0]
    split, teacher = _setting("cpu")
    start, cpu = time.perf_counter(), time.process_time()
    run = train_students(teacher, viz.grid_recipes(hw, ts), [0] * 9,
                         labelled_subset(split.X_train, split.y_train, 5, seed=0), split.X_train,
                         config=STUDENT, steps=200, X_test=split.X_test, y_test=split.y_test, log_every=20,
                         device="cpu")
    results["distill: 9 students × 200 steps"] = {"wall_s": round(time.perf_counter() - start, 2),
                                                  "cpu_s": round(time.process_time() - cpu, 2)}
    grid = viz.compute_grid(run, hw, ts)
    start = time.perf_counter()
    ex = viz.grid_explorer(grid)
    fig = ex.static_figure()
    results["distill: explorer + static frames"] = {"ms": round(1000 * (time.perf_counter() - start), 1),
                                                    "frames": len(fig["frames"])}
    _ = ex.widget
    samples = []
    for _ in range(3):
        for b in hw:
            for t in ts:
                start = time.perf_counter()
                ex.set(hint_weight=b, temperature=t)
                samples.append(time.perf_counter() - start)
    results["distill: β × T widget reaction (budget 30 ms)"] = _summary(samples)
    return results


def gpu_check() -> None:
    """The batched trainer on default_device() against the CPU: same losses and accuracies, one line per check."""
    dev = default_device()
    print(f"distill: device {dev}")
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(64, 10, generator=g), torch.randn(64, 10, generator=g)
    for T in (1.0, 4.0):
        on_dev = float(soft_target_loss(s.to(dev), t.to(dev), T))
        on_cpu = float(soft_target_loss(s, t, T))
        print(f"distill: soft-target loss T={T}: {on_dev:.6f} on {dev.type}, {on_cpu:.6f} on cpu")
        assert abs(on_dev - on_cpu) < 1e-4 * max(1.0, abs(on_cpu))
    hs, ht = torch.randn(32, 8, generator=g), torch.randn(32, 8, generator=g)
    assert abs(float(hint_loss(hs.to(dev), ht.to(dev))) - float(hint_loss(hs, ht))) < 1e-4
    print("distill: hint loss equal on both devices")

    results = {}
    for where in ("cpu", dev):
        split, teacher = _setting(where, steps=100)
        recipes, seeds = members(RECIPES, 2)
        labelled = [labelled_subset(split.X_train, split.y_train, 5, seed=s) for s in seeds]
        start = time.perf_counter()
        run = train_students(teacher, recipes, seeds, labelled, split.X_train, config=STUDENT, steps=100,
                             X_test=split.X_test, y_test=split.y_test, log_every=50, device=where)
        if torch.device(where).type == "cuda":
            torch.cuda.synchronize()
        took = time.perf_counter() - start
        assert run.students.device.type == torch.device(where).type
        results[str(where)] = run
        print(f"distill: 8 students × 100 steps on {where}: {took:.2f} s, "
              f"accuracy {[round(a, 3) for a in run.final_accuracy.tolist()]}")
    cpu, other = results["cpu"], results[str(dev)]
    loss_gap = float((cpu.losses - other.losses).abs().max())
    acc_gap = float((cpu.final_accuracy - other.final_accuracy).abs().max())
    print(f"distill: {dev.type} vs cpu: largest loss gap {loss_gap:.1e}, largest accuracy gap {acc_gap:.3f}")
    assert acc_gap < 0.05 and loss_gap < 0.5  # float order differs; training lands in the same place


if __name__ == "__main__":
    if sys.argv[1:] == ["gpu"]:
        gpu_check()
    else:
        for name, value in bench().items():
            print(f"{name}: {value}")
