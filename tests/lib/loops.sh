# loops.sh — loop devices a test attaches, detached by name (never by number: a number freed
# here may be given to another test running at the same time).
LOOPS=""
# loop_attach VAR [LOSETUP OPTIONS] FILE: attaches FILE, sets VAR to the device, remembers it.
loop_attach() {
	_la_var=$1
	shift
	_la_dev=$(losetup -f --show "$@") || return 1
	LOOPS="$_la_dev $LOOPS"
	eval "$_la_var=\$_la_dev"
}
# loop_free L: detaches L now and forgets it.
loop_free() {
	losetup -d "$1"
	LOOPS=$(echo " $LOOPS " | sed "s# $1 # #g")
}
# loops_detach: detaches every device still remembered (for the exit trap).
loops_detach() {
	for _la_dev in $LOOPS; do losetup -d "$_la_dev" 2>/dev/null; done
	LOOPS=""
}
