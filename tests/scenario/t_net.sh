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
# net_disk NAME IMG: the MBR disk of hive/scenarios/NAME, copied from one blank disk made once.
net_disk() {
	[ -f "$T/blank.img" ] || mkdisk "$T/blank.img" mbr 96 || return 1
	cp --sparse=always "$T/blank.img" "$2" && scenario_hives "$1" "$T/hives-$1" &&
		put_windows "$2" "$T/hives-$1"
}
# base_get KEY VALUE: the value in the unmodified real hive.
base_hives "$T/base" || fail "base hives" "cannot build $T/base"
base_get() { hivexget "$T/base/SYSTEM" "$1" "$2"; }

# round_trip NAME CHECK [FIX OPTIONS...]: builds the MBR disk $T/NAME.img (kept when it exists), scan finds CHECK's
# problem (scan JSON kept in $T/NAME.scan.json), fix repairs it (JSON in $T/NAME.fix.json),
# scan --check CHECK is clean after; the original SYSTEM's hash is left in $s0.
round_trip() {
	_name=$1 _check=$2
	shift 2
	I=$T/$_name.img
	[ -f "$I" ] || check "$_name: build the disk" net_disk "$_name" "$I"
	s0=$(vol_sha "$I" $SYS)
	expect_exit 1 "$_name: scan finds problems" "$RP" scan "$I" --json --check "$_check"
	cp "$T/out" "$T/$_name.scan.json"
	check "$_name: a $_check problem with evidence" $JQ "$T/out" \
		"len(F('$_check','problem'))>=1 and all(f['evidence'] for f in F('$_check','problem'))"
	expect_exit 0 "$_name: fix --yes" "$RP" fix "$I" --yes --json --check "$_check" "$@"
	cp "$T/out" "$T/$_name.fix.json"
	check "$_name: $_check reported fixed" $JQ "$T/out" \
		"len(F('$_check','fixed'))>=1 and not F('$_check','problem') and not F('$_check','not-fixed')"
	expect_exit 0 "$_name: rescan --check $_check clean" "$RP" scan "$I" --check "$_check"
}

undo_identical() {
	expect_exit 0 "$1: undo --yes" "$RP" undo "$I" --yes
	check "$1: undo restores SYSTEM byte for byte" test "$(vol_sha "$I" $SYS)" = "$s0"
}

# --- healthy: the real Windows 7 machine (no cloud agent, two static addresses, McAfee's NDIS
# filter) has no network problem ---
I=$T/healthy.img
check "healthy: build the disk" net_disk healthy "$I"
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

# --- net.ip ---
IF=$CS1'\Services\Tcpip\Parameters\Interfaces'
IFA="$IF\{698E50A9-4F58-4D86-B61D-F42E58DCACF6}"
IFB="$IF\{6AAFC9A9-0542-4DB2-8760-CCFFA953737C}"
ROUTES=$CS1'\Services\Tcpip\Parameters\PersistentRoutes'
check "healthy: net.ip reports both static addresses as warnings, plans nothing" $JQ "$T/healthy.json" \
	"len([f for f in F('net.ip','ok') if f['severity']=='warning' and 'static' in f['summary']])==2 and not any(f['changes'] for f in F('net.ip'))"
check "healthy: the static interface names its adapter and connection" $JQ "$T/healthy.json" \
	"any('10.3.58.5' in f['summary'] and 'Local Area Connection 2' in f['summary'] and 'Intel(R) PRO/1000' in f['summary'] for f in F('net.ip','ok'))"
round_trip net-ip-azure net.ip
check "net-ip-azure: both static interfaces are problems naming Azure" $JQ "$T/net-ip-azure.scan.json" \
	"len(F('net.ip','problem'))==2 and all('Azure' in f['explain'] for f in F('net.ip','problem'))"
check "net-ip-azure: the old address is kept in the report" $JQ "$T/net-ip-azure.fix.json" \
	"any('10.3.58.5' in c['what'] for f in F('net.ip','fixed') for c in f['changes']) and any(e['value']=='IPAddress' and e['present'] for f in F('net.ip','fixed') for e in f['evidence'])"
for k in "$IFA" "$IFB"; do
	check "net-ip-azure: EnableDHCP 1 (hivexget) ${k##*\\}" is "$(sys_get "$I" "$k" EnableDHCP)" 1
	check "net-ip-azure: IPAddress removed ${k##*\\}" sh -c "! hivexget '$T/g.hive' '$k' IPAddress"
	check "net-ip-azure: DefaultGateway removed ${k##*\\}" sh -c "! hivexget '$T/g.hive' '$k' DefaultGateway"
	check "net-ip-azure: NameServer empty ${k##*\\}" is "$(hivexget "$T/g.hive" "$k" NameServer)" ""
	check "net-ip-azure: other values kept ${k##*\\}" is "$(hivexget "$T/g.hive" "$k" EnableDeadGWDetect)" 1
done
check "net-ip-azure: both persistent default routes through the old gateways removed" sh -c \
	"! hivexget '$T/g.hive' '$ROUTES' '0.0.0.0,0.0.0.0,10.3.58.1,-1' && ! hivexget '$T/g.hive' '$ROUTES' '0.0.0.0,0.0.0.0,192.168.1.1,-1'"
check "net-ip-azure: they were there before (real hive)" base_get "$ROUTES" '0.0.0.0,0.0.0.0,10.3.58.1,-1'
check "net-ip-azure: ControlSet002 keeps its static address" is "$(sys_get "$I" "$CS2\\Services\\Tcpip\\Parameters\\Interfaces\\{698E50A9-4F58-4D86-B61D-F42E58DCACF6}" EnableDHCP)" 0
check "net-ip-azure: the volume passes ntfsfix -n after the fix" ntfs_check "$I" 2
undo_identical net-ip-azure
check "net-ip-azure: the volume passes ntfsfix -n after undo" ntfs_check "$I" 2
rm -f "$I"

round_trip net-ip-aws net.ip
check "net-ip-aws: only the static interface is a problem (AWS)" $JQ "$T/net-ip-aws.scan.json" \
	"len(F('net.ip','problem'))==1 and 'AWS' in F('net.ip','problem')[0]['explain'] and '10.3.58.5' in F('net.ip','problem')[0]['summary']"
check "net-ip-aws: the static interface's route removed, the other interface's kept" sh -c \
	"'$TOOLS/rp-testfs' '$I' cat $SYS >'$T/g.hive' && ! hivexget '$T/g.hive' '$ROUTES' '0.0.0.0,0.0.0.0,10.3.58.1,-1' && hivexget '$T/g.hive' '$ROUTES' '0.0.0.0,0.0.0.0,192.168.1.1,-1'"
undo_identical net-ip-aws
rm -f "$I"

# No cloud agent: a static address changes only with --reset-ip.
I=$T/reset.img
check "reset-ip: build the healthy disk" net_disk healthy "$I"
s0=$(vol_sha "$I" $SYS)
expect_exit 2 "reset-ip: --reset-ip is an option of fix, not of scan" "$RP" scan "$I" --reset-ip
expect_exit 2 "reset-ip: --reset-ip needs net.ip in --check" "$RP" fix "$I" --yes --check net.dhcp --reset-ip
expect_exit 0 "reset-ip: fix without --reset-ip changes nothing" "$RP" fix "$I" --yes --check net.ip
check "reset-ip: SYSTEM unchanged without --reset-ip" test "$(vol_sha "$I" $SYS)" = "$s0"
expect_exit 1 "reset-ip: fix --dry-run --reset-ip plans the switch" "$RP" fix "$I" --dry-run --json --check net.ip --reset-ip
check "reset-ip: two warnings planned, with EnableDHCP 1" $JQ "$T/out" \
	"len([f for f in F('net.ip','problem') if f['severity']=='warning' and any(c['value']=='EnableDHCP' for c in f['changes'])])==2"
expect_exit 0 "reset-ip: fix --yes --reset-ip" "$RP" fix "$I" --yes --json --check net.ip --reset-ip
check "reset-ip: both interfaces fixed" $JQ "$T/out" "len(F('net.ip','fixed'))==2 and not F('net.ip','not-fixed')"
expect_exit 0 "reset-ip: rescan clean" "$RP" scan "$I" --check net.ip
check "reset-ip: EnableDHCP 1 (hivexget)" is "$(sys_get "$I" "$IFA" EnableDHCP)" 1
undo_identical reset-ip
rm -f "$I"

# --- net.filters ---
# Driver files made by tests/lib/mkpe.py, their CompanyName read back with pefile (an
# independent PE reader, python3-pefile) before rdprescue reads it.
pe_company() { /usr/bin/python3 -c "
import pefile, sys
p = pefile.PE(sys.argv[1])
print([e for fi in p.FileInfo[0] if fi.Key == b'StringFileInfo' for st in fi.StringTable for k, e in st.entries.items() if k == b'CompanyName'][0].decode())" "$1"; }
MKPE="python3 tests/lib/mkpe.py"
I=$T/net-filters.img
check "net-filters: build the disk" net_disk net-filters "$I"
$MKPE "$T/contosolwf.sys" "CompanyName=Contoso Security Ltd." "FileDescription=Contoso Network Shield"
$MKPE "$T/contosouf.sys" "FileDescription=Contoso upper filter" "CompanyName=Contoso Security Ltd."
$MKPE "$T/tcpip.sys" "CompanyName=Microsoft Corporation" "FileDescription=TCP/IP Driver"
check "net-filters: pefile reads the test driver's CompanyName" is "$(pe_company "$T/contosolwf.sys")" "Contoso Security Ltd."
check "net-filters: pefile reads the Microsoft driver's CompanyName" is "$(pe_company "$T/tcpip.sys")" "Microsoft Corporation"
for f in contosolwf contosouf tcpip; do
	check "net-filters: put $f.sys" "$TOOLS/rp-testfs" "$I" put "$T/$f.sys" "Windows/System32/drivers/$f.sys"
done
s0=$(vol_sha "$I" $SYS)
expect_exit 0 "net-filters: scan exit 0 (report only)" "$RP" scan "$I" --json --check net.filters
cp "$T/out" "$T/filters.json"
check "net-filters: ContosoLwf reported with the PE's vendor, its role and date" $JQ "$T/filters.json" \
	"any('ContosoLwf' in f['summary'] and 'Contoso Security Ltd.' in f['summary'] and 'NDIS lightweight filter' in f['summary'] and 'kernel driver of group NDIS' in f['summary'] and 'start system (1)' in f['summary'] and ' UTC' in f['summary'] for f in F('net.filters','ok'))"
check "net-filters: the driver file is evidence with its CompanyName" $JQ "$T/filters.json" \
	"any(e['source']=='file' and e['path'].lower()=='windows/system32/drivers/contosolwf.sys' and 'Contoso Security Ltd.' in e['note'] for f in F('net.filters') for e in f['evidence'])"
check "net-filters: the class upper filter ContosoUf is reported" $JQ "$T/filters.json" \
	"any('ContosoUf' in f['summary'] and 'network class upper filter' in f['summary'] and 'Contoso Security' in f['summary'] for f in F('net.filters','ok'))"
check "net-filters: a filter without its file is reported from its ComponentId" $JQ "$T/filters.json" \
	"any('ContosoMand' in f['summary'] and 'driver file not found' in f['summary'] for f in F('net.filters','ok'))"
check "net-filters: tcpip (Microsoft Corporation) is not reported" $JQ "$T/filters.json" \
	"not any('Tcpip ' in f['summary'] or 'tcpip ' in f['summary'] for f in F('net.filters'))"
mt=$(hivexml "$T/base/SYSTEM" 2>/dev/null | grep -o '<node name="mfenlfk"><mtime>[^<]*' | head -1 | sed 's/.*<mtime>//; s/T/ /; s/:[0-9]*Z$/ UTC/')
check "net-filters: mfenlfk's date is its key's last-write time as hivexml reads it ($mt)" $JQ "$T/filters.json" \
	"len('$mt')>10 and any('mfenlfk' in f['summary'] and 'last written $mt' in f['summary'] for f in F('net.filters'))"
check "net-filters: McAfee's filter of the real hive is a warning" $JQ "$T/filters.json" \
	"any('mfenlfk' in f['summary'] and f['severity']=='warning' for f in F('net.filters','ok'))"
expect_exit 2 "net-filters: --disable-driver is an option of fix" "$RP" scan "$I" --disable-driver ContosoLwf
expect_exit 2 "net-filters: --disable-driver of an unknown driver is refused" "$RP" fix "$I" --yes --disable-driver NoSuchDriver
check "net-filters: the refusal is one line naming net.filters" grep -q "^rdprescue: --disable-driver NoSuchDriver: .*net.filters" "$T/err"
expect_exit 2 "net-filters: --disable-driver needs net.filters in --check" "$RP" fix "$I" --yes --check net.ip --disable-driver ContosoLwf
expect_exit 2 "net-filters: --disable-driver of a Microsoft driver is refused" "$RP" fix "$I" --yes --disable-driver tcpip
expect_exit 1 "net-filters: a mandatory filter is not disabled" "$RP" fix "$I" --yes --json --check net.filters --disable-driver ContosoMand
check "net-filters: the mandatory filter is not-fixed, with the reason" $JQ "$T/out" \
	"any('ContosoMand' in f['summary'] and 'mandatory' in f['explain'] for f in F('net.filters','not-fixed'))"
check "net-filters: nothing written by the refusals" test "$(vol_sha "$I" $SYS)" = "$s0"
expect_exit 0 "net-filters: fix --disable-driver ContosoLwf" "$RP" fix "$I" --yes --json --check net.filters --disable-driver contosolwf
check "net-filters: fixed, marked as weakening security, saying what is lost" $JQ "$T/out" \
	"len(F('net.filters','fixed'))==1 and F('net.filters','fixed')[0].get('weakened_security') and 'less protected' in F('net.filters','fixed')[0]['explain']"
check "net-filters: ContosoLwf Start 4 (hivexget)" is "$(sys_get "$I" $CS1'\Services\ContosoLwf' Start)" 4
check "net-filters: ContosoUf untouched" is "$(hivexget "$T/g.hive" $CS1'\Services\ContosoUf' Start)" 3
check "net-filters: McAfee untouched" is "$(hivexget "$T/g.hive" $CS1'\Services\mfenlfk' Start)" 1
expect_exit 0 "net-filters: rescan clean" "$RP" scan "$I" --json --check net.filters
check "net-filters: rescan shows it disabled" $JQ "$T/out" \
	"any('ContosoLwf' in f['summary'] and 'start disabled (4)' in f['summary'] for f in F('net.filters','ok'))"
undo_identical net-filters
rm -f "$I"

finish
