#!/bin/sh
# run_suite.sh OUT SUITE — runs one suite for tests/run.sh: its output goes to OUT/NAME.log,
# then is printed in one piece (under a lock, so that parallel suites do not mix their lines).
# A suite whose exit status is not 0 but which printed no "not ok" line, or which printed no
# result line at all, gets a "not ok" line of its own: a crash is never a pass.
out=$1 suite=$2
name=$(basename "$suite" .sh)
log=$out/$name.log
start=$(date +%s)
case $suite in
*.sh) sh "$suite" >"$log" 2>&1 ;;
*) "$suite" >"$log" 2>&1 ;;
esac
rc=$?
secs=$(($(date +%s) - start))
if [ "$rc" != 0 ] && ! grep -q '^not ok - ' "$log"; then
	echo "not ok - $name: exited with status $rc before saying what failed" >>"$log"
elif ! grep -q -e '^ok - ' -e '^not ok - ' -e '^skip - ' "$log"; then
	echo "not ok - $name: printed no result" >>"$log"
fi
{
	flock 9
	echo "== $name: exit $rc, $secs s"
	cat "$log"
} 9>"$out/.lock"
