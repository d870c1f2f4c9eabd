#!/usr/bin/python3
"""Writes tests/fixtures/golden/perceptual.bin, the reference for
tests/test_perceptual.c (nn/perceptual.h), with Debian's python3-torch in
float64.  Run from the repository root:

    /usr/bin/python3 tests/reference/perceptual.py

Every input is make_fixtures.py's hash fill (fixture_fill), which the
test reproduces bit for bit: the ten convolutions (weights of variance
1 / fan_in, streams 2000 + i; biases within 0.1, streams 2100 + i), q
bin centres within 60 (stream 2200), the logits within 3 (2201), L in
10..90 (2202), the target a,b within 50 (2203).  The bundle holds the
truth as sRGB, its layer1 and layer2 features, the loss and its gradient
in the logits.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import Bundle, fixture_fill  # noqa: E402

N, Q, H, W = 2, 12, 24, 32
CONVS = [  # name, cout, cin, k, stride, pad: nn/perceptual.c's table
    ("conv1", 64, 3, 7, 2, 3),
    ("layer1.0.conv1", 64, 64, 3, 1, 1), ("layer1.0.conv2", 64, 64, 3, 1, 1),
    ("layer1.1.conv1", 64, 64, 3, 1, 1), ("layer1.1.conv2", 64, 64, 3, 1, 1),
    ("layer2.0.conv1", 128, 64, 3, 2, 1), ("layer2.0.conv2", 128, 128, 3, 1, 1),
    ("layer2.0.downsample.0", 128, 64, 1, 2, 0),
    ("layer2.1.conv1", 128, 128, 3, 1, 1), ("layer2.1.conv2", 128, 128, 3, 1, 1),
]
MEAN = torch.tensor([0.485, 0.456, 0.406], dtype=torch.float64).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225], dtype=torch.float64).view(1, 3, 1, 1)
M = torch.tensor([[3.1338561, -1.6168667, -0.4906146],
                  [-0.9787684, 1.9161415, 0.0334540],
                  [0.0719453, -0.2289914, 1.4052427]], dtype=torch.float64)


def t64(a, shape):
    return torch.from_numpy(np.asarray(a, dtype=np.float32).astype(np.float64)).view(*shape)


def convs():
    out = []
    for i, (_, co, ci, k, s, p) in enumerate(CONVS):
        fan = ci * k * k
        wt = t64(fixture_fill(co * fan, 2000 + i, 0.0, float(np.float32(np.sqrt(3.0 / fan)))),
                 (co, ci, k, k))
        b = t64(fixture_fill(co, 2100 + i, 0.0, 0.1), (co,))
        out.append((wt, b, s, p))
    return out


def features(x, cv):
    def c(i, v):
        wt, b, s, p = cv[i]
        return F.conv2d(v, wt, b, stride=s, padding=p)

    def block(v, a, b, sc):
        h = F.relu(c(a, v))
        return F.relu(c(b, h) + (c(sc, v) if sc is not None else v))
    v = F.max_pool2d(F.relu(c(0, (x - MEAN) / STD)), 3, 2, 1)
    f1 = block(block(v, 1, 2, None), 3, 4, None)
    f2 = block(block(f1, 5, 6, 7), 8, 9, None)
    return f1, f2


def finv(t):
    return torch.where(t ** 3 > 0.008856, t ** 3, (t - 16.0 / 116.0) / 7.787)


def lab_to_srgb(L, a, b):
    fy = (L + 16.0) / 116.0
    xyz = torch.stack([0.9642 * finv(fy + a / 500.0), finv(fy),
                       0.8249 * finv(fy - b / 200.0)], 1)
    lin = torch.einsum("ck,nkhw->nchw", M, xyz)
    return torch.where(lin <= 0.0031308, 12.92 * lin,
                       1.055 * torch.clamp(lin, min=0.0031308) ** (1 / 2.4) - 0.055)


def main():
    torch.set_num_threads(1)
    torch.backends.mkldnn.enabled = False
    cv = convs()
    centres = t64(fixture_fill(2 * Q, 2200, 0.0, 60.0), (Q, 2))
    logits = t64(fixture_fill(N * Q * H * W, 2201, 0.0, 3.0), (N, Q, H, W))
    L = t64(fixture_fill(N * H * W, 2202, 50.0, 40.0), (N, H, W))
    ab = t64(fixture_fill(N * 2 * H * W, 2203, 0.0, 50.0), (N, 2, H, W))
    truth = lab_to_srgb(L, ab[:, 0], ab[:, 1])
    t1, t2 = features(truth, cv)
    logits.requires_grad_(True)
    p = torch.softmax(logits, 1)
    pa = torch.einsum("nqhw,q->nhw", p, centres[:, 0])
    pb = torch.einsum("nqhw,q->nhw", p, centres[:, 1])
    p1, p2 = features(lab_to_srgb(L, pa, pb), cv)
    loss = ((p1 - t1) ** 2).mean() + ((p2 - t2) ** 2).mean()
    loss.backward()
    out = Bundle()
    out.add("rgb_truth", truth.numpy())
    out.add("f1_truth", t1.numpy())
    out.add("f2_truth", t2.numpy())
    out.add("loss", np.array([loss.item()]))
    out.add("dlogits", logits.grad.numpy())
    out.write("tests/fixtures/golden/perceptual.bin")
    print("loss %.8g, |dlogits| max %.4g" % (loss.item(), logits.grad.abs().max().item()))


if __name__ == "__main__":
    main()
