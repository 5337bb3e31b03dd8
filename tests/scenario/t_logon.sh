#!/bin/sh
# logon.rdp (issue 14): who may log on over RDP, read from the real Windows 7 SAM and SECURITY
# (../shared/hives/real) on disk images.  Every condition is found with its evidence, and the
# values the report shows are compared with hivexget's (an independent reader).  The one fix,
# fix --grant-rdp-logon, is read back with hivexget and undone byte for byte.
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh
SAMP=Windows/System32/config/SAM
SECP=Windows/System32/config/SECURITY
INF="Windows/System32/GroupPolicy/Machine/Microsoft/Windows NT/SecEdit/GptTmpl.inf"
ALIASES='SAM\Domains\Builtin\Aliases'
DOM=S-1-5-21-1760460187-1592185332-161725925
PRESTON_MAP="$ALIASES\\Members\\$DOM\\000003E8"
export SCENARIO_SAM=1

# hexget IMG VOLPATH KEY VALUE: the value's bytes as lower-case hex, read by hivexget.
hexget() {
	"$TOOLS/rp-testfs" "$1" cat "$2" >"$T/get.hive" &&
		hivexget "$T/get.hive" "$3" "$4" | od -An -v -tx1 | tr -d ' \n'
}
# ev_hex JSON KEY VALUE: the hex data of the first logon.rdp evidence for KEY\VALUE.
ev_hex() {
	python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
print(next(e['data'] for f in d['findings'] if f['check'] == 'logon.rdp'
           for e in f['evidence'] if e.get('key') == sys.argv[2] and e.get('value') == sys.argv[3]))" "$@"
}

# --- clean machine: Preston (Administrators, enabled) may log on; Administrator is disabled ---
H=$T/healthy.img
check "build disk (healthy, real SAM and SECURITY)" scenario_disk healthy gpt "$H"
expect_exit 0 "healthy: scan --check logon.rdp" "$RP" scan "$H" --check logon.rdp --json
cp "$T/out" "$T/healthy.json"
check "healthy: ok, Preston may log on, Administrator disabled" $JQ "$T/healthy.json" \
	'any("Preston" in f["summary"] and "Administrator (disabled)" in f["summary"] for f in F("logon.rdp","ok")) and not F("logon.rdp","problem")'
check "healthy: JSON lists SAM and SECURITY among the hives" $JQ "$T/healthy.json" \
	'd["install"]["hives"]["SAM"]["path"]=="Windows/System32/config/SAM" and "recovery" in d["install"]["hives"]["SECURITY"]'
check "healthy: Administrators C evidence = hivexget" test \
	"$(ev_hex "$T/healthy.json" "$ALIASES\\00000220" C)" = "$(hexget "$H" $SAMP "$ALIASES\\00000220" C)"
check "healthy: Remote Desktop Users C evidence = hivexget" test \
	"$(ev_hex "$T/healthy.json" "$ALIASES\\0000022B" C)" = "$(hexget "$H" $SAMP "$ALIASES\\0000022B" C)"
check "healthy: ActSysAc of Administrators evidence = hivexget (07040000)" test \
	"$(ev_hex "$T/healthy.json" 'Policy\Accounts\S-1-5-32-544\ActSysAc' '')" = "$(hexget "$H" $SECP 'Policy\Accounts\S-1-5-32-544\ActSysAc' '@')"
check "healthy: Preston's F evidence = hivexget" test \
	"$(ev_hex "$T/healthy.json" 'SAM\Domains\Account\Users\000003E8' F)" = "$(hexget "$H" $SAMP 'SAM\Domains\Account\Users\000003E8' F)"
check "healthy: the members are named with their SIDs" $JQ "$T/healthy.json" \
	'any("Preston (S-1-5-21-1760460187-1592185332-161725925-1000)" in e.get("note","") for f in F("logon.rdp") for e in f["evidence"])'
expect_exit 0 "healthy: full scan" "$RP" scan "$H"

# --- SeDenyRemoteInteractiveLogonRight on Administrators (SECURITY) ---
D=$T/denied.img
check "build disk (logon-denied)" scenario_disk logon-denied gpt "$D"
expect_exit 1 "denied: scan finds it" "$RP" scan "$D" --check logon.rdp --json
cp "$T/out" "$T/denied.json"
check "denied: Preston denied by BUILTIN\\Administrators, nobody left" $JQ "$T/denied.json" \
	'any("Preston is denied" in f["summary"] and "Administrators" in f["summary"] for f in F("logon.rdp","problem")) and any(f["summary"].startswith("nobody") for f in F("logon.rdp","problem"))'
check "denied: ActSysAc evidence 070c0000 = hivexget" test \
	"$(ev_hex "$T/denied.json" 'Policy\Accounts\S-1-5-32-544\ActSysAc' '')" = "$(hexget "$D" $SECP 'Policy\Accounts\S-1-5-32-544\ActSysAc' '@')"
check "denied: hivexget reads 070c0000" test "$(hexget "$D" $SECP 'Policy\Accounts\S-1-5-32-544\ActSysAc' '@')" = 070c0000
check "denied: report only (no change planned)" $JQ "$T/denied.json" \
	'not any(f["changes"] for f in F("logon.rdp"))'
sec0=$(vol_sha "$D" $SECP)
expect_exit 1 "denied: fix leaves it (no fix exists)" "$RP" fix "$D" --yes --check logon.rdp
check "denied: SECURITY untouched" test "$(vol_sha "$D" $SECP)" = "$sec0"

# --- the local security policy (GptTmpl.inf) denies instead; SECURITY says nothing ---
G=$T/gpt.img
cp --sparse=always "$H" "$G"
printf '[Unicode]\r\nUnicode=yes\r\n[Privilege Rights]\r\nSeDenyRemoteInteractiveLogonRight = *S-1-5-32-544\r\n[Version]\r\nsignature="$CHICAGO$"\r\n' |
	iconv -f UTF-8 -t UTF-16 >"$T/GptTmpl.inf"
check "put GptTmpl.inf (UTF-16 with BOM)" "$TOOLS/rp-testfs" "$G" put "$T/GptTmpl.inf" "$INF"
expect_exit 1 "GptTmpl: scan finds the deny" "$RP" scan "$G" --check logon.rdp --json
check "GptTmpl: Preston denied, the file is the evidence" $JQ "$T/out" \
	'any("Preston is denied" in f["summary"] and any(e["source"]=="file" and e["path"].endswith("SecEdit/GptTmpl.inf") for e in f["evidence"]) and "GptTmpl.inf" in f["explain"] for f in F("logon.rdp","problem"))'

# --- the only enabled administrator disabled (SAM F) ---
S=$T/disabled.img
check "build disk (logon-disabled)" scenario_disk logon-disabled gpt "$S"
expect_exit 1 "disabled: scan" "$RP" scan "$S" --check logon.rdp --json
cp "$T/out" "$T/disabled.json"
check "disabled: nobody may log on, Preston (disabled)" $JQ "$T/disabled.json" \
	'any(f["summary"].startswith("nobody") and "Preston (disabled)" in f["summary"] for f in F("logon.rdp","problem"))'
check "disabled: F evidence = hivexget, flags 0x0011 noted" sh -c "test \"\$0\" = \"\$1\"" \
	"$(ev_hex "$T/disabled.json" 'SAM\Domains\Account\Users\000003E8' F)" "$(hexget "$S" $SAMP 'SAM\Domains\Account\Users\000003E8' F)"
check "disabled: hivexget's F holds 0x0011 at 0x38" test \
	"$(hexget "$S" $SAMP 'SAM\Domains\Account\Users\000003E8' F | cut -c113-116)" = 1100
check "disabled: flags named in the evidence" $JQ "$T/disabled.json" \
	'any("0x0011" in e.get("note","") for f in F("logon.rdp") for e in f["evidence"])'

# --- locked out ---
L=$T/locked.img
check "build disk (logon-locked)" scenario_disk logon-locked gpt "$L"
expect_exit 1 "locked: scan" "$RP" scan "$L" --check logon.rdp --json
check "locked: 'account Preston is locked out' with its F" $JQ "$T/out" \
	'any(f["summary"]=="account Preston is locked out" and any("0x0410" in e.get("note","") for e in f["evidence"]) for f in F("logon.rdp","problem"))'

# --- the right taken from both groups ---
N=$T/noright.img
check "build disk (logon-no-right)" scenario_disk logon-no-right gpt "$N"
expect_exit 1 "no right: scan" "$RP" scan "$N" --check logon.rdp --json
check "no right: neither group holds SeRemoteInteractiveLogonRight" $JQ "$T/out" \
	'any("grants neither" in f["summary"] for f in F("logon.rdp","problem")) and any("Preston (no SeRemoteInteractiveLogonRight)" in f["summary"] for f in F("logon.rdp","problem"))'
check "no right: RDU ActSysAc evidence = hivexget (00000000)" test \
	"$(ev_hex "$T/out" 'Policy\Accounts\S-1-5-32-555\ActSysAc' '')" = "$(hexget "$N" $SECP 'Policy\Accounts\S-1-5-32-555\ActSysAc' '@')"

# --- fix --grant-rdp-logon: Preston added to Remote Desktop Users, then undone ---
W=$T/grant.img
cp --sparse=always "$H" "$W"
sam0=$(vol_sha "$W" $SAMP) sys0=$(vol_sha "$W" $SYS) sec0=$(vol_sha "$W" $SECP)
expect_exit 2 "grant: scan does not take the option" "$RP" scan "$W" --grant-rdp-logon Preston
expect_exit 2 "grant: an unknown account is refused" "$RP" fix "$W" --yes --grant-rdp-logon nobody
check "grant: unknown account: one-line message" grep -q "^rdprescue: --grant-rdp-logon: no local account 'nobody'" "$T/err"
check "grant: nothing written for an unknown account" test "$(vol_sha "$W" $SAMP)" = "$sam0"
expect_exit 1 "grant: dry run plans it" "$RP" fix "$W" --dry-run --json --grant-rdp-logon preston
check "grant: plan: SAM reg-set of 0000022B\\C and the membership map" $JQ "$T/out" \
	'any(c["hive"]=="SAM" and c["key"].endswith("0000022B") and c["value"]=="C" for f in F("logon.rdp") for c in f["changes"]) and any(c["hive"]=="SAM" and c["key"].endswith("000003E8") for f in F("logon.rdp") for c in f["changes"])'
expect_exit 0 "grant: fix --grant-rdp-logon preston" "$RP" fix "$W" --yes --json --grant-rdp-logon preston
check "grant: fixed" $JQ "$T/out" 'len(F("logon.rdp","fixed"))==1'
rdu_after=$(hexget "$W" $SAMP "$ALIASES\\0000022B" C)
check "grant: hivexget: C lists 1 member, 28 bytes" test "$(echo "$rdu_after" | cut -c89-104)" = 1c00000001000000
check "grant: hivexget: the member is Preston's SID" sh -c "echo '$rdu_after' | grep -q '0105000000000005150000009b7dee68f4d1e65ee5bda309e8030000'"
check "grant: hivexget: Preston's map holds 0x221, 0x220, 0x22B" test \
	"$(hexget "$W" $SAMP "$PRESTON_MAP" '@')" = 21020000200200002b020000
check "grant: hivexregedit: the map's type is the count, 3" sh -c \
	"'$TOOLS/rp-testfs' '$W' cat $SAMP >'$T/s.hive' && hivexregedit --export '$T/s.hive' '$PRESTON_MAP' | grep -q '^@=hex(3):'"
check "grant: SYSTEM and SECURITY untouched" test "$(vol_sha "$W" $SYS)$(vol_sha "$W" $SECP)" = "$sys0$sec0"
expect_exit 0 "grant: rescan says already a member" "$RP" fix "$W" --yes --json --grant-rdp-logon Preston
check "grant: already a member" $JQ "$T/out" 'any("already a member" in f["summary"] for f in F("logon.rdp","ok"))'
expect_exit 0 "grant: scan after fix" "$RP" scan "$W" --check logon.rdp
expect_exit 0 "grant: undo" "$RP" undo "$W" --yes
check "grant: undo restores SAM byte for byte" test "$(vol_sha "$W" $SAMP)" = "$sam0"
check "grant: volume passes ntfsfix -n" ntfs_check "$W" 2

# --- no SAM on the volume: logon.rdp skipped, every other check runs ---
M=$T/nosam.img
rm -rf "$T/hives-healthy"
SCENARIO_SAM=0 scenario_disk healthy mbr "$M" >/dev/null 2>&1 || fail "build disk without SAM" "scenario_disk"
expect_exit 0 "no SAM: full scan still healthy" "$RP" scan "$M" --json
check "no SAM: logon.rdp skipped, the JSON says why" $JQ "$T/out" \
	'any("SAM not available" in f["summary"] for f in F("logon.rdp","skipped")) and "missing" in d["install"]["hives"]["SAM"]["error"] and len(F("rdp.access","ok"))==1'
expect_exit 3 "no SAM: --grant-rdp-logon cannot run" "$RP" fix "$M" --yes --grant-rdp-logon Preston
finish
