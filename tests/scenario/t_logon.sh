#!/bin/sh
# Issue 14, after the handshake: logon.rdp (who may log on over RDP, read from the real Windows 7
# SAM and SECURITY in ../shared/hives/real), rdp.security's FIPS / negotiation / credential
# settings, rdp.services' ServiceDll and dependency chain, rds.licensing.  Every condition is
# found with its evidence; the values the report shows are compared with hivexget's (an
# independent reader); fixes are read back with hivexget and undone byte for byte.
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

# hive_get IMG HIVEPATH KEY VALUE: the value as hivexget prints it.
hive_get() { "$TOOLS/rp-testfs" "$1" cat "$2" >"$T/get2.hive" && hivexget "$T/get2.hive" "$3" "$4"; }
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

# --- --grant-rdp-logon for an account without a membership-map entry: the key is created ---
Z=$T/nomap.img
check "build disk (logon-no-map)" scenario_disk logon-no-map gpt "$Z"
DOMKEY="$ALIASES\\Members\\$DOM"
check "no map: hivexregedit sees the domain key count 2, no Preston key" sh -c \
	"'$TOOLS/rp-testfs' '$Z' cat $SAMP >'$T/z.hive' && hivexregedit --export '$T/z.hive' '$DOMKEY' >'$T/z.reg' && grep -q '^@=hex(2):' '$T/z.reg' && ! grep -q 000003E8 '$T/z.reg'"
samz=$(vol_sha "$Z" $SAMP)
expect_exit 0 "no map: fix --grant-rdp-logon Preston" "$RP" fix "$Z" --yes --grant-rdp-logon Preston
check "no map: Preston's new map entry holds 0x22B, type 1; the domain key counts 3" sh -c \
	"'$TOOLS/rp-testfs' '$Z' cat $SAMP >'$T/z.hive' && hivexregedit --export '$T/z.hive' '$DOMKEY' >'$T/z.reg' && grep -q '^@=hex(3):' '$T/z.reg' && grep -A1 '000003E8\]' '$T/z.reg' | grep -qx '@=hex(1):2b,02,00,00'"
expect_exit 0 "no map: undo" "$RP" undo "$Z" --yes
check "no map: undo restores SAM byte for byte" test "$(vol_sha "$Z" $SAMP)" = "$samz"

# --- SAM without SECURITY: the rights are assumed to be Windows' defaults, and said so ---
X=$T/nosec.img
cp --sparse=always "$H" "$X"
check "remove SECURITY" "$TOOLS/rp-testfs" "$X" rm $SECP
expect_exit 0 "no SECURITY: logon.rdp still judges the members" "$RP" scan "$X" --check logon.rdp,rdp.security --json
check "no SECURITY: Preston may log on, the defaults assumption stated" $JQ "$T/out" \
	'any("Preston" in f["summary"] and "assumed to be Windows" in (f.get("explain") or "") for f in F("logon.rdp","ok")) and "missing" in d["install"]["hives"]["SECURITY"]["error"]'
# a damaged SAM (hive bins cut off) must not stop the other checks either
Y=$T/badsam.img
cp --sparse=always "$H" "$Y"
head -c 6000 "$SHARED/hives/windows-made/EmptyHive" >"$T/SAM.bad"
check "put a truncated SAM" "$TOOLS/rp-testfs" "$Y" put "$T/SAM.bad" $SAMP
expect_exit 0 "damaged SAM: full scan still runs and is healthy" "$RP" scan "$Y" --json
check "damaged SAM: logon.rdp skipped with the reason" $JQ "$T/out" \
	'len(F("logon.rdp","skipped"))==1 and d["install"]["hives"]["SAM"]["error"] and len(F("rdp.access","ok"))==1'

# --- no SAM on the volume: logon.rdp skipped, every other check runs ---
M=$T/nosam.img
rm -rf "$T/hives-healthy"
SCENARIO_SAM=0 scenario_disk healthy mbr "$M" >/dev/null 2>&1 || fail "build disk without SAM" "scenario_disk"
expect_exit 0 "no SAM: full scan still healthy" "$RP" scan "$M" --json
check "no SAM: logon.rdp skipped, the JSON says why" $JQ "$T/out" \
	'any("SAM not available" in f["summary"] for f in F("logon.rdp","skipped")) and "missing" in d["install"]["hives"]["SAM"]["error"] and len(F("rdp.access","ok"))==1'
expect_exit 3 "no SAM: --grant-rdp-logon cannot run" "$RP" fix "$M" --yes --grant-rdp-logon Preston

# --- rdp.security: FIPS with the RDP layer, negotiation off, disabledomaincreds ---
R=$T/handshake.img
check "build disk (after-handshake)" scenario_disk after-handshake gpt "$R"
RDPTCP='ControlSet001\Control\Terminal Server\WinStations\RDP-Tcp'
sys0=$(vol_sha "$R" $SYS)
expect_exit 1 "handshake: scan" "$RP" scan "$R" --check rdp.security --json
cp "$T/out" "$T/hs.json"
check "handshake: FIPS finding with Lsa\\FIPSAlgorithmPolicy\\Enabled = 1 as evidence" $JQ "$T/hs.json" \
	'any(f["summary"].startswith("FIPS mode is on") and any(e.get("key","").endswith("Lsa\\FIPSAlgorithmPolicy") and e["data"]==1 for e in f["evidence"]) for f in F("rdp.security","problem"))'
check "handshake: FIPS fix raises SecurityLayer to 2, not weakening" $JQ "$T/hs.json" \
	'any(c["value"]=="SecurityLayer" and not c["weakens_security"] for f in F("rdp.security","problem") if f["summary"].startswith("FIPS") for c in f["changes"])'
check "handshake: fAllowSecProtocolNegotiation 0 found" $JQ "$T/hs.json" \
	'any(f["summary"].startswith("fAllowSecProtocolNegotiation is 0") for f in F("rdp.security","problem"))'
check "handshake: disabledomaincreds found, its fix marked weakening" $JQ "$T/hs.json" \
	'any(f["summary"].startswith("disabledomaincreds 1") and all(c["weakens_security"] for c in f["changes"]) and f["changes"] for f in F("rdp.security","problem"))'
expect_exit 1 "handshake: fix (without --allow-weaker-security)" "$RP" fix "$R" --yes --check rdp.security
check "handshake: SecurityLayer now 2 (hivexget)" test "$(hive_get "$R" $SYS "$RDPTCP" SecurityLayer)" = 2
check "handshake: fAllowSecProtocolNegotiation now 1 (hivexget)" test "$(hive_get "$R" $SYS "$RDPTCP" fAllowSecProtocolNegotiation)" = 1
check "handshake: FIPS stays on (hivexget)" test "$(hive_get "$R" $SYS 'ControlSet001\Control\Lsa\FIPSAlgorithmPolicy' Enabled)" = 1
check "handshake: disabledomaincreds stays 1 without the flag" test "$(hive_get "$R" $SYS 'ControlSet001\Control\Lsa' disabledomaincreds)" = 1
expect_exit 0 "handshake: undo" "$RP" undo "$R" --yes
check "handshake: undo restores SYSTEM byte for byte" test "$(vol_sha "$R" $SYS)" = "$sys0"
expect_exit 0 "handshake: fix --allow-weaker-security" "$RP" fix "$R" --yes --check rdp.security --allow-weaker-security
check "handshake: disabledomaincreds now 0, reported as weakened" sh -c "test \"\$('$TOOLS/rp-testfs' '$R' cat $SYS >'$T/w.hive' && hivexget '$T/w.hive' 'ControlSet001\\Control\\Lsa' disabledomaincreds)\" = 0"

# FIPS set by the local security policy (GptTmpl.inf [Registry Values]), SecurityLayer 0
R2=$T/fipspol.img
cp --sparse=always "$H" "$R2"
printf '[Unicode]\r\nUnicode=yes\r\n[Registry Values]\r\nMACHINE\\System\\CurrentControlSet\\Control\\Lsa\\FIPSAlgorithmPolicy\\Enabled=4,1\r\n' |
	iconv -f UTF-8 -t UTF-16 >"$T/fips.inf"
check "put GptTmpl.inf with FIPS on" "$TOOLS/rp-testfs" "$R2" put "$T/fips.inf" "$INF"
printf 'Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\Terminal Server\\WinStations\\RDP-Tcp]\n"SecurityLayer"=dword:00000000\n"UserAuthentication"=dword:00000000\n' >"$T/sl0.reg"
"$TOOLS/rp-testfs" "$R2" cat $SYS >"$T/sl0.hive" && hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' "$T/sl0.hive" "$T/sl0.reg" &&
	"$TOOLS/rp-testfs" "$R2" put "$T/sl0.hive" $SYS || fail "SecurityLayer 0 on fipspol.img" "merge"
expect_exit 1 "FIPS by policy: scan" "$RP" scan "$R2" --check rdp.security --json
check "FIPS by policy: GptTmpl.inf is the evidence, the local 0 overridden" $JQ "$T/out" \
	'any(f["summary"].startswith("FIPS") and any(e["source"]=="file" and e["path"].endswith("GptTmpl.inf") for e in f["evidence"]) and any(e.get("note")=="overridden by the local security policy" for e in f["evidence"]) for f in F("rdp.security","problem"))'

# domain member with NLA required: a note, no problem
check "build disk (domain-member)" scenario_disk domain-member gpt "$T/dom.img"
expect_exit 0 "domain member: scan rdp.security ok" "$RP" scan "$T/dom.img" --check rdp.security --json
check "domain member: the NLA note with PolPrDmS (= hivexget) as evidence" $JQ "$T/out" \
	'any(f["summary"].startswith("domain member with NLA required") and any(e.get("key")=="Policy\\PolPrDmS" and e["data"]=="'"$(hexget "$T/dom.img" $SECP 'Policy\PolPrDmS' '@')"'" for e in f["evidence"]) for f in F("rdp.security","ok"))'
expect_exit 0 "healthy: rdp.security has no domain note" "$RP" scan "$H" --check rdp.security --json
check "healthy: no domain note" $JQ "$T/out" 'not any("domain member" in f["summary"] for f in F("rdp.security"))'

# --- rdp.services: ServiceDll, dependency chain, TermDD ---
V=$T/deps.img
check "build disk (termservice-deps)" scenario_disk termservice-deps gpt "$V"
printf 'MZ' >"$T/pe"
check "put ntoskrnl.exe and termsrv.dll" sh -c "'$TOOLS/rp-testfs' '$V' put '$T/pe' Windows/System32/ntoskrnl.exe && '$TOOLS/rp-testfs' '$V' put '$T/pe' Windows/System32/termsrv.dll"
sys0=$(vol_sha "$V" $SYS)
expect_exit 1 "deps: scan" "$RP" scan "$V" --check rdp.services --json
cp "$T/out" "$T/deps.json"
check "deps: ServiceDll names a missing file" $JQ "$T/deps.json" \
	'any("termsrv-gone.dll does not exist" in f["summary"] for f in F("rdp.services","problem"))'
check "deps: TermDD disabled, fix sets Start 1" $JQ "$T/deps.json" \
	'any(f["summary"]=="TermService needs service TermDD, which is disabled (Start 4)" and any(c["value"]=="Start" and c["key"].endswith("TermDD") for c in f["changes"]) for f in F("rdp.services","problem"))'
check "deps: NoSuchSvc missing, no fix" $JQ "$T/deps.json" \
	'any("NoSuchSvc, which does not exist" in f["summary"] and not f["changes"] for f in F("rdp.services","problem"))'
check "deps: the RPCSS -> TermService cycle reported nothing twice" $JQ "$T/deps.json" \
	'len(F("rdp.services","problem"))==3'
expect_exit 1 "deps: fix (NoSuchSvc remains)" "$RP" fix "$V" --yes --check rdp.services
check "deps: TermDD Start now 1 (hivexget)" test "$(hive_get "$V" $SYS 'ControlSet001\services\TermDD' Start)" = 1
check "deps: ServiceDll now %SystemRoot%\\System32\\termsrv.dll (hivexget)" test \
	"$(hive_get "$V" $SYS 'ControlSet001\services\TermService\Parameters' ServiceDll)" = '%SystemRoot%\System32\termsrv.dll'
check "deps: ServiceDll stays REG_EXPAND_SZ" sh -c "'$TOOLS/rp-testfs' '$V' cat $SYS >'$T/v.hive' && hivexregedit --export '$T/v.hive' 'ControlSet001\services\TermService\Parameters' | grep -q '^\"ServiceDll\"=hex(2):'"
expect_exit 0 "deps: undo" "$RP" undo "$V" --yes
check "deps: undo restores SYSTEM byte for byte" test "$(vol_sha "$V" $SYS)" = "$sys0"
expect_exit 0 "healthy: rdp.services ok (ServiceDll not judged without system files)" "$RP" scan "$H" --check rdp.services --json
check "healthy: rdp.services notes the DLL was not checked" $JQ "$T/out" \
	'any("file not checked" in (e.get("note") or "") for f in F("rdp.services","ok") for e in f["evidence"])'

# TermService's Parameters key denies Users read (the sk cell edited by tests/lib/hive_sd.py)
K=$T/keysd.img
cp --sparse=always "$H" "$K"
PK='ControlSet001\services\TermService\Parameters'
check "deny Users read on TermService\\Parameters (hive_sd.py)" sh -c "'$TOOLS/rp-testfs' '$K' cat $SYS >'$T/k.hive' && python3 tests/lib/hive_sd.py '$T/k.hive' '$PK' deny-first && '$TOOLS/rp-testfs' '$K' put '$T/k.hive' $SYS"
check "hive_sd.py reads the deny entry back" sh -c "python3 tests/lib/hive_sd.py '$T/k.hive' '$PK' show | head -1 | grep -qx '1 16 0x20019 S-1-5-32-545'"
expect_exit 1 "key SD: scan finds it" "$RP" scan "$K" --check rdp.services --json
check "key SD: Parameters unreadable for NETWORK SERVICE, the deny entry named, SDDL as evidence" $JQ "$T/out" \
	'any(f["summary"].endswith("keep TermService (NETWORK SERVICE) from reading it (a deny entry for BUILTIN\\Users)") and any("(D;ID;KR;;;BU)" in (e.get("note") or "") for e in f["evidence"]) for f in F("rdp.services","problem"))'
check "key SD: the service key itself stays readable for SYSTEM" $JQ "$T/out" 'len(F("rdp.services","problem"))==1'

# --- rds.licensing ---
check "build disk (rds-unlicensed)" scenario_disk rds-unlicensed gpt "$T/rds.img"
expect_exit 1 "rds: unlicensed session host found" "$RP" scan "$T/rds.img" --check rds.licensing --json
check "rds: grace period and mstsc /admin advice, LicensingMode 5 evidence" $JQ "$T/out" \
	'any("grace period" in f["summary"] and "mstsc /admin" in f["explain"] and any(e.get("value")=="LicensingMode" and e["data"]==5 for e in f["evidence"]) and any("GracePeriod" in e.get("key","") and e["present"] for e in f["evidence"]) for f in F("rds.licensing","problem"))'
check "rds: report only" $JQ "$T/out" 'not any(f["changes"] for f in F("rds.licensing"))'
expect_exit 1 "rds: text scan" "$RP" scan "$T/rds.img" --check rds.licensing
check "rds: the text report does not promise a repair" grep -q "^1 problem, reported only" "$T/out"
check "build disk (rds-licensed)" scenario_disk rds-licensed gpt "$T/rdsok.img"
expect_exit 0 "rds: licensed host ok" "$RP" scan "$T/rdsok.img" --check rds.licensing --json
check "rds: per user from lic1.example.com (Group Policy)" $JQ "$T/out" \
	'any("per user from lic1.example.com (Group Policy)" in f["summary"] for f in F("rds.licensing","ok"))'
expect_exit 0 "healthy: not a session host" "$RP" scan "$H" --check rds.licensing --json
check "healthy: rds.licensing says not a session host" $JQ "$T/out" 'any(f["summary"].startswith("not a Remote Desktop Session Host") for f in F("rds.licensing","ok"))'
finish
