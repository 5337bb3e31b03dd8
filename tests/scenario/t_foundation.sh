#!/bin/sh
# Foundation scenarios (issue 2): real Windows 7 SYSTEM hive on GPT/MBR/VHD/bare disk images
# built here without root; scan finds, fix repairs at the source, scan is healthy, undo is
# byte-identical, every other key intact; bad input is refused with nothing changed.
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh

# Full hive dumps by an independent reader (hivexml), for "every other key intact".
dump() { "$TOOLS/rp-testfs" "$1" cat "$2" >"$T/dump.hive" && python3 tests/lib/hivedump.py "$T/dump.hive"; }

# --- the "done when" disk: GPT, Windows on partition 2, RDP denied locally and by policy ---
D=$T/policy.img
check "build GPT disk (denied-by-policy)" scenario_disk denied-by-policy gpt "$D"
sys0=$(vol_sha "$D" $SYS) soft0=$(vol_sha "$D" $SOFT)
dump "$D" $SYS >"$T/sys-before.txt"
dump "$D" $SOFT >"$T/soft-before.txt"

expect_exit 1 "scan --json finds the problem" "$RP" scan "$D" --json
cp "$T/out" "$T/scan.json"
check "scan JSON: rdp.access problem" $JQ "$T/scan.json" 'len(F("rdp.access","problem"))>=1'
check "scan JSON: policy evidence names the policy source" $JQ "$T/scan.json" \
	'any(e["source"]=="policy" and e["value"]=="fDenyTSConnections" and e["data"]==1 for f in F("rdp.access","problem") for e in f["evidence"])'
check "scan JSON: schema and install" $JQ "$T/scan.json" \
	'd["schema"]=="rdprescue/1" and d["install"]["partition"]==2 and d["install"]["control_set"]=="ControlSet001" and d["exit"]==1'
check "scan JSON: rdp.security healthy (SecurityLayer 2, NLA on)" $JQ "$T/scan.json" \
	'len(F("rdp.security","ok"))==1 and not F("rdp.security","problem")'
check "summary line is last and under 4 KiB" sh -c "tail -n1 '$T/err' | grep -q '\"rdprescue\":\"summary\"' && [ \$(tail -n1 '$T/err' | wc -c) -lt 4096 ]"

p0=$(sha256sum <"$D")
expect_exit 1 "fix --dry-run plans but writes nothing" "$RP" fix "$D" --dry-run
check "dry run: image unchanged" test "$(sha256sum <"$D")" = "$p0"
check "dry run: says so" grep -q "nothing was written (dry run)" "$T/out"
mkdir -p "$T/bk"
expect_exit 0 "fix --yes --backup-dir" "$RP" fix "$D" --yes --backup-dir "$T/bk"
check "fix report says fixed" grep -q "FIXED" "$T/out"
check "backup archive in --backup-dir" sh -c "ls '$T/bk'/rdprescue-*-fix.tar.zst"
check "backup archive lists with tar" sh -c "tar --zstd -tf '$T'/bk/rdprescue-*-fix.tar.zst | grep -q manifest.json"
check "backup copy on the volume" sh -c "'$TOOLS/rp-testfs' '$D' ls rdprescue/backups | grep -q 'fix.tar.zst'"
expect_exit 0 "scan --check rdp.access after fix" "$RP" scan "$D" --check rdp.access
expect_exit 0 "full scan after fix is healthy" "$RP" scan "$D"
"$TOOLS/rp-testfs" "$D" cat $SYS >"$T/sys-after.hive"
"$TOOLS/rp-testfs" "$D" cat $SOFT >"$T/soft-after.hive"
check "local value now allows RDP (hivexget)" sh -c "[ \"\$(hivexget '$T/sys-after.hive' 'ControlSet001\\Control\\Terminal Server' fDenyTSConnections)\" = 0 ]"
check "policy value now allows RDP (hivexget)" sh -c "[ \"\$(hivexget '$T/soft-after.hive' 'Policies\\Microsoft\\Windows NT\\Terminal Services' fDenyTSConnections)\" = 0 ]"
check "NLA stays on" sh -c "[ \"\$(hivexget '$T/sys-after.hive' 'ControlSet001\\Control\\Terminal Server\\WinStations\\RDP-Tcp' UserAuthentication)\" = 1 ]"
check "regfinfo reads the written SYSTEM" regfinfo "$T/sys-after.hive"
dump "$D" $SYS >"$T/sys-after.txt"
dump "$D" $SOFT >"$T/soft-after.txt"
# Only the fDenyTSConnections lines may differ (regfexport prints one line per value).
check "every other SYSTEM key and value intact" sh -c "diff '$T/sys-before.txt' '$T/sys-after.txt' | grep '^[<>]' | grep -v -P '\\tfDenyTSConnections\\t' | (! grep .)"
check "SYSTEM dump changed at all (the diff can fail)" sh -c "! cmp -s '$T/sys-before.txt' '$T/sys-after.txt'"
check "every other SOFTWARE key and value intact" sh -c "diff '$T/soft-before.txt' '$T/soft-after.txt' | grep '^[<>]' | grep -v -P '\\tfDenyTSConnections\\t' | (! grep .)"

expect_exit 0 "undo --yes" "$RP" undo "$D" --yes
check "undo restores SYSTEM byte-for-byte" test "$(vol_sha "$D" $SYS)" = "$sys0"
check "undo restores SOFTWARE byte-for-byte" test "$(vol_sha "$D" $SOFT)" = "$soft0"
expect_exit 1 "after undo the problem is back" "$RP" scan "$D" --check rdp.access
expect_exit 0 "second undo finds nothing left to restore" "$RP" undo "$D" --yes
check "volume passes ntfsfix -n" ntfs_check "$D" 2

# --- the same problem seen through a mounted directory ---
M=$T/mounted
mkdir -p "$M/Windows/System32/config"
scenario_hives denied-by-policy "$M/Windows/System32/config"
expect_exit 1 "scan of a mounted directory finds it" "$RP" scan "$M" --check rdp.access --json
check "directory scan: rdp.access problem" $JQ "$T/out" 'len(F("rdp.access","problem"))>=1'
expect_exit 0 "fix on the mounted directory" "$RP" fix "$M" --yes
expect_exit 0 "directory scan after fix" "$RP" scan "$M"
expect_exit 0 "undo on the mounted directory" "$RP" undo "$M" --yes
check "directory undo byte-identical" cmp "$M/Windows/System32/config/SYSTEM" "$T/hives-denied-by-policy/SYSTEM"

# --- every scenario on MBR, and two layouts more ---
for sc in denied-local listener-off nla-without-tls tls-low-encryption out-of-range; do
	I=$T/$sc.img
	check "$sc: build MBR disk" scenario_disk $sc mbr "$I"
	s0=$(vol_sha "$I" $SYS) w0=$(vol_sha "$I" $SOFT)
	expect_exit 1 "$sc: scan finds problems" "$RP" scan "$I"
	expect_exit 0 "$sc: fix" "$RP" fix "$I" --yes
	expect_exit 0 "$sc: scan healthy after fix" "$RP" scan "$I"
	expect_exit 0 "$sc: undo" "$RP" undo "$I" --yes
	check "$sc: undo byte-identical" test "$(vol_sha "$I" $SYS)$(vol_sha "$I" $SOFT)" = "$s0$w0"
	rm -f "$I"
done
I=$T/nla.img
scenario_disk nla-without-tls gpt "$I"
"$RP" fix "$I" --yes --json >"$T/nla.json" 2>/dev/null
check "nla-without-tls: raises SecurityLayer, keeps NLA" sh -c "'$TOOLS/rp-testfs' '$I' cat $SYS >'$T/n.hive' && [ \"\$(hivexget '$T/n.hive' 'ControlSet001\\Control\\Terminal Server\\WinStations\\RDP-Tcp' SecurityLayer)\" = 2 ] && [ \"\$(hivexget '$T/n.hive' 'ControlSet001\\Control\\Terminal Server\\WinStations\\RDP-Tcp' UserAuthentication)\" = 1 ]"
I=$T/weak.img
scenario_disk healthy gpt "$I"
expect_exit 0 "healthy: scan exit 0" "$RP" scan "$I"
hw=$(sha256sum <"$I")
expect_exit 0 "healthy: fix writes nothing" "$RP" fix "$I" --yes
check "healthy: image unchanged by fix" test "$(sha256sum <"$I")" = "$hw"
expect_exit 0 "--allow-weaker-security turns NLA off, and says so" "$RP" fix "$I" --yes --allow-weaker-security --json
check "weakened security is reported" $JQ "$T/out" 'any(f.get("weakened_security") for f in d["findings"])'
check "NLA is off after the weaker fix" sh -c "'$TOOLS/rp-testfs' '$I' cat $SYS >'$T/w.hive' && [ \"\$(hivexget '$T/w.hive' 'ControlSet001\\Control\\Terminal Server\\WinStations\\RDP-Tcp' UserAuthentication)\" = 0 ]"
I=$T/vhd.vhd
check "build fixed VHD" scenario_disk denied-local vhd "$I"
expect_exit 1 "VHD: scan finds rdp.access" "$RP" scan "$I" --check rdp.access
expect_exit 0 "VHD: fix" "$RP" fix "$I" --yes
expect_exit 0 "VHD: healthy after fix" "$RP" scan "$I" --check rdp.access
I=$T/bare.img
check "build bare NTFS image" scenario_disk denied-local bare "$I"
expect_exit 1 "bare image: scan finds rdp.access" "$RP" scan "$I" --check rdp.access
expect_exit 0 "list names the installation" "$RP" list "$D"
check "list shows product, build and computer" grep -q "Windows 7 Professional build 7601, computer WKS-WIN732BITA" "$T/out"

# --- bad input: one line, documented exit code, not one byte changed ---
head -c 10485760 /dev/urandom >"$T/random.img"
r0=$(sha256sum <"$T/random.img")
expect_exit 3 "fix on 10 MB of random bytes" "$RP" fix "$T/random.img" --yes
check "random: one-line message on stderr" test "$(wc -l <"$T/err")" -eq 1
check "random: file unchanged" test "$(sha256sum <"$T/random.img")" = "$r0"
expect_exit 3 "missing path" "$RP" scan "$T/does-not-exist"
check "missing path: one line" test "$(wc -l <"$T/err")" -eq 1
mkdisk "$T/empty.img" gpt 64
e0=$(sha256sum <"$T/empty.img")
expect_exit 3 "disk without Windows" "$RP" fix "$T/empty.img" --yes
check "no Windows: message says so" grep -qi "no Windows" "$T/err"
check "no Windows: image unchanged" test "$(sha256sum <"$T/empty.img")" = "$e0"
I=$T/corrupt.img
mkdisk "$I" gpt 96
scenario_hives healthy "$T/corrupt"
xz -dkc "$SHARED/hives/real/corrupted-SYSTEM.xz" >"$T/corrupt/SYSTEM"
put_windows "$I" "$T/corrupt"
c0=$(sha256sum <"$I")
expect_exit 3 "unreadable hive: fix refused" "$RP" fix "$I" --yes
check "unreadable hive: message names SYSTEM" grep -q "SYSTEM" "$T/err"
check "unreadable hive: image unchanged" test "$(sha256sum <"$I")" = "$c0"
expect_exit 2 "usage: unknown check" "$RP" scan "$D" --check rdp.nosuch
expect_exit 2 "usage: fix without --yes and no terminal" "$RP" fix "$D" </dev/null
expect_exit 2 "usage: no target" "$RP" scan
finish
