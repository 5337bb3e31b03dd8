#!/usr/bin/env python3
"""qemu-boot.py — boots the rescue image under qemu for `make image-test` and checks its report.

Runs qemu with the first serial port on stdin/stdout, keeps the whole serial log, types keys
into the boot menu when a text appears (--send TEXT KEYS: the way the test picks an ISO menu
entry), and waits for qemu to end (the image powers off) or for --timeout.  Then it takes the
last block between ===RDPRESCUE-REPORT-BEGIN=== and ===RDPRESCUE-REPORT-END rc=N===, parses the
JSON and succeeds when rc is --expect-rc and the report's "exit" says the same.

With --no-report (the interactive menu) it succeeds when the machine powered itself off.

usage: qemu-boot.py --log FILE [--timeout S] [--expect-rc N | --no-report] [--send TEXT KEYS]...
                    -- QEMU ARGS
Prints one line: "rc=N exit=N seconds=S" (or what went wrong) and exits 0 on success.
"""
import argparse
import json
import os
import re
import select
import subprocess
import sys
import time

BEGIN = "===RDPRESCUE-REPORT-BEGIN==="
END = re.compile(r"===RDPRESCUE-REPORT-END rc=(\d+)===")


def run(qemu_args, sends, timeout, log_path):
    """Runs qemu; returns (serial output as text, seconds, whether it ended by itself)."""
    start = time.monotonic()
    proc = subprocess.Popen(qemu_args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    out = bytearray()
    pending = list(sends)
    searched_from = 0
    ended = False
    fd = proc.stdout.fileno()
    while True:
        left = timeout - (time.monotonic() - start)
        if left <= 0:
            break
        ready, _, _ = select.select([fd], [], [], min(left, 0.5))
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                ended = True
                break
            out += chunk
        # Menu keys: each text is looked for after the previous one was answered.
        if pending:
            text, keys = pending[0]
            at = out.find(text.encode(), searched_from)
            if at >= 0:
                time.sleep(0.3)
                proc.stdin.write(keys.encode().decode("unicode_escape").encode())
                proc.stdin.flush()
                searched_from = at + len(text)
                pending.pop(0)
    if not ended:
        proc.kill()
    proc.wait()
    seconds = time.monotonic() - start
    with open(log_path, "wb") as f:
        f.write(out)
    return out.decode("utf-8", "replace"), seconds, ended


def last_report(text):
    """(rc, parsed JSON) of the last complete report block, or raises ValueError."""
    begin = text.rfind(BEGIN)
    if begin < 0:
        raise ValueError("no report begin marker on the serial console")
    m = END.search(text, begin)
    if not m:
        raise ValueError("report begin marker without an end marker")
    body = text[begin + len(BEGIN):m.start()].strip()
    return int(m.group(1)), json.loads(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--expect-rc", type=int, default=0)
    ap.add_argument("--no-report", action="store_true")
    ap.add_argument("--send", nargs=2, action="append", default=[], metavar=("TEXT", "KEYS"))
    ap.add_argument("qemu", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    qemu = a.qemu[1:] if a.qemu[:1] == ["--"] else a.qemu
    text, seconds, ended = run(qemu, a.send, a.timeout, a.log)
    if a.no_report:
        print("seconds=%.1f powered_off=%s" % (seconds, ended))
        return 0 if ended else 1
    try:
        rc, report = last_report(text)
    except ValueError as e:
        how = "qemu ended" if ended else "timed out after %.0f s" % seconds
        print("%s (%s); serial log: %s" % (e, how, a.log))
        return 1
    print("rc=%d exit=%s seconds=%.1f powered_off=%s" % (rc, report.get("exit"), seconds, ended))
    if rc != a.expect_rc or report.get("exit") != rc:
        print("wanted rc=%d; report error: %s" % (a.expect_rc, report.get("error")))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
