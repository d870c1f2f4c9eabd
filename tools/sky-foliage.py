#!/usr/bin/python3
"""tools/sky-foliage.py PRED_DIR TRUTH_DIR - are a model's skies blue and
its foliage green where the truth's are (issue 17's by-eye targets "skies
blue, foliage green" counted over whole folders, not judged on a sheet).

PRED_DIR holds `colorize-train apply` outputs named as the truth photos in
TRUTH_DIR (NAME.png for NAME.jpg).  Two kinds of truth pixel, by hue in
CIE a,b (sRGB D65) and chroma at least 10:

  sky (blue, upper half):  hue 200..290 degrees, L at least 30, in the
                           photo's upper half (blue clothes and cars are
                           mostly lower down)
  foliage (green):         hue 100..170 degrees, L 10..90, anywhere
                           (leaves, grass)

Over each kind the prediction's pixels are counted as the same colour
(chroma at least 5, hue in the kind's range widened to blue 185..305 or
green 95..185: cyan skies and yellow-green grass count, olive-brown and
beige do not), grey (chroma below 5) or another hue.  Prints, per kind,
over the photos with at least 200 pixels of the kind, the shares over
all their pixels, the mean chroma against the truth's, the per-photo
median share and the three photos with the lowest share (where to look
by eye); then over every photo the share of the pixels where the truth
is another colour or grey (in the same part of the photo) that the
prediction paints this colour (green beards, blue faces: painting
everything green would find every leaf).  A photo whose prediction is
missing, unreadable or of another size is left out (and counted).

Reads images through labimage.py (ImageMagick's `convert`); numpy only.
"""
import os
import sys

import numpy as np

from labimage import photo_pairs

MIN_PIXELS = 200
# name, truth hue range, prediction hue range, truth L range, upper half only
KINDS = (('sky (blue, upper half)', (200, 290), (185, 305), (30, 101), True),
         ('foliage (green)', (100, 170), (95, 185), (10, 90), False))


def hue_chroma(t):
    hue = np.degrees(np.arctan2(t[..., 2], t[..., 1])) % 360
    return hue, np.hypot(t[..., 1], t[..., 2])


def count(t, hc, phc, kind):
    """([same, grey, other, truth chroma sum, prediction chroma sum] over
    the truth pixels of this kind, or None when there are too few;
    [pixels where the truth is not this colour, those painted it]).
    hc, phc: hue_chroma of the truth t and of the prediction."""
    _, (h0, h1), (p0, p1), (l0, l1), upper = kind
    (hue, chroma), (phue, pchroma) = hc, phc
    region = np.ones(chroma.shape, bool)
    if upper:
        region[t.shape[0] // 2:] = False
    m = region & (chroma >= 10) & (hue >= h0) & (hue <= h1) & (t[..., 0] >= l0) & (t[..., 0] <= l1)
    is_colour = (pchroma >= 5) & (phue >= p0) & (phue <= p1)
    # "not this colour" in the truth: grey, or a hue outside the wide range
    elsewhere = region & ((chroma < 5) | (hue < p0) | (hue > p1))
    false = np.array([elsewhere.sum(), (elsewhere & is_colour).sum()], np.float64)
    if m.sum() < MIN_PIXELS:
        return None, false
    grey, same = pchroma[m] < 5, is_colour[m]
    return np.array([same.sum(), grey.sum(), (~grey & ~same).sum(),
                     chroma[m].sum(), pchroma[m].sum()], np.float64), false


def report(kind, rows):
    name = kind[0]
    if not rows:
        print(f'{name}: no photo with {MIN_PIXELS} such pixels')
        return
    total = sum(r for _, r in rows)
    n = total[:3].sum()
    shares = sorted((r[0] / r[:3].sum(), photo) for photo, r in rows)
    print(f'{name}: {len(rows)} photos, {int(n)} pixels; prediction the same colour '
          f'{100 * total[0] / n:.1f} %, grey {100 * total[1] / n:.1f} %, another hue '
          f'{100 * total[2] / n:.1f} %; chroma {total[4] / total[3]:.2f} of the truth\'s; '
          f'per photo, median share the same colour '
          f'{100 * np.median([s for s, _ in shares]):.1f} %')
    print('  lowest: ' + ', '.join(f'{p} {100 * s:.1f} %' for s, p in shares[:3]))


def report_elsewhere(kind, false):
    print(f'  {kind[0].split()[0]} colour elsewhere: {100 * false[1] / max(false[0], 1):.1f} % '
          f'of the {int(false[0])} pixels where the truth is another colour or grey')


def main():
    if len(sys.argv) != 3 or not all(os.path.isdir(d) for d in sys.argv[1:]):
        sys.stderr.write('usage: sky-foliage.py PRED_DIR TRUTH_DIR (two folders)\n')
        return 2
    pred_dir, truth_dir = sys.argv[1:]
    rows, photos, left_out = [[] for _ in KINDS], 0, 0
    false = [np.zeros(2) for _ in KINDS]
    for name, t, q in photo_pairs(pred_dir, truth_dir):
        if t is None:
            left_out += 1
            continue
        photos += 1
        hc, phc = hue_chroma(t), hue_chroma(q)
        for i, kind in enumerate(KINDS):
            c, f = count(t, hc, phc, kind)
            false[i] += f
            if c is not None:
                rows[i].append((os.path.splitext(name)[0], c))
    if not photos:
        sys.stderr.write(f'{pred_dir}: no photo readable beside {truth_dir} '
                         f'({left_out} left out)\n')
        return 1
    print(f'photos {photos} (left out {left_out})')
    for kind, kind_rows, kind_false in zip(KINDS, rows, false):
        report(kind, kind_rows)
        report_elsewhere(kind, kind_false)
    return 0


if __name__ == '__main__':
    sys.exit(main())
