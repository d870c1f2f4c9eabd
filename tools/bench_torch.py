#!/usr/bin/python3
"""The PyTorch reference for `make bench`: the same figures as
`colorize-train bench`, for the reference modules of tests/reference, on the
same machine with the same thread count.

    /usr/bin/python3 tools/bench_torch.py --arch cnn --size 256 [--train] [--threads 2]
"""
import argparse
import os
import resource
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
import models  # noqa: E402


def flops(net, size):
    total = 0

    def hook(mod, inp, out):
        nonlocal total
        k = mod.kernel_size[0] * mod.kernel_size[1] * mod.in_channels
        total += 2 * out.numel() * k
    hs = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        net(torch.zeros(1, 1, size, size))
    for h in hs:
        h.remove()
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", required=True, choices=sorted(models.ARCHS))
    ap.add_argument("--size", type=int, default=None)
    ap.add_argument("--train", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    net = models.make(a.arch)
    size = a.size or (128 if a.train else 256)
    batch = 16 if a.train else 1
    x = torch.rand(batch, 1, size, size) * 2 - 1
    times = []
    if a.train:
        net.train()
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        target = (torch.rand(batch, 2, size, size) - 0.5)
        for r in range(a.runs + 1):
            t0 = time.perf_counter()
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(net(x), target)
            loss.backward()
            opt.step()
            times.append(time.perf_counter() - t0)
    else:
        net.eval()
        with torch.no_grad():
            for r in range(a.runs + 1):
                t0 = time.perf_counter()
                net(x)
                times.append(time.perf_counter() - t0)
    ms = statistics.median(times[1:]) * 1e3
    f = flops(net, size) * batch * (3 if a.train else 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("bench arch=%s mode=%s size=%d ms=%.1f gflops=%.1f peak_mb=%.0f" % (
        a.arch, "train" if a.train else "forward", size, ms, f / (ms * 1e6), peak))


if __name__ == "__main__":
    main()
