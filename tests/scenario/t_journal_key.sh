#!/bin/sh
# The redo journal of a block device follows the disk, not its name (issue 12): a journal left on
# persistent storage ($RP_JOURNAL_DIR, the rescue image's RDPRESCUE partition) by a run killed
# while a commit was being written in place is found again when the same disk comes back under
# another device name (/dev/sdb today, /dev/sdc after a reboot), and a clone of the disk (same
# NTFS serial number, same GPT disk GUID) never takes it.
#   - the journal of a whole fix (rp-testfs DEV journal CHANGED: every block in which a fixed
#     copy differs) is written for the image's first loop device; its name holds the volume's
#     serial, the offset and the disk's identity (here the loop's backing file), not "loopN";
#   - a clone of the image on its own loop device: scan sees no interrupted run, fix writes
#     through its own journals, and the first disk's journal stays;
#   - the first loop device detached, the image on a second one: scan sees the finished change
#     (read-only, journal kept), fix completes it first (the note), the journal is gone and the
#     image is byte for byte the fixed copy;
#   - a journal an older rdprescue left under the serial-only name is taken over the same way;
#   - the rescue image's choice (image/init, journal_dir, run here by sh with REPORT_MNT): the
#     RDPRESCUE partition when it is writable and has room (RP_JOURNAL_DIR exported, leftovers
#     named), else RAM with the reason.
# Root only for the loop devices: says "skip" for those otherwise.
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh
. tests/lib/loops.sh
cleanup() {
	loops_detach
	[ "${RP_KEEP:-0}" = 1 ] || rm -rf "$T"
}
trap cleanup EXIT

# --- image/init's journal_dir, extracted and run with a stand-in for the RDPRESCUE mount ---
sed -n '/^JOURNAL_MIN_KB=/,/^}/p' image/init >"$T/journal_dir.sh"
mkdir -p "$T/report"
# jd MIN_KB: runs journal_dir with that threshold; its console lines and RP_JOURNAL_DIR in $T/jd
jd() {
	env -u RP_JOURNAL_DIR sh -c ". '$T/journal_dir.sh'; say() { echo \"say: \$*\"; }
		JOURNAL_MIN_KB=$1 REPORT_DEV=/dev/sdz3 REPORT_MNT='$T/report' journal_dir
		echo \"RP_JOURNAL_DIR=\${RP_JOURNAL_DIR-unset}\"" >"$T/jd" 2>&1
}
jd 1
check "image/init: room on the partition: the journal goes there" sh -c \
	"grep -qx 'RP_JOURNAL_DIR=$T/report/journal' '$T/jd' && test -d '$T/report/journal' && \
grep -q 'say: redo journal on the RDPRESCUE partition (/dev/sdz3, $T/report/journal)' '$T/jd'"
: >"$T/report/journal/ntfs-0123456789abcdef@1048576-0123456789abcdef.rdprescue-journal"
jd 1
check "image/init: a journal left there is named on the console" \
	grep -q "say: left by an interrupted run: $T/report/journal/ntfs-0123456789abcdef@1048576-0123456789abcdef.rdprescue-journal; the next fix or undo of that disk completes it first" "$T/jd"
jd 999999999999
check "image/init: too little room: RAM, and the console says why" sh -c \
	"grep -qx 'RP_JOURNAL_DIR=unset' '$T/jd' && grep -q 'say: redo journal in RAM (/var/lib/rdprescue): the RDPRESCUE partition has [0-9]* MiB free, it needs 976562499 MiB' '$T/jd'"
rm -rf "$T/report" && : >"$T/report"
jd 1
check "image/init: the partition not writable there (a file in the way): RAM" sh -c \
	"grep -qx 'RP_JOURNAL_DIR=unset' '$T/jd' && grep -q 'say: redo journal in RAM' '$T/jd'"

if [ "$(id -u)" != 0 ] || ! command -v losetup >/dev/null; then
	skip "journal keyed by the disk" "needs root and losetup (loop devices)"
	finish
fi

D=$T/disk.img
check "build the disk (denied-local, GPT)" scenario_disk denied-local gpt "$D"
cp --sparse=always "$D" "$T/fixed.img"
cp --sparse=always "$D" "$T/clone.img"
expect_exit 0 "fix a copy: the state the journal will hold" "$RP" fix "$T/fixed.img" --yes
fixed=$(sha256sum <"$T/fixed.img")
export RP_JOURNAL_DIR="$T/journal"

loop_attach L1 "$D"
check "the journal of the whole fix, written for $L1" \
	sh -c "'$TOOLS/rp-testfs' '$L1' journal '$T/fixed.img' >'$T/jpath'"
J=$(cat "$T/jpath")
check "its name: volume serial, offset, disk identity; not the device name ($J)" sh -c \
	"echo '$J' | grep -Eq '^$T/journal/ntfs-[0-9a-f]{16}@[0-9]+-[0-9a-f]{16}\\.rdprescue-journal\$' && test -s '$J'"

# A clone of the disk on its own loop device: same serial and GPT GUID, another disk.
loop_attach L3 "$T/clone.img"
expect_exit 1 "the clone: scan" "$RP" scan "$L3" --check rdp.access
check "the clone: no interrupted run seen, the problem is still there" sh -c \
	"! grep -q 'interrupted run' '$T/out' && grep -q 'rdp.access' '$T/out'"
expect_exit 0 "the clone: fix writes through its own journals" "$RP" fix "$L3" --yes
check "the clone: no journal note, the first disk's journal is still there" sh -c \
	"! grep -q 'interrupted run' '$T/out' && test -s '$J' && [ \$(ls '$T/journal' | wc -l) = 1 ]"
loop_free "$L3"

# The same disk under another name.
loop_attach L2 "$D"
loop_free "$L1"
check "the disk is attached under another name ($L1 -> $L2)" test "$L1" != "$L2"
expect_exit 0 "new name: scan sees the journaled fix (read-only)" "$RP" scan "$L2" --check rdp.access
check "new name: scan wrote nothing, the journal stays" sh -c \
	"test -s '$J' && [ \"\$(sha256sum <'$D')\" != '$fixed' ]"
expect_exit 0 "new name: fix" "$RP" fix "$L2" --yes
check "new name: fix completed the journal first and says so" \
	grep_text "an interrupted run of rdprescue had left its last change in its journal: that change was completed first" "$T/out"
check "new name: the journal is gone, the image is byte for byte the fixed copy" sh -c \
	"! test -e '$J' && [ \"\$(sha256sum <'$D')\" = '$fixed' ]"
loop_free "$L2"

# A journal under the name an older rdprescue used (serial and offset only) is taken over.
cp --sparse=always "$T/clone.img" "$D"
loop_attach L1 "$D"
"$TOOLS/rp-testfs" "$L1" journal "$T/fixed.img" >/dev/null
OLD=$(echo "$J" | sed 's/-[0-9a-f]\{16\}\.rdprescue-journal$/.rdprescue-journal/')
mv "$J" "$OLD"
expect_exit 0 "older name: fix" "$RP" fix "$L1" --yes
check "older name: completed first, gone, the image is the fixed copy" sh -c \
	"grep -q 'completed first' '$T/out' && ! test -e '$OLD' && ! test -e '$J' && [ \"\$(sha256sum <'$D')\" = '$fixed' ]"
loop_free "$L1"
finish
