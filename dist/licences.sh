#!/bin/sh
# licences.sh MAP OUTDIR — the third-party licence notice of a static rdprescue, generated from
# the link: the linker's map file (-Wl,-Map, see Makefile) names every archive a member was
# taken from; dpkg says which Debian package holds it and its version; the package's
# /usr/share/doc/PKG/copyright gives the licence.  Writes OUTDIR/THIRD-PARTY-LICENCES.txt (the
# table, then each package's copyright file in full).  Fails when an archive has no package or
# no copyright file: a binary must not ship with a library whose licence nobody looked up.
set -eu
MAP=$1 OUT=$2
mkdir -p "$OUT"
list=$(awk '/^Archive member included/{f=1;next} /^(Discarded input|Allocating common|Memory Configuration)/{f=0} f' "$MAP" |
	grep -o '^/[^(]*\.a' | sort -u)
[ -n "$list" ] || { echo "licences.sh: no archive in $MAP" >&2; exit 1; }

# The licence of a package: the "Files: *" paragraph of a machine-readable copyright file,
# with the other licences the file names; else the licence its prose names.
licence_of() {
	c=/usr/share/doc/$1/copyright
	main=$(awk 'BEGIN{RS=""} /(^|\n)Files: \*(\n|$)/ {print; exit}' "$c" | sed -n 's/^License: *//p' | head -1)
	if [ -n "$main" ]; then
		others=$(sed -n 's/^License: *//p' "$c" | sort -u | grep -vxF "$main" | grep . | head -8 | paste -sd, - | sed 's/,/, /g')
		echo "$main${others:+ (some files: $others)}"
	elif grep -qi 'GCC Runtime Library Exception' "$c"; then
		echo "GPL-3+ with the GCC Runtime Library Exception"
	elif grep -qi 'Lesser General Public' "$c"; then
		v=$(grep -io 'version 2\.1\|version 3' "$c" | head -1 | sed 's/[Vv]ersion //')
		echo "LGPL${v:+-$v}"
	elif grep -qi 'General Public License' "$c"; then
		echo "GPL"
	else
		echo "see the copyright text below"
	fi
}

txt=$OUT/THIRD-PARTY-LICENCES.txt
{
	echo "rdprescue is one statically linked program. It contains code from these libraries"
	echo "(from the link map of this build; Debian package, its version, its licence):"
	echo
} >"$txt"
pkgs=""
for a in $list; do
	real=$(readlink -f "$a")
	pkg=$(dpkg -S "$real" 2>/dev/null | head -1 | cut -d: -f1)
	[ -n "$pkg" ] || { echo "licences.sh: no Debian package holds $real" >&2; exit 1; }
	[ -f "/usr/share/doc/$pkg/copyright" ] || { echo "licences.sh: no /usr/share/doc/$pkg/copyright" >&2; exit 1; }
	ver=$(dpkg-query -W -f='${Version}' "$pkg")
	printf "%-16s %s %s\n" "$(basename "$real")" "$pkg" "$ver" >>"$txt"
	echo "licence: $(licence_of "$pkg")" | fold -s -w 74 | sed "s/^/    /" >>"$txt"
	pkgs="$pkgs $pkg"
done
for pkg in $(echo "$pkgs" | tr ' ' '\n' | sort -u); do
	printf '\n==== %s: /usr/share/doc/%s/copyright ====\n\n' "$pkg" "$pkg" >>"$txt"
	cat "/usr/share/doc/$pkg/copyright" >>"$txt"
done
