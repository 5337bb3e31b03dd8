#!/bin/sh
# Many disks (issue 18, part 2): `scan|fix TARGET... [--jobs N]` over three disk images — one
# RDP turned off (fixable), one healthy, one truncated (broken beyond repair) — each report in
# one piece and equal to the single-target run's, the table and the JSON Lines counts, the worst
# exit code, the same disk named twice refused; then the Ansible playbook in contrib/ansible run
# against localhost over five images on three hosts: the fleet summary's counts, every disk's report, undo.
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh

A=$T/off.img B=$T/healthy.img C=$T/trunc.img
{ scenario_disk denied-local gpt "$A" && scenario_disk healthy gpt "$B" &&
	cp --sparse=always "$B" "$C" && truncate -s 60M "$C"; } >"$T/build.log" 2>&1
check "build the disks (RDP off, healthy, truncated)" test -s "$C"
NOW="--now 2026-01-01"

# --- scan, text: each report in one piece, in the order given, then the table ---
expect_exit 3 "scan of three targets exits with the worst (3: one unusable)" \
	"$RP" scan $NOW "$A" "$B" "$C" --jobs 3
cp "$T/out" "$T/scan3.txt"
check "each target's report, once and in order" sh -c "grep -n '^rdprescue scan ' '$T/out' | \
cut -d: -f2- >'$T/heads' && printf 'rdprescue scan %s\n' '$A' '$B' >'$T/want' && cmp '$T/heads' '$T/want'"
check "the unusable disk's reason is on stderr, named" grep -q "trunc.img: the image is truncated" "$T/err"
row() { grep -E "^$(echo "$1" | sed 's/[.]/[.]/g') +" "$T/scan3.txt" | tr -s ' '; }
check "table: RDP-off disk 0 fixed, 1 remaining, exit 1" test "$(row "$A")" = "$A WKS-WIN732BITA 0 1 - 1"
check "table: healthy disk exit 0" test "$(row "$B")" = "$B WKS-WIN732BITA 0 0 - 0"
check "table: truncated disk, no computer, exit 3" test "$(row "$C")" = "$C - 0 0 - 3"
check "last line: the fleet summary with its counts" sh -c "tail -n 1 '$T/scan3.txt' >'$T/last.json' && \
$JQ '$T/last.json' 'd[\"rdprescue\"] == \"fleet-summary\" and d[\"targets\"] == 3 and d[\"exit\"] == 3 \
and d[\"counts\"] == {\"ok\": 1, \"problems\": 1, \"usage\": 0, \"unusable\": 1, \"write_failed\": 0}'"
expect_exit 3 "--jobs 1 runs them one by one" "$RP" scan $NOW "$A" "$B" "$C" --jobs 1
check "--jobs 1 prints the same as --jobs 3" cmp "$T/out" "$T/scan3.txt"

# --- scan --json: JSON Lines, each document the single-target run's ---
expect_exit 3 "scan --json of three targets" "$RP" scan --json $NOW "$A" "$B" "$C"
cp "$T/out" "$T/scan3.jsonl"
check "four JSON lines: three rdprescue/1 documents in order, then rdprescue-fleet/1" python3 - "$T/scan3.jsonl" "$A" "$B" "$C" <<'EOF'
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1])]
assert len(docs) == 4, len(docs)
assert [d["schema"] for d in docs] == ["rdprescue/1"] * 3 + ["rdprescue-fleet/1"], docs
assert [d["target"] for d in docs[:3]] == sys.argv[2:5]
s = docs[3]
assert s["targets"] == 3 and s["exit"] == 3 and s["remaining"] == 1 and s["fixed"] == 0, s
assert s["counts"] == {"ok": 1, "problems": 1, "usage": 0, "unusable": 1, "write_failed": 0}, s
assert [r["exit"] for r in s["runs"]] == [1, 0, 3], s["runs"]
assert [r["computer"] for r in s["runs"]] == ["WKS-WIN732BITA", "WKS-WIN732BITA", None]
assert docs[2]["error"].startswith(sys.argv[4] + ": the image is truncated"), docs[2]
EOF
n=0
for img in "$A" "$B" "$C"; do
	n=$((n + 1))
	"$RP" scan --json $NOW "$img" >"$T/one.json" 2>/dev/null
	check "document $n is what 'scan --json $(basename "$img")' prints alone" \
		sh -c "sed -n ${n}p '$T/scan3.jsonl' | cmp - '$T/one.json'"
done
check "stderr: each target's summary line, then the fleet's" sh -c "grep -c '\"rdprescue\":\"summary\"' '$T/err' | \
grep -qx 3 && tail -n 1 '$T/err' | grep -q '\"rdprescue\":\"fleet-summary\"'"

# --- the same disk twice is refused before anything runs ---
ln "$A" "$T/same.img"
sum=$(sha256sum <"$A")
expect_exit 2 "the same file named twice (a hard link) is refused" "$RP" fix --yes "$A" "$B" "$T/same.img"
check "one line naming both" grep -q "$A and $T/same.img are the same disk: name each disk once" "$T/err"
check "nothing written" test "$(sha256sum <"$A")" = "$sum"
rm -f "$T/same.img"
# A loop device shows the image's bytes: the same disk.
L=$(losetup -f --show "$A") && trap 'losetup -d "$L"; [ "${RP_KEEP:-0}" = 1 ] || rm -rf "$T"' EXIT
check "loop device over the RDP-off image" test -b "$L"
expect_exit 2 "the image and a loop device over it are refused" "$RP" fix --yes "$A" "$B" "$L"
check "one line naming both" grep -q "$A and $L are the same disk: name each disk once" "$T/err"
check "nothing written through any of them" test "$(sha256sum <"$A")" = "$sum"
losetup -d "$L" && trap '[ "${RP_KEEP:-0}" = 1 ] || rm -rf "$T"' EXIT
expect_exit 2 "fix on several targets without --yes is refused" "$RP" fix "$A" "$B"
expect_exit 2 "--jobs 0 is a usage error" "$RP" scan --jobs 0 "$A" "$B"
expect_exit 1 "one target behaves as before: no table" "$RP" scan $NOW "$A" --jobs 4
check "one target: no fleet table or fleet summary" sh -c "! grep -q 'fleet-summary\|^TARGET ' '$T/out'"

# --- interrupted: every run started gets the signal, no other starts, every target reported ---
for i in $(seq 1 20); do cp --sparse=always "$B" "$T/s$i.img"; done
"$RP" scan $(for i in $(seq 1 20); do echo "$T/s$i.img"; done) --jobs 1 >"$T/out" 2>"$T/err" &
pid=$!
sleep 0.5
kill -TERM $pid
wait $pid
rc=$?
check "SIGTERM: exit 3 (a scan wrote nothing), not $rc" test "$rc" = 3
check "SIGTERM: all 20 targets in the table" test "$(grep -c "^$T/s[0-9]*[.]img " "$T/out")" = 20
check "SIGTERM: the targets not started say so" grep -q "s20.img: not run: rdprescue was interrupted" "$T/err"
check "SIGTERM: the fleet summary is still the last line" sh -c "tail -n 1 '$T/out' | grep -q '\"fleet-summary\"'"
rm -f "$T"/s*.img

# --- fix: the fixable disk fixed with its own backup, the broken one untouched ---
csum=$(sha256sum <"$C")
expect_exit 3 "fix --yes of three targets exits 3" "$RP" fix --yes "$A" "$B" "$C" --jobs 2
check "table: RDP-off disk 1 fixed, 0 remaining, a backup, exit 0" sh -c "grep -E '^$A +' '$T/out' | \
tr -s ' ' | grep -Eq '^$A WKS-WIN732BITA 1 0 rdprescue/backups/rdprescue-[^ ]*-fix[.]tar[.]zst 0$'"
check "the fixed disk scans healthy now" "$RP" scan "$A"
check "the truncated image is unchanged" test "$(sha256sum <"$C")" = "$csum"

# --- Ansible: the playbook against localhost over five images on three hosts ---
if ! command -v ansible-playbook >/dev/null; then
	fail "ansible-playbook" "not installed (Debian package ansible: make deps)"
	finish
fi
scenario_disk denied-local gpt "$T/host1-a.img" >/dev/null 2>&1 &&
	cp --sparse=always "$T/host1-a.img" "$T/host1-b.img" &&
	scenario_disk healthy gpt "$T/host2-a.img" >/dev/null 2>&1 &&
	cp --sparse=always "$T/host2-a.img" "$T/host2-b.img" && truncate -s 60M "$T/host2-b.img"
cp --sparse=always "$T/host1-a.img" "$T/host3-a.img"
check "five more disks for the playbook" test -s "$T/host2-b.img" -a -s "$T/host3-a.img"
# host3 names no disks: the role takes what `rdprescue list` finds.  Its binary is a wrapper
# whose bare `list` lists host3-a.img (the real list of this machine would find other tests' disks).
cat >"$T/rdprescue-host3" <<EOF
#!/bin/sh
[ "\$*" = list ] && exec '$RP' list '$T/host3-a.img'
exec '$RP' "\$@"
EOF
chmod +x "$T/rdprescue-host3"
# Three "rescue hosts", all this machine through the local connection.
cat >"$T/inventory.yml" <<EOF
rescue:
  hosts:
    host1:
      ansible_connection: local
      rdprescue_disks: ["$T/host1-a.img", "$T/host1-b.img"]
    host2:
      ansible_connection: local
      rdprescue_disks: ["$T/host2-a.img", "$T/host2-b.img"]
    host3:
      ansible_connection: local
      rdprescue_binary: $T/rdprescue-host3
  vars:
    ansible_python_interpreter: $(command -v python3)
    rdprescue_binary: $RP
    rdprescue_remote_dir: $T/remote/{{ inventory_hostname }}
    rdprescue_report_dir: $T/reports
EOF
play() {
	ANSIBLE_LOCAL_TEMP=$T/.ansible ANSIBLE_REMOTE_TEMP=$T/.ansible ANSIBLE_NOCOLOR=1 \
		ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_HOST_KEY_CHECKING=0 \
		ansible-playbook -i "$T/inventory.yml" contrib/ansible/rdprescue.yml "$@" \
		>"$T/play.out" 2>&1
}
# fleet_counts ACTION DISKS OK PROBLEMS UNUSABLE: the fleet summary of the last run says so.
fleet_counts() {
	python3 - "$T/reports/fleet-summary.json" "$@" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
want = dict(zip(["ok", "problems", "unusable"], map(int, sys.argv[4:7])))
assert s["schema"] == "rdprescue-fleet/1" and s["command"] == sys.argv[2], s
assert s["targets"] == int(sys.argv[3]) and not s["hosts_without_report"] and {k: s["counts"][k] for k in want} == want, s["counts"]
EOF
}
sums=$(sha256sum "$T"/host*.img)
hives=$(for d in "$T"/host[13]-*.img; do vol_sha "$d" $SYS; vol_sha "$d" $SOFT; done)
sha256sum "$T"/host2-*.img >"$T/sums2"
check "playbook action=scan runs on the three hosts" play -e action=scan
check "scan changed no disk" test "$(sha256sum "$T"/host*.img)" = "$sums"
check "scan: fleet summary counts 1 ok, 3 with problems, 1 unusable" fleet_counts scan 5 1 3 1
check "every disk has its JSON report on the controller" python3 - "$T/reports" "$T" <<'EOF'
import glob, json, os, sys
reports = sorted(glob.glob(os.path.join(sys.argv[1], "host*", "*.json")))
targets = sorted(json.load(open(p))["target"] for p in reports)
want = sorted(os.path.join(sys.argv[2], "host%d-%s.img" % (h, d)) for h in (1, 2) for d in "ab")
want = sorted(want + [os.path.join(sys.argv[2], "host3-a.img")])
assert targets == want, (targets, want)
EOF
check "the text table names every disk" sh -c "for d in host1-a host1-b host2-a host2-b host3-a; do \
grep -q \"\$d.img\" '$T/reports/fleet-summary.txt' || exit 1; done"
check "playbook action=fix" play -e action=fix
check "fix: 4 ok, 0 with problems, 1 unusable" fleet_counts fix 5 4 0 1
check "fix: the RDP-off disks scan healthy" sh -c "'$RP' scan '$T/host1-a.img' && '$RP' scan '$T/host1-b.img' && \
'$RP' scan '$T/host3-a.img'"
check "playbook action=undo" play -e action=undo
check "undo: the three fixed disks restored, nothing else run" fleet_counts undo 3 3 0 0
check "undo: their hives are byte for byte as before the fix" \
	test "$(for d in "$T"/host[13]-*.img; do vol_sha "$d" $SYS; vol_sha "$d" $SOFT; done)" = "$hives"
check "the healthy and the broken disk were never written" sh -c "sha256sum '$T'/host2-*.img | \
cmp - '$T/sums2'"
finish
