#!/usr/bin/env python3
"""mkpe.py OUT NAME=VALUE...: writes a minimal PE32+ driver image whose version resource
(RT_VERSION, VS_VERSIONINFO > StringFileInfo > 040904b0) holds the given strings, e.g.
CompanyName="Contoso Security".  Written from the PE/COFF specification, independently of
rdprescue's parser (src/pe/pe.c); tests check it with pefile (python3-pefile) as well."""
import struct
import sys


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


def block(key, value=b"", wtype=0, children=b"", value_len=None):
    head_key = key.encode("utf-16-le") + b"\0\0"
    body = pad4(struct.pack("<HHH", 0, 0, wtype) + head_key)
    body = pad4(body + value) + children
    vlen = len(value) if value_len is None else value_len
    return pad4(struct.pack("<HHH", len(body), vlen, wtype) + body[6:])


def version_info(strings):
    table = b"".join(
        block(k, v.encode("utf-16-le") + b"\0\0", 1, value_len=len(v) + 1) for k, v in strings
    )
    sfi = block("StringFileInfo", children=block("040904b0", wtype=1, children=table), wtype=1)
    fixed = struct.pack("<13I", 0xFEEF04BD, 0x10000, 0x10000, 0, 0x10000, 0, 0x3F, 0, 4, 3, 6, 0, 0)
    return block("VS_VERSION_INFO", fixed, 0, sfi)


def main():
    out, pairs = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
    vi = version_info(pairs)
    rsrc = bytearray()
    rsrc += struct.pack("<IIHHHH", 0, 0, 0, 0, 0, 1) + struct.pack("<II", 16, 0x80000018)
    rsrc += struct.pack("<IIHHHH", 0, 0, 0, 0, 0, 1) + struct.pack("<II", 1, 0x80000030)
    rsrc += struct.pack("<IIHHHH", 0, 0, 0, 0, 0, 1) + struct.pack("<II", 0x409, 0x48)
    rsrc += struct.pack("<IIII", 0x1000 + 0x58, len(vi), 0, 0)
    rsrc += vi
    raw = bytes(rsrc) + b"\0" * (-len(rsrc) % 0x200)
    dos = b"MZ" + b"\0" * 58 + struct.pack("<I", 0x40)
    coff = b"PE\0\0" + struct.pack("<HHIIIHH", 0x8664, 1, 0, 0, 0, 240, 0x22)
    dirs = [(0, 0)] * 16
    dirs[2] = (0x1000, len(rsrc))
    size_image = 0x1000 + ((len(rsrc) + 0xFFF) & ~0xFFF)
    opt = struct.pack("<HBBIIIII", 0x20B, 14, 0, 0, len(raw), 0, 0, 0x1000)
    opt += struct.pack("<QIIHHHHHHIIIIHHQQQQII", 0x140000000, 0x1000, 0x200, 6, 1, 0, 0, 6, 1, 0,
                       size_image, 0x200, 0, 1, 0x160, 0x40000, 0x1000, 0x100000, 0x1000, 0, 16)
    opt += b"".join(struct.pack("<II", *d) for d in dirs)
    sect = struct.pack("<8sIIIIIIHHI", b".rsrc", len(rsrc), 0x1000, len(raw), 0x200, 0, 0, 0, 0,
                       0x40000040)
    head = dos + coff + opt + sect
    head += b"\0" * (0x200 - len(head))
    with open(out, "wb") as f:
        f.write(head + raw)


main()
