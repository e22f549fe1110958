#!/usr/bin/env python3
"""shim_profile.py: reads a tally profile (docs/FORMAT.md) for the shim tests.

  shim_profile.py leaks FILE        -> "<leaked bytes> <leaked blocks>"
  shim_profile.py pools FILE        -> "<name> <current> <total_count> <live_count>" per pool
  shim_profile.py reason FILE       -> the META reason (0 exit, 1 dump, 2 signal)
"""
import struct
import sys


def sections(data):
    if len(data) < 16 or data[:8] != b"TALLYPRF":
        sys.exit("not a tally profile")
    version, _flags = struct.unpack_from("<II", data, 8)
    if version != 1:
        sys.exit("unsupported profile version %d" % version)
    off, out = 16, {}
    while off + 16 <= len(data):
        tag, count, length = struct.unpack_from("<IIQ", data, off)
        if tag == 0xFFFFFFFF:
            return out
        out[tag] = (count, data[off + 16:off + 16 + length])
        off += 16 + length
    sys.exit("truncated profile")


def string(buf, off):
    (n,) = struct.unpack_from("<I", buf, off)
    return buf[off + 4:off + 4 + n].decode("utf-8", "replace"), off + 4 + n


def main():
    what, path = sys.argv[1], sys.argv[2]
    secs = sections(open(path, "rb").read())
    if what == "leaks":
        count, buf = secs.get(7, (0, b""))
        total = 0
        for i in range(count):
            _addr, size, _stack, _pool = struct.unpack_from("<QqIi", buf, i * 24)
            total += size
        print(total, count)
    elif what == "pools":
        count, buf = secs[4]
        off = 0
        for _ in range(count):
            (pid,) = struct.unpack_from("<i", buf, off)
            name, off = string(buf, off + 4)
            cur, peak, tb, tc, tmp, live = struct.unpack_from("<6q", buf, off)
            off += 48
            (nb,) = struct.unpack_from("<I", buf, off)
            off += 4 + 8 * nb
            print(name, cur, tc, live)
    elif what == "reason":
        _count, buf = secs[1]
        print(struct.unpack_from("<I", buf, 4)[0])


main()
