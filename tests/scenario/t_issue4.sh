#!/bin/sh
# Issue 4's "done when", as one disk: SYSTEM with TermService disabled, the Remote Desktop
# firewall rule inactive and every server TLS version off (hive/scenarios/issue4); SOFTWARE with
# an expired Remote Desktop certificate (made by OpenSSL through rp-mkcert, tests/lib/cert.sh);
# a local Registry.pol that denies RDP (tests/lib/pol.py).  scan --json finds a problem for each
# of rdp.access (naming Registry.pol), rdp.services, rdp.firewall, tls.schannel and cert.rdp;
# fix --yes repairs each at its source and leaves UserAuthentication 1; the five checks are
# healthy after; undo restores SYSTEM, SOFTWARE and Registry.pol byte for byte.
#
# The issue speaks of a Windows 10 disk.  ../shared holds no real Windows 10 SYSTEM hive, so the
# SYSTEM is the real Windows 7 SP1 one (as in every scenario, tests/lib/scenario.sh) with the
# Windows 10 Remote Desktop firewall rules (hive/healthy-rdp.reg; the Windows 7 rules are
# removed): an accepted, documented substitution.  Certificate validity is judged at --now
# 2024-06-01, so the test does not depend on the clock.  Every written value is read back with an
# independent reader: hivexget for the hives, pol.py for the Registry.pol; ntfsfix -n checks the
# volume.
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh
. tests/lib/cert.sh
NOW=2024-06-01
CHECKS=rdp.access,rdp.services,rdp.firewall,tls.schannel,cert.rdp
TSK='Software\Policies\Microsoft\Windows NT\Terminal Services'
RULES='ControlSet001\Services\SharedAccess\Parameters\FirewallPolicy\FirewallRules'
RULE=RemoteDesktop-UserMode-In-TCP
TLS12='ControlSet001\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Server'

# sys_get / soft_get KEY VALUE: a value of the image's hive as hivexget prints it.
sys_get() { "$TOOLS/rp-testfs" "$D" cat $SYS >"$T/g.hive" && hivexget "$T/g.hive" "$1" "$2"; }
soft_get() { "$TOOLS/rp-testfs" "$D" cat $SOFT >"$T/g.hive" && hivexget "$T/g.hive" "$1" "$2"; }
# pol_get KEY VALUE: the local Registry.pol's entry as pol.py reads it back.
pol_get() { "$TOOLS/rp-testfs" "$D" cat $LPOL >"$T/g.pol" && $POL get "$T/g.pol" "$1" "$2"; }

D=$T/issue4.img
tp=$(blob expired 2023-11-22 2024-05-23)
store_reg 'Remote Desktop' "$tp" "$T/expired.blob" >"$T/software-cert.reg"
check "build the disk (hive/scenarios/issue4, expired certificate, key file)" \
	cert_disk issue4 issue4 1 "$T/software-cert.reg"
$POL mk "$T/deny.pol" "$TSK|fDenyTSConnections|dword:1" "$TSK|KeepAliveEnable|dword:1"
check "put the local Registry.pol denying RDP" "$TOOLS/rp-testfs" "$D" put "$T/deny.pol" $LPOL
sys0=$(vol_sha "$D" $SYS) soft0=$(vol_sha "$D" $SOFT) pol0=$(vol_sha "$D" $LPOL)
rule0=$(hivexget "$T/h-issue4/SYSTEM" "$RULES" $RULE)

# --- scan ---
expect_exit 1 "scan --json exits 1" "$RP" scan "$D" --json --now $NOW
cp "$T/out" "$T/scan.json"
for c in rdp.access rdp.services rdp.firewall tls.schannel cert.rdp; do
	check "scan: a $c problem" $JQ "$T/scan.json" "len(F('$c','problem'))>=1"
done
check "scan: the rdp.access problem names Registry.pol" $JQ "$T/scan.json" \
	"any('Registry.pol' in f['summary'] and any(e['source']=='registry.pol' and e['path']=='$LPOL' and e['note'].startswith('effective') for e in f['evidence']) for f in F('rdp.access','problem'))"
check "scan: nothing else is a problem" $JQ "$T/scan.json" \
	"sorted(set(f['check'] for f in d['findings'] if f['status']=='problem'))==sorted('$CHECKS'.split(','))"
check "scan: every problem explains itself (0x904 or 'cannot connect')" $JQ "$T/scan.json" \
	"all(('0x904' in f['explain'] or 'cannot connect' in f['explain']) and 'fix' in f['explain'] for f in d['findings'] if f['status']=='problem')"

# --- fix ---
expect_exit 0 "fix --yes exits 0" "$RP" fix "$D" --yes --json --now $NOW
cp "$T/out" "$T/fix.json"
check "fix: the five checks are fixed, nothing is left" $JQ "$T/fix.json" \
	"all(len(F(c,'fixed'))>=1 for c in '$CHECKS'.split(',')) and not any(f['status'] in ('problem','not-fixed') for f in d['findings'])"
check "fix: rdp.access repaired at its source, the Registry.pol entry" $JQ "$T/fix.json" \
	"any(c['kind']=='pol-set' and c['path']=='$LPOL' and c['applied'] for f in F('rdp.access','fixed') for c in f['changes'])"
check "Registry.pol: fDenyTSConnections now 0 (pol.py)" test "$(pol_get "$TSK" fDenyTSConnections)" = "dword 0"
check "Registry.pol: the other entry kept" test "$(pol_get "$TSK" KeepAliveEnable)" = "dword 1"
check "SOFTWARE: the policy copy now 0 (hivexget)" \
	test "$(soft_get 'Policies\Microsoft\Windows NT\Terminal Services' fDenyTSConnections)" = 0
check "SYSTEM: UserAuthentication stays 1 (hivexget)" \
	test "$(sys_get 'ControlSet001\Control\Terminal Server\WinStations\RDP-Tcp' UserAuthentication)" = 1
check "SYSTEM: TermService Start 3" test "$(sys_get 'ControlSet001\Services\TermService' Start)" = 3
rule1=$(sys_get "$RULES" $RULE)
check "SYSTEM: the firewall rule is Active=TRUE" sh -c "echo '$rule1' | grep -q '|Active=TRUE|'"
check "SYSTEM: the rule string differs only in Active" \
	test "$(echo "$rule0" | sed 's/|Active=FALSE|/|Active=TRUE|/')" = "$rule1"
check "SYSTEM: TLS 1.2 Server Enabled 1" test "$(sys_get "$TLS12" Enabled)" = 1
check "SYSTEM: TLS 1.2 Server DisabledByDefault 0" test "$(sys_get "$TLS12" DisabledByDefault)" = 0
check "SOFTWARE: the expired certificate's key was there before" hivexget "$T/h-issue4/SOFTWARE" "$RD\\$tp" Blob
check "SOFTWARE: the expired certificate's key is gone" \
	sh -c "'$TOOLS/rp-testfs' '$D' cat $SOFT >'$T/c.hive' && hivexget '$T/c.hive' '$RD' >/dev/null && ! hivexget '$T/c.hive' '$RD\\$tp' >/dev/null 2>&1"
check "the volume passes ntfsfix -n" ntfs_check "$D" 2
expect_exit 0 "scan --check $CHECKS exits 0" "$RP" scan "$D" --check $CHECKS --now $NOW

# --- undo ---
expect_exit 0 "undo --yes" "$RP" undo "$D" --yes
check "undo restores SYSTEM byte for byte" test "$(vol_sha "$D" $SYS)" = "$sys0"
check "undo restores SOFTWARE byte for byte" test "$(vol_sha "$D" $SOFT)" = "$soft0"
check "undo restores Registry.pol byte for byte" test "$(vol_sha "$D" $LPOL)" = "$pol0"
expect_exit 1 "after undo the problems are back" "$RP" scan "$D" --check $CHECKS --now $NOW
check "the volume passes ntfsfix -n after undo" ntfs_check "$D" 2
finish
