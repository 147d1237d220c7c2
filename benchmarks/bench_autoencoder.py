"""The tied-autoencoder chapter's benchmark (found by benchmarks/bench.py and gpu_check.py).

``bench()``: reaction time of the k explorer (compute + figure update) over a sweep of the slider.
``gpu_check()``: the autoencoder on ``default_device()`` against the CPU and the closed forms.
"""
from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("TYSHARE_PROGRESS", "0")


def _setting(device="cpu", steps: int = 40):
    from sklearn.decomposition import PCA

    from tyshare_lib.autoencoder import train_bottlenecks
    from tyshare_lib.digits import split_digits

    s = split_digits(test_fraction=0.3, seed=0, device=device)
    mean = s.X_train.mean(0)
    X_train, X_test = s.X_train - mean, s.X_test - mean
    ks = list(range(1, 17))
    tied = {k: m for k, (m, _) in train_bottlenecks(X_train, ks, steps=steps, device=device).items()}
    untied = {k: m for k, (m, _) in train_bottlenecks(X_train, [2, 16], tied=False, steps=steps, device=device).items()}
    pca = PCA(16).fit(X_train.cpu().numpy())
    return X_train, X_test, mean, tied, untied, pca


def bench() -> dict:
    """Explorer reaction times (median/p90 ms, budget 30 ms) and the static figure's build time."""
    from tyshare_lib.viz import autoencoder as viz

    X_train, X_test, mean, tied, untied, pca = _setting(steps=20)  # the models' quality does not change the timing
    sweep = viz.compute_sweep(X_test, mean, tied, untied, pca.components_)
    start = time.perf_counter()
    ex = viz.reconstruction_explorer(sweep, k=4)
    build_ms = 1000 * (time.perf_counter() - start)
    start = time.perf_counter()
    fig = ex.static_figure()
    static_ms = 1000 * (time.perf_counter() - start)
    _ = ex.widget
    ks = list(range(1, 17)) + list(range(15, 0, -1))
    samples = []
    for k in ks * 2:
        t = time.perf_counter()
        ex.set(k=k)
        samples.append(1000 * (time.perf_counter() - t))
    samples.sort()
    return {"build explorer": {"ms": round(build_ms, 1)},
            "static frames": {"ms": round(static_ms, 1), "frames": len(fig["frames"])},
            "k widget reaction (budget 30 ms)": {"median_ms": round(statistics.median(samples), 2),
                                                  "p90_ms": round(samples[int(0.9 * (len(samples) - 1))], 2),
                                                  "max_ms": round(samples[-1], 2), "n": len(samples)}}


def gpu_check() -> None:
    """The tied autoencoder on default_device(): forward and gradient match the CPU, training lands on
    PCA's subspace, counts match the closed form. Prints one line per check; asserts."""
    import torch

    from tyshare_lib import default_device
    from tyshare_lib.autoencoder import (Autoencoder, count_parameters, gradient_parts, orthonormality_error,
                                         principal_angles, train_autoencoder)
    from tyshare_lib.digits import split_digits

    dev = default_device()
    torch.manual_seed(0)
    cpu = Autoencoder(64, 8, tied=True, activation="sigmoid", device="cpu")
    other = Autoencoder(64, 8, tied=True, activation="sigmoid", device=dev)
    other.load_state_dict(cpu.state_dict())
    X = torch.rand(256, 64)
    diff = float((cpu(X) - other(X.to(dev)).cpu()).abs().max())
    print(f"autoencoder: tied sigmoid forward on {dev} vs cpu, max diff {diff:.1e}")
    assert diff < 1e-5
    parts = gradient_parts(other, X.to(dev))
    gap = float((parts.tied - parts.encoder_use - parts.decoder_use).abs().max())
    print(f"autoencoder: tied gradient on {dev} = encoder use + decoder use, max diff {gap:.1e}")
    assert parts.tied.device.type == dev.type and gap < 1e-6

    s = split_digits(device=dev)
    X_train = s.X_train - s.X_train.mean(0)
    model = Autoencoder(64, 8, tied=True, device=dev)
    start = time.perf_counter()
    run = train_autoencoder(model, X_train, steps=100, record_every=100)
    took = time.perf_counter() - start
    basis = torch.linalg.svd(X_train.double().cpu(), full_matrices=False)[2][:8]  # top-8 principal directions
    angle = float(principal_angles(model.encoder.weight.T, basis.T).max())
    ortho = orthonormality_error(model.encoder.weight)
    print(f"autoencoder: tied linear k=8 on {dev}, 100 L-BFGS iterations in {took * 1000:.0f} ms: "
          f"largest angle to PCA {angle:.3f}°, max|WWᵀ − I| {ortho:.1e}, loss {run.losses[0]:.4f} → {run.losses[-1]:.4f}")
    assert model.encoder.weight.device.type == dev.type and angle < 1.0 and ortho < 1e-3

    sizes = [784, 1000, 500, 250, 30]
    for tied in (True, False):
        deep = Autoencoder(784, sizes[1:], tied=tied, activation="sigmoid", device=dev)
        n = sum(p.numel() for p in deep.parameters())
        out = deep(torch.rand(32, 784, device=dev))
        print(f"autoencoder: H&S 784-1000-500-250-30 {'tied' if tied else 'untied'} on {dev}: {n:,} parameters "
              f"(closed form {count_parameters(sizes, tied):,}), output {tuple(out.shape)}")
        assert n == count_parameters(sizes, tied) and out.shape == (32, 784)


if __name__ == "__main__":
    print(bench())
    gpu_check()
