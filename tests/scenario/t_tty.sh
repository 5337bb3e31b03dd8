#!/bin/sh
# t_tty.sh — the text report on a terminal and off it, driven through tmux (a real pty of a
# known size): on a 100-column terminal lines use the width and stay within it, the status
# tags are in colour, NO_COLOR turns colour off; through a pipe or into a file the report is
# 80 columns wide and holds no escape code or carriage return; the progress line of a long
# MachineKeys walk and the status line of fix and undo (registry read, backup and writes,
# re-scan) show on a terminal (and are erased at the end) and never in a file.
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh

if ! command -v tmux >/dev/null 2>&1; then
	fail "tmux" "not installed (make deps installs it)"
	finish
fi
SOCK=rpt$$
tmx() { tmux -L "$SOCK" -f /dev/null "$@"; }
trap 'tmx kill-server 2>/dev/null; rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCK"; rm -rf "$T"' EXIT
ESC=$(printf '\033')
CR=$(printf '\r')

# run_tty NAME COLS 'CMD': runs CMD in a COLS x 50 terminal, waits for it, leaves the whole
# screen and scrollback as plain text in $T/NAME.txt, with attributes in $T/NAME.esc and the raw
# byte stream the program wrote in $T/NAME.raw.
run_tty() {
	_n=$1 _cols=$2 _cmd=$3
	tmx new-session -d -s "$_n" -x "$_cols" -y 50 \
		"read go; $_cmd; echo \"EXIT \$?\"; sleep 600"
	tmx set-option -t "$_n" history-limit 5000 >/dev/null
	tmx pipe-pane -t "$_n" -o "cat >'$T/$_n.raw'"
	tmx send-keys -t "$_n" Enter
	_i=0
	while [ $_i -lt 300 ]; do
		tmx capture-pane -p -J -t "$_n" -S - -E - >"$T/$_n.txt"
		grep -q '^EXIT [0-9]' "$T/$_n.txt" && break
		sleep 0.1
		_i=$((_i + 1))
	done
	tmx capture-pane -p -e -t "$_n" -S - -E - >"$T/$_n.esc"
	tmx kill-session -t "$_n"
}
maxlen() { grep -v '^{"rdprescue":"summary"' "$1" | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }'; }

DEMO_BUILD=$T/demo-build
BUILD=$DEMO_BUILD RP=$RP TOOLS=$TOOLS RP_SHARED=$SHARED sh tests/demo.sh >"$T/demo.out" 2>&1
D=$DEMO_BUILD/demo/broken-windows.img
"$RP" undo "$D" --yes >/dev/null 2>&1
check "demo disk with its problems" sh -c "'$RP' scan '$D' >/dev/null 2>&1; [ \$? = 1 ]"

# --- on a 100-column terminal ---
run_tty wide 100 "TERM=xterm-256color '$RP' scan '$D'"
check "terminal: the scan ran (exit 1)" grep -q '^EXIT 1$' "$T/wide.txt"
m=$(maxlen "$T/wide.txt")
check "terminal: lines use the 100 columns and stay within them (longest $m)" \
	sh -c "[ $m -gt 80 ] && [ $m -le 100 ]"
check "terminal: PROBLEM in red" grep -q "${ESC}\[31mPROBLEM" "$T/wide.esc"
check "terminal: ok in green" grep -q "${ESC}\[32m  ok" "$T/wide.esc"

run_tty nocolour 100 "NO_COLOR=1 TERM=xterm-256color '$RP' scan '$D'"
check "NO_COLOR: the scan ran" grep -q '^EXIT 1$' "$T/nocolour.txt"
check "NO_COLOR: no colour" sh -c "! grep -q '${ESC}\[3[0-7]m' '$T/nocolour.esc' && ! grep -q '${ESC}\[3[0-7]m' '$T/nocolour.raw'"

run_tty dumb 100 "TERM=dumb '$RP' scan '$D'"
check "TERM=dumb: no colour" sh -c "! grep -q '${ESC}\[3[0-7]m' '$T/dumb.raw'"

run_tty narrow 60 "TERM=xterm-256color '$RP' help scan"
m=$(maxlen "$T/narrow.txt")
check "help on a 60-column terminal stays within 60 (longest $m)" sh -c "[ $m -le 60 ] && [ $m -gt 40 ]"

# --- through a pipe, on the same terminal, and into a file ---
run_tty piped 100 "TERM=xterm-256color '$RP' scan '$D' 2>&1 | cat"
m=$(maxlen "$T/piped.txt")
check "pipe: 80 columns (longest $m)" sh -c "[ $m -le 80 ] && [ $m -gt 60 ]"
check "pipe: no escape code reaches the pipe" sh -c "! grep -q '$ESC' '$T/piped.raw'"
TERM=xterm-256color "$RP" scan "$D" >"$T/file.out" 2>&1
check "file: no escape code, no carriage return" sh -c "! grep -q '[$ESC$CR]' '$T/file.out'"
m=$(maxlen "$T/file.out")
check "file: 80 columns (longest $m)" sh -c "[ $m -le 80 ] && [ $m -gt 60 ]"

# --- status of a fix and an undo: shown on a terminal, erased, never in a file ---
cp --sparse=always "$D" "$T/fixme.img"
run_tty fixing 100 "TERM=xterm-256color '$RP' fix '$T/fixme.img' --yes"
check "fix on a terminal: repaired (exit 0)" grep -q '^EXIT 0$' "$T/fixing.txt"
check "fix on a terminal: a status line while the registry is read, the backup written, the disk re-scanned" \
	sh -c "grep -q 'rdprescue: reading the registry\.\.\.' '$T/fixing.raw' &&
	       grep -q 'rdprescue: writing the backup, then the repairs\.\.\.' '$T/fixing.raw' &&
	       grep -q 'rdprescue: scanning what the disk now holds\.\.\.' '$T/fixing.raw'"
check "fix on a terminal: the status line is erased" sh -c "! grep -q 'rdprescue: .*\.\.\.' '$T/fixing.txt'"
run_tty undoing 100 "TERM=xterm-256color '$RP' undo '$T/fixme.img' --yes"
check "undo on a terminal: status shown, then erased" sh -c \
	"grep -q 'rdprescue: backing up the current state, then restoring\.\.\.' '$T/undoing.raw' &&
	 ! grep -q 'rdprescue: .*\.\.\.' '$T/undoing.txt' && grep -q '^EXIT 0$' '$T/undoing.txt'"
"$RP" fix "$T/fixme.img" --yes >"$T/fix.out" 2>"$T/fix.err"
check "fix into a file: no status line, no escape code" sh -c \
	"! grep -q '\.\.\.\|[$ESC$CR]' '$T/fix.err' && ! grep -q '[$ESC$CR]' '$T/fix.out' && [ ! -s '$T/fix.err' ]"
rm -f "$T/fixme.img"

# --- progress: a MachineKeys folder of 2500 key files ---
K=$T/keys.img
MK=ProgramData/Microsoft/Crypto/RSA/MachineKeys
mkdisk_bare "$K" 64 >/dev/null 2>&1 && scenario_hives healthy "$T/hives" && put_windows "$K" "$T/hives" &&
	"$TOOLS/rp-testfs" "$K" mkdir "$MK" && "$TOOLS/rp-testfs" "$K" manykeys "$MK" 2500 0 >/dev/null 2>&1 ||
	fail "MachineKeys disk" "not built"
run_tty progress 100 "TERM=xterm-256color '$RP' scan '$K' --check keys.contents"
check "progress: the scan ran" grep -q '^EXIT [01]$' "$T/progress.txt"
check "progress: shown on the terminal while the walk runs" \
	grep -q "rdprescue: keys.contents: 2000 files" "$T/progress.raw"
check "progress: erased at the end" sh -c "! grep -q 'keys.contents: [0-9]* files' '$T/progress.txt'"
"$RP" scan "$K" --check keys.contents >"$T/kfile.out" 2>"$T/kfile.err"
check "progress: never in a file" sh -c "! grep -q ' files$CR\|[$ESC$CR]' '$T/kfile.err' '$T/kfile.out'"
finish
