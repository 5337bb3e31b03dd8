#!/bin/sh
# bench/profile.sh IMG [rdprescue fix options...]: where a `rdprescue fix` spends its time and
# its I/O (input for the optimisation work of issue 19; docs/performance.md).  Runs fix on copies
# of IMG (default options: --yes --check rdp.access, the benchmark's single DWORD change):
#   1. under strace -f: how often the image is opened, hives copied into memfds (count, bytes),
#      bytes read from the image against distinct bytes read, bytes written (bench/iostat.py)
#   2. strace -c -f: the syscall time table
#   3. perf record -g (when perf works here): the top symbols by self time, and the share of a
#      few families (memory copies, page faults and zeroing, hashing, compression, hivex, ntfs)
#   4. gdb (when installed; bench/profile.gdb): every volume mount, hive load and hivex open in
#      order, with the resident memory at each, and how often each happened
# The image made by bench/peers.sh is kept with RP_KEEP=1 (it prints its directory; H.img).
set -e
BUILD=${BUILD:-build}
IMG=${1:?usage: bench/profile.sh IMG [fix options]}
shift
[ $# -gt 0 ] || set -- --yes --check rdp.access
P=$(mktemp -d "${TMPDIR:-/tmp}/rpprof.XXXXXX")
[ "${RP_KEEP:-0}" = 1 ] || trap 'rm -rf "$P"' EXIT
RP=$PWD/$BUILD/rdprescue

cp --sparse=always "$IMG" "$P/work.img"
echo "== I/O of one fix (strace -f)"
strace -f -y -s 0 -o "$P/trace" \
	-e trace=openat,open,memfd_create,read,pread64,write,pwrite64,lseek,close,mmap,munmap \
	"$RP" fix "$P/work.img" "$@" >/dev/null 2>&1 || true
python3 bench/iostat.py "$P/trace" "$P/work.img"

cp --sparse=always "$IMG" "$P/work.img"
echo "== syscall time (strace -c -f), top 12"
strace -c -f -o "$P/count" "$RP" fix "$P/work.img" "$@" >/dev/null 2>&1 || true
head -n 15 "$P/count"

cp --sparse=always "$IMG" "$P/work.img"
echo "== CPU profile (perf record -g)"
if perf record -q -g -o "$P/perf.data" "$RP" fix "$P/work.img" "$@" \
	>/dev/null 2>"$P/perf.err"; then :; fi
if [ -s "$P/perf.data" ]; then
	perf report -i "$P/perf.data" --stdio --no-children --sort sym --percent-limit 1.5 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -n 20
	perf report -i "$P/perf.data" --stdio --no-children --sort sym 2>/dev/null |
		python3 bench/iostat.py --families
else
	echo "perf unavailable here: $(head -1 "$P/perf.err")"
fi

cp --sparse=always "$IMG" "$P/work.img"
echo "== volume mounts, hive loads and hivex opens in order, with the memory at each (gdb)"
if command -v gdb >/dev/null; then
	gdb -q -batch -x bench/profile.gdb --args "$RP" fix "$P/work.img" "$@" 2>/dev/null |
		grep '^CALL' >"$P/calls" || true
	cat "$P/calls"
	echo "-- counts"
	awk '{ n[$2 " " ($2 ~ /hive/ ? $3 : "")]++ } END { for (k in n) print n[k] "x " k }' "$P/calls" | sort -k2
else
	echo "gdb not installed: skipped"
fi
