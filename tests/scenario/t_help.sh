#!/bin/sh
# t_help.sh — help an admin can read on an 80-column console: every command's --help, -h and
# `rdprescue help CMD` (the same text, exit 0, no line over 80 columns, options, examples, exit
# codes, every option its cmd_*.c parses); --check ids: a misspelt one gets "did you mean",
# case does not matter, globs select a family, each check runs once; `scan --brief` of the
# demo disk: one line per check and the summary, under 4 KiB.
. tests/lib/assert.sh
. tests/lib/scenario.sh

width_ok() { awk 'length($0) > 80 { bad = 1 } END { exit bad }' "$1"; }

for h in --help -h help; do
	expect_exit 0 "rdprescue $h" "$RP" $h
	check "rdprescue $h: lines <= 80 columns" width_ok "$T/out"
done
cmds=$("$RP" --help | awk '/^Checks:/ { exit } /^  [a-z]+  / { print $1 }')
check "the usage lists the commands" sh -c "[ \$(echo '$cmds' | wc -w) -ge 6 ]"
for c in $cmds; do
	expect_exit 0 "$c --help" "$RP" "$c" --help
	cp "$T/out" "$T/help-$c"
	check "$c --help: lines <= 80 columns" width_ok "$T/out"
	check "$c --help: usage, options, examples, exit status" sh -c \
		"grep -q '^usage: rdprescue $c' '$T/out' && grep -q '^Options:' '$T/out' &&
		 grep -q '^Examples:' '$T/out' && grep -q '^Exit status:' '$T/out' &&
		 grep -q '^  0 ' '$T/out' && grep -q '^  2  usage' '$T/out'"
	expect_exit 0 "$c -h" "$RP" "$c" -h
	check "$c -h is --help" cmp -s "$T/out" "$T/help-$c"
	expect_exit 0 "help $c" "$RP" help "$c"
	check "help $c is --help" cmp -s "$T/out" "$T/help-$c"
	# -h after other arguments too (a TARGET that does not exist is not opened)
	expect_exit 0 "$c /nonexistent -h" "$RP" "$c" /nonexistent -h
done
expect_exit 2 "help of an unknown command" "$RP" help nosuch
check "help of an unknown command: one line naming it" sh -c \
	"[ \$(wc -l <'$T/err') = 1 ] && grep -q \"^rdprescue: no command 'nosuch'\" '$T/err'"

# Every long option a command's getopt table (or hive's hand parser) knows has its line.
for f in src/cli/cmd_*.c; do
	c=$(basename "$f" .c | sed 's/^cmd_//')
	[ -f "$T/help-$c" ] || continue
	helps="$T/help-$c"
	[ "$c" = scan ] && helps="$T/help-scan $T/help-fix" # one parser, two commands
	for o in $(grep -o '{"[a-z][a-z-]*", *\(no\|required\|optional\)_argument' "$f" | cut -d'"' -f2) \
		$(grep -o 'strcmp(argv\[i\], "--[a-z-]*")' "$f" | cut -d'"' -f2 | sed 's/^--//'); do
		# shellcheck disable=SC2086
		grep -q -- "^  \(-h, \)\?--$o\b" $helps || fail "$c --help describes --$o" "no line for it"
	done
done
ok "options parsed by src/cli/cmd_*.c checked against their help"

# --- check ids ---
expect_exit 2 "misspelt check id" "$RP" scan /nonexistent --check rdp.acess
check "misspelt check id: did you mean rdp.access?" grep -q "unknown check 'rdp.acess': did you mean rdp.access?" "$T/err"
expect_exit 2 "misspelt check id in a list" "$RP" scan /nonexistent --check rdp.access,kyes.acl
check "misspelt id in a list: did you mean keys.acl?" grep -q "did you mean keys.acl?" "$T/err"
expect_exit 2 "unrelated check id" "$RP" scan /nonexistent --check zzzzzzzzzz
check "unrelated id: no suggestion, where the list is" sh -c \
	"! grep -q 'did you mean' '$T/err' && grep -q \"'rdprescue --help' lists the checks\" '$T/err'"
expect_exit 2 "glob matching nothing" "$RP" scan /nonexistent --check 'nope.*'

# The demo disk (tests/demo.sh builds it, scans, fixes; undo brings the problems back).
DEMO_BUILD=$T/demo-build
BUILD=$DEMO_BUILD RP=$RP TOOLS=$TOOLS RP_SHARED=$SHARED sh tests/demo.sh >"$T/demo.out" 2>&1
D=$DEMO_BUILD/demo/broken-windows.img
check "demo disk built" test -s "$D"
expect_exit 0 "undo on the demo disk brings its problems back" "$RP" undo "$D" --yes

# checks_are FILE ID... : the report's findings come from exactly these checks
checks_are() {
	_f=$1; shift
	$JQ "$_f" "sorted(set(f['check'] for f in d['findings'])) == sorted('$*'.split())"
}
expect_exit 1 "--check RDP.ACCESS (upper case)" "$RP" scan "$D" --check RDP.ACCESS --json
check "upper-case id runs rdp.access" checks_are "$T/out" rdp.access
expect_exit 0 "--check 'keys.*'" "$RP" scan "$D" --check 'keys.*' --json
check "'keys.*' runs the three keys checks" checks_are "$T/out" keys.acl keys.rdp keys.contents
expect_exit 1 "--check 'rdp.*'" "$RP" scan "$D" --check 'rdp.*' --json
cp "$T/out" "$T/rdp-glob.json"
check "'rdp.*' runs every rdp. check and nothing else" checks_are "$T/out" \
	$("$RP" --help | awk '/^Checks:/ { f = 1; next } f && /^  rdp\./ { print $1 }')
expect_exit 1 "--check 'rdp.*,RDP.Access' (overlapping)" "$RP" scan "$D" --check 'rdp.*,RDP.Access' --json
check "a check named twice runs once" $JQ "$T/out" \
	"len(d['findings']) == $($JQ "$T/rdp-glob.json" 'print(len(d["findings"])) or True')"

# --- --brief ---
nchecks=$("$RP" --help | awk '/^Checks:/ { f = 1; next } f && /^  [a-z]/' | wc -l)
expect_exit 1 "scan --brief of the demo disk" "$RP" scan "$D" --brief
cp "$T/out" "$T/brief"
check "scan --brief: under 4 KiB ($(wc -c <"$T/brief") bytes)" sh -c "[ \$(wc -c <'$T/brief') -lt 4096 ]"
check "scan --brief: target line, one line per check ($nchecks), the summary" sh -c \
	"[ \$(wc -l <'$T/brief') = $((nchecks + 2)) ] && tail -1 '$T/brief' | grep -q '^{\"rdprescue\":\"summary\"'"
tail -1 "$T/brief" >"$T/summary.json"
check "scan --brief: the problem lines are the summary's problems" $JQ "$T/summary.json" \
	"sorted(d['problems']) == sorted('$(grep '^problem ' "$T/brief" | awk '{print $2}' | tr '\n' ' ')'.split()) and len(d['problems']) > 0"
check "scan --brief: nothing on stderr" sh -c "[ ! -s '$T/err' ]"
expect_exit 2 "--brief with --json" "$RP" scan "$D" --brief --json
expect_exit 1 "fix --dry-run --brief" "$RP" fix "$D" --dry-run --brief
check "fix --dry-run --brief: under 4 KiB" sh -c "[ \$(wc -c <'$T/out') -lt 4096 ]"
finish
