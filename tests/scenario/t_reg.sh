#!/bin/sh
# `rdprescue reg` (issue 18, part 1) on disk images with real hives: a dirty SYSTEM whose newest
# data (RDP denied, 300 keys) exists only in its .LOG1/.LOG2 (made by rp-mklogs from the real
# Windows 7 SP1 SYSTEM, as in t_hive_integrity), a dirty DEFAULT that Windows itself made
# (shared/hives/windows-made/NewDirtyHive1, with Windows 10's own replay to compare with) and a
# user's NTUSER.DAT.  Independent readers: hivexget, hivexml (hivedump.py), hivexregedit.
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh
CFG=Windows/System32/config
TS='HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server'
RDPTCP="$TS\\WinStations\\RDP-Tcp"
W=$SHARED/hives/windows-made/NewDirtyHive1

check "rp-mklogs makes a dirty SYSTEM with LOG1 and LOG2" dirty_system "$T/old" "$T/dirty"
xz -dkc "$SHARED/hives/real/SAM.xz" >"$T/dirty/SAM"
cp "$W/NewDirtyHive" "$T/dirty/DEFAULT"
cp "$W/NewDirtyHive.LOG1" "$T/dirty/DEFAULT.LOG1"
cp "$W/NewDirtyHive.LOG2" "$T/dirty/DEFAULT.LOG2"
python3 tests/lib/hivedump.py "$T/new.SYSTEM" >"$T/new.txt"
python3 tests/lib/hivedump.py "$W/RecoveredHive_Windows10" >"$T/win10.txt"

D=$T/d.img
mkdisk "$D" gpt 128
put_windows "$D" "$T/dirty"
cp "$SHARED/hives/windows-made/EmptyHive" "$T/ntuser"
"$TOOLS/rp-testfs" "$D" put "$T/ntuser" Users/alice/NTUSER.DAT
# The real BCD store, where a BIOS machine without System Reserved keeps it.
xz -dkc "$SHARED/hives/real/BCD.xz" >"$T/BCD"
"$TOOLS/rp-testfs" "$D" put "$T/BCD" Boot/BCD
BOOTMGR='BCD\Objects\{9dea862c-5cdd-4e70-acc1-f32b344d4795}'
FILES="$CFG/SYSTEM $CFG/SYSTEM.LOG1 $CFG/SYSTEM.LOG2 $CFG/SOFTWARE $CFG/DEFAULT $CFG/DEFAULT.LOG1 $CFG/DEFAULT.LOG2 Users/alice/NTUSER.DAT Boot/BCD $CFG/SAM"
shas() { for f in $FILES; do vol_sha "$D" "$f"; done; }
unchanged() { shas | cmp -s - "$T/sha0"; }
shas >"$T/sha0"
cp "$D" "$T/orig.img"
rpcat() { "$TOOLS/rp-testfs" "$D" cat "$1" >"$2"; }
one_line() { test "$(wc -l <"$T/err")" = 1 && grep -q '^rdprescue: .*; ' "$T/err"; }

# ---- get: what the logs hold, CurrentControlSet mapped ----
expect_exit 0 "get a value" "$RP" reg "$D" get "$TS" fDenyTSConnections
check "get: fDenyTSConnections is 1 as the logs hold it (the primary alone says 0)" sh -c "grep -q 'fDenyTSConnections *REG_DWORD *0x00000001' '$T/out' && test \"\$(hivexget '$T/old/SYSTEM' 'ControlSet001\\Control\\Terminal Server' fDenyTSConnections)\" = 0"
check "get: CurrentControlSet is the booted control set" grep -q 'CurrentControlSet is ControlSet001' "$T/out"
check "get: the summary line is last" sh -c "tail -n1 '$T/out' | grep -q '^{\"rdprescue\":\"summary\",\"command\":\"reg\"'"
expect_exit 0 "get --json" "$RP" reg "$D" get "$TS" --json
check "get --json: one document with the values and subkeys" $JQ "$T/out" \
	'd["control_set"]=="ControlSet001" and any(v["name"]=="fDenyTSConnections" and v["type"]=="REG_DWORD" and v["hex"]=="01000000" for v in d["values"]) and "WinStations" in d["subkeys"]'
check "get --json: the summary on stderr" grep -q '"command":"reg"' "$T/err"
expect_exit 1 "get of a key that is not there" "$RP" reg "$D" get 'HKLM\SOFTWARE\NoSuchKey'
expect_exit 0 "get in the DEFAULT hive Windows left dirty: the replayed keys" "$RP" reg "$D" get 'HKU\.DEFAULT\Key3'
check "DEFAULT: Key3's subkeys exist only after the replay" sh -c "grep -q 'Key3_1' '$T/out' && grep -q 'Key3_3' '$T/out'"

# ---- --dry-run: the change shown, nothing written ----
expect_exit 0 "set --dry-run" "$RP" reg "$D" set "$TS" fDenyTSConnections REG_DWORD 0 --dry-run
check "dry run shows the change" grep -q 'set HKLM\\SYSTEM\\ControlSet001\\Control\\Terminal Server\\fDenyTSConnections to REG_DWORD 0x00000000 (0) (was REG_DWORD 0x00000001 (1))' "$T/out"
check "dry run wrote nothing" unchanged

# ---- set on the dirty SYSTEM: the logs' data kept, the edit there ----
mkdir -p "$T/bk"
expect_exit 0 "set on the dirty SYSTEM" "$RP" reg "$D" set "$TS" fDenyTSConnections REG_DWORD 0 --yes --backup-dir "$T/bk"
check "set: says SYSTEM was dirty and written back clean" grep -q 'SYSTEM was dirty.*written back clean' "$T/out"
check "set: a backup in --backup-dir" sh -c "ls '$T/bk'/rdprescue-*-reg.tar.zst"
expect_exit 0 "backups lists it" "$RP" backups "$D" --json
check "backups: one backup, made by reg, holding SYSTEM and its logs" $JQ "$T/out" \
	'len(d["backups"])==1 and d["backups"][0]["command"]=="reg" and sorted(f["path"] for f in d["backups"][0]["files"])==["Windows/System32/config/SYSTEM","Windows/System32/config/SYSTEM.LOG1","Windows/System32/config/SYSTEM.LOG2"]'
rpcat $CFG/SYSTEM "$T/s1"
rpcat $CFG/SYSTEM.LOG1 "$T/s1.LOG1"
rpcat $CFG/SYSTEM.LOG2 "$T/s1.LOG2"
check "the written SYSTEM is clean: Windows replays nothing over it" sh -c "'$RP' hive '$T/s1' '$T/s1.LOG1' '$T/s1.LOG2' | grep -q clean"
# Windows' replay rules, read off the bytes: a primary with seq1 == seq2 (and a good checksum) is
# not replayed, and a log entry below its sequence number is never applied.
seq_above_logs() {
	python3 - "$@" <<'PY'
import struct, sys
h = open(sys.argv[1], "rb").read(4096)
s1, s2 = struct.unpack("<II", h[4:12])
x = 0
for i in range(0, 508, 4):
    x ^= struct.unpack_from("<I", h, i)[0]
x = 1 if x == 0 else 0xFFFFFFFE if x == 0xFFFFFFFF else x
m = 0
for f in sys.argv[2:]:
    b = open(f, "rb").read()
    if len(b) < 512:
        continue
    m = max(m, *struct.unpack("<II", b[4:12]))
    o = 512
    while o + 16 <= len(b) and b[o:o + 4] == b"HvLE":
        m = max(m, struct.unpack("<I", b[o + 12:o + 16])[0])
        o += struct.unpack("<I", b[o + 4:o + 8])[0] or len(b)
sys.exit(0 if s1 == s2 and struct.unpack("<I", h[508:512])[0] == x and s1 > m else 1)
PY
}
check "SYSTEM: clean, checksum good, sequence above every log entry (read off the bytes)" seq_above_logs "$T/s1" "$T/s1.LOG1" "$T/s1.LOG2"
check "hivexget: the edit is there" test "$(hivexget "$T/s1" 'ControlSet001\Control\Terminal Server' fDenyTSConnections)" = 0
check "hivexget: the log-only key is there" test "$(hivexget "$T/s1" 'ControlSet001\Services\RpLogOnly' Marker)" = "only in the logs"
python3 tests/lib/hivedump.py "$T/s1" >"$T/s1.txt"
check "the 300 log-only keys are there" sh -c "grep -c 'RpLogOnly\\\\K[0-9]*	<key>' '$T/s1.txt' | grep -qx 300"
check "every key and value the logs held is kept; only the edited value differs" sh -c "diff '$T/new.txt' '$T/s1.txt' | grep '^[<>]' | grep -v -P '^[<>] ControlSet001\\\\Control\\\\Terminal Server\\tfDenyTSConnections\\t' | (! grep .) && diff '$T/new.txt' '$T/s1.txt' | grep -q fDenyTSConnections"

# ---- a change that lowers RDP security is applied and said ----
expect_exit 0 "set UserAuthentication 0 (--json)" "$RP" reg "$D" set "$RDPTCP" UserAuthentication REG_DWORD 0 --yes --json
check "json: the change is marked as lowering security and a note says what is lost" $JQ "$T/out" \
	'd["command"]=="reg" and any("Network Level Authentication" in n for n in d["notes"]) and any(c.get("weakens_security") for f in d["findings"] for c in f.get("changes",[]))'
expect_exit 0 "set SecurityLayer 1 in the policy copy (--dry-run)" "$RP" reg "$D" set 'HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services' SecurityLayer REG_DWORD 1 --dry-run
check "the policy copy's weaker security layer is said too" grep -q '(lowers RDP security)' "$T/out"
expect_exit 0 "set fDenyTSConnections 0 (--dry-run): nothing to warn about" "$RP" reg "$D" set "$TS" fDenyTSConnections REG_DWORD 0 --dry-run
check "no warning for a change that lowers nothing" sh -c "! grep -q 'lowers RDP security\|warning:' '$T/out'"
rpcat $CFG/SYSTEM "$T/s2"
check "hivexget: UserAuthentication is 0" test "$(hivexget "$T/s2" 'ControlSet001\Control\Terminal Server\WinStations\RDP-Tcp' UserAuthentication)" = 0

# ---- the dirty DEFAULT Windows made: Windows 10's own replay plus the edit ----
expect_exit 0 "set in the dirty DEFAULT hive" "$RP" reg "$D" set 'HKU\.DEFAULT\Key3' Edited REG_MULTI_SZ 'a\0bb' --yes
rpcat $CFG/DEFAULT "$T/def1"
rpcat $CFG/DEFAULT.LOG1 "$T/def1.LOG1"
rpcat $CFG/DEFAULT.LOG2 "$T/def1.LOG2"
check "DEFAULT: clean, sequence above every entry of Windows' own logs" seq_above_logs "$T/def1" "$T/def1.LOG1" "$T/def1.LOG2"
python3 tests/lib/hivedump.py "$T/def1" >"$T/def1.txt"
check "DEFAULT: equal to Windows 10's replay but for the edit" sh -c "diff '$T/win10.txt' '$T/def1.txt' | grep '^[<>]' | grep -v -P '^> Key3\\tEdited\\t' | (! grep .)"
check "DEFAULT: the edit (REG_MULTI_SZ a, bb)" grep -q -P '^Key3\tEdited\tstring-list\ta\|bb\|$' "$T/def1.txt"

# ---- a user's NTUSER.DAT ----
expect_exit 0 "set in alice's NTUSER.DAT" "$RP" reg "$D" set 'HKU\alice\Software\Rp' Q REG_QWORD 0x1122334455667788 --yes
rpcat Users/alice/NTUSER.DAT "$T/nt1"
check "hivexget: the QWORD in alice's NTUSER.DAT" sh -c "hivexget '$T/nt1' 'Software\\Rp' | grep -qx '\"Q\"=hex(11):88,77,66,55,44,33,22,11'"

# ---- export: regedit's format, accepted by hivexregedit --merge, round trip ----
expect_exit 0 "export to a file" "$RP" reg "$D" export "$TS" "$T/ts.reg"
check "export: UTF-16LE with BOM, version 5.00 header, CRLF" python3 -c "
b=open('$T/ts.reg','rb').read()
assert b[:2]==b'\xff\xfe'
t=b[2:].decode('utf-16-le')
assert t.startswith('Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\\\SYSTEM\\\\ControlSet001\\\\Control\\\\Terminal Server]\r\n'), t[:120]
assert '\"fDenyTSConnections\"=dword:00000000\r\n' in t
assert 'hex(7):' in t and ',\\\\\r\n  ' in t
"
iconv -f utf-16 -t utf-8 <"$T/ts.reg" | tr -d '\r' >"$T/ts.utf8.reg"
cp "$SHARED/hives/windows-made/EmptyHive" "$T/merged" && chmod u+w "$T/merged"
# hivexregedit does not create parent keys: they come first, as in a whole-hive export.
printf '[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001]\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control]\n\n' >"$T/parents.reg"
hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' "$T/merged" "$T/parents.reg"
check "hivexregedit --merge accepts the export" hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' "$T/merged" "$T/ts.utf8.reg"
python3 tests/lib/hivedump.py "$T/merged" | grep '^ControlSet001\\Control\\Terminal Server' >"$T/merged.txt"
rpcat $CFG/SYSTEM "$T/s3"
python3 tests/lib/hivedump.py "$T/s3" | grep '^ControlSet001\\Control\\Terminal Server' >"$T/s3.txt"
check "hivexregedit's merge holds every key and value of the exported subtree" cmp "$T/s3.txt" "$T/merged.txt"
check "the subtree is not trivial" test "$(wc -l <"$T/s3.txt")" -gt 100
expect_exit 0 "export to stdout (UTF-8 .reg, summary on stderr)" "$RP" reg "$D" export "$TS"
check "stdout is the .reg text alone" sh -c "head -n1 '$T/out' | grep -q '^Windows Registry Editor Version 5.00' && ! grep -q summary '$T/out' && grep -q '\"command\":\"reg\"' '$T/err'"
check "stdout export is the file export in UTF-8" sh -c "iconv -f utf-16 -t utf-8 <'$T/ts.reg' | cmp -s - '$T/out'"
expect_exit 0 "round trip: delete the key" "$RP" reg "$D" delete "$TS" --yes
expect_exit 1 "the key is gone" "$RP" reg "$D" get "$TS"
expect_exit 0 "round trip: import the export" "$RP" reg "$D" import "$T/ts.reg" --yes
expect_exit 0 "round trip: export again" "$RP" reg "$D" export "$TS" "$T/ts2.reg"
check "round trip: byte-identical .reg" cmp "$T/ts.reg" "$T/ts2.reg"

# ---- import of a .reg as regedit writes it ----
python3 - "$T/imp.reg" <<'PY'
import sys
t = ('Windows Registry Editor Version 5.00\r\n\r\n'
     '[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\RpImport]\r\n'
     '@="default \\"q\\" C:\\\\x"\r\n'
     '"Exp"=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,74,00,\\\r\n'
     '  25,00,00,00\r\n'
     '"Multi"=hex(7):61,00,00,00,62,00,62,00,00,00,00,00\r\n'
     '"Q"=hex(b):88,77,66,55,44,33,22,11\r\n'
     '"D"=dword:0000002a\r\n'
     '"Bin"=hex:de,ad,be,ef\r\n\r\n'
     '[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\RpLogOnly]\r\n'
     '"Marker"=-\r\n\r\n'
     '[-HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\RpLogOnly\\K007]\r\n\r\n'
     '[HKEY_USERS\\.DEFAULT\\Key3]\r\n'
     '"Uni"="\u00fc\u20ac"\r\n\r\n')
open(sys.argv[1], 'wb').write(b'\xff\xfe' + t.encode('utf-16-le'))
PY
expect_exit 0 "import a UTF-16LE .reg (hex(2), hex(7), hex(b), deletions, two hives)" "$RP" reg "$D" import "$T/imp.reg" --yes
check "import: 10 changes (a key created, 6 values set, a value and a key deleted)" grep -q '^10 changes written to 2 files' "$T/out"
rpcat $CFG/SYSTEM "$T/s4"
rpcat $CFG/DEFAULT "$T/def4"
hivexregedit --export --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' "$T/s4" 'ControlSet001\Services\RpImport' | tr -d '\r' >"$T/imp.out"
cat >"$T/imp.want" <<'REG'
[HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\RpImport]
@=hex(1):64,00,65,00,66,00,61,00,75,00,6c,00,74,00,20,00,22,00,71,00,22,00,20,00,43,00,3a,00,5c,00,78,00,00,00
"Bin"=hex(3):de,ad,be,ef
"D"=dword:0000002a
"Exp"=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,74,00,25,00,00,00
"Multi"=hex(7):61,00,00,00,62,00,62,00,00,00,00,00
"Q"=hex(b):88,77,66,55,44,33,22,11
REG
check "hivexregedit reads every imported value byte for byte" sh -c "grep -v '^Windows Registry\|^\$' '$T/imp.out' | diff -i - '$T/imp.want'"
check "hivexget: the deleted value is gone" sh -c "! hivexget '$T/s4' 'ControlSet001\\Services\\RpLogOnly' Marker"
python3 tests/lib/hivedump.py "$T/s4" >"$T/s4.txt"
check "the deleted key is gone, its 299 siblings stay" sh -c "! grep -q 'RpLogOnly\\\\K007	<key>' '$T/s4.txt' && grep -c 'RpLogOnly\\\\K[0-9]*	<key>' '$T/s4.txt' | grep -qx 299"
check "hivexget: the UTF-16 string in DEFAULT" test "$(hivexget "$T/def4" 'Key3' Uni)" = "$(printf '\303\274\342\202\254')"

# ---- the BCD store ----
expect_exit 0 "get in the BCD: the boot manager's display order" "$RP" reg "$D" get "$BOOTMGR\\Elements\\24000001" Element
check "BCD: the display order is a REG_MULTI_SZ of GUIDs" grep -q 'Element *REG_MULTI_SZ *\["{' "$T/out"
expect_exit 0 "set the boot manager's timeout in the BCD" "$RP" reg "$D" set "$BOOTMGR\\Elements\\25000004" Element REG_BINARY 1e00000000000000 --yes
rpcat Boot/BCD "$T/bcd1"
check "hivexget: the BCD holds the new timeout" sh -c "hivexget '$T/bcd1' 'Objects\\{9dea862c-5cdd-4e70-acc1-f32b344d4795}\\Elements\\25000004' | grep -qx '\"Element\"=hex(3):1e,00,00,00,00,00,00,00'"

# ---- the real SAM ----
RDU='HKLM\SAM\SAM\Domains\Builtin\Aliases\0000022B'
expect_exit 0 "get in the SAM: Remote Desktop Users" "$RP" reg "$D" get "$RDU" C
check "SAM: the alias value C is a REG_BINARY" grep -q '^ *C *REG_BINARY' "$T/out"
expect_exit 0 "set a value in the SAM" "$RP" reg "$D" set "$RDU" RpNote REG_SZ 'set offline' --yes
rpcat $CFG/SAM "$T/sam1"
check "hivexget: the SAM holds it" test "$(hivexget "$T/sam1" 'SAM\Domains\Builtin\Aliases\0000022B' RpNote)" = "set offline"

# ---- REGEDIT4 (ANSI), HKCR, a key deleted and made again in one file ----
expect_exit 0 "set a subkey to be replaced" "$RP" reg "$D" set 'HKLM\SOFTWARE\RpTmp\Sub' old REG_SZ x --yes
printf 'REGEDIT4\r\n\r\n[HKEY_CLASSES_ROOT\\.rdptest]\r\n@="caf\351"\r\n\r\n[-HKEY_LOCAL_MACHINE\\SOFTWARE\\RpTmp]\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\RpTmp]\r\n"v"=dword:00000001\r\n"e"=hex(2):25,80,00\r\n' >"$T/v4.reg"
expect_exit 0 "import a REGEDIT4 file" "$RP" reg "$D" import "$T/v4.reg" --yes
rpcat $CFG/SOFTWARE "$T/soft1"
check "REGEDIT4: the ANSI string is stored as UTF-16 (HKCR is SOFTWARE\\Classes)" test "$(hivexget "$T/soft1" 'Classes\.rdptest' @)" = "$(printf 'caf\303\251')"
check "REGEDIT4: hex(2) ANSI bytes widened as regedit does (0x80 is the euro sign)" sh -c "hivexget '$T/soft1' RpTmp | grep -qx \"\\\"e\\\"=str(2):\\\"%$(printf '\342\202\254')\\\"\""
check "the key deleted and made again: its old subkey is gone, the new value there" sh -c "test \"\$(hivexget '$T/soft1' RpTmp v)\" = 1 && ! hivexget '$T/soft1' 'RpTmp\\Sub' >/dev/null 2>&1"

# A value set and deleted in one file, a key deleted and made again empty: the file's order
# decides, not what the disk held before.
printf 'Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\RpTmp2]\r\n"gone"="x"\r\n"gone"=-\r\n\r\n[-HKEY_LOCAL_MACHINE\\SOFTWARE\\RpTmp]\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\RpTmp]\r\n' >"$T/order.reg"
expect_exit 0 "import: order within one file" "$RP" reg "$D" import "$T/order.reg" --yes
rpcat $CFG/SOFTWARE "$T/soft2"
check "the value set then deleted in the file is gone, its key made" sh -c "hivexget '$T/soft2' RpTmp2 >'$T/rptmp2' && ! grep -q gone '$T/rptmp2'"
check "the key deleted then made again is there, empty" sh -c "hivexget '$T/soft2' RpTmp >'$T/rptmp' && ! grep -q . '$T/rptmp'"

# ---- undo, step by step, back to the original bytes ----
n=0
while [ $n -lt 14 ] && ! unchanged; do
	"$RP" undo "$D" --yes >"$T/undo.out" 2>&1 || break
	n=$((n + 1))
done
check "undo: every hive and log byte-for-byte as before the first change" unchanged
check "undo: one step per reg write (12 writes)" test $n = 12

# ---- bad input: exit 2, one line, nothing written ----
cp "$T/orig.img" "$D"
expect_exit 2 "unknown root" "$RP" reg "$D" get 'HKXX\Software'
check "unknown root: one line" one_line
expect_exit 2 "HKCU has no meaning offline" "$RP" reg "$D" get 'HKCU\Software'
check "HKCU: one line" one_line
expect_exit 2 "unknown action" "$RP" reg "$D" frob "$TS"
check "unknown action: one line" one_line
expect_exit 2 "bad TYPE" "$RP" reg "$D" set "$TS" X REG_FOO 1 --yes
check "bad TYPE: one line" one_line
expect_exit 2 "bad DWORD" "$RP" reg "$D" set "$TS" X REG_DWORD 12x --yes
check "bad DWORD: one line" one_line
expect_exit 2 "DWORD too large" "$RP" reg "$D" set "$TS" X REG_DWORD 0x100000000 --yes
expect_exit 2 "bad hex" "$RP" reg "$D" set "$TS" X REG_BINARY 0g --yes
expect_exit 2 "set without --yes on a pipe" "$RP" reg "$D" set "$TS" X REG_DWORD 1 </dev/null
check "without --yes: one line" one_line
printf 'Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\X\r\n"a"="b"\r\n' >"$T/bad.reg"
expect_exit 2 "a broken .reg" "$RP" reg "$D" import "$T/bad.reg" --yes
check "a broken .reg: one line naming the line" sh -c "one_line() { test \"\$(wc -l <'$T/err')\" = 1; }; one_line && grep -q 'line 3' '$T/err'"
printf 'hello\r\n' >"$T/bad2.reg"
expect_exit 2 "not a .reg" "$RP" reg "$D" import "$T/bad2.reg" --yes
expect_exit 2 "deleting a hive's root" "$RP" reg "$D" delete 'HKLM\SOFTWARE' --yes
check "nothing written by any of them" unchanged
finish
