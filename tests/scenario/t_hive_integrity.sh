#!/bin/sh
# Hive integrity on disk images (issue 3): a real-size dirty SYSTEM whose newest data (RDP
# denied, 300 keys) exists only in its .LOG1/.LOG2 — as after a forced power-off.  The dirty
# primary and its logs are made by rp-mklogs from the real Windows 7 SP1 SYSTEM (OLD) and a
# modified copy (NEW): new-format (HvLE) entries split across both logs.
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh
CFG=Windows/System32/config
TS='ControlSet001\Control\Terminal Server'

check "rp-mklogs makes a dirty SYSTEM with LOG1 and LOG2" dirty_system "$T/old" "$T/dirty"
check "the primary alone still allows RDP (the logs hold the change)" test "$(hivexget "$T/old/SYSTEM" "$TS" fDenyTSConnections)" = 0
python3 tests/lib/hivedump.py "$T/new.SYSTEM" >"$T/new.txt"

D=$T/dirty.img
mkdisk "$D" gpt 128
put_windows "$D" "$T/dirty"
sys0=$(vol_sha "$D" $CFG/SYSTEM) l10=$(vol_sha "$D" $CFG/SYSTEM.LOG1) l20=$(vol_sha "$D" $CFG/SYSTEM.LOG2)

expect_exit 1 "scan sees the state the logs hold" "$RP" scan "$D" --json
cp "$T/out" "$T/scan.json"
check "scan: rdp.access problem from the replayed hive" $JQ "$T/scan.json" 'len(F("rdp.access","problem"))>=1'
check "scan: SYSTEM reported dirty, log entries applied" $JQ "$T/scan.json" \
	'd["install"]["hives"]["SYSTEM"]["was_dirty"] and d["install"]["hives"]["SYSTEM"]["log_entries_applied"]>1'
mkdir -p "$T/bk"
expect_exit 0 "fix on the dirty hive" "$RP" fix "$D" --yes --backup-dir "$T/bk"
check "fix notes the replay" grep -q "was dirty" "$T/out"
"$TOOLS/rp-testfs" "$D" cat $CFG/SYSTEM >"$T/after"
"$TOOLS/rp-testfs" "$D" cat $CFG/SYSTEM.LOG1 >"$T/after.LOG1"
"$TOOLS/rp-testfs" "$D" cat $CFG/SYSTEM.LOG2 >"$T/after.LOG2"
check "written SYSTEM has a clean base block" sh -c "'$RP' hive '$T/after' '$T/after.LOG1' '$T/after.LOG2' | grep -q 'clean'"
check "sequence numbers above every log entry" python3 -c "
import struct,sys
h=open('$T/after','rb').read(12); s1,s2=struct.unpack('<II',h[4:12])
m=0
for f in ('$T/after.LOG1','$T/after.LOG2'):
    b=open(f,'rb').read()
    m=max(m,*struct.unpack('<II',b[4:12]))
    o=512
    while o+16<=len(b) and b[o:o+4]==b'HvLE':
        m=max(m,struct.unpack('<I',b[o+12:o+16])[0]); o+=struct.unpack('<I',b[o+4:o+8])[0] or len(b)
sys.exit(0 if s1==s2 and s1>m else 1)"
check "regfinfo reads the written SYSTEM" regfinfo "$T/after"
check "regfexport reads the written SYSTEM" sh -c "regfexport '$T/after' >/dev/null 2>&1"
check "RDP allowed in the written SYSTEM" test "$(hivexget "$T/after" "$TS" fDenyTSConnections)" = 0
python3 tests/lib/hivedump.py "$T/after" >"$T/after.txt"
check "every key the logs held is kept (only the two RDP values differ)" sh -c "diff '$T/new.txt' '$T/after.txt' | grep '^[<>]' | grep -v -P '\\t(fDenyTSConnections|TSUserEnabled)\\t' | (! grep .)"
check "the 300 log-only keys are there" sh -c "grep -c 'RpLogOnly\\\\K[0-9]*	<key>' '$T/after.txt' | grep -qx 300"
"$RP" hive "$T/after" "$T/after.LOG1" "$T/after.LOG2" --recover "$T/replayed" >/dev/null 2>&1
python3 tests/lib/hivedump.py "$T/replayed" >"$T/replayed.txt" 2>/dev/null
check "replaying the on-disk logs over it changes nothing" cmp "$T/after.txt" "$T/replayed.txt"
check "logs left in place" test "$(sha256sum <"$T/after.LOG1")" = "$("$TOOLS/rp-testfs" "$D" cat $CFG/SYSTEM.LOG1 | sha256sum)"
expect_exit 0 "undo" "$RP" undo "$D" --yes
check "undo: SYSTEM byte-for-byte" test "$(vol_sha "$D" $CFG/SYSTEM)" = "$sys0"
check "undo: SYSTEM.LOG1 byte-for-byte" test "$(vol_sha "$D" $CFG/SYSTEM.LOG1)" = "$l10"
check "undo: SYSTEM.LOG2 byte-for-byte" test "$(vol_sha "$D" $CFG/SYSTEM.LOG2)" = "$l20"

# A dirty primary whose logs are missing (lost with the disk copy): the primary is all there is.
# Dirty as Windows leaves it mid-write: seq1 = seq2 + 1, checksum valid.
N=$T/nologs.img
scenario_hives denied-local "$T/nolog"
python3 - "$T/nolog/SYSTEM" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
s2 = struct.unpack_from("<I", b, 8)[0]
struct.pack_into("<I", b, 4, s2 + 1)
x = 0
for i in range(0, 508, 4):
    x ^= struct.unpack_from("<I", b, i)[0]
x = 1 if x == 0 else 0xFFFFFFFE if x == 0xFFFFFFFF else x
struct.pack_into("<I", b, 508, x)
open(sys.argv[1], "wb").write(b)
PY
python3 tests/lib/hivedump.py "$T/nolog/SYSTEM" >"$T/nolog.txt"
mkdisk "$N" mbr 128
put_windows "$N" "$T/nolog"
expect_exit 0 "dirty hive without logs: fix" "$RP" fix "$N" --yes --json
check "the report says the primary was all there was" $JQ "$T/out" \
	'd["install"]["hives"]["SYSTEM"]["dirty_without_logs"] and any("no transaction logs" in n for n in d["notes"])'
"$TOOLS/rp-testfs" "$N" cat $CFG/SYSTEM >"$T/nolog.after"
check "no-logs SYSTEM written clean" sh -c "'$RP' hive '$T/nolog.after' | grep -q 'clean'"
python3 tests/lib/hivedump.py "$T/nolog.after" >"$T/nolog.after.txt"
check "no-logs: every key kept, only the RDP values changed" sh -c "diff '$T/nolog.txt' '$T/nolog.after.txt' | grep '^[<>]' | grep -v -P '\\t(fDenyTSConnections|TSUserEnabled)\\t' | (! grep .)"
check "no-logs: the diff saw the fix" sh -c "! cmp -s '$T/nolog.txt' '$T/nolog.after.txt'"
finish
