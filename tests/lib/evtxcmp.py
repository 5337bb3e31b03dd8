"""evtxcmp.py — compares `rdprescue events --all --json` with evtxexport's text output.

    python3 tests/lib/evtxcmp.py EVTXEXPORT.txt EVENTS.json LOGNAME

Every record of evtxexport whose (source, event id) is one rdprescue covers (the list below,
written from ../shared/reference/reachability.md, not from rdprescue's table) must appear in
the JSON of log LOGNAME with the same record number, time, provider and strings, and the JSON
must hold no record evtxexport does not.  Prints the differences; exits 1 when there are any.
"""
import datetime
import json
import re
import sys

SCM = "Service Control Manager"
COVERED = {(SCM, i) for i in (7000, 7001, 7009, 7011, 7022, 7023, 7024, 7031, 7034, 7040, 7045)}
COVERED |= {("Microsoft-Windows-Kernel-General", 12), ("Microsoft-Windows-Kernel-General", 13),
            ("EventLog", 6005), ("EventLog", 6006), ("EventLog", 6008),
            ("Microsoft-Windows-Kernel-Power", 41)}
COVERED |= {("Schannel", i) for i in (36870, 36871, 36874, 36887, 36888)}
COVERED |= {("Microsoft-Windows-TerminalServices-RemoteConnectionManager", i)
            for i in (261, 1056, 1057, 1058, 1149)}
COVERED |= {("Microsoft-Windows-RemoteDesktopServices-RdpCoreTS", i)
            for i in (131, 140, 102, 103, 226, 227)}
COVERED |= {("Microsoft-Windows-TerminalServices-LocalSessionManager", i) for i in (21, 23, 24, 25)}


def iso(t):
    # "Jul 12, 2017 17:16:28.214161600 UTC" -> "2017-07-12T17:16:28.2141616Z"
    date, frac = t.replace(" UTC", "").rsplit(".", 1)
    d = datetime.datetime.strptime(date, "%b %d, %Y %H:%M:%S")
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + frac[:7] + "Z"


def parse_export(path):
    recs, cur, key = [], None, None
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("Event number"):
            cur = {"strings": []}
            recs.append(cur)
        m = re.match(r"^([^\t]+)\t+: ?(.*)$", line)
        if cur is None or not m:
            if cur is not None and key == "string" and line:
                cur["strings"][-1] += "\n" + line
            continue
        name, value = m.group(1), m.group(2)
        key = None
        if name == "Event number":
            cur["record"] = int(value)
        elif name == "Written time":
            cur["time"] = iso(value)
        elif name == "Source name":
            cur["provider"] = value
        elif name == "Event identifier":
            cur["id"] = int(value.split("(")[1].rstrip(")")) & 0xFFFF
        elif name.startswith("String"):
            cur["strings"].append(value)
            key = "string"
    return recs


def main():
    export, ours, log = sys.argv[1:4]
    want = [r for r in parse_export(export) if (r.get("provider"), r.get("id")) in COVERED]
    got = [e for e in json.load(open(ours))["events"] if e["log"] == log]
    key = lambda r: (r["record"], r["id"], r["time"], r["provider"], tuple(r["strings"]))
    w, g = {key(r) for r in want}, {key(e) for e in got}
    bad = 0
    for k in sorted(w - g)[:5]:
        print("missing from rdprescue:", k)
        bad = 1
    for k in sorted(g - w)[:5]:
        print("not in evtxexport:", k)
        bad = 1
    print(f"{log}: evtxexport {len(want)} covered records, rdprescue {len(got)}")
    if not want:
        print("no covered records at all: the comparison proves nothing")
        bad = 1
    sys.exit(bad)


main()
