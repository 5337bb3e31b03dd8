#!/bin/sh
# t_dist.sh — what an admin gets: `make dist` gives the tarball, the .deb and SHA256SUMS; the
# tarball's binary is this build's static binary, stripped; the checksums match; the licence
# notice names every library the link map shows; `dpkg -i` of the .deb gives a working
# /usr/sbin/rdprescue, `man rdprescue` and the bash completion (then `dpkg -r` removes them);
# `make install PREFIX=` installs the same three files; the man page renders without warnings.
. tests/lib/assert.sh

if [ "${SANITIZE:-0}" = 1 ]; then
	ok "release artefacts # skip the sanitizer build is dynamic; plain make check tests dist"
	finish
fi
B=${BUILD:-build}
V=$(sed -n 's/.*RP_VERSION "\(.*\)"/\1/p' src/plan/plan.h)
D=$B/dist TGZ=$B/dist/rdprescue-$V-x86_64-linux.tar.gz DEB=$B/dist/rdprescue_${V}_amd64.deb

check "make dist" make -s BUILD="$B" dist
for f in "$TGZ" "$DEB" "$D/SHA256SUMS"; do
	check "make dist made $(basename "$f")" test -s "$f"
done
check "SHA256SUMS matches both artefacts" sh -c "cd '$D' && sha256sum -c --strict SHA256SUMS"
check "SHA256SUMS names both artefacts" sh -c "[ \$(wc -l <'$D/SHA256SUMS') = 2 ]"

mkdir -p "$T/x" && tar -C "$T/x" -xzf "$TGZ"
X=$T/x/rdprescue-$V-x86_64-linux
for f in rdprescue rdprescue.1 README.md THIRD-PARTY-LICENCES.txt rdprescue.bash-completion; do
	check "tarball holds $f" test -s "$X/$f"
done
check "tarball binary is static and stripped" \
	sh -c "file '$X/rdprescue' | grep 'statically linked' | grep -q ', stripped'"
strip -o "$T/stripped" "$RP"
check "tarball binary is this build's binary, stripped" cmp -s "$T/stripped" "$X/rdprescue"
commit=$(git rev-parse --short=12 HEAD)
"$X/rdprescue" --version >"$T/version"
check "--version: version and commit" grep -q "^rdprescue $V (commit $commit" "$T/version"
for lib in libhivex libntfs-3g OpenSSL libarchive jansson zstd nettle; do
	check "--version names $lib with a version" grep -q "$lib[ /][0-9]" "$T/version"
done
# Every archive the link took members from has its package, version and licence.
archives=$(awk '/^Archive member included/{f=1;next} /^(Discarded input|Allocating common|Memory Configuration)/{f=0} f' "$B/rdprescue.map" |
	grep -o '^/[^(]*\.a' | xargs -n1 basename | sort -u)
n=0
for a in $archives; do
	n=$((n + 1))
	grep -A1 "^$a " "$X/THIRD-PARTY-LICENCES.txt" | grep -q '^    licence: [A-Za-z]' || fail "licence of $a" "not in THIRD-PARTY-LICENCES.txt"
done
check "licence notice covers the $n linked archives (libhivex, libntfs-3g among them)" \
	sh -c "[ $n -ge 8 ] && grep -q '^libhivex.a .*libhivex-dev' '$X/THIRD-PARTY-LICENCES.txt' &&
	       grep -A1 '^libntfs-3g.a' '$X/THIRD-PARTY-LICENCES.txt' | grep -q GPL"

export MANWIDTH=80
MANPAGER=cat man --warnings -l "$X/rdprescue.1" >"$T/man" 2>"$T/manerr"
check "man -l renders the man page without warnings" \
	sh -c "grep -q '^NAME' '$T/man' && grep -q 'rdprescue' '$T/man' && [ ! -s '$T/manerr' ]"
check "the man page fits 80 columns" python3 -c \
	"import sys; sys.exit(max(len(l.rstrip('\n')) for l in open('$T/man', encoding='utf-8')) > 80)"

# The .deb on this machine (root, as in CI); removed again at the end.
if [ "$(id -u)" != 0 ]; then
	fail "dpkg -i of the .deb" "needs root"
elif dpkg-query -W rdprescue >/dev/null 2>&1; then
	fail "dpkg -i of the .deb" "a package rdprescue is installed already; remove it first"
else
	# man-db keeps a formatted copy of a page it showed: remove ours with the package.
	cleanup() { dpkg -r rdprescue >/dev/null 2>&1; rm -f /var/cache/man/cat1/rdprescue.1*; rm -rf "$T"; }
	trap cleanup EXIT
	rm -f /var/cache/man/cat1/rdprescue.1*
	check "dpkg -i of the .deb" dpkg -i "$DEB"
	check "installed: rdprescue --version" sh -c "/usr/sbin/rdprescue --version | grep -q '^rdprescue $V (commit $commit'"
	check "installed: man rdprescue" sh -c "MANPAGER=cat man rdprescue 2>&1 | grep -q '^EXIT STATUS'"
	check "installed: bash completion" bash -c ". /usr/share/bash-completion/completions/rdprescue &&
		complete -p rdprescue | grep -q _rdprescue"
	check "installed: completion offers scan's options and the check ids" bash -c \
		". /usr/share/bash-completion/completions/rdprescue && PATH=/usr/sbin:\$PATH &&
		COMP_WORDS=(rdprescue scan /dev/sdc --br); COMP_CWORD=3; _rdprescue &&
		[ \"\${COMPREPLY[*]}\" = --brief ] &&
		COMP_WORDS=(rdprescue scan /dev/sdc --check rdp.a); COMP_CWORD=4; _rdprescue &&
		[ \"\${COMPREPLY[*]}\" = rdp.access ] &&
		COMP_WORDS=(rdprescue li); COMP_CWORD=1; _rdprescue && [ \"\${COMPREPLY[*]}\" = list ]"
	check "dpkg -r removes it" sh -c "dpkg -r rdprescue >/dev/null && [ ! -e /usr/sbin/rdprescue ] &&
		[ ! -e /usr/share/man/man1/rdprescue.1.gz ]"
fi

check "make install PREFIX=" make -s BUILD="$B" install PREFIX="$T/prefix"
for f in sbin/rdprescue share/man/man1/rdprescue.1 share/bash-completion/completions/rdprescue; do
	check "make install put $f" test -s "$T/prefix/$f"
done
finish
