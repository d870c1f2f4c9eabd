#!/usr/bin/python3
"""Converts a colorize weight file to a PyTorch state_dict:

    python3 tools/weights_to_torch.py IN.weights OUT.pt

OUT.pt loads with load_state_dict into the reference module of
tests/reference/models.py (ColorizationCNN or ColorizationNet, the seed's
ResNet18 colorizer).  BN num_batches_tracked counters are set to 0.  The
scaling constants are printed (they are not part of a state_dict).
"""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
import models  # noqa: E402
import weightfile  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: weights_to_torch.py IN.weights OUT.pt")
    try:
        arch, scaling, meta, tensors = weightfile.read(sys.argv[1])
    except (ValueError, OSError, UnicodeDecodeError) as e:
        sys.exit(str(e))
    if arch not in models.ARCHS:
        sys.exit("%s: unknown architecture %r" % (sys.argv[1], arch))
    ctx = [l for l in meta.splitlines()
           if l.startswith("context=") and l != "context=0"]
    if ctx:
        sys.exit("%s: has the global context (metadata %s), which the "
                 "PyTorch reference modules do not have" % (sys.argv[1], ctx[0]))
    net = models.make(arch)
    sd = {k: torch.from_numpy(v) for k, v in tensors}
    for k, v in net.state_dict().items():
        if k.endswith("num_batches_tracked"):
            sd[k] = torch.zeros_like(v)
    try:
        net.load_state_dict(sd, strict=True)
    except RuntimeError as e:
        sys.exit("%s: does not match the %s network: %s" % (sys.argv[1], arch, e))
    torch.save(net.state_dict(), sys.argv[2])
    print("wrote %s: %s state_dict; scaling l_offset=%g l_scale=%g ab_scale=%g" % (
        (sys.argv[2], arch) + tuple(scaling)))


if __name__ == "__main__":
    main()
