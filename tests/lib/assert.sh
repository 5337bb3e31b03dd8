# assert.sh — the shell side of the test protocol (see tests/unit/test.h).  Source it.
#   ok NAME / fail NAME WHY / skip NAME WHY / check NAME CMD... / expect_exit CODE NAME CMD...
# skip is for a case this build cannot have by design (the sanitizer build is not static); a
# case that cannot run because something is missing is a fail, never a skip or an ok.
# Every scenario works in its own scratch directory $T (removed at exit unless RP_KEEP=1).

RP=${RP:-$PWD/${BUILD:-build}/rdprescue}
TOOLS=${TOOLS:-$PWD/${BUILD:-build}/tests}
SHARED=${RP_SHARED:-$PWD/../shared}
T=$(mktemp -d "${TMPDIR:-/tmp}/rpt.XXXXXX")
[ "${RP_KEEP:-0}" = 1 ] || trap 'rm -rf "$T"' EXIT
_failed=0

ok() { echo "ok - $*"; }
fail() { _failed=$((_failed + 1)); echo "not ok - $1: $2"; }
skip() { echo "skip - $1: $2"; }
check() { _n=$1; shift; if "$@" >"$T/.out" 2>&1; then ok "$_n"; else fail "$_n" "$(tail -c 600 "$T/.out" | tr '\n' ' ')"; fi; }
# expect_exit CODE NAME CMD... : runs CMD, stdout in $T/out, stderr in $T/err
expect_exit() {
	_code=$1 _n=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"; _rc=$?
	if [ "$_rc" = "$_code" ]; then ok "$_n (exit $_rc)"; else fail "$_n" "exit $_rc, wanted $_code; stderr: $(tail -c 400 "$T/err" | tr '\n' ' ')"; fi
}
finish() { [ "$_failed" = 0 ]; exit $?; }
# grep_text PATTERN FILE: grep -q PATTERN (basic regex) in a text report with its wrapped lines
# joined (the report wraps at 80 columns, after a space, '\' or '/') and runs of spaces squeezed.
grep_text() {
	sed -e ':a' -e 'N' -e '$!ba' -e 's/\([\\/]\)\n */\1/g' -e 's/\n */ /g' "$2" | tr -s ' ' | grep -q -- "$1"
}
