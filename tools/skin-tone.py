#!/usr/bin/python3
"""tools/skin-tone.py PRED_DIR TRUTH_DIR - how a model's skin tones compare
with the truth's, photo by photo (issue 17's "skin skin-coloured, not
orange" as a number).

PRED_DIR holds `colorize-train apply` outputs named as the truth photos in
TRUTH_DIR (NAME.png for NAME.jpg).  In each truth photo the skin-like
pixels are those of hue 15 to 75 degrees in CIE a,b, chroma 8 to 50 and L
25 to 90 (sRGB D65); over them the truth's and the prediction's mean a, b
are taken.  Prints the mean over photos of both (a, b, hue, chroma) and
the per-photo medians of the hue difference and the chroma ratio: a hue
within a few degrees and a chroma ratio above 1 say "too vivid", a hue
off by more says "the wrong colour".  A photo with fewer than 50 such
pixels, or whose prediction has another size, is left out (and counted).

Reads images through labimage.py (ImageMagick's `convert`); numpy only.
"""
import os
import sys

import numpy as np

from labimage import photo_pairs

MIN_PIXELS = 50


def skin_mask(t):
    a, b = t[..., 1], t[..., 2]
    chroma, hue = np.hypot(a, b), np.degrees(np.arctan2(b, a))
    return ((chroma > 8) & (chroma < 50) & (hue > 15) & (hue < 75)
            & (t[..., 0] > 25) & (t[..., 0] < 90))


def describe(name, ab):
    a, b = ab.mean(0)
    print(f'{name}: mean a {a:.2f} b {b:.2f} hue {np.degrees(np.arctan2(b, a)):.1f} '
          f'chroma {np.hypot(a, b):.2f}')


def main():
    if len(sys.argv) != 3 or not all(os.path.isdir(d) for d in sys.argv[1:]):
        sys.stderr.write('usage: skin-tone.py PRED_DIR TRUTH_DIR (two folders)\n')
        return 2
    pred_dir, truth_dir = sys.argv[1:]
    truth_ab, pred_ab, left_out = [], [], 0
    for _, t, q in photo_pairs(pred_dir, truth_dir):
        if t is None:
            left_out += 1
            continue
        m = skin_mask(t)
        if m.sum() < MIN_PIXELS:
            left_out += 1
            continue
        truth_ab.append(t[m][:, 1:].mean(0))
        pred_ab.append(q[m][:, 1:].mean(0))
    if not truth_ab:
        sys.stderr.write(f'{pred_dir}: no photo with skin-like pixels '
                         f'({left_out} left out)\n')
        return 1
    truth_ab, pred_ab = np.array(truth_ab), np.array(pred_ab)
    print(f'photos {len(truth_ab)} (left out {left_out})')
    describe('truth', truth_ab)
    describe('prediction', pred_ab)
    dhue = (np.degrees(np.arctan2(pred_ab[:, 1], pred_ab[:, 0]))
            - np.degrees(np.arctan2(truth_ab[:, 1], truth_ab[:, 0])))
    ratio = np.hypot(*pred_ab.T) / np.maximum(np.hypot(*truth_ab.T), 1e-6)
    print(f'per photo, median: hue difference {np.median(dhue):+.1f} degrees, '
          f'chroma ratio {np.median(ratio):.2f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
