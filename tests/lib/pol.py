#!/usr/bin/env python3
# pol.py — builds and reads Registry.pol (PReg) files for the scenario tests, independently of
# rdprescue's src/reg/pol.c (MS-GPREG: "PReg", le32 version 1, then UTF-16LE
# '[' key NUL ';' value NUL ';' le32 type ';' le32 size ';' data ']').
#
#   pol.py mk OUT ENTRY...      ENTRY is KEY|VALUE|dword:N, KEY|VALUE|sz:TEXT or KEY|VALUE|del
#                               (del writes the "**del.VALUE" instruction Windows uses)
#   pol.py get FILE KEY VALUE   prints the last entry for KEY\VALUE: "dword N", "sz TEXT",
#                               "type T" or "absent" (case-insensitive); exit 1 if malformed
#   pol.py dump FILE            one "KEY|VALUE|type|data-hex" line per entry
import struct
import sys


def u16(s):
    return (s + "\0").encode("utf-16-le")


def entry(key, value, typ, data):
    sep = ";".encode("utf-16-le")
    return (
        "[".encode("utf-16-le") + u16(key) + sep + u16(value) + sep + struct.pack("<I", typ)
        + sep + struct.pack("<I", len(data)) + sep + data + "]".encode("utf-16-le")
    )


def make(out, specs):
    body = b"PReg" + struct.pack("<I", 1)
    for spec in specs:
        key, value, what = spec.split("|", 2)
        if what.startswith("dword:"):
            body += entry(key, value, 4, struct.pack("<I", int(what[6:], 0)))
        elif what.startswith("sz:"):
            body += entry(key, value, 1, u16(what[3:]))
        elif what == "del":
            body += entry(key, "**del." + value, 1, u16(" "))
        else:
            sys.exit("pol.py: bad entry " + spec)
    with open(out, "wb") as f:
        f.write(body)


def parse(path):
    b = open(path, "rb").read()
    if b[:4] != b"PReg" or struct.unpack("<I", b[4:8])[0] != 1:
        raise ValueError("no PReg header")
    entries, p = [], 8

    def unit(at):
        if at + 2 > len(b):
            raise ValueError("truncated at %d" % at)
        return struct.unpack("<H", b[at:at + 2])[0]

    def string(at):
        end = at
        while unit(end) != 0:
            end += 2
        return b[at:end].decode("utf-16-le"), end + 2

    while p < len(b):
        if unit(p) != ord("["):
            raise ValueError("no '[' at %d" % p)
        key, p = string(p + 2)
        if unit(p) != ord(";"):
            raise ValueError("no ';' at %d" % p)
        value, p = string(p + 2)
        typ, size = struct.unpack("<I", b[p + 2:p + 6])[0], struct.unpack("<I", b[p + 8:p + 12])[0]
        data = b[p + 14:p + 14 + size]
        if len(data) != size or unit(p + 14 + size) != ord("]"):
            raise ValueError("bad entry end at %d" % p)
        entries.append((key, value, typ, data))
        p += 14 + size + 2
    return entries


def main():
    cmd = sys.argv[1]
    if cmd == "mk":
        make(sys.argv[2], sys.argv[3:])
        return
    try:
        entries = parse(sys.argv[2])
    except (ValueError, struct.error) as e:
        sys.exit("pol.py: %s: %s" % (sys.argv[2], e))
    if cmd == "dump":
        for k, v, t, d in entries:
            print("%s|%s|%d|%s" % (k, v, t, d.hex()))
    elif cmd == "get":
        shown = "absent"
        for k, v, t, d in entries:
            if k.lower() == sys.argv[3].lower() and v.lower() == sys.argv[4].lower():
                if t == 4 and len(d) == 4:
                    shown = "dword %d" % struct.unpack("<I", d)[0]
                elif t == 1:
                    shown = "sz " + d.decode("utf-16-le").rstrip("\0")
                else:
                    shown = "type %d" % t
        print(shown)


main()
