#!/usr/bin/env python3
"""hive_sd.py — a key's security descriptor in a regf hive, read and edited without rdprescue
(an independent reader for the tests; follows the public regf format: nk records, lf/lh/li/ri
subkey lists, sk records).

   hive_sd.py HIVE 'Key\\Path' show        the DACL's ACEs: "type flags mask sid" per line
   hive_sd.py HIVE 'Key\\Path' deny-first  turns the first DACL entry into a deny entry, in place
                                           (the sk cell may be shared by other keys)
"""
import struct
import sys

data = bytearray(open(sys.argv[1], "rb").read())
BASE = 0x1000


def cell(off):
    return BASE + off + 4  # the record after the cell's size


def nk_name(nk):
    flags, = struct.unpack_from("<H", data, nk + 2)
    n, = struct.unpack_from("<H", data, nk + 0x48)
    raw = bytes(data[nk + 0x4C:nk + 0x4C + n])
    return raw.decode("latin-1" if flags & 0x20 else "utf-16-le")


def subkeys(nk):
    count, lst = struct.unpack_from("<I", data, nk + 0x14)[0], struct.unpack_from("<I", data, nk + 0x1C)[0]
    if count == 0:
        return
    yield from walk_list(cell(lst))


def walk_list(rec):
    sig = bytes(data[rec:rec + 2])
    n, = struct.unpack_from("<H", data, rec + 2)
    step = 8 if sig in (b"lf", b"lh") else 4
    for i in range(n):
        off, = struct.unpack_from("<I", data, rec + 4 + i * step)
        if sig == b"ri":
            yield from walk_list(cell(off))
        else:
            yield cell(off)


root, = struct.unpack_from("<I", data, 0x24)
nk = cell(root)
for part in [p for p in sys.argv[2].split("\\") if p]:
    nk = next(k for k in subkeys(nk) if nk_name(k).lower() == part.lower())
sk = cell(struct.unpack_from("<I", data, nk + 0x2C)[0])
assert bytes(data[sk:sk + 2]) == b"sk"
sd = sk + 0x14
dacl = sd + struct.unpack_from("<I", data, sd + 16)[0]
count, = struct.unpack_from("<H", data, dacl + 4)
if sys.argv[3] == "show":
    ace = dacl + 8
    for _ in range(count):
        t, fl, size, mask = struct.unpack_from("<BBHI", data, ace)
        rev, nsub = data[ace + 9 - 1], data[ace + 9]
        auth = int.from_bytes(data[ace + 10:ace + 16], "big")
        subs = struct.unpack_from("<%dI" % nsub, data, ace + 16)
        print(t, fl, "0x%x" % mask, "S-%d-%d" % (rev, auth) + "".join("-%d" % s for s in subs))
        ace += size
elif sys.argv[3] == "deny-first":
    data[dacl + 8] = 1
    open(sys.argv[1], "wb").write(data)
