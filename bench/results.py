#!/usr/bin/env python3
"""bench/results.py SAMPLES OUT.json RUNS INPUTS LARGEST_HIVE_BYTES (make bench, bench/peers.sh)

Reads the raw samples (name, run, ms, peak RSS KiB; one a line, tab-separated), writes the
medians, the machine and the ratios to OUT.json and prints them as a Markdown table.
"""
import json, os, platform, statistics, subprocess, sys, time

samples, out, runs, inputs, largest = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
data = {}
for line in open(samples):
    name, run, ms, rss = line.rstrip("\n").split("\t")
    d = data.setdefault(name, {"ms": [], "rss_kib": []})
    d["ms"].append(int(ms))
    d["rss_kib"].append(int(rss or 0))
med = {n: {"median_ms": statistics.median(d["ms"]), "peak_rss_kib": max(d["rss_kib"]),
           "runs_ms": d["ms"]} for n, d in data.items()}

def cpu():
    for l in open("/proc/cpuinfo"):
        if l.startswith("model name"):
            return l.split(":", 1)[1].strip()
    return platform.machine()

try:
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
except OSError:
    rev = ""
machine = {"nproc": os.cpu_count(), "cpu": cpu(), "loadavg": open("/proc/loadavg").read().split()[:3],
           "kernel": platform.release(), "commit": rev,
           "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
# (rdprescue, peer, goal on the time ratio, what it compares)
pairs = [("fix.rdprescue", "fix.hivexregedit", 0.5, "fix vs (a) ntfs-3g + hivexregedit --merge"),
         ("fix.rdprescue", "fix.reged", None, "fix vs (b) ntfs-3g + reged -I"),
         ("scan.rdprescue.rdp", "scan.hivexget", 0.5, "scan --check 'rdp.*' vs ntfs-3g ro + hivexget"),
         ("scan.rdprescue.all", "scan.hivexget", 0.5, "whole scan vs ntfs-3g ro + hivexget"),
         ("keys.acl.rdprescue", "keys.acl.setfattr", None, "keys.acl fix vs (c) ntfs-3g + setfattr"),
         ("keys.contents.rdprescue", "keys.contents.cat", None, "keys.contents scan vs ntfs-3g ro + cat")]
ratios = []
for a, b, goal, what in pairs:
    if a in med and b in med and med[b]["median_ms"] and med[b]["peak_rss_kib"]:
        ratios.append({"what": what, "rdprescue": a, "peer": b,
                       "time_ratio": round(med[a]["median_ms"] / med[b]["median_ms"], 2),
                       "rss_ratio": round(med[a]["peak_rss_kib"] / med[b]["peak_rss_kib"], 2),
                       "goal_time_ratio": goal})
rss_goal_kib = 2 * largest // 1024 + 32 * 1024
goals = {
    "fix <= 0.5x path (a)": next((r["time_ratio"] <= 0.5 for r in ratios if r["peer"] == "fix.hivexregedit"), None),
    "scan <= 0.5x ro mount + hivexget": next((r["time_ratio"] <= 0.5 for r in ratios if r["rdprescue"] == "scan.rdprescue.all"), None),
    "peak RSS <= 2x largest hive + 32 MiB (%d KiB)" % rss_goal_kib:
        all(med[n]["peak_rss_kib"] <= rss_goal_kib for n in med if n.endswith("rdprescue") or ".rdprescue." in n),
    "%s MachineKeys files scanned <= 1 s" % os.environ.get("KEYS_COUNT", "100000"): med.get("keys.contents.rdprescue", {}).get("median_ms", 1e9) <= 1000,
    "MachineKeys folder ACL fix <= 0.1 s": med.get("keys.acl.rdprescue", {}).get("median_ms", 1e9) <= 100,
}
doc = {"schema": "rdprescue-bench/1", "runs": runs, "inputs": inputs, "machine": machine,
       "command": "make bench", "results": med, "ratios": ratios, "goals": goals}
with open(out, "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")

print("\n%s; median of %d runs; nproc %s, %s, load %s" % (inputs, runs, machine["nproc"], machine["cpu"],
      " ".join(machine["loadavg"])))
print("\n| contender | median s | peak RSS MiB |\n|---|---:|---:|")
for n in sorted(med):
    print("| %s | %.3f | %.1f |" % (n, med[n]["median_ms"] / 1000, med[n]["peak_rss_kib"] / 1024))
print("\n| comparison | time ratio | RSS ratio | goal |\n|---|---:|---:|---|")
for r in ratios:
    print("| %s | %.2f× | %.2f× | %s |" % (r["what"], r["time_ratio"], r["rss_ratio"],
          "≤ %.1f×" % r["goal_time_ratio"] if r["goal_time_ratio"] else ""))
print("\n| goal | holds |\n|---|---|")
for g, ok in goals.items():
    print("| %s | %s |" % (g, "n/a" if ok is None else "yes" if ok else "no"))
print("\nwritten: %s" % out)
