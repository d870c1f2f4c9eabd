"""Reading and writing colorize .weights files from Python (weights/FORMAT.md).
Used by weights_from_torch.py and weights_to_torch.py; numpy only."""
import struct
import zlib

import numpy as np

MAGIC = b"CLRZWGT\n"
VERSION = 1
DEFAULT_SCALING = (50.0, 50.0, 128.0)


def write(path, arch, tensors, scaling=DEFAULT_SCALING, metadata=""):
    """tensors: list of (name, float32 array) in the order to write."""
    out = bytearray()
    out += MAGIC + struct.pack("<I", VERSION)
    a = arch.encode()
    out += struct.pack("<I", len(a)) + a
    out += struct.pack("<3f", *scaling)
    m = metadata.encode()
    out += struct.pack("<I", len(m)) + m
    out += struct.pack("<I", len(tensors))
    for name, arr in tensors:
        arr = np.ascontiguousarray(arr, dtype="<f4")
        if not np.all(np.isfinite(arr)):
            raise ValueError("%s: tensor %s has NaN or infinity" % (path, name))
        n = name.encode()
        out += struct.pack("<I", len(n)) + n
        out += struct.pack("<I", arr.ndim) + struct.pack("<%dI" % arr.ndim, *arr.shape)
        out += arr.tobytes()
    out += struct.pack("<I", zlib.crc32(bytes(out)) & 0xFFFFFFFF)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(out)
    import os
    os.replace(tmp, path)


def read(path):
    """Returns (arch, scaling, metadata, [(name, array)]); raises ValueError."""
    data = open(path, "rb").read()
    if data[:8] != MAGIC:
        raise ValueError("%s: not a colorize weight file (wrong magic)" % path)
    if len(data) < 16 or zlib.crc32(data[:-4]) & 0xFFFFFFFF != struct.unpack("<I", data[-4:])[0]:
        raise ValueError("%s: checksum mismatch or truncated file" % path)
    pos = 8
    (version,) = struct.unpack_from("<I", data, pos); pos += 4
    if version != VERSION:
        raise ValueError("%s: format version %d, expected %d" % (path, version, VERSION))
    (n,) = struct.unpack_from("<I", data, pos); pos += 4
    arch = data[pos:pos + n].decode(); pos += n
    scaling = struct.unpack_from("<3f", data, pos); pos += 12
    (n,) = struct.unpack_from("<I", data, pos); pos += 4
    metadata = data[pos:pos + n].decode(); pos += n
    (count,) = struct.unpack_from("<I", data, pos); pos += 4
    tensors = []
    for _ in range(count):
        (n,) = struct.unpack_from("<I", data, pos); pos += 4
        name = data[pos:pos + n].decode(); pos += n
        (nd,) = struct.unpack_from("<I", data, pos); pos += 4
        dims = struct.unpack_from("<%dI" % nd, data, pos); pos += 4 * nd
        size = int(np.prod(dims))
        arr = np.frombuffer(data, dtype="<f4", count=size, offset=pos).reshape(dims).copy()
        pos += 4 * size
        tensors.append((name, arr))
    if pos != len(data) - 4:
        raise ValueError("%s: %d unexpected bytes before the checksum" % (path, len(data) - 4 - pos))
    return arch, scaling, metadata, tensors


def set_metadata(src, dst, pairs):
    """Copies src to dst with the metadata keys of pairs ("key=value")
    replaced, or appended when absent; the tensors are unchanged."""
    arch, scaling, metadata, tensors = read(src)
    lines = [l for l in metadata.split("\n") if l]
    for pair in pairs:
        key, eq, _ = pair.partition("=")
        if not eq or not key:
            raise ValueError("%s: expected key=value" % pair)
        found = [i for i, l in enumerate(lines) if l.partition("=")[0] == key]
        if found:
            lines[found[-1]] = pair
        else:
            lines.append(pair)
    write(dst, arch, tensors, scaling, "\n".join(lines) + "\n")


def average(dst, srcs):
    """Writes dst: every tensor the mean of the same tensor in srcs (same
    architecture, names, shapes and order; batch-norm running values
    included), summed in float64; the metadata and scaling are the first
    file's, with `averaged_from` naming the files."""
    files = [read(s) for s in srcs]
    arch, scaling, metadata, first = files[0]
    for s, (a, _, _, t) in zip(srcs[1:], files[1:]):
        if a != arch or [(n, x.shape) for n, x in t] != [(n, x.shape) for n, x in first]:
            raise ValueError("%s: not the same network as %s (architecture, "
                             "tensor names or shapes)" % (s, srcs[0]))
    tensors = []
    for i, (name, _) in enumerate(first):
        total = sum(f[3][i][1].astype(np.float64) for f in files)
        tensors.append((name, (total / len(files)).astype(np.float32)))
    lines = [l for l in metadata.split("\n") if l and not l.startswith("averaged_from=")]
    lines.append("averaged_from=" + " ".join(srcs))
    write(dst, arch, tensors, scaling, "\n".join(lines) + "\n")


USAGE = ("usage: weightfile.py set IN.weights OUT.weights key=value ...\n"
         "         e.g. chroma_scale=1.125 temperature=1.0\n"
         "       weightfile.py average OUT.weights IN.weights IN.weights ...")

if __name__ == "__main__":
    import sys
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if not ((cmd == "set" and len(sys.argv) >= 5)
            or (cmd == "average" and len(sys.argv) >= 5)):
        sys.exit(USAGE)
    try:
        if cmd == "set":
            set_metadata(sys.argv[2], sys.argv[3], sys.argv[4:])
        else:
            average(sys.argv[2], sys.argv[3:])
    except (OSError, ValueError) as e:
        sys.exit("weightfile.py: %s" % e)
