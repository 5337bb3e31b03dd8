#!/bin/sh
# mkdist.sh — make dist: the release artefacts of the static binary $BUILD/rdprescue, in
# $BUILD/dist:
#   rdprescue-VERSION-x86_64-linux.tar.gz  stripped binary, man page, README, bash completion,
#                                          THIRD-PARTY-LICENCES.txt (dist/licences.sh)
#   rdprescue_VERSION_amd64.deb            /usr/sbin/rdprescue, man page, bash completion, the
#                                          licence notice as /usr/share/doc/rdprescue/copyright
#   SHA256SUMS                             of both
# The binary must be the static one: a rescue VM has whatever libraries it has.
set -eu
BUILD=${BUILD:-build}
V=$(sed -n 's/.*RP_VERSION "\(.*\)"/\1/p' src/plan/plan.h)
[ -n "$V" ] || { echo "mkdist: no RP_VERSION in src/plan/plan.h" >&2; exit 1; }
BIN=$BUILD/rdprescue MAN=$BUILD/rdprescue.1
for f in "$BIN" "$BIN.map" "$MAN"; do
	[ -f "$f" ] || { echo "mkdist: $f is missing; run make all man" >&2; exit 1; }
done
file -L "$BIN" | grep -q 'statically linked' ||
	{ echo "mkdist: $BIN is not statically linked (SANITIZE=1 build?)" >&2; exit 1; }

D=$BUILD/dist NAME=rdprescue-$V-x86_64-linux
rm -rf "$D" && mkdir -p "$D/$NAME"
# One date for every file: the last commit's, so that two builds of one commit are equal.
EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)

S=$D/$NAME
strip -o "$S/rdprescue" "$BIN"
cp "$MAN" "$S/rdprescue.1"
cp README.md "$S/README.md"
cp dist/rdprescue.bash-completion "$S/rdprescue.bash-completion"
sh dist/licences.sh "$BIN.map" "$S"
chmod 755 "$S/rdprescue"
chmod 644 "$S/rdprescue.1" "$S/README.md" "$S/rdprescue.bash-completion" "$S/THIRD-PARTY-LICENCES.txt"
tar -C "$D" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$EPOCH" -cf - "$NAME" |
	gzip -9n >"$D/$NAME.tar.gz"

P=$D/deb
mkdir -p "$P/DEBIAN" "$P/usr/sbin" "$P/usr/share/man/man1" "$P/usr/share/doc/rdprescue" \
	"$P/usr/share/bash-completion/completions"
install -m 755 "$S/rdprescue" "$P/usr/sbin/rdprescue"
gzip -9n <"$MAN" >"$P/usr/share/man/man1/rdprescue.1.gz"
install -m 644 dist/rdprescue.bash-completion "$P/usr/share/bash-completion/completions/rdprescue"
install -m 644 "$S/THIRD-PARTY-LICENCES.txt" "$P/usr/share/doc/rdprescue/copyright"
gzip -9n <README.md >"$P/usr/share/doc/rdprescue/README.md.gz"
chmod 644 "$P/usr/share/man/man1/rdprescue.1.gz" "$P/usr/share/doc/rdprescue/README.md.gz"
cat >"$P/DEBIAN/control" <<CTRL
Package: rdprescue
Version: $V
Architecture: amd64
Maintainer: rdprescue developers <rdprescue@localhost>
Section: admin
Priority: optional
Installed-Size: $(du -sk "$P/usr" | cut -f1)
Description: repair Remote Desktop on a Windows disk, offline
 rdprescue reads the disk of a Windows machine that nobody can reach over
 Remote Desktop (attached to a rescue VM, as an image, or on a USB-booted
 machine), says why RDP fails, and repairs it with a backup first.
 One statically linked binary: it needs no library on the rescue machine.
CTRL
find "$P" -exec touch -h -d "@$EPOCH" {} +
SOURCE_DATE_EPOCH=$EPOCH dpkg-deb --root-owner-group -Zxz --build "$P" "$D/rdprescue_${V}_amd64.deb" >/dev/null
rm -rf "$P" "$S"

(cd "$D" && sha256sum "$NAME.tar.gz" "rdprescue_${V}_amd64.deb" >SHA256SUMS)
echo "make dist: $D/$NAME.tar.gz, $D/rdprescue_${V}_amd64.deb, $D/SHA256SUMS"
