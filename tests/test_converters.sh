#!/bin/sh
# The converters against real PyTorch (Debian's python3-torch): a state_dict
# converted to .weights gives the same output through `colorize-train
# forward` (1e-4), and converts back to the same tensors.  Skipped (and
# said so) where python3-torch is not installed.
BUILD=${BUILD:-build}
PY=/usr/bin/python3
if ! $PY -c 'import torch' 2>/dev/null; then
  echo "test_converters: python3-torch not installed, skipped"
  echo "test_converters: 0 passed, 0 failed, 1 skipped"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$PY - "$BUILD/colorize-train" "$tmp" <<'PYEOF'
import os, subprocess, sys
import numpy as np
import torch
sys.path.insert(0, "tests/reference"); sys.path.insert(0, "tools")
import models, weightfile
trainer, tmp = sys.argv[1], sys.argv[2]
passed = failed = 0
def check(ok, msg):
    global passed, failed
    if ok: passed += 1
    else:
        failed += 1; print("FAIL", msg)
torch.manual_seed(1)
for arch in ("cnn", "resnet18"):
    net = models.make(arch)
    # non-trivial BN statistics, as after training
    with torch.no_grad():
        for k, v in net.state_dict().items():
            if k.endswith("running_mean"): v.uniform_(-0.2, 0.2)
            if k.endswith("running_var"): v.uniform_(0.5, 1.5)
    net.eval()
    pt = os.path.join(tmp, arch + ".pt"); wf = os.path.join(tmp, arch + ".weights")
    torch.save({"module." + k: v for k, v in net.state_dict().items()}, pt)
    r = subprocess.run([sys.executable, "tools/weights_from_torch.py", "--arch", arch, pt, wf],
                       capture_output=True, text=True)
    check(r.returncode == 0, "%s: weights_from_torch: %s" % (arch, r.stderr))
    x = torch.rand(2, 1, 48, 64) * 2 - 1
    np.save(os.path.join(tmp, "in.npy"), x.numpy())
    r = subprocess.run([trainer, "forward", "--weights", wf, "--input", os.path.join(tmp, "in.npy"),
                        "--output", os.path.join(tmp, "out.npy")], capture_output=True, text=True)
    check(r.returncode == 0, "%s: forward: %s" % (arch, r.stderr))
    if r.returncode == 0:
        with torch.no_grad():
            ref = net(x).numpy()
        err = float(np.abs(np.load(os.path.join(tmp, "out.npy")) - ref).max())
        check(err <= 1e-4, "%s: C forward differs from PyTorch by %g" % (arch, err))
        print("%s: converted weights, C forward vs PyTorch max abs error %.2g" % (arch, err))
    r = subprocess.run([trainer, "info", wf], capture_output=True, text=True)
    expected = {"cnn": 3892194, "resnet18": 954722}[arch]
    check("params=%d" % expected in r.stdout.split("\n"), "%s: info: %s" % (arch, r.stdout))
    back = os.path.join(tmp, arch + "-back.pt")
    r = subprocess.run([sys.executable, "tools/weights_to_torch.py", wf, back], capture_output=True, text=True)
    check(r.returncode == 0, "%s: weights_to_torch: %s" % (arch, r.stderr))
    if r.returncode == 0:
        sd = torch.load(back)
        net2 = models.make(arch); net2.load_state_dict(sd)
        same = all(torch.equal(a, b) for (k, a), b in zip(net.state_dict().items(), net2.state_dict().values())
                   if not k.endswith("num_batches_tracked"))
        check(same, "%s: round trip changes tensors" % arch)
# a state_dict of the other network is refused with a message
r = subprocess.run([sys.executable, "tools/weights_from_torch.py", "--arch", "resnet18",
                    os.path.join(tmp, "cnn.pt"), os.path.join(tmp, "x.weights")], capture_output=True, text=True)
check(r.returncode != 0 and "does not match" in r.stderr, "mismatched state_dict accepted: %s" % r.stderr)
check(not os.path.exists(os.path.join(tmp, "x.weights")), "output written for a bad input")
print("test_converters: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PYEOF
