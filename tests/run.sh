#!/bin/sh
# Runs every test suite — unit binaries and scenario scripts — JOBS at a time (default: one per
# core), and closes with exactly "N passed, N failed, N skipped".
#
# Each suite's output is printed in one piece when it ends ("== NAME: exit S, T s, CPU C s"
# first).  The counts are its "ok - ", "not ok - " and "skip - " lines (tests/lib/assert.sh,
# tests/unit/test.h); a suite that exits non-zero without a "not ok" line (it crashed, or died
# before saying why) or prints no result at all counts one more failure, named after the suite.
# Suites share disk images and hives through $RP_CACHE (tests/lib/mkdisk.sh, scenario.sh).
# SUITES="t_keys test_sd" runs only those.
BUILD=${BUILD:-build}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
export BUILD RP_SHARED=${RP_SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
out=$(mktemp -d "${TMPDIR:-/tmp}/rprun.XXXXXX")
trap 'rm -rf "$out"' EXIT
export RP_CACHE=$out/cache
mkdir -p "$RP_CACHE"

# The longest suites first, so that the slots end together.
list=""
for s in t_image t_faults; do
	[ -f "tests/scenario/$s.sh" ] && list="$list tests/scenario/$s.sh"
done
for s in tests/scenario/t_*.sh; do
	case " $list " in *" $s "*) continue ;; esac
	list="$list $s"
done
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] && list="$list $t"
done
if [ -n "${SUITES:-}" ]; then
	want=""
	for s in $list; do
		n=$(basename "$s" .sh)
		case " $SUITES " in *" $n "*) want="$want $s" ;; esac
	done
	list=$want
fi

# shellcheck disable=SC2086
printf '%s\n' $list | xargs -P "$JOBS" -n 1 sh tests/lib/run_suite.sh "$out"

passed=0 failed=0 skipped=0
for log in "$out"/*.log; do
	[ -f "$log" ] || continue
	passed=$((passed + $(grep -c '^ok - ' "$log")))
	failed=$((failed + $(grep -c '^not ok - ' "$log")))
	skipped=$((skipped + $(grep -c '^skip - ' "$log")))
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
