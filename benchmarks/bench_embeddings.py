"""Tied-embeddings chapter: the vocabulary explorer's reaction times (``bench``) and the model on the book's
device (``gpu_check``). Found and run by benchmarks/bench.py and benchmarks/gpu_check.py."""
from __future__ import annotations

import os
import time

os.environ.setdefault("TYSHARE_PROGRESS", "0")

import torch  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from tyshare_lib import default_device  # noqa: E402
from tyshare_lib.embeddings import (LanguageModel, LMConfig, count_lm_parameters, load_corpus,  # noqa: E402
                                    perplexity, train_lm, untied_twin)
from bench import _summary  # noqa: E402 (one timing helper for every chapter)


def bench() -> dict:
    """Build time, static frames and live reaction (budget 30 ms median) of the vocabulary explorer."""
    from tyshare_lib.viz import embeddings as viz

    results = {}
    start = time.perf_counter()
    ex = viz.vocab_explorer()
    results["build explorer"] = {"ms": round(1000 * (time.perf_counter() - start), 1)}
    start = time.perf_counter()
    fig = ex.static_figure()
    results["static frames"] = {"ms": round(1000 * (time.perf_counter() - start), 1), "frames": len(fig["frames"])}
    _ = ex.widget
    values = viz.LIVE_VOCABS
    sweep = values[1:] + values[-2::-1]
    samples = []
    for v in sweep * 2:
        start = time.perf_counter()
        ex.set(vocab_size=v)
        samples.append(time.perf_counter() - start)
    results["V slider reaction (budget 30 ms)"] = _summary(samples)
    return results


def gpu_check() -> None:
    """The tied model on default_device(): the tie holds there, outputs and the gradient sum agree with the
    CPU, counts match, and a short seeded training run lowers the validation perplexity."""
    dev = default_device()
    print(f"embeddings: device {dev}")
    for config in (LMConfig(vocab_size=2000, embedding_size=64, hidden_size=64, tie=True),
                   LMConfig(vocab_size=2000, embedding_size=32, hidden_size=96, tie=True, cell="gru")):
        torch.manual_seed(0)
        cpu = LanguageModel(config, device="cpu").eval()
        dm = LanguageModel(config, device=dev).eval()
        dm.load_state_dict(cpu.state_dict())
        assert dm.decoder.weight is dm.encoder.weight and dm.encoder.weight.device.type == dev.type
        assert sum(p.numel() for p in dm.parameters()) == count_lm_parameters(config).total
        x = torch.randint(0, 2000, (8, 32))
        y = torch.randint(0, 2000, (8, 32))
        with torch.no_grad():
            a, _ = cpu(x)
            b, _ = dm(x.to(dev))
        diff = float((a - b.cpu()).abs().max())
        dm.train()  # cuDNN's recurrent backward needs training mode (dropout is 0 here)
        twin = untied_twin(dm).train()
        for m in (dm, twin):
            logits, _ = m(x.to(dev))
            F.cross_entropy(logits.reshape(-1, 2000), y.to(dev).reshape(-1)).backward()
        gap = float((dm.encoder.weight.grad - twin.encoder.weight.grad - twin.decoder.weight.grad).abs().max())
        print(f"embeddings: {config.cell} E={config.embedding_size} H={config.hidden_size}: logits on {dev.type} vs "
              f"cpu max diff {diff:.1e}; tied grad − (input + output use) max {gap:.1e}")
        assert diff < 2e-3 and gap < 1e-5  # 2e-3: cuDNN may use TF32 for the recurrent matmuls

    corpus = load_corpus(2000)
    config = LMConfig(vocab_size=2000, embedding_size=64, hidden_size=64, tie=True)
    start = time.perf_counter()
    r = train_lm(config, corpus.train, corpus.valid, steps=100, batch_size=32, seq_len=32, lr=6e-3, eval_every=100)
    took = time.perf_counter() - start
    first = perplexity(LanguageModel(config, device=dev), corpus.valid)
    print(f"embeddings: 100 steps on {dev.type} in {took:.1f} s; validation perplexity {first:.0f} → "
          f"{r.final_perplexity:.1f}")
    assert r.final_perplexity < first / 5


if __name__ == "__main__":
    print(bench())
    gpu_check()
