"""tools/labimage.py - photos as CIE Lab arrays for the measuring tools
(skin-tone.py, shade-hue.py, sky-foliage.py): read through ImageMagick's
`convert` (PPM on a pipe, metadata stripped), converted with sRGB D65 in
float64.  numpy only; imported from the tools' own folder.
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


def ppm_header(data):
    """(width, height, offset of the pixels) of a binary PPM, skipping
    comment lines; None when data is not one."""
    fields, i = [], 0
    while len(fields) < 4 and i < len(data):
        if data[i:i + 1].isspace():
            i += 1
        elif data[i:i + 1] == b'#':
            end = data.find(b'\n', i)
            i = len(data) if end < 0 else end + 1
        else:
            j = i
            while j < len(data) and not data[j:j + 1].isspace():
                j += 1
            fields.append(data[i:j])
            i = j
    if len(fields) < 4 or fields[0] != b'P6' or not all(
            f.isdigit() for f in fields[1:]) or fields[3] != b'255':
        return None
    w, h = int(fields[1]), int(fields[2])
    return (w, h, i + 1) if len(data) - (i + 1) >= w * h * 3 else None


def read_rgb(path):
    """H x W x 3 floats in 0..1, or None with a message when unreadable."""
    r = subprocess.run(['convert', path, '-strip', '-colorspace', 'sRGB',
                        '-depth', '8', 'ppm:-'], capture_output=True)
    head = ppm_header(r.stdout) if r.returncode == 0 else None
    if head is None:
        sys.stderr.write(f'{path}: not readable as an image '
                         f'({r.stderr.decode(errors="replace").strip()})\n')
        return None
    w, h, at = head
    pixels = np.frombuffer(r.stdout[at:at + w * h * 3], np.uint8)
    return pixels.reshape(h, w, 3).astype(np.float64) / 255.0


def lab(rgb):
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = lin @ SRGB_TO_XYZ.T / WHITE
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16.0 / 116.0)
    return np.stack([116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]),
                     200.0 * (f[..., 1] - f[..., 2])], -1)


def photo_pairs(pred_dir, truth_dir):
    """(name, truth Lab, prediction Lab) for each NAME.png in pred_dir
    beside NAME.jpg in truth_dir, sorted by name; both None when either
    is unreadable or their sizes differ (the caller counts those)."""
    for p in sorted(glob.glob(os.path.join(pred_dir, '*.png'))):
        name = os.path.splitext(os.path.basename(p))[0] + '.jpg'
        t_rgb, p_rgb = read_rgb(os.path.join(truth_dir, name)), read_rgb(p)
        if t_rgb is None or p_rgb is None or t_rgb.shape != p_rgb.shape:
            yield name, None, None
        else:
            yield name, lab(t_rgb), lab(p_rgb)
