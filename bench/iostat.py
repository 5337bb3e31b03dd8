#!/usr/bin/env python3
"""bench/iostat.py TRACE IMG   — I/O counts of one rdprescue run from `strace -f -y -s 0` output
bench/iostat.py --families    — perf report --stdio --sort sym on stdin: self time by family

Used by bench/profile.sh (issue 19): image opens, memfd copies of hives (count and bytes
written), bytes read from the image against the distinct bytes among them, bytes written.
"""
import re, sys

def families():
    fam = {"memory copies (user memmove, kernel copy to/from user)":
               r"memcpy|memmove|copy_user|copy_page|rep_movs|copy_to_iter|copy_from_iter|copy_folio",
           "page faults, zeroing, unmapping": r"clear_page|page_fault|do_anonymous|handle_mm|memset|"
                                             r"zap_|unmap|free_pages|alloc_pages|rmqueue|lru|folio|"
                                             r"release_pages|free_unref|__list_del|__list_add",
           "kernel spin lock release (page cache, IRQ)": r"_raw_spin",
           "hashing (sha256, checksums)": r"sha256|SHA256|sha_|checksum|xor",
           "compression (zstd)": r"ZSTD|zstd|HUF_|FSE_",
           "hivex": r"hivex|_hivex",
           "libntfs-3g": r"ntfs_"}
    tot = {k: 0.0 for k in fam}
    for line in sys.stdin:
        m = re.match(r"\s+([0-9.]+)%\s+\[[.k]\]\s+(\S+)", line)
        if not m:
            continue
        for k, rx in fam.items():
            if re.search(rx, m.group(2)):
                tot[k] += float(m.group(1))
                break
    for k, v in tot.items():
        print("%-56s %5.1f%% of samples" % (k, v))

def iostat(trace, img):
    pos = {}
    opens_img = memfds = 0
    memfd_bytes = img_read = img_written = other_read = 0
    intervals = []
    memfd_of, memfd_sizes = {}, []
    call = re.compile(r"^(\d+)\s+(\w+)\((.*)\)\s+=\s+(-?\d+|0x[0-9a-f]+)(<([^>]*)>)?")
    pend = {}
    for line in open(trace, errors="replace"):
        line = line.rstrip("\n")
        m = re.match(r"^(\d+)\s+(.*)<unfinished \.\.\.>$", line)
        if m:
            pend[m.group(1)] = m.group(2)
            continue
        m = re.match(r"^(\d+)\s+<\.\.\. \w+ resumed>(.*)$", line)
        if m and m.group(1) in pend:
            line = m.group(1) + " " + pend.pop(m.group(1)) + m.group(2)
        m = call.match(line)
        if not m:
            continue
        pid, name, args, ret = m.group(1), m.group(2), m.group(3), m.group(4)
        try:
            r = int(ret, 0)
        except ValueError:
            continue
        if name in ("openat", "open") and r >= 0:
            if img in args:
                opens_img += 1
            continue
        if name == "memfd_create" and r >= 0:
            memfds += 1
            memfd_of[(pid, str(r))] = len(memfd_sizes)
            memfd_sizes.append(0)
            continue
        fm = re.match(r"(\d+)<([^>]*)>", args)
        if not fm:
            continue
        fd, path = fm.group(1), fm.group(2)
        key = (pid, fd, path)
        if name == "lseek" and r >= 0:
            pos[key] = r
        elif name in ("read", "pread64") and r > 0:
            if name == "pread64":
                off = int(args.rsplit(",", 1)[1])
            else:
                off = pos.get(key, 0)
                pos[key] = off + r
            if path.endswith(img.rsplit("/", 1)[-1]) or path.startswith("/dev/loop"):
                img_read += r
                intervals.append((off, off + r))
            else:
                other_read += r
        elif name in ("write", "pwrite64") and r > 0:
            if "memfd:" in path:
                memfd_bytes += r
                if (pid, fd) in memfd_of:
                    memfd_sizes[memfd_of[(pid, fd)]] += r
            elif path.endswith(img.rsplit("/", 1)[-1]):
                img_written += r
            if name == "write":
                pos[key] = pos.get(key, 0) + r
    intervals.sort()
    distinct = 0
    cur_s = cur_e = None
    for s, e in intervals:
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                distinct += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        distinct += cur_e - cur_s
    MB = 1048576.0
    print("image opened                %d times" % opens_img)
    print("hive copies into memfds     %d memfds, %.1f MB written to them (%s MB)" %
          (memfds, memfd_bytes / MB, " + ".join("%.1f" % (b / MB) for b in memfd_sizes)))
    print("read from the image         %.1f MB in %d reads, %.1f MB distinct (%.1fx)" %
          (img_read / MB, len(intervals), distinct / MB, img_read / distinct if distinct else 0))
    print("written to the image        %.1f MB" % (img_written / MB))
    print("read from other files       %.1f MB" % (other_read / MB))

if __name__ == "__main__":
    if sys.argv[1:] == ["--families"]:
        families()
    else:
        iostat(sys.argv[1], sys.argv[2])
