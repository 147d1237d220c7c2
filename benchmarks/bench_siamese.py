"""Siamese chapter: the pair explorer's reaction time (bench) and the model on the GPU (gpu_check).

Run by ``benchmarks/bench.py`` (``bench()``) and ``benchmarks/gpu_check.py`` (``gpu_check()``); also runnable
alone: ``python benchmarks/bench_siamese.py [gpu]``.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TYSHARE_PROGRESS", "0")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from tyshare_lib.device import default_device  # noqa: E402
from tyshare_lib.digits import load_digits_tensors, split_digits  # noqa: E402
from tyshare_lib.siamese import (BranchConfig, contrastive_loss, pair_distances, roc_curve,  # noqa: E402
                                 sample_pairs, siamese_and_twin, train_siamese)
from bench import _summary  # noqa: E402 (one timing helper for every chapter)


def _setup(device: str | torch.device = "cpu", steps: int = 50):
    seen = split_digits(classes=range(7))
    X, y = load_digits_tensors()
    X_new, y_new = X[y >= 7], y[y >= 7]
    siamese, twin = siamese_and_twin(BranchConfig(), seed=0, device=device)
    train_siamese(siamese, seen.X_train, seen.y_train, steps=steps, seed=0)
    return seen, X_new, y_new, siamese, twin


def bench() -> dict:
    """Reaction of the live pair explorer (budget 30 ms median), and its book frames."""
    from tyshare_lib.viz import siamese as viz

    results = {}
    seen, X_new, y_new, siamese, _ = _setup("cpu")
    gallery = viz.make_gallery(siamese, torch.cat([seen.X_test, X_new]), torch.cat([seen.y_test, y_new]), range(7))
    P = sample_pairs(y_new, 2000, seed=2)
    d = pair_distances(siamese, X_new, P)
    picks = viz.pick_digits(gallery, [1, 3, 4, 5, 7, 7, 8, 8, 9, 9])
    start = time.perf_counter()
    ex = viz.pair_explorer(gallery, 0.5, (d[P.same == 1].numpy(), d[P.same == 0].numpy()), picks)
    results["pair explorer: build"] = {"ms": round(1000 * (time.perf_counter() - start), 1)}
    start = time.perf_counter()
    fig = ex.static_figure()
    results["pair explorer: static frames"] = {"ms": round(1000 * (time.perf_counter() - start), 1),
                                               "frames": len(fig["frames"])}
    _ = ex.widget
    samples = []
    for k in range(60):  # a reader moving either digit across the whole gallery
        name = "first" if k % 2 else "second"
        value = (k * 37) % len(gallery)
        start = time.perf_counter()
        ex.set(**{name: value})
        samples.append(time.perf_counter() - start)
    results["pair explorer reaction (budget 30 ms)"] = _summary(samples)
    return results


def gpu_check() -> None:
    """The Siamese network and its twin on default_device(), against the CPU; prints one line per check."""
    dev = default_device()
    seen, X_new, y_new, _, _ = _setup("cpu", steps=1)
    cpu_s, cpu_t = siamese_and_twin(BranchConfig(), seed=0, device="cpu")
    dev_s, dev_t = siamese_and_twin(BranchConfig(), seed=0, device=dev)
    assert next(dev_s.parameters()).device.type == dev.type
    P = sample_pairs(y_new, 2000, seed=2)
    for name, a, b in (("siamese", cpu_s, dev_s), ("twin", cpu_t, dev_t)):
        diff = float((pair_distances(a, X_new, P) - pair_distances(b, X_new, P)).abs().max())
        print(f"siamese: untrained {name} on {dev.type} vs cpu, max distance diff {diff:.1e}")
        assert diff < 1e-4
    Xd = X_new.to(dev)
    with torch.no_grad():
        gap = float((dev_s(Xd[:50], Xd[50:100]) - dev_s(Xd[50:100], Xd[:50])).abs().max())
    print(f"siamese: symmetry on {dev.type}, max |d(x1,x2) - d(x2,x1)| = {gap:.1e}")
    assert gap == 0.0
    start = time.perf_counter()
    run = train_siamese(dev_s, seen.X_train, seen.y_train, steps=400, seed=0)
    took = time.perf_counter() - start
    auc = roc_curve(pair_distances(dev_s, seen.X_test, sample_pairs(seen.y_test, 2000, seed=1)),
                    sample_pairs(seen.y_test, 2000, seed=1).same).auc
    print(f"siamese: 400 steps on {dev.type} in {took:.2f} s, loss {run.losses[:20].mean():.3f} -> "
          f"{run.losses[-20:].mean():.4f}, held-out seen AUC {auc:.3f}")
    assert run.losses[-20:].mean() < run.losses[:20].mean() / 5 and auc > 0.99
    d = torch.rand(64, device=dev)
    s = (torch.rand(64, device=dev) < 0.5).float()
    ours = contrastive_loss(d, s, margin=1.0).item()
    ref = float((s.cpu() * d.cpu() ** 2 + (1 - s.cpu()) * torch.clamp(1 - d.cpu(), min=0) ** 2).mean())
    print(f"siamese: contrastive loss on {dev.type} {ours:.6f} vs cpu {ref:.6f}")
    assert abs(ours - ref) < 1e-5


if __name__ == "__main__":
    if sys.argv[1:] == ["gpu"]:
        gpu_check()
    else:
        for key, value in bench().items():
            print(f"{key}: {value}")
