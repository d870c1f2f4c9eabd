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

Reads images through ImageMagick's `convert` (PPM on a pipe); numpy only.
"""
import glob
import os
import subprocess
import sys

import numpy as np

SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
WHITE = np.array([0.95047, 1.0, 1.08883])
MIN_PIXELS = 50


def read_rgb(path):
    """H x W x 3 floats in 0..1, or None with a message when unreadable."""
    r = subprocess.run(['convert', path, '-colorspace', 'sRGB', '-depth', '8',
                        'ppm:-'], capture_output=True)
    head = r.stdout.split(maxsplit=4)
    if r.returncode != 0 or len(head) < 5 or head[0] != b'P6':
        sys.stderr.write(f'{path}: not readable as an image '
                         f'({r.stderr.decode(errors="replace").strip()})\n')
        return None
    w, h = int(head[1]), int(head[2])
    pixels = np.frombuffer(r.stdout[-w * h * 3:], np.uint8)
    return pixels.reshape(h, w, 3).astype(np.float64) / 255.0


def lab(rgb):
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = lin @ SRGB_TO_XYZ.T / WHITE
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16.0 / 116.0)
    return np.stack([116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]),
                     200.0 * (f[..., 1] - f[..., 2])], -1)


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
    for p in sorted(glob.glob(os.path.join(pred_dir, '*.png'))):
        name = os.path.splitext(os.path.basename(p))[0] + '.jpg'
        t_rgb, p_rgb = read_rgb(os.path.join(truth_dir, name)), read_rgb(p)
        if t_rgb is None or p_rgb is None or t_rgb.shape != p_rgb.shape:
            left_out += 1
            continue
        t, q = lab(t_rgb), lab(p_rgb)
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
