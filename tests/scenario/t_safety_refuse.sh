#!/bin/sh
# Safety under surprise (issue 12): writes refused up front, state told, every run speaks the
# contract.  Each case runs on a real disk image; the root-only cases (loop devices, ntfs-3g
# mounts) say "skip" without root.
#   - a hive that is not what its name says (SYSTEM without Select, a SAM or SOFTWARE-less copy):
#     scan and fix exit 3 "... is not a SYSTEM hive", nothing written;
#   - read-only image, hibernated volume: fix exits 3 before any scan output (stdout holds only
#     the summary line);
#   - hibernation / Fast Startup, the NTFS dirty flag, a hive with one of its two logs: a note in
#     scan (text and JSON) and list;
#   - --json: one JSON document on stdout whatever the exit (2 and 3 with "error"); text: the
#     last line is the summary naming target and computer; the fix hint names the real target
#     and never follows a fix;
#   - --backup-dir is created 0700 when its parent exists;
#   - root: an image whose partition is mounted through a loop device at any offset or through
#     a partition of a loop device (losetup -P; skip where the kernel does not scan them), an image
#     mounted directly by ntfs-3g, a loop device held open exclusively, a read-only loop device
#     (losetup -r), a non-root user on a /dev node: fix, undo and acl reset exit 3 naming the
#     mount point and the way out, nothing written.
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh
P2=34816 # first sector of partition 2 (tests/lib/mkdisk.sh)
P2_SECTORS=159744

# Everything a root case creates is undone on exit, in reverse order, by name.
. tests/lib/loops.sh
MOUNTS="" HOLDER=""
cleanup() {
	[ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null
	for m in $MOUNTS; do umount "$m" 2>/dev/null; done
	loops_detach
	[ "${RP_KEEP:-0}" = 1 ] || rm -rf "$T"
}
trap cleanup EXIT
# upfront NAME PATTERN CMD...: CMD exits 3, says PATTERN (grep -E) on one stderr line, and its
# stdout is the summary line alone: refused before any scan output.
upfront() {
	_un=$1 _up=$2
	shift 2
	expect_exit 3 "$_un: refused" "$@"
	check "$_un: one stderr line naming the cause and the way out: $(head -c 300 "$T/err")" \
		sh -c "[ \$(wc -l <'$T/err') = 1 ] && grep -Eq '$_up' '$T/err'"
	check "$_un: nothing scanned or printed before the refusal, summary last" \
		sh -c "[ \$(wc -l <'$T/out') = 1 ] && grep -q '\"rdprescue\":\"summary\".*\"exit\":3' '$T/out'"
}

# image_same NAME IMG SHA: the image's bytes are what they were.
image_same() {
	check "$1: image unchanged" test "$(sha256sum <"$2")" = "$3"
}

B=$T/base.img
check "build the base disk (denied-local, GPT)" scenario_disk denied-local gpt "$B"
base_hives "$T/base" || fail "base hives" "cannot build $T/base"
cp --sparse=always "$B" "$T/pristine.img"

# --- hives that are not what their names say ---
# wrong_hive NAME FILE(SYSTEM|SOFTWARE) LOCALFILE PATTERN
wrong_hive() {
	_d=$T/wrong-$1
	mkdir -p "$_d" && cp "$T/base/SYSTEM" "$T/base/SOFTWARE" "$_d/" && cp "$3" "$_d/$2" &&
		chmod u+w "$_d/$2"
	I=$T/wrong-$1.img
	cp --sparse=always "$T/pristine.img" "$I"
	"$TOOLS/rp-testfs" "$I" put "$_d/$2" "Windows/System32/config/$2"
	s0=$(sha256sum <"$I")
	expect_exit 3 "$1: scan reports it" "$RP" scan "$I"
	check "$1: scan says it is not a $2 hive: $(head -c 300 "$T/err")" grep -Eq "$4" "$T/err"
	expect_exit 3 "$1: fix --yes refuses" "$RP" fix "$I" --yes
	check "$1: fix says so and what to do" grep -Eq "$4.*restore the real $2 from .*RegBack or from a backup" "$T/err"
	image_same "$1" "$I" "$s0"
}
cp "$SHARED/hives/windows-made/EmptyHive" "$T/empty.hive"
wrong_hive system-is-empty SYSTEM "$T/empty.hive" \
	'config/SYSTEM is not a SYSTEM hive \(no Select key\)'
xz -dkc "$SHARED/hives/real/SAM.xz" >"$T/sam.hive"
wrong_hive system-is-sam SYSTEM "$T/sam.hive" \
	'config/SYSTEM is not a SYSTEM hive \(no Select key, its base block names it SAM\)'
wrong_hive software-is-system SOFTWARE "$T/base/SYSTEM" \
	'config/SOFTWARE is not a SOFTWARE hive \(no Microsoft.Windows NT.CurrentVersion key, its base block names it SYSTEM\)'

# --- a read-only image: as root permissions do not stop writes, so run as nobody ---
D=$T/ro
mkdir -p "$D" && chmod 0755 "$T" "$D"
I=$D/readonly.img
cp --sparse=always "$T/pristine.img" "$I" && chmod 0444 "$I"
AS=""
[ "$(id -u)" = 0 ] && AS="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all"
s0=$(sha256sum <"$I")
upfront "read-only image" 'readonly.img is not writable by this user.*run as root or work on a writable copy' \
	$AS "$RP" fix "$I" --yes
image_same "read-only image" "$I" "$s0"

# --- hibernated / Fast Startup: told by scan and list, refused up front by fix ---
I=$T/hibernated.img
cp --sparse=always "$T/pristine.img" "$I"
"$TOOLS/rp-testfs" "$I" hiberfil
s0=$(sha256sum <"$I")
expect_exit 1 "hibernated: scan reads it" "$RP" scan "$I"
check "hibernated: scan notes that fix will refuse and what to do" \
	grep_text 'note: fix will refuse to write to this volume: Windows was hibernated or shut down with Fast Startup: boot it and shut down fully' "$T/out"
expect_exit 1 "hibernated: scan --json" "$RP" scan "$I" --json
check "hibernated: the JSON notes say so" $JQ "$T/out" \
	'any("hibernated or shut down with Fast Startup" in n and "powercfg /h off" in n for n in d["notes"])'
expect_exit 0 "hibernated: list" "$RP" list "$I"
check "hibernated: list notes it on the installation's one line" sh -c \
	"[ \$(wc -l <'$T/out') = 1 ] && grep -q 'install 1: .*; note: fix will refuse to write to this volume: Windows was hibernated' '$T/out'"
upfront "hibernated: fix" 'hibernated.img: Windows was hibernated or shut down with Fast Startup: boot it' \
	"$RP" fix "$I" --yes
upfront "hibernated: undo" 'hibernated.img: Windows was hibernated' "$RP" undo "$I" --yes
upfront "hibernated: acl reset" 'hibernated.img: Windows was hibernated' \
	"$RP" acl "$I" reset Windows --sddl 'O:SYG:SYD:(A;;FA;;;SY)' --yes
image_same "hibernated" "$I" "$s0"

# --- the NTFS dirty flag (set in $Volume as Windows does) on a bare image ---
I=$T/dirty.img
check "build a bare image with the dirty flag" sh -c ". tests/lib/mkdisk.sh && mkdisk_bare '$I' 64 && \
for f in SYSTEM SOFTWARE; do '$TOOLS/rp-testfs' '$I' put '$T/base/'\$f Windows/System32/config/\$f || exit 1; done && \
'$TOOLS/rp-testfs' '$I' dirty"
expect_exit 0 "dirty flag: scan" "$RP" scan "$I"
check "dirty flag: scan notes chkdsk" grep_text 'note: the NTFS volume is marked dirty: Windows will run chkdsk on it at the next boot; if Windows reported disk errors, run chkdsk /f' "$T/out"
expect_exit 0 "dirty flag: scan --json" "$RP" scan "$I" --json
check "dirty flag: the JSON notes say so" $JQ "$T/out" 'any("marked dirty" in n for n in d["notes"])'
expect_exit 0 "dirty flag: list" "$RP" list "$I"
check "dirty flag: list notes it on the installation's one line" sh -c \
	"[ \$(wc -l <'$T/out') = 1 ] && grep -q 'install 1: .*; note: the NTFS volume is marked dirty' '$T/out'"

# --- SYSTEM.LOG1 without SYSTEM.LOG2 ---
I=$T/onelog.img
cp --sparse=always "$T/pristine.img" "$I"
: >"$T/SYSTEM.LOG1"
"$TOOLS/rp-testfs" "$I" put "$T/SYSTEM.LOG1" Windows/System32/config/SYSTEM.LOG1
expect_exit 1 "one log: scan" "$RP" scan "$I"
check "one log: scan names the missing log and what was replayed" \
	grep -q '^note: SYSTEM.LOG2 is missing (SYSTEM.LOG1 is there): clean (seq [0-9]*)' "$T/out"

# --- scan and fix agree: a change fix cannot build (a 20000-byte value on the key hivex would
# rewrite) is reported by scan, with what to do ---
scenario_hives firewall-rule-inactive "$T/fw"
python3 -c "
import sys
open(sys.argv[1], 'w').write('Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\\\SYSTEM\\\\ControlSet001\\\\Services\\\\SharedAccess\\\\Parameters\\\\FirewallPolicy\\\\FirewallRules]\r\n\"Big\"=hex:' + ','.join(['00'] * 20000) + '\r\n')" "$T/big.reg"
I=$T/agree.img
cp --sparse=always "$T/pristine.img" "$I"
check "put a SYSTEM whose firewall rules key holds a 20000-byte value" sh -c \
	"hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\\SYSTEM' '$T/fw/SYSTEM' '$T/big.reg' && '$TOOLS/rp-testfs' '$I' put '$T/fw/SYSTEM' $SYS"
expect_exit 1 "scan/fix agree: scan" "$RP" scan "$I"
check "scan/fix agree: scan notes that fix would refuse, why, and what to do instead" \
	grep_text 'note: fix would refuse: cannot rewrite SYSTEM.*FirewallRules: it holds a value of 20000 bytes.*make this change on the running system instead' "$T/out"
check "scan/fix agree: no 'run fix' hint" sh -c "! grep -q \"Run 'rdprescue fix\" '$T/out' && grep -q 'fix cannot repair it on this disk' '$T/out'"
s0=$(sha256sum <"$I")
expect_exit 1 "scan/fix agree: fix refuses the same way" "$RP" fix "$I" --yes
check "scan/fix agree: same message" grep -q 'cannot rewrite SYSTEM.*FirewallRules: it holds a value of 20000 bytes' "$T/err"
image_same "scan/fix agree" "$I" "$s0"

# --- every run speaks the contract ---
expect_exit 1 "contract: scan" "$RP" scan "$B"
check "contract: last line is the summary naming target and computer" sh -c \
	"tail -n1 '$T/out' | grep -q '\"rdprescue\":\"summary\",\"command\":\"scan\",\"target\":\"$B\",\"computer\":\"WKS-WIN732BITA\"'"
check "contract: the fix hint names the target" grep_text "Run 'rdprescue fix $B --yes'" "$T/out"
check "contract: no literal TARGET" sh -c "! grep -q TARGET '$T/out'"
expect_exit 0 "contract: acl show" "$RP" acl "$B" show Windows
check "contract: acl show ends with the summary line" sh -c \
	"tail -n1 '$T/out' | grep -q '\"rdprescue\":\"summary\",\"command\":\"acl\",\"target\":\"$B\"'"
# the RDP key with a deny entry for NETWORK SERVICE: the hint names this target and this file
MK=ProgramData/Microsoft/Crypto/RSA/MachineKeys
RDPKEY=$MK/f686aace6942fb7f7ceb231212eef4a4_3f2a8c1e-6b7d-4e59-9a10-2c4b6d8e0f12
I=$T/deny.img
check "build a disk whose RDP key denies NETWORK SERVICE" sh -c "cp --sparse=always '$T/dirty.img' '$I' && \
'$TOOLS/rp-testfs' '$I' mkdir $MK && '$TOOLS/rp-testfs' '$I' mkkey $RDPKEY TSSecKeySet1 && \
'$TOOLS/rp-testfs' '$I' setsddl $RDPKEY 'O:SYG:SYD:P(D;;FA;;;NS)(A;;FA;;;SY)(A;;FR;;;NS)'"
expect_exit 1 "deny entry: scan" "$RP" scan "$I" --check keys.rdp --json
check "deny entry: the hint is a command with the real target and file, no TARGET" $JQ "$T/out" \
	"any((\"'rdprescue acl $I reset \" + chr(34) + 'C:' + chr(92) + 'ProgramData' + chr(92) + 'Microsoft') in f['explain'] and 'TARGET' not in f['explain'] for f in F('keys.rdp','problem'))"
expect_exit 3 "contract: a missing target, text" "$RP" scan "$T/nothing.img"
check "contract: the last line is the summary with the error" sh -c \
	"tail -n1 '$T/out' | grep -q '\"rdprescue\":\"summary\".*\"exit\":3.*\"error\":\".*nothing.img'"
# json_one NAME CODE CMD...: exactly one JSON document on stdout, with "error" and "exit" CODE.
json_one() {
	_jn=$1 _c=$2
	shift 2
	expect_exit "$_c" "$_jn" "$@"
	check "$_jn: one JSON document on stdout with error set" python3 -c "
import json, sys
text = open('$T/out').read()
d, end = json.JSONDecoder().raw_decode(text)
assert text[end:].strip() == '', 'more than one document'
assert d['schema'] == 'rdprescue/1' and d['exit'] == $_c and d['error'], d
"
}
json_one "json: scan of a missing target" 3 "$RP" scan "$T/nothing.img" --json
json_one "json: scan without a target" 2 "$RP" scan --json
json_one "json: fix with an unknown option" 2 "$RP" fix "$B" --json --bogus
json_one "json: fix without --yes" 2 "$RP" fix "$B" --json </dev/null
json_one "json: undo without --yes" 2 "$RP" undo "$B" --json </dev/null
json_one "json: fix of a hibernated volume" 3 "$RP" fix "$T/hibernated.img" --yes --json
json_one "json: scan of a SYSTEM that is a SAM" 3 "$RP" scan "$T/wrong-system-is-sam.img" --json

# A fix that fails after the scan (no room): problems are left, and no hint to run fix again.
I=$T/full.img
check "build a small, nearly full volume" sh -c ". tests/lib/mkdisk.sh && mkdisk '$I' gpt 64 && \
for f in SYSTEM SOFTWARE; do '$TOOLS/rp-testfs' '$I' put '$T/hives-denied-local/'\$f Windows/System32/config/\$f || exit 1; done && \
head -c 24000000 /dev/zero >'$T/filler' && '$TOOLS/rp-testfs' '$I' put '$T/filler' filler.bin"
rm -f "$T/filler"
expect_exit 3 "no room: fix refuses" "$RP" fix "$I" --yes
check "no room: no 'run fix' hint after a fix, says nothing was fixed" \
	sh -c "! grep -q \"Run 'rdprescue fix\" '$T/out' && grep -q 'problems left: nothing was fixed' '$T/out'"

# --- --backup-dir: created 0700 when the parent exists, refused when it does not ---
I=$T/bd.img
cp --sparse=always "$T/pristine.img" "$I"
expect_exit 0 "backup-dir: fix creates it" "$RP" fix "$I" --yes --backup-dir "$T/newdir"
check "backup-dir: mode 0700, holds the archive" sh -c \
	"[ \$(stat -c %a '$T/newdir') = 700 ] && ls '$T/newdir' | grep -q 'fix.tar.zst\$'"
expect_exit 2 "backup-dir: a missing parent is refused" "$RP" fix "$I" --yes --backup-dir "$T/no/such/dir"
check "backup-dir: says so" grep -q 'no/such/dir cannot be created' "$T/err"

# --- root: the same bytes in use elsewhere, read-only devices ---
if [ "$(id -u)" != 0 ] || ! command -v losetup >/dev/null || ! command -v ntfs-3g >/dev/null; then
	ok "in-use and read-only devices # skip needs root, losetup and ntfs-3g"
	finish
fi
I=$T/inuse.img
cp --sparse=always "$T/pristine.img" "$I"
s0=$(sha256sum <"$I")
loop_attach L -o $((P2 * 512)) --sizelimit $((P2_SECTORS * 512)) "$I"
M=$T/mnt
mkdir -p "$M"
check "partition 2 attached at its offset ($L) and mounted with ntfs-3g" ntfs-3g "$L" "$M"
MOUNTS="$M $MOUNTS"
upfront "loop mount: fix of the image" \
	"inuse.img is in use: $L is mounted at $M; give the mount point instead \(rdprescue fix $M\) or unmount it" \
	"$RP" fix "$I" --yes
upfront "loop mount: undo of the image" "inuse.img is in use: .*\(rdprescue undo $M\) or unmount it" \
	"$RP" undo "$I" --yes
upfront "loop mount: acl reset on the image" "inuse.img is in use: .*\(rdprescue acl $M\)" \
	"$RP" acl "$I" reset Windows --sddl 'O:SYG:SYD:(A;;FA;;;SY)' --yes
upfront "loop mount: fix of the loop device" "$L is in use: $L is mounted at $M" "$RP" fix "$L" --yes
json_one "loop mount: fix --json" 3 "$RP" fix "$I" --yes --json
loop_attach L2 "$I"
upfront "loop mount: fix of a second loop device of the same image" \
	"$L2 is in use: $L is mounted at $M; give the mount point instead" "$RP" fix "$L2" --yes
loop_free "$L2"
expect_exit 0 "loop mount: the advice works: fix of the mount point" "$RP" fix "$M" --yes
umount "$M"
check "loop mount: after unmount, ntfsfix -n finds the volume consistent" ntfsfix -n "$L"
loop_free "$L"
check "loop mount: the image holds what fix wrote through the mount (fDenyTSConnections 0)" sh -c \
	"'$RP' scan '$I' --json --check rdp.access >'$T/after.json'; $JQ '$T/after.json' 'not F(\"rdp.access\",\"problem\")'"

# a loop device somebody holds open exclusively (O_EXCL), without a mount
I=$T/excl.img
cp --sparse=always "$T/pristine.img" "$I"
s0=$(sha256sum <"$I")
loop_attach L "$I"
python3 -c "import os, time; fd = os.open('$L', os.O_RDONLY | os.O_EXCL); open('$T/held', 'w').close(); time.sleep(60)" &
HOLDER=$!
n=0
while [ ! -e "$T/held" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
check "another program holds $L open exclusively" test -e "$T/held"
upfront "O_EXCL holder: fix of the image" "excl.img is in use: $L is held open exclusively by another program" \
	"$RP" fix "$I" --yes
kill "$HOLDER" && wait "$HOLDER" 2>/dev/null
HOLDER=""
image_same "O_EXCL holder" "$I" "$s0"
expect_exit 0 "O_EXCL holder gone, attached but unused: fix writes" "$RP" fix "$I" --yes
loop_free "$L"

# an image ntfs-3g mounts directly (no loop device)
I=$T/direct.img
check "build a bare image" sh -c ". tests/lib/mkdisk.sh && mkdisk_bare '$I' 64 && \
for f in SYSTEM SOFTWARE; do '$TOOLS/rp-testfs' '$I' put '$T/hives-denied-local/'\$f Windows/System32/config/\$f || exit 1; done"
check "ntfs-3g mounts the image file" ntfs-3g "$I" "$M"
s0=$(sha256sum <"$I")
upfront "direct mount: fix" "direct.img is in use: .*direct.img is mounted at $M; give the mount point instead" \
	"$RP" fix "$I" --yes
umount "$M"
image_same "direct mount" "$I" "$s0"

# losetup -P: the volume's partition loopNp2 mounted.  Needs the kernel's partition scanning
# of loop devices (some containers have none: then "skip", never "ok"); without udev the node
# is made from sysfs.  tests/unit/test_inuse.c covers the same on a fake sysfs, with kpartx.
I=$T/partscan.img
cp --sparse=always "$T/pristine.img" "$I"
s0=$(sha256sum <"$I")
L=$(losetup -P -f --show "$I") && LOOPS="$L $LOOPS"
n=${L#/dev/}
[ -e "/sys/block/$n/${n}p2/dev" ] || { udevadm settle 2>/dev/null; sleep 0.5; }
if [ ! -e "/sys/block/$n/${n}p2/dev" ]; then
	skip "losetup -P: the volume's partition mounted" \
		"this kernel does not scan loop partitions (no /sys/block/$n/${n}p2)"
else
	P=/dev/${n}p2
	[ -b "$P" ] || { mknod "$T/${n}p2" b $(tr ':' ' ' <"/sys/block/$n/${n}p2/dev") && P=$T/${n}p2; }
	check "losetup -P: $P (partition 2) mounted with ntfs-3g" ntfs-3g "$P" "$M"
	MOUNTS="$M $MOUNTS"
	upfront "losetup -P: fix of the image" \
		"partscan.img is in use: /dev/${n}p2 is mounted at $M; give the mount point instead \(rdprescue fix $M\) or unmount it" \
		"$RP" fix "$I" --yes
	upfront "losetup -P: undo of the loop device" \
		"$L is in use: /dev/${n}p2 is mounted at $M; give the mount point instead \(rdprescue undo $M\)" \
		"$RP" undo "$L" --yes
	umount "$M"
	image_same "losetup -P" "$I" "$s0"
fi
loop_free "$L"

# read-only loop device; a non-root user on a /dev node
I=$T/rodev.img
cp --sparse=always "$T/pristine.img" "$I"
s0=$(sha256sum <"$I")
L=$(losetup -r -f --show "$I") && LOOPS="$L $LOOPS"
upfront "losetup -r: fix" "the device $L is read-only: attach it read-write" "$RP" fix "$L" --yes
loop_free "$L"
loop_attach L "$I"
upfront "non-root on $L: fix" "$L.*run as root" $AS "$RP" fix "$L" --yes
loop_free "$L"
image_same "read-only device, non-root" "$I" "$s0"
finish
