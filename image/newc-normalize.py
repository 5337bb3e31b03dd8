#!/usr/bin/env python3
"""newc-normalize.py — makes a newc cpio archive (stdin → stdout) independent of the build host.

bsdtar writes each file's real inode and device numbers into the archive (an mtree "inode="
does not override them), so two builds of the same tree differ.  This renumbers the inodes
1, 2, 3... in archive order (files that shared an inode keep sharing one, so hard links stay
hard links) and zeroes the device of the file system they came from.  Everything else,
including the rdev of device nodes, is left as it is.
"""
import sys

MAGIC = b"070701"
HEADER = 110  # magic + 13 fields of 8 hex digits


def field(h, i):
    return int(h[6 + 8 * i:14 + 8 * i], 16)


def put(h, i, value):
    h[6 + 8 * i:14 + 8 * i] = b"%08X" % value


def pad4(n):
    return (4 - n % 4) % 4


def main():
    data = sys.stdin.buffer.read()
    out = bytearray()
    inodes = {}
    pos = 0
    while pos < len(data):
        h = bytearray(data[pos:pos + HEADER])
        if len(h) < HEADER or h[:6] != MAGIC:
            if not data[pos:].strip(b"\0"):
                out += data[pos:]  # trailing zero padding after TRAILER!!!
                break
            sys.exit("newc-normalize: no newc header at offset %d" % pos)
        namesize, filesize = field(h, 11), field(h, 6)
        name_end = pos + HEADER + namesize
        end = name_end + pad4(HEADER + namesize) + filesize
        end += pad4(filesize)
        name = data[pos + HEADER:name_end - 1]
        if name != b"TRAILER!!!":
            key = (field(h, 7), field(h, 8), field(h, 0))
            put(h, 0, inodes.setdefault(key, len(inodes) + 1))
        put(h, 7, 0)
        put(h, 8, 0)
        out += h + data[pos + HEADER:end]
        pos = end
    sys.stdout.buffer.write(out)


if __name__ == "__main__":
    main()
