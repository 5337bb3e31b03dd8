#!/bin/sh
# Network path checks (issue 13): net.dhcp, fw.service, net.adapter, net.ip, net.filters on disk
# images built from the real Windows 7 SP1 SYSTEM hive (tests/lib/scenario.sh, hive/scenarios).
# For each broken scenario: scan finds the problem with its evidence, fix repairs it, a rescan is
# clean, undo restores SYSTEM byte for byte; every written value is read back with hivexget
# (independent of rdprescue), and the control set Windows does not boot is left alone.
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh
NET='net.dhcp,fw.service,net.adapter,net.ip,net.filters'
CS1='ControlSet001'
CS2='ControlSet002'

# sys_get IMG KEY VALUE: a value of the image's SYSTEM as hivexget prints it.
sys_get() { "$TOOLS/rp-testfs" "$1" cat $SYS >"$T/g.hive" && hivexget "$T/g.hive" "$2" "$3"; }
is() { [ "$1" = "$2" ]; }
# base_get KEY VALUE: the value in the unmodified real hive.
base_get() { hivexget "$T/base/SYSTEM" "$1" "$2"; }

# round_trip NAME CHECK [FIX OPTIONS...]: builds the MBR disk $T/NAME.img, scan finds CHECK's
# problem (scan JSON kept in $T/NAME.scan.json), fix repairs it (JSON in $T/NAME.fix.json),
# scan --check CHECK is clean after; the original SYSTEM's hash is left in $s0.
round_trip() {
	_name=$1 _check=$2
	shift 2
	I=$T/$_name.img
	check "$_name: build the disk" scenario_disk "$_name" mbr "$I"
	s0=$(vol_sha "$I" $SYS)
	expect_exit 1 "$_name: scan finds problems" "$RP" scan "$I" --json --check "$_check"
	cp "$T/out" "$T/$_name.scan.json"
	check "$_name: a $_check problem with evidence" $JQ "$T/out" \
		"len(F('$_check','problem'))>=1 and all(f['evidence'] for f in F('$_check','problem'))"
	expect_exit 0 "$_name: fix --yes" "$RP" fix "$I" --yes --json --check "$_check" "$@"
	cp "$T/out" "$T/$_name.fix.json"
	check "$_name: $_check reported fixed" $JQ "$T/out" \
		"len(F('$_check','fixed'))>=1 and not F('$_check','problem') and not F('$_check','not-fixed')"
	expect_exit 0 "$_name: rescan --check $_check clean" "$RP" scan "$I" --check "$_check" "$@"
}

undo_identical() {
	expect_exit 0 "$1: undo --yes" "$RP" undo "$I" --yes
	check "$1: undo restores SYSTEM byte for byte" test "$(vol_sha "$I" $SYS)" = "$s0"
}

# --- healthy: the real Windows 7 machine (no cloud agent, two static addresses, McAfee's NDIS
# filter) has no network problem ---
I=$T/healthy.img
check "healthy: build the GPT disk" scenario_disk healthy gpt "$I"
expect_exit 0 "healthy: scan exit 0" "$RP" scan "$I" --json
cp "$T/out" "$T/healthy.json"
for c in $(echo $NET | tr , ' '); do
	check "healthy: $c ok" $JQ "$T/healthy.json" "len(F('$c','ok'))>=1 and not F('$c','problem')"
done
rm -f "$I"

# --- net.dhcp ---
D=$CS1'\Services\Dhcp'
round_trip net-dhcp net.dhcp
check "net-dhcp: three problems (Start, ObjectName, Type)" $JQ "$T/net-dhcp.scan.json" \
	"len(F('net.dhcp','problem'))==3"
check "net-dhcp: the Start problem shows Start 4 as evidence" $JQ "$T/net-dhcp.scan.json" \
	"any(e['value']=='Start' and e['key'].startswith('ControlSet001') for f in F('net.dhcp','problem') for e in f['evidence'])"
check "net-dhcp: Start 2 (hivexget)" is "$(sys_get "$I" "$D" Start)" 2
check "net-dhcp: Start 2 is Windows' value (real hive)" is "$(base_get "$D" Start)" 2
check "net-dhcp: ObjectName restored (hivexget)" is "$(sys_get "$I" "$D" ObjectName)" "$(base_get "$D" ObjectName)"
check "net-dhcp: Type 32 (hivexget, as the real hive)" is "$(sys_get "$I" "$D" Type)" "$(base_get "$D" Type)"
check "net-dhcp: ControlSet002 left alone" is "$(sys_get "$I" $CS2'\Services\Dhcp' Start)" 3
undo_identical net-dhcp
expect_exit 1 "net-dhcp: the problem is back after undo" "$RP" scan "$I" --check net.dhcp
rm -f "$I"

# Select\Current = 2: the fix writes ControlSet002, never ControlSet001.
round_trip net-dhcp-cs2 net.dhcp
check "net-dhcp-cs2: the problem names ControlSet002" $JQ "$T/net-dhcp-cs2.scan.json" \
	"all(e['key'].startswith('ControlSet002') for f in F('net.dhcp','problem') for e in f['evidence'])"
check "net-dhcp-cs2: ControlSet002 Start 2" is "$(sys_get "$I" $CS2'\Services\Dhcp' Start)" 2
check "net-dhcp-cs2: ControlSet001 untouched" is "$(sys_get "$I" "$D" Start)" "$(base_get "$D" Start)"
undo_identical net-dhcp-cs2
rm -f "$I"

# --- fw.service ---
round_trip fw-service fw.service
check "fw-service: four problems" $JQ "$T/fw-service.scan.json" "len(F('fw.service','problem'))==4"
for s in MpsSvc BFE mpsdrv; do
	check "fw-service: $s Start as in the real hive (hivexget)" \
		is "$(sys_get "$I" "$CS1\\Services\\$s" Start)" "$(base_get "$CS1\\Services\\$s" Start)"
done
check "fw-service: DebugedLoopbackApps is REG_SZ" sh -c \
	"'$TOOLS/rp-testfs' '$I' cat $SYS >'$T/f.hive' && hivexsh '$T/f.hive' <<'X' | grep -qx '\"DebugedLoopbackApps\"=\"\"'
cd $CS1\\Services\\mpssvc\\Parameters\\AppCs
lsval
X"
check "fw-service: the firewall policy is untouched" $JQ "$T/fw-service.fix.json" \
	"not any('FirewallPolicy' in (c.get('key') or '') for f in d['findings'] for c in f['changes'])"
undo_identical fw-service
rm -f "$I"

# --- net.adapter ---
EN=$CS1'\Enum\PCI\VEN_8086&DEV_100F&SUBSYS_075015AD&REV_01\4&B70F118&0&0888'
round_trip net-adapter net.adapter
check "net-adapter: the disabled device and the disabled driver (E1G60) found" $JQ \
	"$T/net-adapter.scan.json" \
	"len(F('net.adapter','problem'))==2 and sum('Device Manager' in f['summary'] for f in F('net.adapter','problem'))==1 and sum('E1G60' in f['summary'] for f in F('net.adapter','problem'))==1"
check "net-adapter: the evidence names the adapter (DriverDesc)" $JQ "$T/net-adapter.scan.json" \
	"all(any(e['value']=='DriverDesc' for e in f['evidence']) for f in F('net.adapter','problem'))"
check "net-adapter: ConfigFlags 0x400, the other bit kept (hivexget)" is "$(sys_get "$I" "$EN" ConfigFlags)" 1024
check "net-adapter: E1G60 Start 3 as in the real hive (hivexget)" \
	is "$(sys_get "$I" $CS1'\Services\E1G60' Start)" "$(base_get $CS1'\Services\E1G60' Start)"
undo_identical net-adapter
rm -f "$I"

finish
