#!/bin/sh
# run_suite.sh OUT SUITE — runs one suite for tests/run.sh: its output goes to OUT/NAME.log,
# then is printed in one piece (under a lock, so that parallel suites do not mix their lines).
# A suite whose exit status is not 0 but which printed no "not ok" line, or which printed no
# result line at all, gets a "not ok" line of its own: a crash is never a pass.
out=$1 suite=$2
name=$(basename "$suite" .sh)
log=$out/$name.log
case $suite in
*.sh) set -- sh "$suite" ;;
*) set -- "$suite" ;;
esac
# wall and CPU seconds (children included) with /usr/bin/time (Debian "time", make deps)
if [ -x /usr/bin/time ]; then
	/usr/bin/time -f '%e %U %S' -o "$out/$name.time" "$@" >"$log" 2>&1
	rc=$?
	took=$(tail -n 1 "$out/$name.time" | awk '{ printf "%.0f s, CPU %.0f s", $1, $2 + $3 }')
else
	start=$(date +%s)
	"$@" >"$log" 2>&1
	rc=$?
	took="$(($(date +%s) - start)) s"
fi
if [ "$rc" != 0 ] && ! grep -q '^not ok - ' "$log"; then
	echo "not ok - $name: exited with status $rc before saying what failed" >>"$log"
elif ! grep -q -e '^ok - ' -e '^not ok - ' -e '^skip - ' "$log"; then
	echo "not ok - $name: printed no result" >>"$log"
fi
{
	flock 9
	echo "== $name: exit $rc, $took"
	cat "$log"
} 9>"$out/.lock"
