#!/bin/sh
# Event logs (issue 15): `rdprescue events` and the citations in `scan`.
#  - the real logs of ../shared/evtx, compared record by record with evtxexport (libevtx-utils);
#  - the damaged-chunk log, and a log whose middle chunk has a broken signature: read past it;
#  - logs written by tests/tools/rp-mkevtx (checked with evtxexport before use) holding the
#    failure events the real logs lack: Schannel 36870 after a MachineKeys ACL break, SCM
#    7000/7023 for TermService, an RDP failure no check explains.
# Logs are put on bare NTFS images through rdprescue's own volume layer (rp-testfs).
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh
FS="$TOOLS/rp-testfs"
MKEV="$TOOLS/rp-mkevtx"
LOGS=Windows/System32/winevt/Logs
RCM='Microsoft-Windows-TerminalServices-RemoteConnectionManager%4Operational.evtx'
CORE='Microsoft-Windows-RemoteDesktopServices-RdpCoreTS%4Operational.evtx'
MK=ProgramData/Microsoft/Crypto/RSA/MachineKeys

# put_log IMG FILE NAME: copies FILE to the image's event log folder as NAME.
put_log() { "$FS" "$1" mkdir $LOGS && "$FS" "$1" put "$2" "$LOGS/$3"; }
# mkevtx OUT [options] < events, then evtxexport must read back every record.
mkevtx() {
	_out=$1; shift
	cat >"$T/ev.in" && "$MKEV" "$_out" "$@" <"$T/ev.in" &&
		evtxexport "$_out" >"$T/ev.export" 2>&1 &&
		test "$(grep -c '^Event number' "$T/ev.export")" = "$(grep -vc '^#' "$T/ev.in")"
}

check "build base disk (healthy hives)" scenario_disk healthy bare "$T/base.img"
check "build services-disabled disk" scenario_disk services-disabled bare "$T/svc.img"

# --- the real logs: the same records as evtxexport ---
mkdir -p "$T/real"
for f in System.evtx "$RCM" "$CORE" bad-chunk-magic.evtx; do
	xz -dc "$SHARED/evtx/real/$f.xz" >"$T/real/$f" || fail "unpack $f" "xz failed"
done
D=$T/real.img
cp --sparse=always "$T/base.img" "$D"
check "put the real System log" put_log "$D" "$T/real/System.evtx" System.evtx
check "put the real RemoteConnectionManager log" put_log "$D" "$T/real/$RCM" "$RCM"
check "put the real RdpCoreTS log" put_log "$D" "$T/real/$CORE" "$CORE"
check "put the damaged-chunk log as Application.evtx" put_log "$D" "$T/real/bad-chunk-magic.evtx" Application.evtx
expect_exit 0 "events --all --json on the real logs" "$RP" events "$D" --all --json
cp "$T/out" "$T/real.json"
for pair in "System:System.evtx" "RemoteConnectionManager:$RCM" "RdpCoreTS:$CORE"; do
	name=${pair%%:*} file=${pair#*:}
	evtxexport "$T/real/$file" >"$T/$name.export" 2>/dev/null
	check "$name: same records as evtxexport (id, time, provider, strings)" \
		python3 tests/lib/evtxcmp.py "$T/$name.export" "$T/real.json" "$name"
done
evtxexport "$T/real/bad-chunk-magic.evtx" >"$T/bad.export" 2>/dev/null
nbad=$(grep -c '^Event number' "$T/bad.export")
check "damaged-chunk log: as many records as evtxexport ($nbad), damaged chunks counted" $JQ "$T/real.json" \
	"[l for l in d['logs'] if l['name']=='Application'][0]['records']==$nbad and [l for l in d['logs'] if l['name']=='Application'][0]['bad_chunks']>=1"
check "damaged-chunk log: records after the damaged chunk are read (evtxexport lists 47639)" \
	grep -q 'Event number.*: 47639$' "$T/bad.export"
check "7023 with %%1058 in words" $JQ "$T/real.json" \
	"any(e['id']==7023 and e['strings'][1]=='%%1058' and 'disabled' in e['strings_in_words'][1] for e in d['events'])"
check "7040 says who changed the start type" $JQ "$T/real.json" \
	"any(e['id']==7040 and '(by ' in e['text'] for e in d['events'])"
check "boots separated by Kernel-General 12" $JQ "$T/real.json" \
	"any(e['boot_start'] and e['id']==12 for e in d['events'])"
expect_exit 0 "events (last boot) as text" "$RP" events "$D"
check "text timeline names the logs and a boot" sh -c "grep -q '^=== boot ' '$T/out' && grep -q 'RdpCoreTS' '$T/out'"
if [ "${SANITIZE:-0}" != 1 ] && command -v strace >/dev/null 2>&1; then
	check "events (libevtx) opens no shared object, converter or locale file" sh -c \
		"strace -f -e trace=open,openat -o '$T/trace' '$RP' events '$D' --all >/dev/null 2>&1 &&
		 ! grep -E '[.]so|gconv|locale' '$T/trace'"
fi

# --- a chunk with a broken signature in the middle of a log: read past it ---
check "rp-mkevtx: 3 chunks, the middle one's signature broken; evtxexport reads the others" sh -c "
for i in 1 2 3 4 5 6; do echo \"2026-03-02T04:1\$i:00Z|Service Control Manager|7023|2|System|WIN-T|TermService|%%1058\"; done |
	'$MKEV' '$T/badmid.evtx' --per-chunk 2 --bad-magic 1 &&
	test \"\$(evtxexport '$T/badmid.evtx' 2>/dev/null | grep -c '^Event number')\" = 4"
D=$T/badmid.img
cp --sparse=always "$T/base.img" "$D"
check "put it as System.evtx" put_log "$D" "$T/badmid.evtx" System.evtx
expect_exit 0 "events --all --json" "$RP" events "$D" --all --json
check "records 1, 2, 5, 6 read; the damaged chunk counted" $JQ "$T/out" \
	"sorted(e['record'] for e in d['events'] if e['log']=='System')==[1,2,5,6] and d['logs'][0]['bad_chunks']==1"

# --- 36870 after a MachineKeys ACL break: keys.acl cites it ---
D=$T/keys.img
cp --sparse=always "$T/base.img" "$D"
{
	echo "2026-03-02T03:00:00Z|Microsoft-Windows-Kernel-General|12|4|System|WIN-T|10|0|19041|1|0|0|2026-03-02T03:00:00.000000000Z"
	for m in 00 01 02 03 04 05 06 07 08 09 10 11; do
		echo "2026-03-02T04:$m:00Z|Schannel|36870|1|System|WIN-T|0x8009030d"
	done
	echo "2026-03-02T04:11:30Z|Schannel|36870|1|System|WIN-T|0x8009030d"
	echo "2026-03-02T04:12:00Z|Schannel|36870|1|System|WIN-T|0x8009030d"
} >"$T/keys.in"
check "rp-mkevtx System.evtx with 14 x Schannel 36870 (evtxexport reads them)" sh -c "'$MKEV' '$T/keys.evtx' <'$T/keys.in' && test \"\$(evtxexport '$T/keys.evtx' 2>/dev/null | grep -c '(36870)\$')\" = 14"
check "MachineKeys folder without its Everyone entry" sh -c \
	"'$FS' '$D' mkdir $MK && '$FS' '$D' setsddl $MK 'O:SYG:SYD:PAI(A;;FA;;;BA)'"
check "put System.evtx" put_log "$D" "$T/keys.evtx" System.evtx
expect_exit 1 "scan --json" "$RP" scan "$D" --json
cp "$T/out" "$T/keys.json"
check "keys.acl finding cites Schannel 36870, 14 times, last 2026-03-02 04:12" $JQ "$T/keys.json" \
	"any(c['event']=='Schannel 36870' and c['count']==14 and c['last'].startswith('2026-03-02T04:12') for f in F('keys.acl','problem') for c in f['events'])"
check "36870 is explained: no events.unexplained problem" $JQ "$T/keys.json" \
	"not F('events.unexplained','problem') and F('events.unexplained','ok')"
expect_exit 1 "scan (text)" "$RP" scan "$D"
check "text: 'Windows logged this: Schannel 36870, 14 times, last 2026-03-02 04:12'" \
	grep -qF "Windows logged this: Schannel 36870, 14 times, last 2026-03-02 04:12" "$T/out"
expect_exit 0 "fix --yes: the cited problem is fixed, the old 36870 is not a new problem" \
	"$RP" fix "$D" --yes --json
check "keys.acl fixed, events.unexplained not a problem" $JQ "$T/out" \
	"F('keys.acl','fixed') and not F('events.unexplained','problem') and not F('events.unexplained','not-fixed')"

# --- SCM 7000/7023 for TermService: rdp.services cites them ---
D=$T/svc-ev.img
cp --sparse=always "$T/svc.img" "$D"
check "rp-mkevtx System.evtx with SCM 7000 and 7023 for TermService (evtxexport reads them)" mkevtx "$T/svc.evtx" <<'EOF'
2026-03-02T03:00:00Z|Microsoft-Windows-Kernel-General|12|4|System|WIN-T|10|0|19041|1|0|0|2026-03-02T03:00:00.000000000Z
2026-03-02T03:00:10Z|Service Control Manager|7000|2|System|WIN-T|Remote Desktop Services|%%1058
2026-03-02T03:05:00Z|Service Control Manager|7023|2|System|WIN-T|TermService|%%1058
EOF
check "put System.evtx" put_log "$D" "$T/svc.evtx" System.evtx
expect_exit 1 "scan --json" "$RP" scan "$D" --json
cp "$T/out" "$T/svc.json"
check "rdp.services cites SCM 7000 for Remote Desktop Services" $JQ "$T/svc.json" \
	"any(c['event']=='Service Control Manager 7000 (Remote Desktop Services)' and c['count']==1 for f in F('rdp.services','problem') for c in f['events'])"
check "rdp.services cites SCM 7023 for TermService, %%1058 in words" $JQ "$T/svc.json" \
	"any(c['event']=='Service Control Manager 7023 (TermService)' and 'disabled' in c['text'] for f in F('rdp.services','problem') for c in f['events'])"
check "no events.unexplained problem" $JQ "$T/svc.json" "not F('events.unexplained','problem')"

# --- only an RDP failure no check explains: events.unexplained ---
D=$T/unexp.img
cp --sparse=always "$T/base.img" "$D"
check "rp-mkevtx System.evtx: an old failure, a boot, a driver, then Schannel 36871 (evtxexport reads them)" mkevtx "$T/unexp.evtx" <<'EOF'
2026-02-20T10:00:00Z|Microsoft-Windows-Kernel-General|12|4|System|WIN-T|10|0|19041|1|0|0|2026-02-20T10:00:00.000000000Z
2026-02-20T11:00:00Z|Schannel|36874|2|System|WIN-T
2026-02-21T09:00:00Z|Microsoft-Windows-Kernel-General|13|4|System|WIN-T|10|0|19041|1|0|0|2026-02-21T09:00:00.000000000Z
2026-03-02T02:30:00Z|Service Control Manager|7045|4|System|WIN-T|Acme NetFilter|C:\Windows\system32\drivers\acmenf.sys|kernel mode driver|boot start|
2026-03-02T03:00:00Z|Microsoft-Windows-Kernel-General|12|4|System|WIN-T|10|0|19041|1|0|0|2026-03-02T03:00:00.000000000Z
2026-03-02T03:01:00Z|Schannel|36871|1|System|WIN-T|0x8009030e
EOF
check "put System.evtx" put_log "$D" "$T/unexp.evtx" System.evtx
expect_exit 1 "scan --json" "$RP" scan "$D" --json
cp "$T/out" "$T/unexp.json"
check "events.unexplained names Schannel 36871" $JQ "$T/unexp.json" \
	"len(F('events.unexplained','problem'))==1 and F('events.unexplained','problem')[0]['events'][0]['event']=='Schannel 36871'"
check "the failure before the last boot (36874) is not reported" $JQ "$T/unexp.json" \
	"not any('36874' in f['summary'] for f in F('events.unexplained'))"
check "the driver installed before the outage is named" $JQ "$T/unexp.json" \
	"any('Acme NetFilter' in f['summary'] and f['severity']=='warning' for f in F('events.unexplained','ok'))"
check "the other checks found nothing" $JQ "$T/unexp.json" \
	"[f['check'] for f in d['findings'] if f['status']=='problem']==['events.unexplained']"
cp --sparse=always "$D" "$T/unexp-fix.img"
expect_exit 1 "fix --yes: nothing rdprescue can change" "$RP" fix "$T/unexp-fix.img" --yes --json
check "events.unexplained stays (not-fixed), nothing written" $JQ "$T/out" \
	"len(F('events.unexplained','not-fixed'))==1 and not F('events.unexplained','fixed')"
expect_exit 0 "events (default: the last boot)" "$RP" events "$D" --json
check "last boot only: 36871 shown, 36874 not" $JQ "$T/out" \
	"d['period']=='last-boot' and any(e['id']==36871 for e in d['events']) and not any(e['id']==36874 for e in d['events'])"
expect_exit 0 "events --since 2026-02-01" "$RP" events "$D" --since 2026-02-01 --json
check "--since: both failures shown" $JQ "$T/out" \
	"any(e['id']==36874 for e in d['events']) and any(e['id']==36871 and e['rdp_failure'] for e in d['events'])"

# --- no logs at all: skipped, not a problem ---
expect_exit 0 "scan of a disk without event logs" "$RP" scan "$T/base.img" --json
check "events.unexplained skipped" $JQ "$T/out" "len(F('events.unexplained','skipped'))==1"

# --- usage ---
expect_exit 2 "events without TARGET" "$RP" events
expect_exit 2 "events --since nonsense" "$RP" events "$T/base.img" --since yesterday
check "one-line message" grep -q '^rdprescue: --since takes last-boot' "$T/err"
expect_exit 2 "events --all --since" "$RP" events "$T/base.img" --all --since 2026-01-01
finish
