#!/usr/bin/python3
"""tools/shade-hue.py [--every N] TRUTH_DIR [PRED_DIR] - colour by
lightness: for each band of the truth's CIE L (0-10, ..., 90-100), the
mean a, b and chroma and the share of purple-red pixels (hue 300 to 15
degrees in a,b, chroma above 10), of the truth and, with PRED_DIR, of
the prediction; and then how much of the rebalanced accuracy's gain over
gray each band carries (weights/README.md, sessions 17 and 18: the
purple-red in shade, and where a change loses auc).

TRUTH_DIR's photos (.jpg, .jpeg, .png) are read every N-th pixel (default
7) in raster order; with PRED_DIR only those with a prediction NAME.png
(`colorize-train apply`) of the same size, the others counted as left
out.  The accuracy is eval's auc_rebal (trainer/metrics.h: thresholds 0
to 150 on the a,b distance, each occupied 10 x 10 bin of the truth's a,b
over the sampled pixels weighing the same) of the 8-bit outputs, so it
runs a little off eval's figure; each band's part of the gain sums to
the whole.  numpy and ImageMagick's `convert` (labimage.py).
"""
import os
import sys

import numpy as np

from labimage import lab, read_rgb

BANDS = 10


def purple_red(ab):
    chroma = np.hypot(ab[:, 0], ab[:, 1])
    hue = np.degrees(np.arctan2(ab[:, 1], ab[:, 0])) % 360.0
    return ((hue >= 300.0) | (hue < 15.0)) & (chroma > 10.0)


def accuracy(err):
    """Per pixel: the share of the thresholds 0..150 with err <= t."""
    return np.clip(np.floor(150.0 - err) + 1.0, 0.0, 151.0) / 151.0


def rebalanced_weights(ab):
    """Each occupied 10 x 10 bin of ab (22 x 22 over -110..110, clamped)
    carries the same total weight; the weights sum to 1."""
    idx = np.clip(np.floor((ab + 110.0) / 10.0), 0, 21).astype(int)
    key = idx[:, 0] * 22 + idx[:, 1]
    _, inverse, counts = np.unique(key, return_inverse=True,
                                   return_counts=True)
    w = 1.0 / counts[inverse]
    return w / w.sum()


def load(truth_dir, pred_dir, every):
    truth, pred, left_out = [], [], 0
    names = sorted(f for f in os.listdir(truth_dir)
                   if f.lower().endswith(('.jpg', '.jpeg', '.png')))
    for name in names:
        p_rgb = None
        if pred_dir:
            p_path = os.path.join(pred_dir, os.path.splitext(name)[0] + '.png')
            p_rgb = read_rgb(p_path) if os.path.exists(p_path) else None
            if p_rgb is None:
                left_out += 1
                continue
        t_rgb = read_rgb(os.path.join(truth_dir, name))
        if t_rgb is None or (p_rgb is not None and p_rgb.shape != t_rgb.shape):
            left_out += 1
            continue
        truth.append(lab(t_rgb).reshape(-1, 3)[::every])
        if p_rgb is not None:
            pred.append(lab(p_rgb).reshape(-1, 3)[::every])
    return truth, pred, left_out


def report(t, p):
    band = np.minimum((t[:, 0] // (100 // BANDS)).astype(int), BANDS - 1)
    gain = None
    if p is not None:
        w = rebalanced_weights(t[:, 1:])
        acc_p = accuracy(np.hypot(*(p[:, 1:] - t[:, 1:]).T))
        acc_g = accuracy(np.hypot(*t[:, 1:].T))
        gain = 100.0 * w * (acc_p - acc_g)
        print(f'auc_rebal {100.0 * (w * acc_p).sum():.2f} gray '
              f'{100.0 * (w * acc_g).sum():.2f} gain {gain.sum():+.2f}')
    head = 'L        pixels | truth a     b chroma purple'
    if p is not None:
        head += ' | pred a     b chroma purple | auc gain'
    print(head)
    for k in range(BANDS):
        m = band == k
        if not m.any():
            continue
        line = (f'{10 * k:3d}-{10 * k + 10:<3d} {m.sum():8d} | '
                + describe(t[m, 1:]))
        if p is not None:
            line += f' | {describe(p[m, 1:])} | {gain[m].sum():+8.2f}'
        print(line)


def describe(ab):
    a, b = ab.mean(0)
    chroma = np.hypot(ab[:, 0], ab[:, 1]).mean()
    return (f'{a:+6.1f} {b:+5.1f} {chroma:6.1f} '
            f'{100.0 * purple_red(ab).mean():5.1f}%')


def main(argv):
    every = 7
    if len(argv) >= 2 and argv[0] == '--every':
        every = int(argv[1]) if argv[1].isdigit() else 0
        argv = argv[2:]
    if every < 1 or len(argv) not in (1, 2) or not all(
            os.path.isdir(d) for d in argv):
        sys.stderr.write('usage: shade-hue.py [--every N (1 or more)] '
                         'TRUTH_DIR [PRED_DIR] (folders)\n')
        return 2
    truth_dir, pred_dir = argv[0], argv[1] if len(argv) == 2 else None
    truth, pred, left_out = load(truth_dir, pred_dir, every)
    if not truth:
        sys.stderr.write(f'{truth_dir}: no photo to measure '
                         f'({left_out} left out)\n')
        return 1
    print(f'photos {len(truth)} (left out {left_out}), every {every} pixel(s)')
    report(np.concatenate(truth), np.concatenate(pred) if pred else None)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
