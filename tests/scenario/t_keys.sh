#!/bin/sh
# MachineKeys scenarios (issue 5): keys.acl, keys.rdp, keys.contents and `rdprescue acl`.
# Broken security descriptors are set through our vol/ layer from SDDL (rp-testfs setsddl), key
# files are synthetic containers built to the documented layout (rp-testfs mkkey), and the
# junction is a real mount-point reparse point written by libntfs-3g (rp-testfs junction).
# Disks are bare NTFS images (the junction tool mounts the file system directly).
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh
FS="$TOOLS/rp-testfs"
MK=ProgramData/Microsoft/Crypto/RSA/MachineKeys
GUID=3f2a8c1e-6b7d-4e59-9a10-2c4b6d8e0f12
RDP=$MK/f686aace6942fb7f7ceb231212eef4a4_$GUID
IIS=$MK/6de9cb26d2b98c01ec4e9e8b34824aa2_$GUID
EMPTY=$MK/00000000000000000000000000000001_$GUID
ZERO=$MK/00000000000000000000000000000002_$GUID
KEYS=keys.acl,keys.rdp,keys.contents
sd_sha() { "$FS" "$1" getsd "$2" | sha256sum | cut -d' ' -f1; }

# --- a disk without MachineKeys: skipped, not a problem ---
H=$T/healthy.img
check "build healthy disk (no MachineKeys folder)" scenario_disk healthy bare "$H"
expect_exit 0 "no MachineKeys: scan exits 0" "$RP" scan "$H" --check $KEYS --json
check "no MachineKeys: all three skipped" $JQ "$T/out" \
	'len(F("keys.acl","skipped"))==1 and len(F("keys.rdp","skipped"))==1 and len(F("keys.contents","skipped"))==1'

# --- the "done when" disk ---
D=$T/keys.img
check "build disk" scenario_disk healthy bare "$D"
: >"$T/empty"
head -c 2500 /dev/zero >"$T/zero"
check "MachineKeys folder without its Everyone entry" sh -c \
	"'$FS' '$D' mkdir $MK && '$FS' '$D' setsddl $MK 'O:SYG:SYD:PAI(A;;FA;;;BA)'"
check "RDP key without NETWORK SERVICE" sh -c \
	"'$FS' '$D' mkkey $RDP TSSecKeySet1 && '$FS' '$D' setsddl $RDP 'O:SYG:SYD:P(A;;FA;;;SY)(A;;FR;;;BA)'"
check "a sound key of another container" sh -c \
	"'$FS' '$D' mkkey $IIS iisConfigurationKey && '$FS' '$D' setsddl $IIS 'O:SYG:SYD:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FR;;;S-1-5-82-1)'"
check "an empty and a zero-filled key file" sh -c \
	"'$FS' '$D' put '$T/empty' $EMPTY && '$FS' '$D' put '$T/zero' $ZERO"
check "rp-testfs getsddl reads the broken folder back" test \
	"$("$FS" "$D" getsddl $MK)" = "O:SYG:SYD:PAI(A;;FA;;;BA)"
folder0=$(sd_sha "$D" $MK) rdpsd0=$(sd_sha "$D" $RDP) iissd0=$(sd_sha "$D" $IIS)
rdp0=$(vol_sha "$D" $RDP) iis0=$(vol_sha "$D" $IIS) empty0=$(vol_sha "$D" $EMPTY) zero0=$(vol_sha "$D" $ZERO)

expect_exit 1 "scan --json finds the problems" "$RP" scan "$D" --json
cp "$T/out" "$T/scan.json"
check "keys.acl problem with the SDDL before and the default" $JQ "$T/scan.json" \
	'any("now: O:SYG:SYD:PAI(A;;FA;;;BA)"==e.get("note") for f in F("keys.acl","problem") for e in f["evidence"]) and any("(A;;0x12019f;;;WD)" in e.get("note","") for f in F("keys.acl","problem") for e in f["evidence"])'
check "keys.rdp problem names NETWORK SERVICE" $JQ "$T/scan.json" \
	'any("NETWORK SERVICE" in f["summary"] for f in F("keys.rdp","problem"))'
check "keys.contents: one finding, two quarantines" $JQ "$T/scan.json" \
	'len(F("keys.contents","problem"))==1 and len(F("keys.contents","problem")[0]["changes"])==2'
check "other checks stay healthy" $JQ "$T/scan.json" 'not F("rdp.access","problem")'

expect_exit 0 "acl show" "$RP" acl "$D" show 'C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys'
check "acl show: SDDL line" grep -qF "SDDL:  O:SYG:SYD:PAI(A;;FA;;;BA)" "$T/out"
check "acl show: entry in words" grep -qF "Allow BUILTIN\\Administrators: full control (0x1f01ff), this object only" "$T/out"
expect_exit 0 "acl show --json" "$RP" acl "$D" show $RDP --json
check "acl show --json: entries with names and masks" $JQ "$T/out" \
	'd["sddl"]=="O:SYG:SYD:P(A;;FA;;;SY)(A;;FR;;;BA)" and d["dacl"][0]["name"]=="NT AUTHORITY\\SYSTEM" and d["dacl"][1]["mask"]==0x120089'

mkdir -p "$T/bk"
expect_exit 0 "fix --yes" "$RP" fix "$D" --yes --backup-dir "$T/bk"
check "folder DACL is exactly Windows' default" test \
	"$("$FS" "$D" getsddl $MK)" = "O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)"
check "RDP key: SYSTEM full, NETWORK SERVICE read added, Administrators kept" test \
	"$("$FS" "$D" getsddl $RDP)" = "O:SYG:SYD:P(A;;FA;;;SY)(A;;FR;;;BA)(A;;FR;;;NS)"
check "RDP key bytes untouched" test "$(vol_sha "$D" $RDP)" = "$rdp0"
check "broken files gone from MachineKeys" sh -c \
	"'$FS' '$D' ls $MK >'$T/ls' && ! grep -q '0000000000000000000000000000000[12]_' '$T/ls' && [ \$(wc -l <'$T/ls') = 2 ]"
check "broken files are in the backup" sh -c \
	"tar --zstd -tvf '$T'/bk/rdprescue-*-fix.tar.zst >'$T/tar' && grep -q '00000000000000000000000000000001_' '$T/tar' && grep -q '00000000000000000000000000000002_' '$T/tar'"
check "sound key: bytes untouched" test "$(vol_sha "$D" $IIS)" = "$iis0"
check "sound key: SD untouched" test "$(sd_sha "$D" $IIS)" = "$iissd0"
expect_exit 0 "scan after fix is healthy" "$RP" scan "$D" --check $KEYS
check "volume passes ntfsfix -n" ntfsfix -n "$D"

expect_exit 0 "undo --yes" "$RP" undo "$D" --yes
check "undo: folder SD byte-for-byte" test "$(sd_sha "$D" $MK)" = "$folder0"
check "undo: RDP key SD byte-for-byte" test "$(sd_sha "$D" $RDP)" = "$rdpsd0"
check "undo: sound key SD byte-for-byte" test "$(sd_sha "$D" $IIS)" = "$iissd0"
check "undo: every key file byte-for-byte" test \
	"$(vol_sha "$D" $RDP)$(vol_sha "$D" $IIS)$(vol_sha "$D" $EMPTY)$(vol_sha "$D" $ZERO)" = "$rdp0$iis0$empty0$zero0"
expect_exit 1 "after undo the problems are back" "$RP" scan "$D" --check $KEYS

# --- acl reset: backed up, read back, undone ---
expect_exit 2 "acl reset needs --sddl" "$RP" acl "$D" reset $MK --yes
expect_exit 2 "acl reset refuses bad SDDL" "$RP" acl "$D" reset $MK --sddl 'O:SYD:(X;;FA;;;SY)' --yes
mkdir -p "$T/bk2"
expect_exit 0 "acl reset of the RDP key" "$RP" acl "$D" reset $RDP --sddl 'O:SYG:SYD:P(A;;FA;;;SY)(A;;FR;;;NS)' --yes --backup-dir "$T/bk2"
check "acl reset: the new SD is on the volume" test "$("$FS" "$D" getsddl $RDP)" = "O:SYG:SYD:P(A;;FA;;;SY)(A;;FR;;;NS)"
check "acl reset: manifest has an sd entry with SDDL before and after" sh -c \
	"tar --zstd -xOf '$T'/bk2/rdprescue-*-acl.tar.zst manifest.json | grep -q '\"sddl_after\": *\"O:SYG:SYD:P(A;;FA;;;SY)(A;;FR;;;NS)\"'"
# Backup names have one-second resolution: name this one rather than rely on "newest".
expect_exit 0 "undo the acl reset" sh -c "'$RP' undo '$D' --yes --backup '$T'/bk2/rdprescue-*-acl.tar.zst"
check "acl reset undone byte-for-byte" test "$(sd_sha "$D" $RDP)" = "$rdpsd0"

# --- build 17763 and later: NT SERVICE\SessionEnv is expected too ---
B=$T/build17763.img
scenario_hives healthy "$T/h17763"
printf 'Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion]\n"CurrentBuild"="17763"\n"CurrentBuildNumber"="17763"\n' >"$T/b.reg"
hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SOFTWARE' "$T/h17763/SOFTWARE" "$T/b.reg"
mkdisk_bare "$B" 64 && put_windows "$B" "$T/h17763"
check "17763: RDP key with SYSTEM and NETWORK SERVICE only" sh -c \
	"'$FS' '$B' mkdir $MK && '$FS' '$B' setsddl $MK 'O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)' && '$FS' '$B' mkkey $RDP TSSecKeySet1 && '$FS' '$B' setsddl $RDP 'O:SYG:SYD:P(A;;FA;;;SY)(A;;FR;;;NS)'"
expect_exit 1 "17763: scan wants SessionEnv" "$RP" scan "$B" --check keys.rdp --json
check "17763: summary names SessionEnv" $JQ "$T/out" 'any("SessionEnv" in f["summary"] for f in F("keys.rdp","problem"))'
expect_exit 0 "17763: fix" "$RP" fix "$B" --yes --check keys.rdp
check "17763: SessionEnv full control added" test "$("$FS" "$B" getsddl $RDP)" = \
	"O:SYG:SYD:P(A;;FA;;;SY)(A;;FR;;;NS)(A;;FA;;;S-1-5-80-4022436659-1090538466-1613889075-870485073-3428993833)"

# --- a missing RDP key that a certificate still uses: left to cert.rdp ---
C=$T/cert.img
scenario_hives healthy "$T/hcert"
thumb=$("$TOOLS/rp-mkcert" blob --cn WKS --not-before 2024-01-01 --not-after 2099-01-01 --container TSSecKeySet1 "$T/rdp.blob")
{
	printf 'Windows Registry Editor Version 5.00\n'
	for k in SystemCertificates 'SystemCertificates\Remote Desktop' 'SystemCertificates\Remote Desktop\Certificates'; do
		printf '\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\%s]\n' "$k"
	done
	printf '\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SystemCertificates\\Remote Desktop\\Certificates\\%s]\n"Blob"=hex:%s\n' \
		"$thumb" "$(od -An -v -tx1 "$T/rdp.blob" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')"
} >"$T/cert.reg"
hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SOFTWARE' "$T/hcert/SOFTWARE" "$T/cert.reg"
mkdisk_bare "$C" 64 && put_windows "$C" "$T/hcert"
"$FS" "$C" mkdir $MK && "$FS" "$C" setsddl $MK 'O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)'
expect_exit 1 "missing RDP key with a certificate: problem" "$RP" scan "$C" --check keys.rdp --json
check "missing RDP key: no change planned, cert.rdp named" $JQ "$T/out" \
	'any(not f["changes"] and "cert.rdp" in f["explain"] for f in F("keys.rdp","problem"))'
check "broken RDP key in use: keys.contents quarantines it" sh -c \
	"'$FS' '$C' put '$T/zero' $RDP && $RP scan '$C' --check keys.contents --json >'$T/c.json'; $JQ '$T/c.json' 'any(c[\"kind\"] == \"quarantine\" and \"f686aace\" in c[\"path\"] for f in F(\"keys.contents\",\"problem\") for c in f[\"changes\"])'"
expect_exit 0 "broken RDP key in use: one fix repairs cert.rdp, keys.rdp and keys.contents" \
	"$RP" fix "$C" --yes --check cert.rdp,keys.rdp,keys.contents
expect_exit 0 "broken RDP key in use: all three healthy after the fix" \
	"$RP" scan "$C" --check cert.rdp,keys.rdp,keys.contents

# --- MachineKeys replaced by a junction to another folder: refused, nothing written ---
J=$T/junction.img
check "build disk" scenario_disk healthy bare "$J"
check "another folder with a zero-filled file and its own SD" sh -c \
	"'$FS' '$J' mkdir Elsewhere && '$FS' '$J' setsddl Elsewhere 'O:SYG:SYD:P(A;;FA;;;SY)' && '$FS' '$J' put '$T/zero' Elsewhere/00000000000000000000000000000002_$GUID"
check "MachineKeys as a junction to it" sh -c \
	"'$FS' '$J' mkdir $MK && '$FS' '$J' junction $MK Elsewhere && '$FS' '$J' ls ProgramData/Microsoft/Crypto/RSA | grep -qx 'r MachineKeys'"
other0=$(sd_sha "$J" Elsewhere) j0=$(sha256sum <"$J")
expect_exit 1 "junction: scan exits 1" "$RP" scan "$J" --check $KEYS --json
check "junction: all three not-fixed, saying why" $JQ "$T/out" \
	'all(len(F(c,"not-fixed"))==1 and "reparse point" in F(c,"not-fixed")[0]["summary"] for c in ("keys.acl","keys.rdp","keys.contents"))'
expect_exit 1 "junction: fix --yes exits 1" "$RP" fix "$J" --yes --check $KEYS
check "junction: the other folder's SD unchanged" test "$(sd_sha "$J" Elsewhere)" = "$other0"
check "junction: the image is unchanged" test "$(sha256sum <"$J")" = "$j0"
finish
