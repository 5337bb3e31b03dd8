#!/bin/sh
# Benchmark (timings printed, never asserted): a MachineKeys folder of KEYS_COUNT key files
# (default 100,000; every 1000th zero-filled) on a bare NTFS image, built in one libntfs-3g mount
# by rp-testfs manykeys.  Times `scan --check keys.contents` and a fix of the folder's ACL
# (`fix --check keys.acl`) on the libntfs-3g backend.  Target: each <= 10 s.
set -e
BUILD=${BUILD:-build}
SHARED=${RP_SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
COUNT=${KEYS_COUNT:-100000}
T=$(mktemp -d "${TMPDIR:-/tmp}/rpkeys.XXXXXX")
[ "${RP_KEEP:-0}" = 1 ] || trap 'rm -rf "$T"' EXIT
TOOLS=$PWD/$BUILD/tests
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh
MK=ProgramData/Microsoft/Crypto/RSA/MachineKeys
# A bigger volume: 100,000 files of ~2.7 KiB need about 400 MB of clusters and MFT.
mkdisk_bare "$T/disk.img" 1024
scenario_hives healthy "$T/hives"
put_windows "$T/disk.img" "$T/hives"
"$TOOLS/rp-testfs" "$T/disk.img" mkdir $MK
"$TOOLS/rp-testfs" "$T/disk.img" setsddl $MK 'O:SYG:SYD:PAI(A;;FA;;;BA)'
echo "== MachineKeys with $COUNT key files (every 1000th zero-filled)"
/usr/bin/time -f "build: %e s wall (rp-testfs manykeys, one mount)" \
	"$TOOLS/rp-testfs" "$T/disk.img" manykeys $MK "$COUNT" 1000
/usr/bin/time -o "$T/time" -f "scan --check keys.contents: %e s wall, %M KiB peak RSS" \
	"$BUILD/rdprescue" scan "$T/disk.img" --check keys.contents >"$T/scan.out" 2>"$T/scan.err" || true
grep -E "keys.contents" "$T/scan.out" | head -1
/usr/bin/time -a -o "$T/time" -f "fix --check keys.acl: %e s wall, %M KiB peak RSS" \
	"$BUILD/rdprescue" fix "$T/disk.img" --yes --check keys.acl >"$T/fix.out" 2>"$T/fix.err" || true
grep -E "keys.acl" "$T/fix.out" | head -1
cat "$T/time"
