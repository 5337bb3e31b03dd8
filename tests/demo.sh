#!/bin/sh
# make demo: builds a broken Windows disk image (no root), then scan, fix, scan.
# The disk is issue 4's (hive/scenarios/issue4, as in tests/scenario/t_issue4.sh): GPT, a data
# partition first, Windows on partition 2 with the real Windows 7 SP1 SYSTEM hive; TermService
# disabled, the Remote Desktop firewall rule inactive, every server TLS version off, an expired
# Remote Desktop certificate, and a local Registry.pol that denies RDP.  Five check families
# find a problem; one fix repairs them all; undo puts every byte back.
set -e
BUILD=${BUILD:-build}
export RP_KEEP=1
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh
. tests/lib/cert.sh
DEMO=$BUILD/demo
IMG=$DEMO/broken-windows.img
rm -rf "$DEMO" && mkdir -p "$DEMO/backups"
tp=$(blob expired 2023-11-22 2024-05-23)
store_reg 'Remote Desktop' "$tp" "$T/expired.blob" >"$T/software-cert.reg"
cert_disk issue4 issue4 1 "$T/software-cert.reg"
python3 tests/lib/pol.py mk "$T/deny.pol" \
	'Software\Policies\Microsoft\Windows NT\Terminal Services|fDenyTSConnections|dword:1'
"$TOOLS/rp-testfs" "$T/issue4.img" put "$T/deny.pol" Windows/System32/GroupPolicy/Machine/Registry.pol
mv "$T/issue4.img" "$IMG"
rm -rf "$T"
# Bold only on a terminal (and not with NO_COLOR), like rdprescue itself.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
else
	say() { printf '\n$ %s\n' "$*"; }
fi

say rdprescue list "$IMG"
"$RP" list "$IMG"
say rdprescue scan "$IMG"
"$RP" scan "$IMG" || echo "(exit $?: problems found)"
say rdprescue fix "$IMG" --yes --backup-dir "$DEMO/backups"
"$RP" fix "$IMG" --yes --backup-dir "$DEMO/backups"
say rdprescue scan "$IMG"
"$RP" scan "$IMG"
echo
echo "The disk is repaired. The backup is in $DEMO/backups and on the disk itself;"
echo "'$RP undo $IMG --yes' puts every byte back."
