#!/bin/sh
# A stale redo journal is never replayed (issue 12): a run interrupted after its journal was
# complete, then the volume changed by someone else (Windows booted from the disk and chkdsk
# ran, or the disk was attached to another VM) before the next rdprescue run.  Replaying the
# journal would overwrite MFT records, index blocks and bitmaps written since.
#   - the journal of a whole fix (rp-testfs DEV journal CHANGED: every block in which a fixed
#     copy differs, with the SHA-256 of each block as DEV holds it) is left next to an image;
#   - with the journal out of the way, a file is put into Windows/System32/config (the
#     directory the fix changed): at least one journaled block now holds neither its old nor
#     its new contents (checked block by block here, with dd and cmp);
#   - scan notes the stale journal, reads the volume without it (the problem is still there:
#     exit 1, as on the image without a journal) and writes nothing;
#   - fix exits 3 with one line saying what happened and what to do, writes nothing (the file
#     put is intact, ntfsfix -n passes), and the journal is kept as <journal>.stale-<time>;
#     the next fix goes ahead; the same when the volume has nothing left to fix (fix opens it
#     read-write all the same, as for any journal left);
#   - on an unchanged image the same journal is replayed and fix completes: byte for byte the
#     fixed copy (as before the guard).
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh
trap '[ "${RP_KEEP:-0}" = 1 ] || rm -rf "$T"' EXIT

D0=$T/disk0.img D=$T/disk.img
check "build the disk (denied-local, GPT)" scenario_disk denied-local gpt "$D0"
cp --sparse=always "$D0" "$T/fixed.img"
expect_exit 0 "fix a copy: the state the journal will hold" "$RP" fix "$T/fixed.img" --yes
fixed=$(sha256sum <"$T/fixed.img")

# --- the volume changed since the journal was written ---
cp --sparse=always "$D0" "$D"
check "the journal of the whole fix, left next to the image" \
	sh -c "'$TOOLS/rp-testfs' '$D' journal '$T/fixed.img' >'$T/jpath'"
J=$(cat "$T/jpath")
check "it is a version-3 journal (pre-image hashes, ordered blocks)" sh -c "head -c 8 '$J' | grep -qx RPJRNL03"
cp --sparse=always "$D" "$T/before.img"
echo "written while rdprescue was away" >"$T/other.txt"
mv "$J" "$J.held"
check "the volume changes underneath: a file put into the config directory" \
	"$TOOLS/rp-testfs" "$D" put "$T/other.txt" Windows/System32/config/other.txt
mv "$J.held" "$J"
# changed_blocks J OLD NEW: how many of J's journaled blocks differ between OLD and NEW (a version-3
# journal: a 48-byte head, then records of 8 + 64 + 4096 bytes).
changed_blocks() {
	_base=$(od -An -t u8 -j 8 -N 8 "$1" | tr -d ' ')
	_n=$(od -An -t u8 -j 24 -N 8 "$1" | tr -d ' ')
	_i=0 _c=0
	while [ "$_i" -lt "$_n" ]; do
		_no=$(od -An -t u8 -j $((48 + _i * 4168)) -N 8 "$1" | tr -d ' ')
		_off=$((_base + _no * 4096))
		if ! cmp -s -n 4096 -i "$_off:$_off" "$2" "$3"; then _c=$((_c + 1)); fi
		_i=$((_i + 1))
	done
	echo "$_c of $_n"
}
nchanged=$(changed_blocks "$J" "$T/before.img" "$D")
check "at least one journaled block changed underneath ($nchanged)" \
	sh -c "[ '${nchanged%% *}' -gt 0 ]"
changed=$(sha256sum <"$D")

expect_exit 1 "scan: the problem is still there (exit as without a journal)" \
	"$RP" scan "$D" --check rdp.access
check "scan: notes the stale journal" grep_text \
	"an interrupted rdprescue run left a redo journal that does not match the volume: it has changed since" \
	"$T/out"
check "scan: wrote nothing, the journal stays where it is" sh -c \
	"[ \"\$(sha256sum <'$D')\" = '$changed' ] && test -s '$J' && ! ls '$J'.stale-* 2>/dev/null"

cp "$J" "$T/jcopy"
expect_exit 3 "fix: refuses (unusable target)" "$RP" fix "$D" --yes
check "fix: one line that says what happened and what to do" sh -c \
	"[ \$(wc -l <'$T/err') = 1 ] && grep -q '^rdprescue: a redo journal left by an interrupted rdprescue run ($J) does not match the volume.*it has changed since (Windows or chkdsk ran); it was not replayed and was kept as $J\\.stale-[0-9TZ]*; run chkdsk /f on the volume in Windows, then run again\$' '$T/err'"
check "fix: nothing replayed, nothing written" sh -c "[ \"\$(sha256sum <'$D')\" = '$changed' ]"
check "fix: the file put is intact" sh -c \
	"'$TOOLS/rp-testfs' '$D' cat Windows/System32/config/other.txt | cmp -s - '$T/other.txt'"
check "fix: ntfsfix -n passes" ntfs_check "$D" 2
check "fix: the journal was kept, unchanged, as $(basename "$J").stale-*" sh -c \
	"! test -e '$J' && [ \$(ls '$J'.stale-* | wc -l) = 1 ] && cmp -s '$J'.stale-* '$T/jcopy'"
expect_exit 0 "the next fix goes ahead (after chkdsk)" "$RP" fix "$D" --yes --check rdp.access
check "... without a journal note, the stale journal left alone" sh -c \
	"! grep -q 'interrupted run of rdprescue had left' '$T/out' && [ \$(ls '$J'.stale-* | wc -l) = 1 ] && ! test -e '$J'"
check "... the file put is still intact" sh -c \
	"'$TOOLS/rp-testfs' '$D' cat Windows/System32/config/other.txt | cmp -s - '$T/other.txt'"
check "... ntfsfix -n passes" ntfs_check "$D" 2

# --- nothing left to fix, but a stale journal: fix still refuses (its read-write open) ---
cp --sparse=always "$D0" "$D" && rm -f "$J" "$J".stale-*
"$TOOLS/rp-testfs" "$D" journal "$T/fixed.img" >/dev/null
mv "$J" "$J.held"
"$RP" fix "$D" --yes >/dev/null 2>&1
mv "$J.held" "$J"
expect_exit 0 "fixed by another run since: scan finds nothing to fix, notes the journal" \
	"$RP" scan "$D" --check rdp.access
check "... the note" grep_text "left a redo journal that does not match the volume" "$T/out"
changed=$(sha256sum <"$D")
expect_exit 3 "... fix with nothing to fix refuses too" "$RP" fix "$D" --yes
check "... nothing written, the journal kept as .stale-*" sh -c \
	"[ \"\$(sha256sum <'$D')\" = '$changed' ] && ! test -e '$J' && [ \$(ls '$J'.stale-* | wc -l) = 1 ] && grep -q 'does not match the volume' '$T/err'"

# --- the volume did not change: replayed as before ---
cp --sparse=always "$D0" "$D" && rm -f "$J" "$J".stale-*
"$TOOLS/rp-testfs" "$D" journal "$T/fixed.img" >/dev/null
expect_exit 0 "unchanged volume: scan sees the journaled fix" "$RP" scan "$D" --check rdp.access
expect_exit 0 "unchanged volume: fix" "$RP" fix "$D" --yes
check "unchanged volume: fix completed the journal first and says so" grep_text \
	"an interrupted run of rdprescue had left its last change in its journal: that change was completed first" \
	"$T/out"
check "unchanged volume: the journal is gone, the image is byte for byte the fixed copy" sh -c \
	"! test -e '$J' && ! ls '$J'.stale-* 2>/dev/null && [ \"\$(sha256sum <'$D')\" = '$fixed' ]"

# --- ordered blocks on other cluster sizes: a new file's data goes to free clusters before the
# journal (eight clusters per 4 KiB block at 512 bytes, a block inside a cluster at 64 KiB); the
# file reads back byte for byte with ntfscat, and ntfsfix -n finds the volume consistent ---
seq 1 500000 >"$T/seq.txt"
for cs in 512 65536; do
	C=$T/c$cs.img
	truncate -s 64M "$C" && mkntfs -q -F -Q -c "$cs" "$C" >/dev/null 2>&1
	check "clusters of $cs bytes: a $(wc -c <"$T/seq.txt")-byte file written" \
		"$TOOLS/rp-testfs" "$C" put "$T/seq.txt" seq.txt
	check "... ntfscat reads it back byte for byte" sh -c "ntfscat '$C' seq.txt | cmp -s - '$T/seq.txt'"
	check "... ntfsfix -n finds the volume consistent" sh -c "ntfsfix -n '$C' >'$T/fsck.out' 2>&1"
done
finish
