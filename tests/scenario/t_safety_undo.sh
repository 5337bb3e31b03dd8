#!/bin/sh
# Undo is a history (issue 12).  On hive/scenarios/issue4 (three SYSTEM problems), two fixes of
# one check each make two backups of SYSTEM.  Then:
#   - `backups TARGET [--json]` lists both, newest first: id, time, command, the checks whose
#     changes each holds (rdp.services, then tls.schannel), files, where;
#   - `undo --dry-run` names the backup it would restore and writes nothing;
#   - `undo` restores the newest (SYSTEM as after the first fix), run again the older one
#     (SYSTEM byte for byte as before any fix), a third time says there is nothing left;
#   - `undo --backup ID` of the older backup while the newer fix is in place restores it without
#     "Windows has probably run since" (rdprescue wrote that state), but a change made by
#     another writer (hivexregedit) is still refused without --force.
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh

D=$T/disk.img
check "build the disk (hive/scenarios/issue4, GPT)" scenario_disk issue4 gpt "$D"
cp --sparse=always "$D" "$T/pristine.img"
sys0=$(vol_sha "$D" $SYS)

# ids FILE: the backup ids of a `backups --json` document, newest first, one per line.
ids() {
	python3 -c "import json,sys; [print(b['id']) for b in json.load(open(sys.argv[1]))['backups']]" "$1"
}

expect_exit 0 "fix rdp.services only" "$RP" fix "$D" --yes --check rdp.services
sys1=$(vol_sha "$D" $SYS)
expect_exit 0 "fix tls.schannel only" "$RP" fix "$D" --yes --check tls.schannel
sys2=$(vol_sha "$D" $SYS)
check "the two fixes each changed SYSTEM" sh -c "[ '$sys0' != '$sys1' ] && [ '$sys1' != '$sys2' ]"

expect_exit 0 "backups: text" "$RP" backups "$D"
check "backups: two fix backups of SYSTEM, on the volume, summary last" sh -c \
	"[ \$(grep -c '  fix  ' '$T/out') = 2 ] && [ \$(grep -c 'replace    Windows/System32/config/SYSTEM' '$T/out') = 2 ] && \
grep -q 'on the volume: .rdprescue.backups.rdprescue-' '$T/out' && tail -n1 '$T/out' | grep -q '\"command\":\"backups\"'"
check "backups: each fix names its check, newest first" sh -c \
	"[ \"\$(grep '^    checks: ' '$T/out' | tr '\n' '|')\" = '    checks: tls.schannel|    checks: rdp.services|' ]"
expect_exit 0 "backups: --json" "$RP" backups "$D" --json
cp "$T/out" "$T/backups.json"
check "backups --json: two fix backups, newest first, with time, files and where" python3 -c "
import json
d = json.load(open('$T/backups.json'))
b = d['backups']
assert d['schema'] == 'rdprescue-backups/1' and d['error'] is None and len(b) == 2, d
assert b[0]['id'] > b[1]['id'] and all(x['command'] == 'fix' for x in b)
assert all(x['time'].endswith('Z') and x['volume'].startswith('rdprescue/backups/rdprescue-') for x in b)
assert all({'path': 'Windows/System32/config/SYSTEM', 'action': 'replace'} in x['files'] for x in b)
assert not any(x['undone'] for x in b)
assert [x['checks'] for x in b] == [['tls.schannel'], ['rdp.services']], [x['checks'] for x in b]
"
NEW=$(ids "$T/backups.json" | head -n1)
OLD=$(ids "$T/backups.json" | tail -n1)

s=$(sha256sum <"$D")
expect_exit 0 "undo --dry-run" "$RP" undo "$D" --dry-run
check "undo --dry-run: names the newest backup" grep_text "note: would restore backup $NEW (fix of " "$T/out"
check "undo --dry-run: names the file it would restore" grep_text "would restore: Windows/System32/config/SYSTEM" "$T/out"
check "undo --dry-run: image unchanged" test "$(sha256sum <"$D")" = "$s"

expect_exit 0 "undo 1" "$RP" undo "$D" --yes --json
check "undo 1: restores the newest backup and says so" $JQ "$T/out" \
	"d['restored_backup']['id']=='$NEW' and any('restores backup $NEW' in n for n in d['notes'])"
check "undo 1: SYSTEM is as after the first fix" test "$(vol_sha "$D" $SYS)" = "$sys1"
expect_exit 0 "undo 2: walks further back" "$RP" undo "$D" --yes
check "undo 2: names the older backup" grep_text "note: restores backup $OLD (fix of " "$T/out"
check "undo 2: SYSTEM is byte for byte as before any fix" test "$(vol_sha "$D" $SYS)" = "$sys0"
expect_exit 0 "undo 3" "$RP" undo "$D" --yes
check "undo 3: nothing left, says so" grep_text "note: nothing to undo: every file is as it was before the first of the 2 rdprescue backups on this volume ($OLD)" "$T/out"
check "undo 3: SYSTEM unchanged" test "$(vol_sha "$D" $SYS)" = "$sys0"
expect_exit 0 "backups after the undos" "$RP" backups "$D" --json
check "backups: both fixes undone, the undos' safety backups listed (no checks: undo runs none)" $JQ "$T/out" \
	"[b['undone'] for b in d['backups'] if b['command']=='fix']==[True,True] and [b['checks'] for b in d['backups'] if b['command']=='undo']==[None,None]"

# --- undo --backup ID of the older backup while the newer fix is in place ---
D=$T/skip.img
cp --sparse=always "$T/pristine.img" "$D"
"$RP" fix "$D" --yes --check rdp.services >/dev/null
"$RP" fix "$D" --yes --check tls.schannel >/dev/null
"$RP" backups "$D" --json >"$T/b2.json" 2>/dev/null
OLD=$(ids "$T/b2.json" | tail -n1)
expect_exit 0 "undo --backup OLD over the newer fix" "$RP" undo "$D" --yes --backup "$OLD"
check "undo --backup OLD: no 'Windows has probably run since' for rdprescue's own state" \
	sh -c "! grep -q 'Windows has probably run' '$T/err' && grep -q 'restores backup $OLD' '$T/out'"
check "undo --backup OLD: SYSTEM byte for byte as before any fix" test "$(vol_sha "$D" $SYS)" = "$sys0"

# --- another writer changed SYSTEM after the fix: still refused without --force ---
D=$T/foreign.img
cp --sparse=always "$T/pristine.img" "$D"
"$RP" fix "$D" --yes --check rdp.services >/dev/null
"$TOOLS/rp-testfs" "$D" cat $SYS >"$T/SYSTEM"
printf 'Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\Setup]\n"WrittenByWindows"=dword:00000001\n' >"$T/w.reg"
hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' "$T/SYSTEM" "$T/w.reg"
"$TOOLS/rp-testfs" "$D" put "$T/SYSTEM" $SYS
s=$(sha256sum <"$D")
expect_exit 1 "another writer's change: undo refuses" "$RP" undo "$D" --yes
check "another writer's change: says why and what to do" grep -q 'changed after the backup was made (Windows has probably run since).*add --force' "$T/err"
check "another writer's change: image unchanged" test "$(sha256sum <"$D")" = "$s"
finish
