#!/usr/bin/env python3
"""fleet_summary.py — the fleet summary on the Ansible controller (contrib/ansible).

   fleet_summary.py REPORT_DIR ACTION HOST[,HOST...]

Reads REPORT_DIR/HOST/ACTION.jsonl (the JSON Lines `rdprescue scan|fix --json TARGET...` or the
role's undo runs printed on each rescue host), writes each disk's rdprescue/1 document to
REPORT_DIR/HOST/<disk>.ACTION.json, and the summary across every host to
REPORT_DIR/fleet-summary.json (schema rdprescue-fleet/1, as `rdprescue scan --json TARGET...`
ends with, plus the host of each run and the hosts that sent no report) and
REPORT_DIR/fleet-summary.txt (a table).  Exit codes rank 4 > 3 > 2 > 1 > 0 (docs/fleet.md).
"""
import json
import os
import re
import sys

NAMES = {0: "ok", 1: "problems", 2: "usage", 3: "unusable", 4: "write_failed"}
RANK = {0: 0, 1: 1, 2: 2, 3: 3}  # anything else ranks with 4


def rank(code):
    return RANK.get(code, 4)


def run_of(host, doc):
    """One table row from an rdprescue/1 document."""
    fixed, remaining = set(), set()
    for f in doc.get("findings") or []:
        if f.get("status") == "fixed":
            fixed.add(f.get("check"))
        elif f.get("status") in ("problem", "not-fixed"):
            remaining.add(f.get("check"))
    inst = doc.get("install") or {}
    backup = doc.get("backup") or {}
    if doc.get("command") == "undo" and doc.get("restored_backup"):
        backup = {"volume": doc["restored_backup"].get("from")}
    return {
        "host": host,
        "target": doc.get("target"),
        "computer": inst.get("computer_name"),
        "exit": doc.get("exit"),
        "fixed": len(fixed),
        "remaining": len(remaining),
        "backup": backup.get("host") or backup.get("volume"),
        "error": doc.get("error"),
    }


def main():
    report_dir, action, hosts = sys.argv[1], sys.argv[2], [h for h in sys.argv[3].split(",") if h]
    runs, missing = [], []
    for host in hosts:
        path = os.path.join(report_dir, host, action + ".jsonl")
        if not os.path.exists(path):
            missing.append(host)
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                doc = json.loads(line)
                if doc.get("schema") != "rdprescue/1":
                    continue  # the host's own rdprescue-fleet/1 line: recomputed below
                run = run_of(host, doc)
                runs.append(run)
                name = re.sub(r"[^A-Za-z0-9._-]+", "_", str(run["target"]).strip("/"))
                with open(os.path.join(report_dir, host, "%s.%s.json" % (name, action)), "w",
                          encoding="utf-8") as out:
                    json.dump(doc, out, indent=1)
                    out.write("\n")
    worst = max((r["exit"] for r in runs), key=rank, default=0)
    if missing:
        worst = max(worst, 3, key=rank)
    summary = {
        "schema": "rdprescue-fleet/1",
        "command": action,
        "targets": len(runs),
        "exit": worst,
        "counts": {name: sum(rank(r["exit"]) == code for r in runs) for code, name in NAMES.items()},
        "fixed": sum(r["fixed"] for r in runs),
        "remaining": sum(r["remaining"] for r in runs),
        "hosts": hosts,
        "hosts_without_report": missing,
        "runs": runs,
    }
    with open(os.path.join(report_dir, "fleet-summary.json"), "w", encoding="utf-8") as out:
        json.dump(summary, out, indent=1)
        out.write("\n")
    head = ["HOST", "TARGET", "COMPUTER", "FIXED", "REMAINING", "BACKUP", "EXIT"]
    rows = [[r["host"], str(r["target"]), r["computer"] or "-", str(r["fixed"]),
             str(r["remaining"]), r["backup"] or "-", str(r["exit"])] for r in runs]
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]
    with open(os.path.join(report_dir, "fleet-summary.txt"), "w", encoding="utf-8") as out:
        for row in [head] + rows:
            out.write("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() + "\n")
        counts = ", ".join("%d %s" % (n, k) for k, n in summary["counts"].items() if n)
        out.write("\n%s: %d disks on %d hosts: %s; exit %d\n"
                  % (action, len(runs), len(hosts), counts or "none", worst))
        for host in missing:
            out.write("%s: no report (the host failed or was unreachable: see the play)\n" % host)
    print(open(os.path.join(report_dir, "fleet-summary.txt"), encoding="utf-8").read(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
