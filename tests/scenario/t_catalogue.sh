#!/bin/sh
# Catalogue scenarios (issue 4): rdp.services, rdp.firewall, tls.schannel, tls.credssp on disk
# images built from the real Windows 7 SYSTEM hive.  For each broken scenario: scan finds it,
# fix repairs it, the check is healthy after, undo restores SYSTEM and SOFTWARE byte for byte;
# the values written are read back with hivexget (independent of rdprescue).  Changes that lower
# security (TLS 1.0, firewall Block/IPsec rules, firewall off) happen only with
# --allow-weaker-security.
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh
CCS='ControlSet001'
FW="$CCS\\Services\\SharedAccess\\Parameters\\FirewallPolicy"
PROTO="$CCS\\Control\\SecurityProviders\\SCHANNEL\\Protocols"

# sys_get IMG KEY VALUE / soft_get IMG KEY VALUE: a value as hivexget prints it
sys_get() { "$TOOLS/rp-testfs" "$1" cat $SYS >"$T/g.hive" && hivexget "$T/g.hive" "$2" "$3"; }
soft_get() { "$TOOLS/rp-testfs" "$1" cat $SOFT >"$T/g.hive" && hivexget "$T/g.hive" "$2" "$3"; }
is() { [ "$1" = "$2" ]; }

# round_trip NAME CHECK: scan finds CHECK, fix repairs, scan --check is healthy, then leaves the
# fixed image in $T/NAME.img and the originals' hashes in $s0 / $w0.
round_trip() {
	I=$T/$1.img
	check "$1: build MBR disk" scenario_disk "$1" mbr "$I"
	s0=$(vol_sha "$I" $SYS) w0=$(vol_sha "$I" $SOFT)
	expect_exit 1 "$1: scan --json finds problems" "$RP" scan "$I" --json
	check "$1: $2 problem in the JSON" $JQ "$T/out" "len(F('$2','problem'))>=1 and d['exit']==1"
	cp "$T/out" "$T/$1.scan.json"
	expect_exit 0 "$1: fix --yes" "$RP" fix "$I" --yes --json
	check "$1: $2 reported fixed" $JQ "$T/out" "len(F('$2','fixed'))>=1 and not F('$2','problem') and not F('$2','not-fixed')"
	expect_exit 0 "$1: scan --check $2 healthy after fix" "$RP" scan "$I" --check "$2"
	expect_exit 0 "$1: full scan healthy after fix" "$RP" scan "$I"
}

undo_identical() {
	expect_exit 0 "$1: undo --yes" "$RP" undo "$I" --yes
	check "$1: undo restores SYSTEM and SOFTWARE byte for byte" \
		test "$(vol_sha "$I" $SYS)$(vol_sha "$I" $SOFT)" = "$s0$w0"
}

# --- healthy: none of the new checks has a problem ---
I=$T/healthy.img
check "healthy: build GPT disk" scenario_disk healthy gpt "$I"
expect_exit 0 "healthy: scan exit 0" "$RP" scan "$I" --json
for c in rdp.services rdp.firewall tls.schannel tls.credssp; do
	check "healthy: $c ok" $JQ "$T/out" "len(F('$c','ok'))>=1 and not F('$c','problem')"
done
rm -f "$I"

# --- rdp.services ---
round_trip services-disabled rdp.services
check "services: TermService, SessionEnv, KeyIso, ObjectName, Type are five problems" $JQ \
	"$T/services-disabled.scan.json" "len(F('rdp.services','problem'))==5"
check "services: TermService's Type 0x110 (interactive) is named with its fix" $JQ \
	"$T/services-disabled.scan.json" "any('Type is 272' in f['summary'] and any(c['value']=='Type' for c in f['changes']) for f in F('rdp.services','problem'))"
check "services: TermService Start 3" is "$(sys_get "$I" "$CCS\\Services\\TermService" Start)" 3
check "services: SessionEnv Start 3" is "$(sys_get "$I" "$CCS\\Services\\SessionEnv" Start)" 3
check "services: KeyIso Start 3" is "$(sys_get "$I" "$CCS\\Services\\KeyIso" Start)" 3
check "services: ObjectName NetworkService (REG_SZ)" is \
	"$(sys_get "$I" "$CCS\\Services\\TermService" ObjectName)" 'NT Authority\NetworkService'
check "services: TermService Type 16 (own process)" is "$(sys_get "$I" "$CCS\\Services\\TermService" Type)" 16
check "services: CryptSvc untouched (2)" is "$(sys_get "$I" "$CCS\\Services\\CryptSvc" Start)" 2
undo_identical services-disabled
rm -f "$I"

# --- rdp.firewall: inactive rule + DoNotAllowExceptions by policy ---
round_trip firewall-rule-inactive rdp.firewall
check "firewall: policy evidence for DoNotAllowExceptions" $JQ "$T/firewall-rule-inactive.scan.json" \
	"any(e['source']=='policy' and e['value']=='DoNotAllowExceptions' for f in F('rdp.firewall','problem') for e in f['evidence'])"
old=$(hivexget "$T/hives-firewall-rule-inactive/SYSTEM" "$FW\\FirewallRules" 'RemoteDesktop-In-TCP_1')
new=$(sys_get "$I" "$FW\\FirewallRules" 'RemoteDesktop-In-TCP_1')
check "firewall: rule now Active=TRUE" sh -c "echo '$new' | grep -q '|Active=TRUE|'"
check "firewall: rule string differs only in Active" is "$(echo "$old" | sed 's/|Active=FALSE|/|Active=TRUE|/')" "$new"
check "firewall: DoNotAllowExceptions policy value set to 0 (the same as absent)" is "$(soft_get "$I" 'Policies\Microsoft\WindowsFirewall\PublicProfile' DoNotAllowExceptions)" 0
check "firewall: firewall stays on (EnableFirewall 1)" is "$(sys_get "$I" "$FW\\PublicProfile" EnableFirewall)" 1
undo_identical firewall-rule-inactive
rm -f "$I"

# --- rdp.firewall: Block rule (policy) and IPsec requirement: only with the flag ---
I=$T/blocked.img
check "blocked: build MBR disk" scenario_disk firewall-blocked mbr "$I"
s0=$(vol_sha "$I" $SYS) w0=$(vol_sha "$I" $SOFT)
expect_exit 1 "blocked: scan finds the Block and IPsec rules" "$RP" scan "$I" --json --check rdp.firewall
check "blocked: two problems, no change planned" $JQ "$T/out" \
	"len(F('rdp.firewall','problem'))==2 and all(not f.get('changes') for f in F('rdp.firewall','problem'))"
expect_exit 1 "blocked: fix without the flag leaves them (not fixed)" "$RP" fix "$I" --yes --json
check "blocked: reported not-fixed" $JQ "$T/out" "len(F('rdp.firewall','not-fixed'))==2"
check "blocked: nothing written" test "$(vol_sha "$I" $SYS)$(vol_sha "$I" $SOFT)" = "$s0$w0"
expect_exit 0 "blocked: fix --allow-weaker-security" "$RP" fix "$I" --yes --allow-weaker-security --json
check "blocked: weakened security reported" $JQ "$T/out" \
	"any(f.get('weakened_security') for f in F('rdp.firewall'))"
check "blocked: Block rule now inactive" sh -c "'$TOOLS/rp-testfs' '$I' cat $SOFT >'$T/b.hive' && hivexget '$T/b.hive' 'Policies\\Microsoft\\WindowsFirewall\\FirewallRules' '{0b7c9e1a-5d2f-4c3b-8a6e-9f1d2c3b4a5e}' | grep -q '^v2.10|Action=Block|Active=FALSE|Dir=In|'"
check "blocked: IPsec rule now inactive" sh -c "'$TOOLS/rp-testfs' '$I' cat $SYS >'$T/b.hive' && hivexget '$T/b.hive' '$FW\\ConSecRules' '{6d1b0a3c-2f4e-4b7a-9c58-1e0f2a3b4c5d}' | grep -q '^v2.10|Action=SecureServer|Active=FALSE|Protocol=6|'"
expect_exit 0 "blocked: healthy after" "$RP" scan "$I" --check rdp.firewall
undo_identical blocked
rm -f "$I"

# --- rdp.firewall: RDP port moved, no rule for it: warning; firewall off only with the flag ---
I=$T/moved.img
check "moved: build MBR disk" scenario_disk firewall-port-moved mbr "$I"
s0=$(vol_sha "$I" $SYS) w0=$(vol_sha "$I" $SOFT)
expect_exit 1 "moved: scan" "$RP" scan "$I" --json --check rdp.firewall
check "moved: warning names the moved port" $JQ "$T/out" \
	"any(f['severity']=='warning' and '50001' in f['summary'] for f in F('rdp.firewall','problem'))"
expect_exit 1 "moved: fix without the flag cannot repair" "$RP" fix "$I" --yes
check "moved: nothing written" test "$(vol_sha "$I" $SYS)$(vol_sha "$I" $SOFT)" = "$s0$w0"
expect_exit 0 "moved: fix --allow-weaker-security turns the firewall off" "$RP" fix "$I" --yes --allow-weaker-security --json
check "moved: weakened security reported" $JQ "$T/out" "any(f.get('weakened_security') for f in F('rdp.firewall'))"
for p in DomainProfile StandardProfile PublicProfile; do
	check "moved: $p EnableFirewall 0" is "$(sys_get "$I" "$FW\\$p" EnableFirewall)" 0
done
expect_exit 0 "moved: scan after" "$RP" scan "$I" --check rdp.firewall --json
check "moved: firewall-off is reported as info" $JQ "$T/out" "len(F('rdp.firewall','ok'))>=3 and not F('rdp.firewall','problem')"
undo_identical moved
rm -f "$I"

# --- tls.schannel: every TLS version off ---
round_trip tls-all-disabled tls.schannel
check "tls: TLS 1.2 Server Enabled 1" is "$(sys_get "$I" "$PROTO\\TLS 1.2\\Server" Enabled)" 1
check "tls: TLS 1.2 Server DisabledByDefault 0" is "$(sys_get "$I" "$PROTO\\TLS 1.2\\Server" DisabledByDefault)" 0
check "tls: TLS 1.0 stays off" is "$(sys_get "$I" "$PROTO\\TLS 1.0\\Server" Enabled)" 0
check "tls: TLS 1.1 stays off" is "$(sys_get "$I" "$PROTO\\TLS 1.1\\Server" Enabled)" 0
undo_identical tls-all-disabled
expect_exit 0 "tls: fix --allow-weaker-security" "$RP" fix "$I" --yes --allow-weaker-security --json
check "tls: weakened security reported" $JQ "$T/out" "any(f.get('weakened_security') for f in F('tls.schannel'))"
check "tls: with the flag TLS 1.0 is on again" is "$(sys_get "$I" "$PROTO\\TLS 1.0\\Server" Enabled)" 1
check "tls: and TLS 1.2 too" is "$(sys_get "$I" "$PROTO\\TLS 1.2\\Server" Enabled)" 1
undo_identical tls-all-disabled
rm -f "$I"

# --- tls.schannel: empty cipher-suite policy ---
round_trip cipher-suites-empty tls.schannel
check "ciphers: Functions deleted" sh -c "'$TOOLS/rp-testfs' '$I' cat $SOFT >'$T/c.hive' && ! hivexget '$T/c.hive' 'Policies\\Microsoft\\Cryptography\\Configuration\\SSL\\00010002' Functions >/dev/null 2>&1"
check "ciphers: the policy key itself stays" sh -c "hivexsh '$T/c.hive' <<'EOF' | grep -q 00010002
cd Policies\\Microsoft\\Cryptography\\Configuration\\SSL
ls
EOF"
undo_identical cipher-suites-empty
rm -f "$I"

# --- tls.credssp ---
round_trip credssp tls.credssp
check "credssp: out-of-range value deleted, never 2" sh -c "'$TOOLS/rp-testfs' '$I' cat $SOFT >'$T/k.hive' && ! hivexget '$T/k.hive' 'Microsoft\\Windows\\CurrentVersion\\Policies\\System\\CredSSP\\Parameters' AllowEncryptionOracle >/dev/null 2>&1"
undo_identical credssp
rm -f "$I"
M=$T/vuln
mkdir -p "$M/Windows/System32/config"
scenario_hives credssp-vulnerable "$M/Windows/System32/config"
expect_exit 0 "credssp 2: scan exit 0 (a security warning, not an RDP fault)" "$RP" scan "$M" --json --check tls.credssp
check "credssp 2: warning with the CVE" $JQ "$T/out" \
	"any(f['severity']=='warning' and 'CVE-2018-0886' in f['explain'] for f in F('tls.credssp','ok'))"
cp "$M/Windows/System32/config/SOFTWARE" "$T/vuln-soft"
expect_exit 0 "credssp 2: fix writes nothing" "$RP" fix "$M" --yes --allow-weaker-security
check "credssp 2: SOFTWARE unchanged" cmp "$M/Windows/System32/config/SOFTWARE" "$T/vuln-soft"
finish
