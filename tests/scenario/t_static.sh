#!/bin/sh
# t_static.sh — the binary stands alone: statically linked, and a whole scan and fix open no
# shared object, glibc converter (gconv) or NSS file at run time.  A static glibc would load
# gconv/*.so for iconv (hivex's name conversion) from the host, which the boot image and other
# rescue systems do not have; util/iconv.c replaces it (see there).
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh

if [ "${SANITIZE:-0}" = 1 ]; then
	skip "the binary stands alone" "the sanitizer build is dynamic; plain make check tests it"
	finish
fi
check "the binary is statically linked" sh -c "file -L '$RP' | grep -q 'statically linked'"
if ! command -v strace >/dev/null 2>&1; then
	fail "run-time file opens" "strace is not installed (make deps)"
	finish
fi
scenario_disk issue4 gpt "$T/disk.img" >/dev/null 2>&1 || fail "scenario disk built"
for cmd in scan "fix --yes"; do
	# shellcheck disable=SC2086
	strace -f -qq -e trace=open,openat -o "$T/trace" "$RP" $cmd "$T/disk.img" >"$T/out" 2>&1
	check "$cmd: opens no shared object, gconv module or NSS file" \
		sh -c "! grep -E '\\.so|gconv|nsswitch|/etc/passwd' '$T/trace'"
	# key lookups compare names through iconv: without it the product is "unknown"
	check "$cmd: reads the registry (the product name is found)" \
		grep -q 'Windows 7 Professional' "$T/out"
done
check "fix repaired every problem" grep -q '^[1-9][0-9]* fixed, 0 not fixed' "$T/out"
finish
