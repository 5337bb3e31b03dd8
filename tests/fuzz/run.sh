#!/bin/sh
# make fuzz: builds every tests/fuzz/fuzz_*.c with clang's libFuzzer, ASan and UBSan against an
# instrumented build of src/, and runs each for FUZZ_SECONDS (default 60), seeded from
# tests/fuzz/corpus/<name without fuzz_>/ and the sample hives.  New inputs go to $BUILD/fuzz/corpus/.
# A crash stops the run (exit 1) and leaves the reproducer in $BUILD/fuzz/.
# FUZZ_ONLY="fuzz_disk fuzz_pol" runs only those harnesses.
set -e
BUILD=${BUILD:-build}
SECS=${FUZZ_SECONDS:-60}
SHARED=${RP_SHARED:-$(cd "$(dirname "$0")/../../.." && pwd)/shared}
OUT=$BUILD/fuzz
CFLAGS="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -std=c11 -D_GNU_SOURCE -Isrc
 -DHAVE_STDINT_H=1 -DHAVE_SYS_TYPES_H=1 -DHAVE_STDARG_H=1 -DHAVE_TIME_H=1 -DHAVE_SYS_STAT_H=1
 -DHAVE_STDDEF_H=1 -DHAVE_STDIO_H=1 -DHAVE_SYS_PARAM_H=1 -DHAVE_ENDIAN_H=1 -DHAVE_BYTESWAP_H=1"
LIBS="-larchive -lhivex -lntfs-3g -ljansson -levtx -lbfio -lpthread -lcrypto -lzstd -lz -lm"
mkdir -p "$OUT/obj"
objs=""
for c in src/*/*.c; do
	case $c in src/cli/*|src/plan/archive_link.c) continue ;; esac
	o=$OUT/obj/$(echo "$c" | tr / _).o
	[ "$o" -nt "$c" ] || clang $CFLAGS -c -o "$o" "$c"
	objs="$objs $o"
done
status=0
# Leaks inside third-party libraries that rdprescue cannot free (see the file).
export LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
for h in tests/fuzz/fuzz_*.c; do
	name=$(basename "$h" .c)
	case " ${FUZZ_ONLY:-$name} " in *" $name "*) ;; *) continue ;; esac
	clang $CFLAGS -fsanitize=fuzzer -o "$OUT/$name" "$h" $objs $LIBS
	corpus=$OUT/corpus/$name
	mkdir -p "$corpus"
	seeds=""
	[ -d "tests/fuzz/corpus/${name#fuzz_}" ] && seeds="tests/fuzz/corpus/${name#fuzz_}"
	case $name in
	fuzz_regf | fuzz_hive_lazy) seeds="$seeds $SHARED/hives/windows-made" ;;
	esac
	echo "== $name: ${SECS}s"
	if ! "$OUT/$name" -max_total_time="$SECS" -max_len=1048576 -rss_limit_mb=2048 \
		-artifact_prefix="$OUT/$name-" "$corpus" $seeds >"$OUT/$name.log" 2>&1; then
		echo "not ok - $name: crash, see $OUT/$name.log"
		tail -30 "$OUT/$name.log"
		status=1
	else
		runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$OUT/$name.log" | tail -1)
		echo "ok - $name: $runs runs in ${SECS}s, no finding"
	fi
done
exit $status
