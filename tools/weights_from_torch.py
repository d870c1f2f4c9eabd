#!/usr/bin/python3
"""Converts a PyTorch state_dict of the seed's networks to a colorize
weight file:

    python3 tools/weights_from_torch.py --arch cnn|resnet18 IN.pt OUT.weights

IN.pt is a torch.save'd state_dict (or a dict holding one under
"state_dict" / "model"); keys may carry a "module." prefix (DataParallel).
It must load into the reference module of tests/reference/models.py.
Scaling: --l-offset/--l-scale/--ab-scale give the normalization the
network was trained with (raw input = (L - l_offset) / l_scale, CIE ab =
raw output * ab_scale; defaults 50, 50, 128).  Run with Debian's
python3-torch (/usr/bin/python3).
"""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
import models  # noqa: E402
import weightfile  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", required=True, choices=sorted(models.ARCHS))
    ap.add_argument("--l-offset", type=float, default=50.0)
    ap.add_argument("--l-scale", type=float, default=50.0)
    ap.add_argument("--ab-scale", type=float, default=128.0)
    ap.add_argument("input")
    ap.add_argument("output")
    args = ap.parse_args()
    sd = torch.load(args.input, map_location="cpu")
    for key in ("state_dict", "model"):
        if isinstance(sd, dict) and key in sd and isinstance(sd[key], dict):
            sd = sd[key]
    if not isinstance(sd, dict):
        sys.exit("%s: expected a state_dict, found %s" % (args.input, type(sd).__name__))
    sd = {k[7:] if k.startswith("module.") else k: v for k, v in sd.items()}
    net = models.make(args.arch)
    try:
        net.load_state_dict(sd, strict=True)
    except RuntimeError as e:
        sys.exit("%s: does not match the %s network: %s" % (args.input, args.arch, e))
    tensors = [(k, v.detach().float().numpy()) for k, v in net.state_dict().items()
               if not k.endswith("num_batches_tracked")]
    meta = "converted_from=%s\n" % os.path.basename(args.input)
    weightfile.write(args.output, args.arch, tensors,
                     (args.l_offset, args.l_scale, args.ab_scale), meta)
    print("wrote %s: %s, %d tensors, %d parameters" % (
        args.output, args.arch, len(tensors), models.trainable_count(net)))


if __name__ == "__main__":
    main()
