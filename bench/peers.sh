#!/bin/sh
# make bench, part 2: rdprescue side by side with the tools that skip the hard parts (issue 19).
# Timings are printed and written to bench/results.json, never asserted.
#
# Inputs, built here (~1-2 min):
#   H: a 400 MB GPT disk; its Windows partition holds a dirty SYSTEM (the real Windows 7 SP1
#      hive with RDP denied, ~12 MB, plus ~6 MB of pending HvLE log data in .LOG1/.LOG2, made by
#      rp-mklogs) and a ~100 MB SOFTWARE (bench/mkhive through libhivex).
#   K: a 1 GB bare NTFS volume with a MachineKeys folder of KEYS_COUNT (100,000) key files
#      whose folder ACL is broken (rp-testfs manykeys, as bench/keys.sh).
# Contenders, each BENCH_RUNS (5) times on a fresh copy of the disk, median wall time and peak RSS:
#   fix    the same single DWORD change (fDenyTSConnections 1 -> 0) in SYSTEM:
#          rdprescue fix --check rdp.access (replay, backup, verify)
#          (a) losetup + ntfs-3g + hivexregedit --merge + umount + losetup -d
#          (b) losetup + ntfs-3g + chntpw's reged -I -C + umount + losetup -d
#   scan   rdprescue scan --check 'rdp.*' and a whole rdprescue scan, against a read-only
#          losetup + ntfs-3g + one hivexget per value the rdp.* checks read + umount
#   keys   rdprescue fix --check keys.acl against losetup + ntfs-3g + setfattr system.ntfs_acl
#          (the same security descriptor rdprescue writes) + umount; rdprescue scan
#          --check keys.contents against a read-only ntfs-3g mount + cat of every key file
# Peak RSS of a mounted path = the ntfs-3g daemon's peak + the tool's peak (both resident at once).
# Without root or FUSE the peer paths are skipped with a note.
set -e
BUILD=${BUILD:-build}
SHARED=${RP_SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
RUNS=${BENCH_RUNS:-5}
COUNT=${KEYS_COUNT:-100000}
OUT=${BENCH_OUT:-bench/results.json}
T=$(mktemp -d "${TMPDIR:-/tmp}/rppeers.XXXXXX")
TOOLS=$PWD/$BUILD/tests
RP=$PWD/$BUILD/rdprescue
LOOP="" MNT=$T/mnt FUSEPID=""
cleanup() {
	if [ -n "$MNT" ] && mountpoint -q "$MNT" 2>/dev/null; then umount "$MNT" 2>/dev/null || true; fi
	[ -z "$FUSEPID" ] || wait "$FUSEPID" 2>/dev/null || true
	[ -z "$LOOP" ] || losetup -d "$LOOP" 2>/dev/null || true
	[ "${RP_KEEP:-0}" = 1 ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh
CFG=Windows/System32/config
MK=ProgramData/Microsoft/Crypto/RSA/MachineKeys
TS='ControlSet001\Control\Terminal Server'

now_ms() { date +%s%N | cut -b1-13; }

# ---- inputs ----------------------------------------------------------------------------------
echo "== building the inputs"
t0=$(now_ms)
scenario_hives healthy "$T/old"
# The primary already denies RDP (so every contender makes the same 1 -> 0 change); the logs
# hold ~6 MB of keys added after it.
printf 'Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\%s]\n"fDenyTSConnections"=dword:00000001\n' \
	"$TS" >"$T/deny.reg"
hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' "$T/old/SYSTEM" "$T/deny.reg"
cp "$T/old/SYSTEM" "$T/new.SYSTEM"
{
	printf 'Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\RpBench]\n'
	blob=$(head -c 200 /dev/zero | od -An -tx1 | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
	i=0
	while [ $i -lt 1100 ]; do
		printf '\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\RpBench\\K%04d]\n"Data"=hex:%s\n' $i "$blob"
		i=$((i + 1))
	done
} >"$T/bulk.reg"
hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' "$T/new.SYSTEM" "$T/bulk.reg"
mkdir -p "$T/dirty"
"$TOOLS/rp-mklogs" "$T/old/SYSTEM" "$T/new.SYSTEM" "$T/dirty" SYSTEM --split >/dev/null
cp "$T/old/SOFTWARE" "$T/dirty/SOFTWARE"
"$BUILD/bench/mkhive" "$T/dirty/SOFTWARE" RpBench 105
mkdisk "$T/H.img" gpt 400
put_windows "$T/H.img" "$T/dirty"
sys_mb=$(stat -c %s "$T/dirty/SYSTEM") log_b=$(($(stat -c %s "$T/dirty/SYSTEM.LOG1") + $(stat -c %s "$T/dirty/SYSTEM.LOG2")))
soft_mb=$(stat -c %s "$T/dirty/SOFTWARE")
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
INPUTS="SYSTEM $(mb $sys_mb) MB dirty + $(mb $log_b) MB of logs, SOFTWARE $(mb $soft_mb) MB (GPT, 400 MB); MachineKeys $COUNT files (bare NTFS, 1 GB)"
echo "disk H: SYSTEM $(mb $sys_mb) MB dirty + $(mb $log_b) MB of logs, SOFTWARE $(mb $soft_mb) MB"
# Partition 2 of H, for the loop device.
set -- $(sfdisk -d "$T/H.img" | sed -n 's/.*start= *\([0-9]*\), size= *\([0-9]*\),.*/\1 \2/p' | tail -1)
H_OFF=$(($1 * 512)) H_SIZE=$(($2 * 512))

mkdisk_bare "$T/K.img" 1024
put_windows "$T/K.img" "$T/old"
"$TOOLS/rp-testfs" "$T/K.img" mkdir $MK
"$TOOLS/rp-testfs" "$T/K.img" setsddl $MK 'O:SYG:SYD:PAI(A;;FA;;;BA)'
"$TOOLS/rp-testfs" "$T/K.img" manykeys $MK "$COUNT" 1000
echo "disk K: MachineKeys with $COUNT key files, folder ACL broken"
echo "inputs built in $((($(now_ms) - t0) / 1000)) s"
[ "${RP_KEEP:-0}" != 1 ] || echo "inputs kept in $T (H.img, K.img; bench/profile.sh $T/H.img)"

# ---- measuring -------------------------------------------------------------------------------
# Raw samples: "name<TAB>run<TAB>ms<TAB>rss_kib" in $T/samples.
: >"$T/samples"
sample() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$T/samples"; }

# timed NAME RUN CMD...: wall time and peak RSS of one command (its exit status is ignored: a
# scan that finds problems exits 1).
timed() {
	_n=$1 _r=$2
	shift 2
	_t0=$(now_ms)
	/usr/bin/time -o "$T/rss" -f %M "$@" >"$T/cmd.out" 2>"$T/cmd.err" || true
	sample "$_n" "$_r" $(($(now_ms) - _t0)) "$(tail -1 "$T/rss")"
}

PEERS=1
if [ "$(id -u)" != 0 ] || [ ! -e /dev/fuse ] || ! command -v ntfs-3g >/dev/null; then
	PEERS=0
	echo "note: not root or no FUSE: the ntfs-3g peer paths are skipped"
fi
if ! command -v reged >/dev/null; then echo "note: reged (Debian chntpw) missing: path (b) skipped"; fi

# mount_vol IMG OFFSET SIZE [ro]: a loop device over the volume, ntfs-3g in the foreground under
# /usr/bin/time (its peak RSS into $T/rss.fuse), returns when the mount is there.
mount_vol() {
	if [ "$2" = 0 ]; then LOOP=$(losetup -f --show "$1"); else LOOP=$(losetup -f --show -o "$2" --sizelimit "$3" "$1"); fi
	mkdir -p "$MNT"
	/usr/bin/time -o "$T/rss.fuse" -f %M ntfs-3g -o "no_detach${4:+,ro}" "$LOOP" "$MNT" >/dev/null 2>&1 &
	FUSEPID=$!
	while ! mountpoint -q "$MNT"; do
		kill -0 "$FUSEPID" 2>/dev/null || { echo "bench: ntfs-3g failed on $1" >&2; exit 1; }
		sleep 0.005
	done
}
# umount_vol: unmount, wait for the daemon to finish writing and exit, free the loop device.
umount_vol() {
	umount "$MNT"
	wait "$FUSEPID" || true
	FUSEPID=""
	losetup -d "$LOOP"
	LOOP=""
}
# peer NAME RUN IMG OFF SIZE RO CMD...: the whole mounted path timed, CMD's and ntfs-3g's RSS.
peer() {
	_n=$1 _r=$2 _img=$3 _off=$4 _size=$5 _ro=$6
	shift 6
	_t0=$(now_ms)
	mount_vol "$_img" "$_off" "$_size" $_ro
	/usr/bin/time -o "$T/rss" -f %M "$@" >"$T/cmd.out" 2>"$T/cmd.err" </dev/null || true
	umount_vol
	sample "$_n" "$_r" $(($(now_ms) - _t0)) $(($(tail -1 "$T/rss") + $(tail -1 "$T/rss.fuse")))
}

fresh() { cp --sparse=always "$1" "$T/work.img"; sync; }

# The values the rdp.* checks read, one hivexget each (SYSTEM through ControlSet001, which
# Select\Current names on this hive): a script, so /usr/bin/time can run it.
{
	echo 'S=$1/Windows/System32/config/SYSTEM W=$1/Windows/System32/config/SOFTWARE'
	for kv in 'Select|Current' "$TS|fDenyTSConnections" "$TS|TSEnabled" "$TS|TSUserEnabled" \
		"$TS\\WinStations\\RDP-Tcp|fEnableWinStation" "$TS\\WinStations\\RDP-Tcp|PortNumber" \
		"$TS\\WinStations\\RDP-Tcp|SecurityLayer" "$TS\\WinStations\\RDP-Tcp|UserAuthentication" \
		"$TS\\WinStations\\RDP-Tcp|MinEncryptionLevel" "$TS\\WinStations\\RDP-Tcp|fLogonDisabled" \
		'ControlSet001\Services\TermService|Start' 'ControlSet001\Services\UmRdpService|Start' \
		'ControlSet001\Services\TermService|ObjectName'; do
		printf "hivexget \"\$S\" '%s' '%s' >/dev/null 2>&1\n" "${kv%%|*}" "${kv#*|}"
	done
	for kv in 'Microsoft\Windows NT\CurrentVersion|ProductName' 'Microsoft\Windows NT\CurrentVersion|CurrentBuild' \
		'Policies\Microsoft\Windows NT\Terminal Services|fDenyTSConnections'; do
		printf "hivexget \"\$W\" '%s' '%s' >/dev/null 2>&1\n" "${kv%%|*}" "${kv#*|}"
	done
	echo 'exit 0'
} >"$T/get.sh"

printf 'Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\%s]\n"fDenyTSConnections"=dword:00000000\n' \
	"$TS" >"$T/allow.reg"
# The same single change for every contender: rdprescue's SYSTEM is compared with the replayed
# original (what Windows would see), the peers' with the primary they edited (they ignore the logs).
"$RP" hive "$T/dirty/SYSTEM" "$T/dirty/SYSTEM.LOG1" "$T/dirty/SYSTEM.LOG2" --recover "$T/replayed" >/dev/null 2>&1 || true
python3 tests/lib/hivedump.py "$T/replayed" >"$T/replayed.txt" 2>/dev/null || true
python3 tests/lib/hivedump.py "$T/dirty/SYSTEM" >"$T/primary.txt" 2>/dev/null || true
# changed REF.txt (after deny_after): "values changed: N" between REF and $T/after.
changed() {
	python3 tests/lib/hivedump.py "$T/after" >"$T/after.txt" 2>/dev/null || true
	echo "values changed: $(diff "$1" "$T/after.txt" | grep -c '^>' || true)"
}
deny_after() { "$TOOLS/rp-testfs" "$T/work.img" cat $CFG/SYSTEM >"$T/after" && hivexget "$T/after" "$TS" fDenyTSConnections; }

echo "== fix: the same DWORD in the dirty SYSTEM, $RUNS runs each"
r=1
while [ $r -le "$RUNS" ]; do
	fresh "$T/H.img"
	timed fix.rdprescue $r "$RP" fix "$T/work.img" --yes --check rdp.access
	if [ $r = 1 ]; then
		echo "rdprescue fix: fDenyTSConnections now $(deny_after); against the replayed SYSTEM, $(changed "$T/replayed.txt")"
	fi
	if [ $PEERS = 1 ]; then
		fresh "$T/H.img"
		peer fix.hivexregedit $r "$T/work.img" $H_OFF $H_SIZE "" \
			hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' "$MNT/$CFG/SYSTEM" "$T/allow.reg"
		[ $r != 1 ] || echo "(a) hivexregedit: fDenyTSConnections now $(deny_after); against the primary, $(changed "$T/primary.txt")"
		if command -v reged >/dev/null; then
			fresh "$T/H.img"
			peer fix.reged $r "$T/work.img" $H_OFF $H_SIZE "" \
				reged -I -C "$MNT/$CFG/SYSTEM" 'HKEY_LOCAL_MACHINE\SYSTEM' "$T/allow.reg"
			[ $r != 1 ] || echo "(b) reged -I: fDenyTSConnections now $(deny_after); against the primary, $(changed "$T/primary.txt")"
		fi
	fi
	r=$((r + 1))
done

echo "== scan of the dirty-hive disk, $RUNS runs each"
r=1
while [ $r -le "$RUNS" ]; do
	timed scan.rdprescue.rdp $r "$RP" scan "$T/H.img" --check 'rdp.*'
	timed scan.rdprescue.all $r "$RP" scan "$T/H.img"
	[ $PEERS = 0 ] || peer scan.hivexget $r "$T/H.img" $H_OFF $H_SIZE ro sh "$T/get.sh" "$MNT"
	r=$((r + 1))
done

echo "== MachineKeys ($COUNT files): folder ACL fix and contents scan, $RUNS runs each"
r=1
while [ $r -le "$RUNS" ]; do
	fresh "$T/K.img"
	timed keys.acl.rdprescue $r "$RP" fix "$T/work.img" --yes --check keys.acl
	if [ $r = 1 ]; then
		# The peer writes the very descriptor rdprescue wrote.
		SD=0x$("$TOOLS/rp-testfs" "$T/work.img" getsd $MK | od -An -tx1 | tr -d ' \n')
		echo "rdprescue fix keys.acl: MachineKeys now $("$TOOLS/rp-testfs" "$T/work.img" getsddl $MK)"
	fi
	if [ $PEERS = 1 ]; then
		fresh "$T/K.img"
		peer keys.acl.setfattr $r "$T/work.img" 0 0 "" setfattr -n system.ntfs_acl -v "$SD" "$MNT/$MK"
		[ $r != 1 ] || echo "(c) setfattr: MachineKeys now $("$TOOLS/rp-testfs" "$T/work.img" getsddl $MK)"
	fi
	timed keys.contents.rdprescue $r "$RP" scan "$T/K.img" --check keys.contents
	[ $PEERS = 0 ] || peer keys.contents.cat $r "$T/K.img" 0 0 ro \
		sh -c 'find "$1" -type f -exec cat {} + >/dev/null' sh "$MNT/$MK"
	r=$((r + 1))
done

[ "$RUNS" -gt 0 ] || exit 0

# ---- results ---------------------------------------------------------------------------------
KEYS_COUNT=$COUNT python3 bench/results.py "$T/samples" "$OUT" "$RUNS" \
	"$INPUTS" \
	"$((sys_mb > soft_mb ? sys_mb : soft_mb))"
