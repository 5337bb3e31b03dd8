#!/bin/sh
# Fault-injection matrix (issue 7): a FAULTS=1 build ($BUILD/faults) fails the Nth write point
# of vol/, of the backup writer and of the hive writer (src/util/fault.h).  One unfaulted `fix`
# lists the points (RP_FAULT_LOG); then, on a fresh copy of the disk each time, `fix` runs with
# RP_FAULT_AT=N for every N.  After each run:
#   - exit 4 and one line on stderr (exit 3 for the in-memory hive writer, reg-*: it fails
#     before the volume is opened for writing, and the image must be byte-identical);
#   - the volume passes ntfsfix -n, and SYSTEM and SOFTWARE are the originals (nothing written
#     or rolled back) with no temporary names left next to them;
#   - where the backup was completed on the volume, `undo --yes` gives the originals back;
#   - a second, unfaulted `fix` is not blocked by what the failed one left and writes exactly
#     what an undisturbed fix writes.
# One ok / not ok line per point.
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh
FB=${BUILD:-build}/faults
RPF=$PWD/$FB/rdprescue

check "FAULTS=1 build in $FB" make -s BUILD="$FB" FAULTS=1 all
[ -x "$RPF" ] || { echo "not ok - no $RPF"; exit 1; }

# denied-by-policy, with the policy value stored as a REG_QWORD: the SYSTEM edit is in place,
# the SOFTWARE one goes through hivex, so the hive writer's points run too.
D=$T/disk.img
scenario_hives denied-by-policy "$T/hives"
printf '%s\n' 'Windows Registry Editor Version 5.00' '' \
	'[HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services]' \
	'"fDenyTSConnections"=hex(b):01,00,00,00,00,00,00,00' >"$T/qword.reg"
check "build the disk (policy value as REG_QWORD)" sh -c "hivexregedit --merge --prefix \
'HKEY_LOCAL_MACHINE\\SOFTWARE' '$T/hives/SOFTWARE' '$T/qword.reg' && . tests/lib/mkdisk.sh && \
mkdisk '$D' gpt 96 && for f in SYSTEM SOFTWARE; do '$TOOLS/rp-testfs' '$D' put '$T/hives/'\$f \
Windows/System32/config/\$f || exit 1; done"
img0=$(sha256sum <"$D")
sys0=$(vol_sha "$D" $SYS) soft0=$(vol_sha "$D" $SOFT)

C=$T/copy.img
cp --sparse=always "$D" "$C"
mkdir -p "$T/bk"
rm -f "$T/points"
RP_FAULT_LOG=$T/points expect_exit 0 "unfaulted fix lists the fault points" \
	"$RPF" fix "$C" --yes --backup-dir "$T/bk"
sys1=$(vol_sha "$C" $SYS) soft1=$(vol_sha "$C" $SOFT)
check "the fix changes both hives" test "$sys1" != "$sys0" -a "$soft1" != "$soft0"
npoints=$(wc -l <"$T/points")
check "points of every kind ran ($npoints)" sh -c "for p in vol:create vol:truncate vol:write \
vol:ordered vol:apply vol:unlink vol:sync vol:mkdir vol:set_sd backup:write backup:sync reg-hivex-set \
reg-hivex-commit; do grep -q \" \$p\$\" '$T/points' || { echo no \$p; exit 1; }; done"

# point_ok N POINT: the checks above for one injected fault; prints what is wrong.
point_ok() {
	cp --sparse=always "$D" "$C" && rm -rf "$T/bk" && mkdir "$T/bk" || return 1
	RP_FAULT_AT=$1 "$RPF" fix "$C" --yes --backup-dir "$T/bk" >"$T/fout" 2>"$T/ferr"
	rc=$? want=4
	case $2 in reg-*) want=3 ;; esac
	bad=""
	[ "$rc" = "$want" ] || bad="$bad exit $rc (wanted $want);"
	[ "$(wc -l <"$T/ferr")" = 1 ] && grep -q '^rdprescue: ..' "$T/ferr" ||
		bad="$bad stderr is not one message line: $(head -c 300 "$T/ferr");"
	if [ "$want" = 3 ] && [ "$(sha256sum <"$C")" != "$img0" ]; then
		bad="$bad the image changed;"
	fi
	ntfs_check "$C" 2 || bad="$bad ntfsfix -n: $(tail -n 2 "$T/ntfsfix.out" | tr '\n' ' ');"
	[ "$(vol_sha "$C" $SYS)" = "$sys0" ] || bad="$bad SYSTEM is not the original;"
	[ "$(vol_sha "$C" $SOFT)" = "$soft0" ] || bad="$bad SOFTWARE is not the original;"
	"$TOOLS/rp-testfs" "$C" ls Windows/System32/config | grep -q rdprescue &&
		bad="$bad temporary names left in Windows/System32/config;"
	if "$TOOLS/rp-testfs" "$C" ls rdprescue/backups 2>/dev/null | grep -q 'fix\.tar\.zst$'; then
		"$RP" undo "$C" --yes >/dev/null 2>"$T/uerr" || bad="$bad undo: $(head -c 200 "$T/uerr");"
		[ "$(vol_sha "$C" $SYS)" = "$sys0" ] && [ "$(vol_sha "$C" $SOFT)" = "$soft0" ] ||
			bad="$bad undo did not give the originals back;"
	fi
	"$RP" fix "$C" --yes >/dev/null 2>"$T/rerr" || bad="$bad fix after it: $(head -c 200 "$T/rerr");"
	[ "$(vol_sha "$C" $SYS)" = "$sys1" ] && [ "$(vol_sha "$C" $SOFT)" = "$soft1" ] ||
		bad="$bad fix after it wrote something else;"
	[ -z "$bad" ] || { echo "$bad"; return 1; }
}

while read -r n point; do
	if point_ok "$n" "$point" >"$T/why" 2>&1; then
		ok "fault $n/$npoints at $point: exit $rc, $(head -c 160 "$T/ferr")"
	else
		fail "fault $n/$npoints at $point" "$(head -c 600 "$T/why")"
	fi
done <"$T/points"

# --- the journal a commit leaves when writing in place fails (vol:apply): the new file's data
# went to free clusters before the journal (ordered), so the journal holds only its hashes and
# the metadata; the largest one left (SYSTEM's replace) is version 3 and a fraction of SYSTEM's
# size.  (That the next fix completes each is checked above.) ---
sys_size=$("$TOOLS/rp-testfs" "$D" cat Windows/System32/config/SYSTEM | wc -c)
big=0
for n in $(awk '$2 == "vol:apply" { print $1 }' "$T/points"); do
	cp --sparse=always "$D" "$C" && rm -rf "$T/bk" && mkdir "$T/bk"
	RP_FAULT_AT=$n "$RPF" fix "$C" --yes --backup-dir "$T/bk" >/dev/null 2>&1
	for j in "$C"@*.rdprescue-journal; do
		[ -f "$j" ] || continue
		sz=$(stat -c %s "$j")
		[ "$sz" -le "$big" ] || { big=$sz && head -c 8 "$j" >"$T/jmagic"; }
	done
	rm -f "$C"@*
done
check "the largest journal a failed in-place write leaves is version 3 and small ($big bytes, SYSTEM $sys_size)" \
	sh -c "[ '$big' -gt 0 ] && [ \$(( $big * 8 )) -lt '$sys_size' ] && grep -qx RPJRNL03 '$T/jmagic'"

# --- a redo journal that cannot be read (jr:read fails with EIO): whether it is complete is
# unknown, so it is neither replayed nor dropped.  scan reads the volume without it and says so;
# fix refuses with exit 3 and one line (with --json: one document with error), before anything
# is written: the image and the journal are unchanged. ---
F=$T/fixed.img
cp --sparse=always "$D" "$F"
"$RP" fix "$F" --yes >/dev/null 2>&1
cp --sparse=always "$D" "$C"
check "a journal of the whole fix, left next to the image" \
	sh -c "'$TOOLS/rp-testfs' '$C' journal '$F' >'$T/jpath'"
J=$(cat "$T/jpath")
cp --sparse=always "$C" "$T/c.saved" && cp "$J" "$T/j.saved"
c0=$(sha256sum <"$C") j0=$(sha256sum <"$J")
rm -f "$T/jpoints"
RP_FAULT_LOG=$T/jpoints "$RPF" scan "$C" >/dev/null 2>&1
first=$(grep -m1 ' jr:read$' "$T/jpoints" | cut -d' ' -f1)
RP_FAULT_AT=$first expect_exit 1 "unreadable journal: scan reads the volume without it" \
	sh -c "'$RPF' scan '$C' >'$T/sout'"
check "... and says so" grep_text "left a redo journal that cannot be read" "$T/sout"
check "... and writes nothing" sh -c "[ \"\$(sha256sum <'$C')\" = '$c0' ] && [ \"\$(sha256sum <'$J')\" = '$j0' ]"
rm -f "$T/jpoints"
RP_FAULT_LOG=$T/jpoints "$RPF" fix "$C" --yes >/dev/null 2>&1
last=$(grep ' jr:read$' "$T/jpoints" | tail -n 1 | cut -d' ' -f1)
cp --sparse=always "$T/c.saved" "$C" && cp "$T/j.saved" "$J"
RP_FAULT_AT=$last expect_exit 3 "unreadable journal at the read-write open: fix refuses" \
	sh -c "'$RPF' fix '$C' --yes 2>'$T/ferr' >/dev/null"
check "... one line that says why and what to do" sh -c \
	"[ \$(wc -l <'$T/ferr') = 1 ] && grep -q '^rdprescue: a redo journal left by an interrupted rdprescue run (.*) cannot be read (Input/output error): nothing was done; make it readable and run again' '$T/ferr'"
check "... nothing written: image and journal unchanged" sh -c \
	"[ \"\$(sha256sum <'$C')\" = '$c0' ] && [ \"\$(sha256sum <'$J')\" = '$j0' ]"
RP_FAULT_AT=$last expect_exit 3 "... with --json too" sh -c "'$RPF' fix '$C' --yes --json >'$T/fjson' 2>/dev/null"
check "... one JSON document with the error" jq -e '.error | test("cannot be read")' "$T/fjson"
expect_exit 0 "readable again: fix completes the journaled change" "$RPF" fix "$C" --yes
check "... the volume holds the fixed SYSTEM" test "$(vol_sha "$C" $SYS)" = "$(vol_sha "$F" $SYS)"

# --- a hive that does not fit in its scratch file on this machine (a 4 MiB file-size limit; the
# SYSTEM here is bigger): a scan reads the hives where they are (clean in place, replayed ones
# in memory) and needs no scratch file; a fix whose SYSTEM edit needs hivex (--reset-ip deletes
# values) must copy SYSTEM into one, and the volume was read fine, so the message names the
# scratch file, not the volume, and says what to do; exit 3, --json one document with the
# error, nothing written. ---
cp --sparse=always "$D" "$C"
small="trap '' XFSZ; ulimit -f 4096; exec"
expect_exit 1 "scratch file too small: a scan needs none (problems found)" \
	sh -c "$small '$RP' scan '$C' >/dev/null 2>&1"
expect_exit 3 "... a fix that edits SYSTEM with hivex (--reset-ip) exits 3" \
	sh -c "$small '$RP' fix '$C' --yes --reset-ip 2>'$T/serr' >/dev/null"
check "... one error line naming the hive, the scratch file and what to do" sh -c "[ \$(grep -c '^rdprescue: ' '$T/serr') = 1 ] && \
grep -q '^rdprescue: cannot hold SYSTEM in a scratch file (in memory): File too large; free memory or raise the file-size limit (ulimit -f)\$' '$T/serr'"
expect_exit 3 "... with --json too" sh -c "$small '$RP' fix '$C' --yes --reset-ip --json 2>/dev/null >'$T/sjson'"
check "... one JSON document with the error" sh -c "[ \$(wc -l <'$T/sjson') = 1 ] && \
jq -e '.error | test(\"cannot hold SYSTEM in a scratch file\")' '$T/sjson' >/dev/null"
check "... and writes nothing" test "$(sha256sum <"$C")" = "$img0"
finish
