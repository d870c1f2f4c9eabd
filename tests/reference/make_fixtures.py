#!/usr/bin/python3
"""Writes the golden fixtures in tests/fixtures/golden/ with Debian's
python3-torch.  Run from the repository root:

    /usr/bin/python3 tests/reference/make_fixtures.py

Parameters are not random draws but a hash formula (fixture_fill) that
tests/fixture.c reproduces bit for bit, so the fixtures need not carry
millions of weights.  Each case records the input, the target, the output,
the MSE loss, the gradient w.r.t. the input, and per parameter tensor its
full gradient (up to FULL_LIMIT elements) or FIXTURE_SAMPLES sampled
elements plus its norm and a projection; in training mode also the
updated BN running statistics.

Bundle format (little-endian): magic "CLRZFIX1", u32 count, then per
tensor: u32 name length, name, u32 rank, u32 dims[rank], f32 data.
"""
import copy
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402

OUT = "tests/fixtures/golden"
FULL_LIMIT = 8192
SAMPLES = 1024

M32 = np.uint64(0xFFFFFFFF)


def lowbias32(x):
    x = x.astype(np.uint64) & M32
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & M32
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & M32
    x ^= x >> np.uint64(16)
    return x


def hash_uniform(n, stream):
    """n floats in [0, 1): lowbias32(i * 0x9E3779B9 + stream * 0x85EBCA6B)."""
    i = np.arange(n, dtype=np.uint64)
    h = lowbias32((i * np.uint64(0x9E3779B9) + np.uint64(stream) * np.uint64(0x85EBCA6B)) & M32)
    return (h >> np.uint64(8)).astype(np.float32) * np.float32(2.0 ** -24)


def fixture_fill(n, stream, center, half):
    """center + half * (2u - 1), in float32 as tests/fixture.c computes it."""
    u = hash_uniform(n, stream)
    return np.float32(center) + np.float32(half) * (np.float32(2.0) * u - np.float32(1.0))


def sample_index(n, stream):
    i = np.arange(SAMPLES, dtype=np.uint64)
    h = lowbias32((i * np.uint64(0x9E3779B9) + np.uint64(stream) * np.uint64(0x85EBCA6B)
                   + np.uint64(0x5BD1E995)) & M32)
    return (h % np.uint64(n)).astype(np.int64)


def param_fill(name, shape, t):
    """The value rule per tensor kind (index t in state_dict order)."""
    n = int(np.prod(shape))
    stream = 1000 + t
    if name.endswith("running_var"):
        return fixture_fill(n, stream, 1.0, 0.5)
    if name.endswith("running_mean"):
        return fixture_fill(n, stream, 0.0, 0.2)
    if len(shape) == 4:  # conv weight: variance 1 / fan_in
        fan_in = shape[1] * shape[2] * shape[3]
        return fixture_fill(n, stream, 0.0, float(np.float32(np.sqrt(3.0 / fan_in))))
    if name.rsplit(".", 1)[0] in BN_NAMES:
        return fixture_fill(n, stream, 1.0, 0.5) if name.endswith("weight") \
            else fixture_fill(n, stream, 0.0, 0.2)
    return fixture_fill(n, stream, 0.0, 0.1)  # conv bias


BN_NAMES = set()


class Bundle:
    def __init__(self):
        self.items = []

    def add(self, name, array):
        a = np.ascontiguousarray(np.asarray(array, dtype=np.float32))
        self.items.append((name, a))

    def write(self, path):
        with open(path, "wb") as f:
            f.write(b"CLRZFIX1")
            f.write(struct.pack("<I", len(self.items)))
            for name, a in self.items:
                nb = name.encode()
                f.write(struct.pack("<I", len(nb)) + nb)
                shape = a.shape if a.ndim else (1,)
                f.write(struct.pack("<I", len(shape)))
                f.write(struct.pack("<%dI" % len(shape), *shape))
                f.write(a.astype("<f4").tobytes())


RELU_MARGIN = 2e-6


def relu_margin(net, x):
    """The smallest |ReLU input| / RMS of that input over the network's
    ReLUs: a unit closer to 0 than float rounding takes either side
    depending on the order of the sums (found: a pre-activation of 2.2e-8
    in the cnn's conv2 that OpenBLAS's AVX-512 kernels put on the other
    side from PyTorch, changing 23 input-gradient values by up to 6 %)."""
    seen = []

    def record(z):
        z = z.detach().double()
        seen.append(float(z.abs().min() / z.pow(2).mean().sqrt().clamp_min(1e-30)))

    hooks = [m.register_forward_pre_hook(lambda m, inp: record(inp[0]))
             for m in net.modules() if isinstance(m, torch.nn.ReLU)]
    real = torch.relu

    def relu(z):
        record(z)
        return real(z)
    torch.relu = relu
    try:
        with torch.no_grad():
            net(x)
    finally:
        torch.relu = real
        for hk in hooks:
            hk.remove()
    return min(seen)


def make_case(arch, n, h, w, mode):
    torch.manual_seed(0)
    net = models.make(arch)
    BN_NAMES.clear()
    for mname, mod in net.named_modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            BN_NAMES.add(mname)
    sd = net.state_dict()
    keys = [k for k in sd if not k.endswith("num_batches_tracked")]
    with torch.no_grad():
        for t, k in enumerate(keys):
            sd[k].copy_(torch.from_numpy(param_fill(k, tuple(sd[k].shape), t).reshape(sd[k].shape)))
    net.train(mode == "train")
    # the first input stream (1, 1001, 2001, ...) whose every ReLU input is
    # clear of 0 by RELU_MARGIN (see relu_margin); the BN running
    # statistics are put back after each try
    state = copy.deepcopy(net.state_dict())
    for stream in range(1, 100000, 1000):
        x = torch.from_numpy(fixture_fill(n * h * w, stream, 0.0, 1.0).reshape(n, 1, h, w))
        margin = relu_margin(net, x)
        net.load_state_dict(state)
        if margin > RELU_MARGIN:
            break
    print("%s %s %dx%d: input stream %d, ReLU margin %.3g" % (arch, mode, h, w, stream, margin))
    x.requires_grad_(True)
    target = torch.from_numpy(fixture_fill(n * 2 * h * w, 2, 0.0, 0.5).reshape(n, 2, h, w))
    y = net(x)
    loss = torch.nn.functional.mse_loss(y, target)
    loss.backward()
    b = Bundle()
    b.add("input", x.detach().numpy())
    b.add("target", target.numpy())
    b.add("output", y.detach().numpy())
    b.add("loss", np.array([loss.item()]))
    b.add("grad_input", x.grad.numpy())
    params = dict(net.named_parameters())
    for t, k in enumerate(keys):
        if k in params:
            g = params[k].grad.detach().numpy().ravel().astype(np.float64)
            if g.size <= FULL_LIMIT:
                b.add("grad/" + k, g)
            else:
                idx = sample_index(g.size, 5000 + t)
                proj = hash_uniform(g.size, 7000 + t).astype(np.float64)
                b.add("gradsample/" + k, g[idx])
                b.add("gradstat/" + k, np.array([np.sqrt((g * g).sum()), (g * proj).sum()]))
        elif mode == "train":
            b.add("running/" + k, net.state_dict()[k].numpy())
    name = "%s_%s_%dx%d" % (arch, mode, h, w)
    b.write(os.path.join(OUT, name + ".bin"))
    print("wrote", name, "loss", loss.item(), "max|y|", y.abs().max().item())


def make_adam():
    """Three Adam and AdamW steps on one tensor with given gradients."""
    b = Bundle()
    n = 257
    p0 = fixture_fill(n, 11, 0.0, 1.0)
    grads = [fixture_fill(n, 12 + s, 0.0, 0.01 * (s + 1)) for s in range(3)]
    b.add("param", p0)
    for s, g in enumerate(grads):
        b.add("grad%d" % s, g)
    for label, cls, kw in (("adam", torch.optim.Adam, dict(weight_decay=0.0)),
                           ("adam_l2", torch.optim.Adam, dict(weight_decay=0.05)),
                           ("adamw", torch.optim.AdamW, dict(weight_decay=0.05))):
        p = torch.nn.Parameter(torch.from_numpy(p0.copy()))
        opt = cls([p], lr=0.01, betas=(0.9, 0.999), eps=1e-8, **kw)
        for s, g in enumerate(grads):
            p.grad = torch.from_numpy(g.copy())
            opt.step()
            b.add("%s/step%d" % (label, s), p.detach().numpy().copy())
    b.write(os.path.join(OUT, "adam.bin"))
    print("wrote adam")


def main():
    torch.set_num_threads(1)
    torch.backends.mkldnn.enabled = False  # plain float32 reference kernels
    os.makedirs(OUT, exist_ok=True)
    for arch in ("cnn", "resnet18"):
        for (h, w) in ((64, 64), (40, 56)):
            for mode in ("train", "eval"):
                make_case(arch, 2, h, w, mode)
    make_adam()


if __name__ == "__main__":
    main()
