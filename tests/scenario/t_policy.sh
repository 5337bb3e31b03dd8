#!/bin/sh
# Where a value comes from (issue 4): the local Group Policy file Registry.pol and cached domain
# GPOs rewrite SOFTWARE\Policies at every refresh.  Scan names the source; fix changes it (the
# .pol entry too) and undo restores SYSTEM, SOFTWARE and Registry.pol byte for byte.  The .pol
# files are built and read back by tests/lib/pol.py, independently of src/reg/pol.c.
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh
GPO_DIR="ProgramData/Microsoft/Group Policy/History/{31B2F340-016D-11D2-945F-00C04FB984F9}/Machine"
TSK='Software\Policies\Microsoft\Windows NT\Terminal Services'
RDPTCP='ControlSet001\Control\Terminal Server\WinStations\RDP-Tcp'

# hive_get IMG HIVEPATH KEY VALUE: the value as hivexget prints it (independent reader).
hive_get() { "$TOOLS/rp-testfs" "$1" cat "$2" >"$T/get.hive" && hivexget "$T/get.hive" "$3" "$4"; }
# pol_get IMG VOLPATH VALUE: the Terminal Services entry as pol.py reads it back.
pol_get() { "$TOOLS/rp-testfs" "$1" cat "$2" >"$T/get.pol" && $POL get "$T/get.pol" "$TSK" "$3"; }
# pol_get_k IMG KEY VALUE: any key's entry in the local Registry.pol.
pol_get_k() { "$TOOLS/rp-testfs" "$1" cat $LPOL >"$T/get.pol" && $POL get "$T/get.pol" "$2" "$3"; }

# --- the "done when" disk: local Registry.pol denies RDP, the SOFTWARE copy says 1 too ---
D=$T/regpol.img
check "build disk (denied-by-policy)" scenario_disk denied-by-policy gpt "$D"
$POL mk "$T/deny.pol" "$TSK|fDenyTSConnections|dword:1" "$TSK|KeepAliveEnable|dword:1" \
	'Software\Policies\Microsoft\Windows\WindowsUpdate\AU|NoAutoUpdate|dword:1'
check "put Registry.pol on the volume" "$TOOLS/rp-testfs" "$D" put "$T/deny.pol" "$LPOL"
sys0=$(vol_sha "$D" $SYS) soft0=$(vol_sha "$D" $SOFT) pol0=$(vol_sha "$D" $LPOL)

expect_exit 1 "scan --json finds the problem" "$RP" scan "$D" --json
cp "$T/out" "$T/scan.json"
check "rdp.access problem names Registry.pol in its summary" $JQ "$T/scan.json" \
	'any("Registry.pol" in f["summary"] for f in F("rdp.access","problem"))'
check "evidence: registry.pol source, its path, data 1, effective" $JQ "$T/scan.json" \
	'any(e["source"]=="registry.pol" and e["path"]=="Windows/System32/GroupPolicy/Machine/Registry.pol" and e["value"]=="fDenyTSConnections" and e["data"]==1 and e["note"].startswith("effective") for f in F("rdp.access","problem") for e in f["evidence"])'
check "evidence: the SOFTWARE policy copy is still shown" $JQ "$T/scan.json" \
	'any(e["source"]=="policy" and e["data"]==1 for f in F("rdp.access","problem") for e in f["evidence"])'
check "plan: a pol-set change on Registry.pol" $JQ "$T/scan.json" \
	'any(c["kind"]=="pol-set" and c["path"].endswith("Registry.pol") and c["value"]=="fDenyTSConnections" for f in F("rdp.access","problem") for c in f["changes"])'
expect_exit 1 "text scan" "$RP" scan "$D" --check rdp.access
# The text report is wrapped at 80 columns: read it with its lines joined.
check "text report names the local Group Policy file in plain words" sh -c \
	"tr -s ' \n' '  ' <'$T/out' | grep -q 'from the local Group Policy file Windows/System32/GroupPolicy/Machine/Registry.pol'"

expect_exit 0 "fix --yes" "$RP" fix "$D" --yes --json
cp "$T/out" "$T/fix.json"
check "fix JSON: rdp.access fixed" $JQ "$T/fix.json" 'len(F("rdp.access","fixed"))>=1'
check "Registry.pol entry now 0 (pol.py)" test "$(pol_get "$D" $LPOL fDenyTSConnections)" = "dword 0"
check "Registry.pol: the other entries are kept" sh -c "'$TOOLS/rp-testfs' '$D' cat $LPOL >'$T/after.pol' && $POL dump '$T/after.pol' >'$T/after.txt' && $POL dump '$T/deny.pol' >'$T/before.txt' && diff '$T/before.txt' '$T/after.txt' | grep '^[<>]' | grep -v fDenyTSConnections | (! grep .) && [ \$(wc -l <'$T/after.txt') = 3 ]"
check "SOFTWARE policy value now 0 (hivexget)" test "$(hive_get "$D" $SOFT 'Policies\Microsoft\Windows NT\Terminal Services' fDenyTSConnections)" = 0
check "SYSTEM local value now 0 (hivexget)" test "$(hive_get "$D" $SYS 'ControlSet001\Control\Terminal Server' fDenyTSConnections)" = 0
check "UserAuthentication stays 1" test "$(hive_get "$D" $SYS "$RDPTCP" UserAuthentication)" = 1
expect_exit 0 "scan --check rdp.access after fix" "$RP" scan "$D" --check rdp.access
expect_exit 0 "full scan after fix" "$RP" scan "$D"
expect_exit 0 "undo --yes" "$RP" undo "$D" --yes
check "undo restores SYSTEM byte-for-byte" test "$(vol_sha "$D" $SYS)" = "$sys0"
check "undo restores SOFTWARE byte-for-byte" test "$(vol_sha "$D" $SOFT)" = "$soft0"
check "undo restores Registry.pol byte-for-byte" test "$(vol_sha "$D" $LPOL)" = "$pol0"
expect_exit 1 "after undo the problem is back" "$RP" scan "$D" --check rdp.access
check "volume passes ntfsfix -n" ntfs_check "$D" 2

# --- Registry.pol removes the policy copy (**del.), stored under another case ---
D=$T/del.img
check "build disk (denied-by-policy) for **del." scenario_disk denied-by-policy mbr "$D"
$POL mk "$T/del.pol" "$TSK|fDenyTSConnections|del"
DPOL=Windows/System32/GroupPolicy/Machine/REGISTRY.POL
check "put REGISTRY.POL" "$TOOLS/rp-testfs" "$D" put "$T/del.pol" $DPOL
p0=$(vol_sha "$D" $DPOL)
expect_exit 1 "**del.: scan finds the local value" "$RP" scan "$D" --json --check rdp.access
check "**del.: the local value decides, the pol entry is shown as removing the copy" $JQ "$T/out" \
	'any(e["source"]=="local" and e.get("note","").startswith("effective") for f in F("rdp.access","problem") for e in f["evidence"]) and any(e["source"]=="registry.pol" and e["path"].endswith("REGISTRY.POL") and "removes" in e.get("note","") for f in F("rdp.access","problem") for e in f["evidence"])'
check "**del.: plan deletes the stale SOFTWARE copy, no pol change" $JQ "$T/out" \
	'any(c["kind"]=="reg-delete-value" and c["hive"]=="SOFTWARE" for f in F("rdp.access","problem") for c in f["changes"]) and not any(c["kind"].startswith("pol") for f in d["findings"] for c in f["changes"])'
expect_exit 0 "**del.: fix" "$RP" fix "$D" --yes
check "**del.: the SOFTWARE policy value is gone" sh -c "'$TOOLS/rp-testfs' '$D' cat $SOFT >'$T/s.hive' && ! hivexget '$T/s.hive' 'Policies\\Microsoft\\Windows NT\\Terminal Services' fDenyTSConnections"
check "**del.: SYSTEM value 0" test "$(hive_get "$D" $SYS 'ControlSet001\Control\Terminal Server' fDenyTSConnections)" = 0
check "**del.: Registry.pol untouched" test "$(vol_sha "$D" $DPOL)" = "$p0"
expect_exit 0 "**del.: healthy after fix" "$RP" scan "$D" --check rdp.access

# --- a cached domain GPO denies RDP: reported, local copies fixed, not fixable offline ---
D=$T/domain.img
check "build disk (denied-by-policy) for a domain GPO" scenario_disk denied-by-policy gpt "$D"
$POL mk "$T/gpo.pol" "$TSK|fDenyTSConnections|dword:1"
check "put the domain GPO cache" "$TOOLS/rp-testfs" "$D" put "$T/gpo.pol" "$GPO_DIR/registry.pol"
g0=$(vol_sha "$D" "$GPO_DIR/registry.pol")
expect_exit 1 "domain: scan finds it" "$RP" scan "$D" --json --check rdp.access
check "domain: evidence source domain-gpo with the cache path, effective" $JQ "$T/out" \
	'any(e["source"]=="domain-gpo" and e["path"].endswith("Machine/registry.pol") and e["note"].startswith("effective") for f in F("rdp.access","problem") for e in f["evidence"])'
check "domain: explain says it cannot be fixed offline and what to do" $JQ "$T/out" \
	'any("cannot be fixed offline" in f["explain"] and "GPO" in f["explain"] for f in F("rdp.access","problem"))'
expect_exit 1 "domain: fix fixes the local copies but exits 1" "$RP" fix "$D" --yes --json
check "domain: finding is not-fixed" $JQ "$T/out" 'len(F("rdp.access","not-fixed"))==1'
check "domain: SOFTWARE policy copy 0 now" test "$(hive_get "$D" $SOFT 'Policies\Microsoft\Windows NT\Terminal Services' fDenyTSConnections)" = 0
check "domain: SYSTEM value 0 now" test "$(hive_get "$D" $SYS 'ControlSet001\Control\Terminal Server' fDenyTSConnections)" = 0
check "domain: the cached GPO is never written" test "$(vol_sha "$D" "$GPO_DIR/registry.pol")" = "$g0"
expect_exit 1 "domain: still reported after the fix" "$RP" scan "$D" --check rdp.access

# --- Registry.pol with SecurityLayer 0 and NLA off: a working combination, not a problem ---
D=$T/weak.img
check "build healthy disk" scenario_disk healthy gpt "$D"
$POL mk "$T/weak.pol" "$TSK|SecurityLayer|dword:0" "$TSK|UserAuthentication|dword:0"
"$TOOLS/rp-testfs" "$D" put "$T/weak.pol" "$LPOL"
expect_exit 0 "SecurityLayer 0 + NLA off by Registry.pol: healthy" "$RP" scan "$D" --json
check "rdp.security ok, effective values from Registry.pol" $JQ "$T/out" \
	'any(f["summary"]=="SecurityLayer 0, NLA off, MinEncryptionLevel 2" for f in F("rdp.security","ok")) and any(e["source"]=="registry.pol" and e["note"].startswith("effective") for f in F("rdp.security","ok") for e in f["evidence"])'
h0=$(sha256sum <"$D")
expect_exit 0 "fix writes nothing" "$RP" fix "$D" --yes
check "image unchanged" test "$(sha256sum <"$D")" = "$h0"

# --- Registry.pol sets SecurityLayer 0 while NLA is on: the entry is raised, NLA kept ---
D=$T/nla.img
check "build healthy disk (NLA on)" scenario_disk healthy gpt "$D"
$POL mk "$T/sl0.pol" "$TSK|SecurityLayer|dword:0"
"$TOOLS/rp-testfs" "$D" put "$T/sl0.pol" "$LPOL"
expect_exit 1 "SecurityLayer 0 from Registry.pol with NLA on: problem" "$RP" scan "$D" --json --check rdp.security
check "plan raises the Registry.pol entry" $JQ "$T/out" \
	'any(c["kind"]=="pol-set" and c["value"]=="SecurityLayer" for f in F("rdp.security","problem") for c in f["changes"])'
expect_exit 0 "fix" "$RP" fix "$D" --yes
check "Registry.pol SecurityLayer now 2" test "$(pol_get "$D" $LPOL SecurityLayer)" = "dword 2"
check "UserAuthentication stays 1" test "$(hive_get "$D" $SYS "$RDPTCP" UserAuthentication)" = 1
expect_exit 0 "healthy after fix" "$RP" scan "$D" --check rdp.security

# --- a Registry.pol that cannot be parsed: a warning naming it, never written ---
D=$T/bad.img
check "build healthy disk" scenario_disk healthy gpt "$D"
head -c 40 "$T/deny.pol" >"$T/bad.pol"
"$TOOLS/rp-testfs" "$D" put "$T/bad.pol" "$LPOL"
b0=$(vol_sha "$D" $LPOL)
expect_exit 1 "broken Registry.pol: scan reports it" "$RP" scan "$D" --json
check "a warning naming the file" $JQ "$T/out" \
	'any(f["severity"]=="warning" and "Registry.pol" in f["summary"] and "malformed" in f["summary"] for f in d["findings"])'
check "reported once" $JQ "$T/out" 'len([f for f in d["findings"] if "malformed" in f["summary"]])==1'
expect_exit 1 "broken Registry.pol: fix leaves it not fixed" "$RP" fix "$D" --yes
check "broken Registry.pol never written" test "$(vol_sha "$D" $LPOL)" = "$b0"

# pol_broken NAME SCENARIO CHECK ENTRY...: $D = a disk of SCENARIO with a local Registry.pol of
# ENTRY... (pol.py mk); its files' hashes in $s0 $w0 $p0; scan finds a CHECK problem whose summary
# names Registry.pol, and fix --yes --check CHECK exits 0 (the scan JSON is left in $T/out).
pol_broken() {
	b_name=$1 b_check=$3 D=$T/$1.img
	check "$b_name: build disk ($2) with Registry.pol" scenario_disk "$2" gpt "$D"
	shift 3
	$POL mk "$T/$b_name.pol" "$@"
	"$TOOLS/rp-testfs" "$D" put "$T/$b_name.pol" "$LPOL"
	s0=$(vol_sha "$D" $SYS) w0=$(vol_sha "$D" $SOFT) p0=$(vol_sha "$D" $LPOL)
	expect_exit 1 "$b_name: scan finds it" "$RP" scan "$D" --json --check $b_check
	cp "$T/out" "$T/$b_name.json"
	check "$b_name: the $b_check summary names Registry.pol" $JQ "$T/out" \
		"any('Registry.pol' in f['summary'] for f in F('$b_check','problem'))"
	expect_exit 0 "$b_name: fix --yes" "$RP" fix "$D" --yes --check $b_check
	cp "$T/$b_name.json" "$T/out"
}

# pol_healthy_undo NAME CHECK: CHECK healthy after the fix; undo restores the three files.
pol_healthy_undo() {
	expect_exit 0 "$1: healthy after fix" "$RP" scan "$D" --check $2
	expect_exit 0 "$1: undo --yes" "$RP" undo "$D" --yes
	check "$1: undo restores SYSTEM, SOFTWARE, Registry.pol byte for byte" \
		test "$(vol_sha "$D" $SYS)$(vol_sha "$D" $SOFT)$(vol_sha "$D" $LPOL)" = "$s0$w0$p0"
	rm -f "$D"
}

# --- rdp.firewall: Registry.pol makes the Domain profile block every inbound connection ---
FWK='Software\Policies\Microsoft\WindowsFirewall\DomainProfile'
pol_broken firewall healthy rdp.firewall "$FWK|EnableFirewall|dword:1" "$FWK|DoNotAllowExceptions|dword:1"
check "firewall: the Domain profile, the Registry.pol entry effective" $JQ "$T/out" \
	'any("Domain" in f["summary"] and any(e["source"]=="registry.pol" and e["value"]=="DoNotAllowExceptions" and e["data"]==1 and e["note"].startswith("effective") for e in f["evidence"]) for f in F("rdp.firewall","problem"))'
check "firewall: plan sets the Registry.pol entry to 0, nothing else" $JQ "$T/out" \
	'[(c["kind"],c["value"],c["what"].split(" to ")[1]) for f in F("rdp.firewall","problem") for c in f["changes"]]==[("pol-set","DoNotAllowExceptions","0 (was 1)")]'
check "firewall: Registry.pol DoNotAllowExceptions now 0 (pol.py)" test "$(pol_get_k "$D" "$FWK" DoNotAllowExceptions)" = "dword 0"
check "firewall: Registry.pol EnableFirewall stays 1" test "$(pol_get_k "$D" "$FWK" EnableFirewall)" = "dword 1"
pol_healthy_undo firewall rdp.firewall

# --- tls.schannel: Registry.pol sets an empty SSL cipher-suite order (and SOFTWARE has it too) ---
SSLK='Software\Policies\Microsoft\Cryptography\Configuration\SSL\00010002'
pol_broken ciphers cipher-suites-empty tls.schannel "$SSLK|Functions|sz:" "$TSK|KeepAliveEnable|dword:1"
check "ciphers: the Registry.pol entry is effective" $JQ "$T/out" \
	'any(e["source"]=="registry.pol" and e["value"]=="Functions" and e["note"].startswith("effective") for f in F("tls.schannel","problem") for e in f["evidence"])'
check "ciphers: plan removes the .pol entry and the SOFTWARE copy" $JQ "$T/out" \
	'sorted((c["kind"],c["value"]) for f in F("tls.schannel","problem") for c in f["changes"])==[("pol-delete","Functions"),("reg-delete-value","Functions")]'
check "ciphers: the Functions entry is gone from Registry.pol (pol.py)" test "$(pol_get_k "$D" "$SSLK" Functions)" = absent
check "ciphers: the other Registry.pol entry is kept" test "$(pol_get "$D" $LPOL KeepAliveEnable)" = "dword 1"
check "ciphers: SOFTWARE Functions gone (hivexget)" sh -c "'$TOOLS/rp-testfs' '$D' cat $SOFT >'$T/c.hive' && ! hivexget '$T/c.hive' 'Policies\\Microsoft\\Cryptography\\Configuration\\SSL\\00010002' Functions >/dev/null 2>&1"
pol_healthy_undo ciphers tls.schannel

# --- tls.credssp: Registry.pol sets AllowEncryptionOracle out of range ---
CREDK='Software\Microsoft\Windows\CurrentVersion\Policies\System\CredSSP\Parameters'
pol_broken credssp healthy tls.credssp "$CREDK|AllowEncryptionOracle|dword:7"
check "credssp: the entry is gone from Registry.pol (pol.py)" test "$(pol_get_k "$D" "$CREDK" AllowEncryptionOracle)" = absent
pol_healthy_undo credssp tls.credssp

finish
