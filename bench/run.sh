#!/bin/sh
# make bench: speed and memory targets, measured and printed, never asserted.
#   1. log replay of a real-size dirty SYSTEM (11.8 MB hive, ~7.8 MB of logs; goal < 100 ms)
#   2. rdprescue against the peers on the same inputs (bench/peers.sh: fix, scan, MachineKeys;
#      median of BENCH_RUNS runs, peak RSS; writes bench/results.json and a table of ratios)
#   3. event logs: a 20 MB System.evtx
set -e
BUILD=${BUILD:-build}
SHARED=${RP_SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
B=$(mktemp -d "${TMPDIR:-/tmp}/rpbench.XXXXXX")
[ "${RP_KEEP:-0}" = 1 ] || trap 'rm -rf "$B"' EXIT
xz -dkc "$SHARED/hives/real/win7-sp1-x86-SYSTEM.xz" >"$B/SYSTEM"
cp "$B/SYSTEM" "$B/NEW"
{
	printf 'Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\RpBench]\n'
	i=0
	while [ $i -lt 800 ]; do
		printf '\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\RpBench\\K%04d]\n"Data"=hex:%s\n' \
			$i "$(head -c 200 /dev/zero | od -An -tx1 | tr -s ' \n' ',' | sed 's/^,//; s/,$//')"
		i=$((i + 1))
	done
} >"$B/bench.reg"
hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' "$B/NEW" "$B/bench.reg"
mkdir -p "$B/out"
"$BUILD/tests/rp-mklogs" "$B/SYSTEM" "$B/NEW" "$B/out" SYSTEM --split
echo "== log replay (bench_replay, 20 runs)"
"$BUILD/bench/bench_replay" "$B/out/SYSTEM" 20

echo "== rdprescue against the peers (bench/peers.sh)"
BUILD=$BUILD RP_SHARED=$SHARED sh bench/peers.sh

T=$B/t
mkdir -p "$T"
. tests/lib/mkdisk.sh
mkdisk "$B/disk.img" gpt 160
for f in "$B/out"/SYSTEM*; do
	"$BUILD/tests/rp-testfs" "$B/disk.img" put "$f" "Windows/System32/config/$(basename "$f")"
done
cp "$SHARED/hives/windows-made/EmptyHive" "$B/SOFTWARE"
"$BUILD/tests/rp-testfs" "$B/disk.img" put "$B/SOFTWARE" Windows/System32/config/SOFTWARE

echo "== event logs: a 20 MB System.evtx (bench_evtx, and what it adds to a whole scan)"
# 16,000 records (20 MB), one in ten one rdprescue keeps (SCM 7036 state changes are not kept, like
# most of a real System log), written by the test-only EVTX writer.
awk 'BEGIN { for (i = 0; i < 16000; i++) {
	t = sprintf("2026-03-%02dT%02d:%02d:%02dZ", 1 + int(i / 8640) % 28, int(i / 360) % 24, int(i / 6) % 60, (i * 10) % 60)
	if (i % 10 == 0) print t "|Service Control Manager|7023|2|System|WIN-BENCH|TermService|%%1058"
	else print t "|Service Control Manager|7036|4|System|WIN-BENCH|Windows Update service number " i "|running|770075006100750073007600000000000000000000000000"
} }' | "$BUILD/tests/rp-mkevtx" "$B/System.evtx"
"$BUILD/bench/bench_evtx" "$B/System.evtx" 5
"$BUILD/tests/rp-testfs" "$B/disk.img" mkdir Windows/System32/winevt/Logs
/usr/bin/time -f "scan without the log: %e s wall, %M KiB peak RSS" "$BUILD/rdprescue" scan \
	"$B/disk.img" --check rdp.access 2>&1 >/dev/null | grep -E "^scan" || true
"$BUILD/tests/rp-testfs" "$B/disk.img" put "$B/System.evtx" Windows/System32/winevt/Logs/System.evtx
/usr/bin/time -f "scan with the 20 MB log: %e s wall, %M KiB peak RSS" "$BUILD/rdprescue" scan \
	"$B/disk.img" --check rdp.access 2>&1 >/dev/null | grep -E "^scan" || true
