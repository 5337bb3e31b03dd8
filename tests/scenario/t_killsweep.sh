#!/bin/sh
# Kill sweep (issue 12, "Interruption: any instant, any signal"): `fix` and then `undo` are
# SIGKILLed every KILL_STEP_MS milliseconds (default 5) from their start until they finish
# before the kill, on a bare NTFS image holding a dirty SYSTEM with its LOG1/LOG2 (rp-mklogs:
# the newest data, RDP denied, only in the logs) and a SOFTWARE.  After each kill:
#   - the killed run died of the kill (or had finished with exit 0): no crash;
#   - when no journal is left (the kill did not land inside a commit): on the disk as it is,
#     read by independent readers, SYSTEM, SOFTWARE and both logs are each the old or the new
#     file byte for byte (ntfscat), Windows/System32/config lists no name twice (ntfsls) and a
#     read-only ntfs-3g mount lists no name twice and can stat every name (no dangling entry),
#     and ntfsfix -n passes;
#   - when a journal is left: rdprescue's own read-only `scan` reads the volume (exit 0 or 1);
#   - one more `fix` (or `undo`) exits 0 and leaves exactly what an undisturbed run leaves,
#     no journal or dirty mark, a clean dirty flag, a listing without duplicates, ntfsfix -n ok.
# One ok / not ok line per kill point, then the counts.  KILL_JOBS (default 2) sweeps run side
# by side, each taking every KILL_JOBS-th kill point; KILL_RUNS=N repeats the sweep (make
# stress: finer steps, more runs).  A SIGKILL leaves the page cache as it was, so the images
# live in /dev/shm when it is there (no fsync cost; the same states as on a disk).
[ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] && TMPDIR=/dev/shm && export TMPDIR
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh
STEP=${KILL_STEP_MS:-5}
RUNS=${KILL_RUNS:-1}
JOBS=${KILL_JOBS:-2}
CFG=Windows/System32/config
KILLAT=$TOOLS/rp-killat
j=0
while [ $j -lt "$JOBS" ]; do mkdir -p "$T/w$j/mnt" && j=$((j + 1)); done
trap 'for m in "$T"/w*/mnt; do umount "$m" 2>/dev/null; done; [ "${RP_KEEP:-0}" = 1 ] || rm -rf "$T"' EXIT
start=$(date +%s)

# The dirty SYSTEM: the real hive as primary, RDP denied only in its logs.
scenario_hives healthy "$T/old"
cp "$T/old/SYSTEM" "$T/new.SYSTEM"
hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' "$T/new.SYSTEM" \
	hive/scenarios/denied-local/system.reg
mkdir -p "$T/dirty"
check "rp-mklogs makes a dirty SYSTEM with LOG1 and LOG2" "$TOOLS/rp-mklogs" "$T/old/SYSTEM" \
	"$T/new.SYSTEM" "$T/dirty" SYSTEM --split
cp "$T/old/SOFTWARE" "$T/dirty/SOFTWARE"
D=$T/d.img
check "bare 64 MB image with the dirty hive and its logs" sh -c \
	". tests/lib/mkdisk.sh && mkdisk_bare '$D' 64"
put_windows "$D" "$T/dirty"

FILES="SYSTEM SOFTWARE SYSTEM.LOG1 SYSTEM.LOG2"
# shas IMG: "name=sha ..." of FILES read by ntfscat (-f: also with the dirty flag set).
shas() {
	for _f in $FILES; do
		printf '%s=%s ' "$_f" "$(ntfscat -f "$1" "/$CFG/$_f" 2>/dev/null | sha256sum | cut -c1-64)"
	done
}
# leftovers IMG: the journal or dirty mark rdprescue keeps next to the image.
leftovers() { ls "$1"@* 2>/dev/null; }
# dirty IMG: whether the volume's dirty flag is set.
dirty() { ntfsinfo -f -m "$1" 2>/dev/null | grep -q 'Volume Flags:.*DIRTY'; }
# list_ok IMG: no name twice in the config directory, by ntfsls and by a read-only ntfs-3g
# mount that stats every entry.
list_ok() {
	_l=$(ntfsls -f "$1" -p "/$CFG" 2>&1) || { echo "ntfsls failed: $_l"; return 1; }
	_d=$(printf '%s\n' "$_l" | sort | uniq -d)
	[ -z "$_d" ] || { echo "ntfsls lists twice: $_d"; return 1; }
	ntfs-3g -o ro,force "$1" "$W/mnt" 2>"$W/mount.err" || {
		echo "ntfs-3g mount: $(head -c 200 "$W/mount.err")"
		return 1
	}
	_r=0
	_m=$(ls -la "$W/mnt/$CFG" 2>&1) || { echo "ls on the mount: $_m" | head -c 300; _r=1; }
	_d=$(ls "$W/mnt/$CFG" | sort | uniq -d)
	[ -z "$_d" ] || { echo "the mount lists twice: $_d"; _r=1; }
	umount "$W/mnt" || _r=1
	return $_r
}
# in_set SHAS: every file of SHAS (shas output) is as in $2 or in $3.
in_set() {
	for _kv in $1; do
		case " $2 $3 " in *" $_kv "*) ;; *) echo "${_kv%%=*} is neither old nor new"; return 1 ;; esac
	done
}

# point_ok CMD MS BASE OLD NEW: one kill of CMD at MS on a copy of BASE; prints what is wrong.
point_ok() {
	cp --sparse=always "$3" "$K" && rm -f "$K"@* || return 1
	_run=$("$KILLAT" "$2" "$RP" "$1" "$K" --yes)
	bad=""
	case $_run in
	killed) ;;
	"exit 0") finished=$((finished + 1)) ;;
	*) bad="$bad the killed run ended with '$_run';" ;;
	esac
	if [ -e "$K@0$JOURNAL" ]; then
		in_commit=$((in_commit + 1))
		"$RP" scan "$K" >"$W/sout" 2>"$W/serr"
		case $? in 0 | 1) ;; *) bad="$bad scan with a journal left: $(head -c 200 "$W/serr");" ;; esac
		grep_text 'an interrupted rdprescue run left \(its last change in its journal\|an incomplete journal\)' "$W/sout" ||
			bad="$bad scan does not note the journal left;"
	else
		if [ -e "$K@0.rdprescue-dirty" ] && dirty "$K"; then
			"$RP" scan "$K" >"$W/sout" 2>&1
			grep_text 'dirty flag was set by an interrupted rdprescue run' "$W/sout" ||
				bad="$bad scan does not note rdprescue's own dirty flag;"
		fi
		in_set "$(shas "$K")" "$4" "$5" >"$W/why1" || bad="$bad $(cat "$W/why1");"
		list_ok "$K" >"$W/why2" 2>&1 || bad="$bad $(head -c 300 "$W/why2");"
		ntfsfix -n "$K" >"$W/nf" 2>&1 || bad="$bad ntfsfix -n: $(tail -n 2 "$W/nf" | tr '\n' ' ');"
		dirty "$K" && marked=$((marked + 1))
	fi
	"$RP" "$1" "$K" --yes >/dev/null 2>"$W/aerr" ||
		bad="$bad one more $1: $(head -c 300 "$W/aerr");"
	[ "$(shas "$K")" = "$5" ] || bad="$bad after one more $1 the files are not the new ones;"
	[ -z "$(leftovers "$K")" ] || bad="$bad left next to the image: $(leftovers "$K");"
	dirty "$K" && bad="$bad the dirty flag is still set;"
	list_ok "$K" >"$W/why3" 2>&1 || bad="$bad after one more $1: $(head -c 300 "$W/why3");"
	ntfsfix -n "$K" >"$W/nf" 2>&1 || bad="$bad ntfsfix -n after one more $1;"
	[ -z "$bad" ] || { echo "$bad"; return 1; }
}

# worker N CMD BASE OLD NEW: kills at N*STEP, (N+JOBS)*STEP ... ms until two of its runs in a
# row finish before the kill; ok / not ok lines to $W/log, counts to $W/counts.
worker() {
	W=$T/w$1 K=$T/w$1/k.img
	finished=0 in_commit=0 marked=0 points=0 fails=0
	ms=$(($1 * STEP)) done_in_row=0
	: >"$W/log"
	while [ $done_in_row -lt 2 ]; do
		before=$finished
		if point_ok "$2" $ms "$3" "$4" "$5" >"$W/why" 2>&1; then
			echo "ok - $2 killed at $ms ms" >>"$W/log"
		else
			echo "not ok - $2 killed at $ms ms: $(tr '\n' ' ' <"$W/why")" >>"$W/log"
			fails=$((fails + 1))
		fi
		points=$((points + 1))
		if [ $finished -gt $before ]; then done_in_row=$((done_in_row + 1)); else done_in_row=0; fi
		ms=$((ms + STEP * JOBS))
		if [ $ms -gt 60000 ]; then
			echo "not ok - $2 sweep: still running after 60 s" >>"$W/log"
			break
		fi
	done
	echo "$points $in_commit $marked $fails $ms" >"$W/counts"
}

# sweep CMD BASE OLD NEW: JOBS workers side by side, then their lines in kill-time order.
sweep() {
	j=0
	while [ $j -lt "$JOBS" ]; do
		worker $j "$@" &
		j=$((j + 1))
	done
	wait
	cat "$T"/w*/log | awk '{ for (i = 1; i < NF; i++) if ($i == "at") { print $(i + 1) "\t" $0; break } }' |
		sort -n | cut -f2-
	_failed=$((_failed + $(cat "$T"/w*/log | grep -c '^not ok')))
	set -- "$1" $(cat "$T"/w*/counts | awk '{p+=$1; c+=$2; m+=$3; f+=$4; if ($5>x) x=$5} END {print p, c, m, f, x}')
	echo "# $1: $2 kill points every $STEP ms up to $6 ms; $3 inside a commit, $4 with the" \
		"dirty flag set, $5 failed"
	total_points=$((total_points + $2))
}

JOURNAL=.rdprescue-journal
old=$(shas "$D")
F=$T/fixed.img
cp --sparse=always "$D" "$F"
expect_exit 0 "undisturbed fix" "$RP" fix "$F" --yes
fixed=$(shas "$F")
check "the fix replaced SYSTEM" test "${old%%SOFTWARE=*}" != "${fixed%%SOFTWARE=*}"
check "an undisturbed fix leaves no journal or dirty mark" test -z "$(leftovers "$F")"
check "an undisturbed fix leaves the dirty flag clear" sh -c "! ntfsinfo -f -m '$F' | grep -q DIRTY"
U=$T/undone.img
cp --sparse=always "$F" "$U"
expect_exit 0 "undisturbed undo" "$RP" undo "$U" --yes
undone=$(shas "$U")
check "undo gives the old files back" test "$undone" = "$old"

# What an older rdprescue killed while creating its temporary file left: a listed
# SYSTEM.rdprescue-tmp with no file behind it.  fix (on the original image) and undo (on the
# fixed one) refuse before writing anything.
X=$T/dangling.img
for cmd in fix undo; do
	if [ $cmd = fix ]; then base=$D; else base=$F; fi
	check "$cmd: a dangling SYSTEM.rdprescue-tmp (rp-testfs put, then dangle)" sh -c \
		"cp --sparse=always '$base' '$X' &&
		'$TOOLS/rp-testfs' '$X' put '$T/dirty/SYSTEM.LOG1' $CFG/SYSTEM.rdprescue-tmp &&
		'$TOOLS/rp-testfs' '$X' dangle $CFG/SYSTEM.rdprescue-tmp"
	x0=$(shas "$X")
	nb0=$(ntfsls -f "$X" -p /rdprescue/backups 2>/dev/null | wc -l)
	expect_exit 3 "$cmd on the damaged index refuses" "$RP" $cmd "$X" --yes
	check "$cmd: the message names the entry, the damage and chkdsk /f" grep -q \
		"lists SYSTEM.rdprescue-tmp, but there is no file behind that name.*nothing was written: run chkdsk /f" \
		"$T/err"
	nb1=$(ntfsls -f "$X" -p /rdprescue/backups 2>/dev/null | wc -l)
	check "$cmd: nothing was written (no backup, no dirty mark, the files as before)" sh -c \
		"[ $nb1 = $nb0 ] && [ -z \"\$(ls '$X'@* 2>/dev/null)\" ] && [ '$(shas "$X")' = '$x0' ]"
done

# A run killed between clearing the dirty flag and removing its mark leaves the mark alone (a
# sweep point lands in that window only by chance): the next fix, with nothing else to do,
# still opens the volume read-write to remove it, and says nothing is left.
M=$T/mark.img
cp --sparse=always "$F" "$M"
: >"$M@0.rdprescue-dirty"
expect_exit 0 "a dirty mark without the flag: fix exits 0" "$RP" fix "$M" --yes
check "... and removes the mark" test -z "$(leftovers "$M")"
check "... the files as the fix left them" test "$(shas "$M")" = "$fixed"

total_points=0
run=1
while [ $run -le "$RUNS" ]; do
	sweep fix "$D" "$old" "$fixed"
	sweep undo "$F" "$fixed" "$undone"
	run=$((run + 1))
done
echo "# $total_points kill points in $(($(date +%s) - start)) s"

# SIGTERM: before the read-write open it ends the run (exit 143, nothing written); after it,
# the run finishes first and says so.  Sent at 30%, 40% ... of an undisturbed fix's time
# until one lands in the write phase (up to 150%: the machine may be busier than when timed).
W=$T/w0 K=$T/w0/k.img
took=$(cp --sparse=always "$D" "$K" && rm -f "$K"@* && "$KILLAT" time "$RP" fix "$K" --yes)
took=${took##* }
pct=30 noted=0 bad=""
while [ $pct -le 150 ] && [ $noted = 0 ]; do
	cp --sparse=always "$D" "$K" && rm -f "$K"@*
	"$RP" fix "$K" --yes >"$W/out" 2>&1 &
	pid=$!
	sleep "$(awk "BEGIN { printf \"%.3f\", $took * $pct / 100000 }")"
	kill -TERM $pid 2>/dev/null
	wait $pid
	rc=$?
	case $rc in
	0) grep_text 'SIGTERM arrived while the volume was being written: rdprescue finished first' \
		"$W/out" && noted=1
		[ "$(shas "$K")" = "$fixed" ] || bad="$bad exit 0 at $pct% but not the new files;" ;;
	143) in_set "$(shas "$K")" "$old" "$fixed" >/dev/null || bad="$bad killed by SIGTERM at $pct% with a mix;" ;;
	*) bad="$bad exit $rc at $pct%;" ;;
	esac
	pct=$((pct + 10))
done
if [ -z "$bad" ] && [ $noted = 1 ]; then
	ok "SIGTERM during the write phase: fix finishes first and notes it (at $((pct - 10))% of $took ms)"
else
	fail "SIGTERM during the write phase" "${bad:-no run took the signal while writing}"
fi
finish
