"""The library's GPU path, checked and timed on a CUDA machine (run by benchmarks/gpu_run.sh).

Every model here runs on default_device() (TYSHARE_DEVICE=cuda there) and is compared with the CPU or
the closed form. Prints one line per check; exits non-zero if a check fails.
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from tyshare_lib import default_device
from tyshare_lib.albert import AlbertConfig, AlbertEncoder, time_forward
from tyshare_lib.conv import cross_correlate, load_image, preset_kernel
from tyshare_lib.tying import make_two_tasks, tied_solution, train_tied
from tyshare_lib.viz.albert import measure_depth_cost


def main() -> None:
    dev = default_device()
    assert dev.type == "cuda", f"expected CUDA, got {dev}"
    print("device:", torch.cuda.get_device_name(0), "| torch", torch.__version__)

    tasks = make_two_tasks()
    XA, yA, XB, yB = (t.to(dev) for t in tasks.train)
    for lam in (0.0, 0.1, 1.0, 10.0, math.inf):
        wA, wB = tied_solution(XA, yA, XB, yB, lam)  # closed form on the GPU, float64
        assert wA.device.type == "cuda"
        start = time.perf_counter()
        r = train_tied(*tasks.train, lam, steps=600)  # trainer on default_device()
        took = time.perf_counter() - start
        err = max(float((r.w_a.double() - wA.cpu()).abs().max()), float((r.w_b.double() - wB.cpu()).abs().max()))
        print(f"tying: λ={lam}: GD on cuda ends {err:.1e} from the closed form ({took * 1000:.0f} ms, 600 steps)")
        assert err < 1e-4

    image = load_image(32).to(dev)
    for name in ("vertical edge", "sharpen"):
        k = preset_kernel(name).to(dev)
        ours = cross_correlate(image, k, stride=2, padding=1)
        theirs = F.conv2d(image[None, None], k[None, None], stride=2, padding=1)[0, 0]
        print(f"conv: {name}: cross_correlate on cuda vs F.conv2d, max diff {float((ours - theirs).abs().max()):.1e}")
        assert torch.allclose(ours, theirs)

    torch.manual_seed(0)
    ids = torch.randint(0, 30000, (8, 128))
    for sharing in ("all", "none"):
        config = AlbertConfig.preset("albert-base", sharing=sharing)
        cpu = AlbertEncoder(config, device="cpu").eval()
        gpu = AlbertEncoder(config).eval()
        gpu.load_state_dict(cpu.state_dict())
        with torch.no_grad():
            a, _ = cpu(ids)
            b, _ = gpu(ids)
            diff = float((a - b.cpu()).abs().max())
        ms = 1000 * time_forward(gpu, ids, repeats=5)
        ms_big = 1000 * time_forward(gpu, torch.randint(0, 30000, (64, 512)), repeats=5)
        print(f"albert: ALBERT-base sharing={sharing}: cuda vs cpu max diff {diff:.1e}; forward 8×128 {ms:.2f} ms, "
              f"64×512 {ms_big:.1f} ms; params {sum(p.numel() for p in gpu.parameters()):,}")
        assert diff < 1e-3

    cost = measure_depth_cost(AlbertConfig.preset("albert-base"), layers=(1, 2, 4, 8, 12, 24), batch=32, tokens=256,
                              repeats=5)
    for s in ("all", "none"):
        print(f"albert: depth cost on cuda, sharing={s}: ms per forward {[round(1000 * t, 2) for t in cost.seconds[s]]}")
    assert cost.activations["all"] == cost.activations["none"]
    sys.path.insert(0, str(Path(__file__).parent))
    from bench import chapter_modules

    for name, module in chapter_modules():  # each later chapter's own checks (benchmarks/bench_<chapter>.py)
        if hasattr(module, "gpu_check"):
            print(f"--- {name}")
            module.gpu_check()
    print("all GPU checks passed")


if __name__ == "__main__":
    main()
