#!/usr/bin/python3
"""Writes tests/fixtures/golden/adversarial.bin, the reference for
tests/test_adversarial.c (nn/adversarial.h), with Debian's python3-torch in
float64.  Run from the repository root:

    /usr/bin/python3 tests/reference/adversarial.py

Every input is make_fixtures.py's hash fill (fixture_fill), which the
test reproduces bit for bit: the discriminator's four convolutions
(weights within sqrt (3 / fan_in), streams 2400 + i; biases within 0.1,
streams 2410 + i), q bin centres within 60 (stream 2420), the logits
within 3 (2421), L in 10..90 (2422), the target a,b within 50 (2423).
The bundle holds the discriminator's scores of the fake images (the
annealed mean at T 1 with the truth's L) and the real ones, both
losses, the gradient of d_loss in the discriminator's parameters (in
nn_adv_params' order) and the gradient of g_loss in the logits; then,
with the input averaged over blocks of 2 x 2 and of 4 x 4 (nn_adv_set_pool;
avg_pool2d with ceil_mode: partial blocks are the mean of what they
hold), the scores, the losses and the logits' gradient again, named
with "_pool2" and "_pool4".
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import Bundle, fixture_fill  # noqa: E402

N, Q, H, W = 2, 12, 18, 26
LAYERS = [(3, 32, 2), (32, 64, 2), (64, 128, 1), (128, 1, 1)]  # cin, cout, stride
SCALE = 50.0


def t64(a, shape):
    return torch.from_numpy(np.asarray(a, dtype=np.float32).astype(np.float64)).view(*shape)


def params():
    out = []
    for i, (ci, co, s) in enumerate(LAYERS):
        fan = ci * 9
        wt = t64(fixture_fill(co * fan, 2400 + i, 0.0, float(np.float32(np.sqrt(3.0 / fan)))),
                 (co, ci, 3, 3)).requires_grad_(True)
        b = t64(fixture_fill(co, 2410 + i, 0.0, 0.1), (co,)).requires_grad_(True)
        out.append((wt, b, s))
    return out


def disc(x, ps):
    for i, (wt, b, s) in enumerate(ps):
        x = F.conv2d(x, wt, b, stride=s, padding=1)
        if i < len(ps) - 1:
            x = F.leaky_relu(x, 0.2)
    return x


def case(ps, pool):
    centres = t64(fixture_fill(2 * Q, 2420, 0.0, 60.0), (Q, 2))
    logits = t64(fixture_fill(N * Q * H * W, 2421, 0.0, 3.0), (N, Q, H, W)).requires_grad_(True)
    L = t64(fixture_fill(N * H * W, 2422, 50.0, 40.0), (N, 1, H, W))
    ab = t64(fixture_fill(N * 2 * H * W, 2423, 0.0, 50.0), (N, 2, H, W))
    p = torch.softmax(logits, 1)
    pred = torch.einsum("nqhw,qc->nchw", p, centres)
    fake = torch.cat([(L - 50.0) / SCALE, pred / SCALE], 1)
    real = torch.cat([(L - 50.0) / SCALE, ab / SCALE], 1)
    if pool > 1:
        fake = F.avg_pool2d(fake, pool, ceil_mode=True)
        real = F.avg_pool2d(real, pool, ceil_mode=True)
    for wt, b, _ in ps:
        wt.grad = b.grad = None
    sf, sr = disc(fake.detach(), ps), disc(real, ps)
    d_loss = (sf ** 2).mean() + ((sr - 1.0) ** 2).mean()
    d_loss.backward()
    dparams = torch.cat([t.grad.reshape(-1) for wt, b, _ in ps for t in (wt, b)])
    g_loss = ((disc(fake, ps) - 1.0) ** 2).mean()
    logits.grad = None
    g_loss.backward()
    return sf, sr, g_loss, d_loss, dparams, logits.grad


def main():
    torch.set_num_threads(1)
    torch.backends.mkldnn.enabled = False
    ps = params()
    out = Bundle()
    for pool in (1, 2, 4):
        sf, sr, g_loss, d_loss, dparams, dlogits = case(ps, pool)
        tag = "" if pool == 1 else "_pool%d" % pool
        out.add("scores_fake" + tag, sf.detach().numpy())
        out.add("scores_real" + tag, sr.detach().numpy())
        out.add("losses" + tag, np.array([g_loss.item(), d_loss.item()]))
        if pool == 1:
            out.add("dparams", dparams.numpy())
        out.add("dlogits" + tag, dlogits.numpy())
        print("pool %d: g_loss %.8g, d_loss %.8g, |dlogits| max %.4g, scores %s"
              % (pool, g_loss.item(), d_loss.item(), dlogits.abs().max().item(),
                 tuple(sf.shape)))
    out.write("tests/fixtures/golden/adversarial.bin")


if __name__ == "__main__":
    main()
