#!/bin/sh
# make demo: builds a broken Windows disk image (no root), then scan, fix, scan, undo.
# The disk: GPT, a data partition first, Windows on partition 2, the real Windows 7 SP1
# SYSTEM hive with RDP denied locally and by Group Policy (hive/scenarios/denied-by-policy).
set -e
BUILD=${BUILD:-build}
export RP_KEEP=1
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh
DEMO=$BUILD/demo
rm -rf "$DEMO" && mkdir -p "$DEMO/backups"
scenario_disk denied-by-policy gpt "$DEMO/broken-windows.img"
rm -rf "$T"
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

say rdprescue list "$DEMO/broken-windows.img"
"$RP" list "$DEMO/broken-windows.img"
say rdprescue scan "$DEMO/broken-windows.img"
"$RP" scan "$DEMO/broken-windows.img" || echo "(exit $?: problems found)"
say rdprescue fix "$DEMO/broken-windows.img" --yes --backup-dir "$DEMO/backups"
"$RP" fix "$DEMO/broken-windows.img" --yes --backup-dir "$DEMO/backups"
say rdprescue scan "$DEMO/broken-windows.img"
"$RP" scan "$DEMO/broken-windows.img"
echo
echo "The disk is repaired. The backup is in $DEMO/backups and on the disk itself;"
echo "'$RP undo $DEMO/broken-windows.img --yes' puts every byte back."
