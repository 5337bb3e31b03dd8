#!/bin/sh
# Runs every test suite: unit binaries, then scenario scripts; counts "ok" / "not ok" lines.
# The last line is "N passed, N failed".
BUILD=${BUILD:-build}
export BUILD RP_SHARED=${RP_SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
log=$(mktemp)
status=0
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	echo "== $(basename "$t")"
	# A crash (a sanitizer abort) ends the binary before it prints its failures: count it.
	{ "$t" 2>&1 || echo "not ok - $(basename "$t") exited with status $?"; } | tee -a "$log"
done
for s in tests/scenario/t_*.sh; do
	[ -f "$s" ] || continue
	echo "== $(basename "$s")"
	sh "$s" 2>&1 | tee -a "$log" || status=1
done
passed=$(grep -c '^ok ' "$log")
failed=$(grep -c '^not ok ' "$log")
rm -f "$log"
[ "$failed" -gt 0 ] && status=1
[ "$passed" -eq 0 ] && status=1
echo "$passed passed, $failed failed"
exit $status
