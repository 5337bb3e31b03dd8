#!/bin/sh
# Every C file is as clang-format (.clang-format) writes it; the failure names the files that
# differ.  Fix them with 'make format'.
. tests/lib/assert.sh
if ! command -v clang-format >/dev/null 2>&1; then
	fail "clang-format" "not installed: run 'make deps'"
	finish
fi
n=0 differ=""
for f in src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h tests/tools/*.c tests/fuzz/*.c bench/*.c; do
	n=$((n + 1))
	clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || differ="$differ $f"
done
if [ -z "$differ" ]; then
	ok "clang-format: all $n C files formatted"
else
	fail "clang-format" "differ (run 'make format'):$differ"
fi
finish
