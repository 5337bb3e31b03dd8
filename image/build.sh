#!/bin/sh
# image/build.sh — builds the bootable rescue image without root, from Debian packages:
#   $BUILD/image/vmlinuz, $BUILD/image/initrd.img   (the kernel and initrd the ISO boots)
#   $BUILD/rdprescue.iso                            (hybrid ISO/USB: BIOS isolinux, UEFI and
#                                                    Secure Boot through Debian's signed shim+GRUB)
# Packages are fetched once with `apt-get download` into $BUILD/image-cache/debs and unpacked
# with dpkg-deb -x; nothing is installed.  Needs the build tools tests/lib/deps.sh installs
# (xorriso, isolinux, mtools, dosfstools, libarchive-tools, zstd, kmod).
set -eu

BUILD=${BUILD:-build}
TOOL=$BUILD/rdprescue
CACHE=$BUILD/image-cache
OUT=$BUILD/image
ISO=$BUILD/rdprescue.iso
ISO_MAX=$((24 * 1024 * 1024))
HERE=$(cd "$(dirname "$0")" && pwd)
# Timestamps inside the initrd, the ESP and the ISO: the source's last commit, for repeatable output.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$HERE" log -1 --format=%ct 2>/dev/null || echo 0)}
export SOURCE_DATE_EPOCH

die() {
	echo "image/build.sh: $*" >&2
	exit 1
}
need() {
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || die "$c is missing: run 'make deps'"
	done
}
need apt-get apt-cache dpkg-deb bsdtar zstd xorriso mkfs.vfat mmd mcopy python3
for f in /sbin/depmod /sbin/modprobe; do
	[ -x "$f" ] || die "$f is missing: run 'make deps' (package kmod)"
done
[ -x "$TOOL" ] || die "$TOOL is missing: run 'make' first"
ISOLINUX_DIR=/usr/lib/ISOLINUX
LDLINUX=/usr/lib/syslinux/modules/bios/ldlinux.c32
for f in "$ISOLINUX_DIR/isolinux.bin" "$ISOLINUX_DIR/isohdpfx.bin" "$LDLINUX"; do
	[ -f "$f" ] || die "$f is missing: run 'make deps' (packages isolinux, syslinux-common)"
done

mkdir -p "$CACHE/debs" "$CACHE/x" "$OUT"
CACHE=$(cd "$CACHE" && pwd)
OUT=$(cd "$OUT" && pwd)

# The signed kernel package linux-image-amd64 currently points to (linux-image-<abi>-amd64);
# without an apt package list (and nothing cached), after `apt-get update` when we are root;
# else the newest one already in the cache.
apt_kernel() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1
}
cached_kernel() {
	ls "$CACHE/debs" | sed -n 's/^\(linux-image-[0-9][^_]*-amd64\)_.*\.deb$/\1/p' | sort -V | tail -n1
}
kernel_package() {
	_k=$(apt_kernel)
	[ -n "$_k" ] || _k=$(cached_kernel)
	if [ -z "$_k" ] && [ "$(id -u)" = 0 ]; then
		apt-get update -qq >&2 || true
		_k=$(apt_kernel)
	fi
	[ -n "$_k" ] || die "cannot resolve linux-image-amd64: run 'apt-get update' first"
	echo "$_k"
}

# fetch PKG: downloads PKG's .deb into the cache unless it is there, unpacks it once; prints the
# unpacked tree's path.
fetch() {
	_deb=$(ls "$CACHE/debs/$1"_*.deb 2>/dev/null | head -n1)
	if [ -z "$_deb" ]; then
		echo "image: downloading $1" >&2
		(cd "$CACHE/debs" && apt-get download -q "$1" >&2) || die "apt-get download $1 failed"
		_deb=$(ls "$CACHE/debs/$1"_*.deb 2>/dev/null | head -n1)
		[ -n "$_deb" ] || die "apt-get download $1 left no .deb in $CACHE/debs"
	fi
	_x=$CACHE/x/$(basename "$_deb" .deb)
	if [ ! -f "$_x.done" ]; then
		rm -rf "$_x"
		dpkg-deb -x "$_deb" "$_x" || die "dpkg-deb -x $_deb failed"
		touch "$_x.done"
	fi
	echo "$_x"
}

KPKG=$(kernel_package)
KX=$(fetch "$KPKG")
BBX=$(fetch busybox-static)
SHIMX=$(fetch shim-signed)
GRUBX=$(fetch grub-efi-amd64-signed)
KVER=${KPKG#linux-image-}
[ -d "$KX/lib/modules/$KVER" ] || die "$KPKG has no lib/modules/$KVER"
# The .deb ships no modules.dep; depmod works on any writable tree.
[ -f "$KX/lib/modules/$KVER/modules.dep" ] || /sbin/depmod -b "$KX" "$KVER"

# --- initrd: busybox, rdprescue, /init, the storage modules and their dependencies ---
ST=$OUT/stage
rm -rf "$ST"
mkdir -p "$ST/bin" "$ST/sbin" "$ST/dev" "$ST/proc" "$ST/sys" "$ST/tmp" "$ST/run" "$ST/mnt" \
	"$ST/report" "$ST/lib/modules/$KVER"
chmod 755 "$ST"
cp "$BBX/bin/busybox" "$ST/bin/busybox"
for applet in $("$ST/bin/busybox" --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$ST/bin/$applet"
done
ln -sf ../bin/busybox "$ST/sbin/modprobe"
cp "$TOOL" "$ST/bin/rdprescue"
strip "$ST/bin/rdprescue" 2>/dev/null || true
cp "$HERE/init" "$ST/init"
chmod 755 "$ST/init" "$ST/bin/rdprescue" "$ST/bin/busybox"

modules=$(sed -e 's/#.*//' "$HERE/modules.txt" | tr -s ' \t' '\n\n' | grep -v '^$')
for m in $modules; do
	deps=$(/sbin/modprobe -d "$KX" -S "$KVER" --show-depends "$m") ||
		die "module $m (image/modules.txt) is not in $KPKG"
	for ko in $(echo "$deps" | sed -n 's/^insmod \([^ ]*\).*/\1/p'); do
		rel=${ko#"$KX"/}
		mkdir -p "$ST/$(dirname "$rel")"
		cp "$ko" "$ST/$rel"
	done
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	cp "$KX/lib/modules/$KVER/$f" "$ST/lib/modules/$KVER/"
done
/sbin/depmod -b "$ST" "$KVER"

# newc cpio through an mtree description: root ownership and /dev/console without root.
{
	echo '#mtree'
	echo "/set uid=0 gid=0 uname=root gname=root time=$SOURCE_DATE_EPOCH.0"
	(cd "$ST" && bsdtar --format mtree -cf - --options '!all,type,mode,link' .) | grep -v '^#mtree'
	echo './dev/console type=char mode=0600 device=native,5,1'
} >"$OUT/initrd.mtree"
(cd "$ST" && bsdtar --format newc -cf - @"$OUT/initrd.mtree") >"$OUT/initrd.raw.cpio"
python3 "$HERE/newc-normalize.py" <"$OUT/initrd.raw.cpio" >"$OUT/initrd.cpio"
zstd -q -f -19 "$OUT/initrd.cpio" -o "$OUT/initrd.img"
rm -f "$OUT/initrd.raw.cpio" "$OUT/initrd.cpio" "$OUT/initrd.mtree"
cp "$KX/boot/vmlinuz-$KVER" "$OUT/vmlinuz"

# --- hybrid ISO ---
ISOT=$OUT/iso
rm -rf "$ISOT"
mkdir -p "$ISOT/.disk" "$ISOT/boot/grub" "$ISOT/isolinux"
# Debian's signed GRUB finds its root by this file, then reads /boot/grub/grub.cfg.
echo "rdprescue rescue image" >"$ISOT/.disk/info"
cp "$OUT/vmlinuz" "$OUT/initrd.img" "$ISOT/boot/"
cp "$HERE/grub.cfg" "$ISOT/boot/grub/grub.cfg"
cp "$ISOLINUX_DIR/isolinux.bin" "$LDLINUX" "$HERE/isolinux.cfg" "$HERE/boot.txt" "$ISOT/isolinux/"
SHIM=$SHIMX/usr/lib/shim/shimx64.efi.signed
GRUBEFI=$GRUBX/usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed
[ -f "$SHIM" ] && [ -f "$GRUBEFI" ] || die "shim-signed or grub-efi-amd64-signed lacks the EFI binaries"
# The ESP image: shim as the removable-media loader, GRUB beside it where shim looks; sized to
# fit both plus room for FAT metadata.
esp_kib=$(($(stat -c %s "$SHIM" "$GRUBEFI" | awk '{s+=$1} END {print int(s/1024)}') + 512))
rm -f "$ISOT/boot/efi.img"
mkfs.vfat -C --invariant -i 52445052 -n RPESP "$ISOT/boot/efi.img" "$esp_kib" >/dev/null
mmd -i "$ISOT/boot/efi.img" ::/EFI ::/EFI/BOOT
mcopy -i "$ISOT/boot/efi.img" "$SHIM" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$ISOT/boot/efi.img" "$GRUBEFI" ::/EFI/BOOT/grubx64.efi
find "$ISOT" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
rm -f "$ISO"
xorriso -as mkisofs -o "$ISO" -V RDPRESCUE_ISO -J -joliet-long -r \
	-isohybrid-mbr "$ISOLINUX_DIR/isohdpfx.bin" \
	-b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table \
	-eltorito-alt-boot -e boot/efi.img -no-emul-boot -isohybrid-gpt-basdat \
	"$ISOT" 2>"$OUT/xorriso.log" || die "xorriso failed: $(tail -n 3 "$OUT/xorriso.log")"
size=$(stat -c %s "$ISO")
[ "$size" -le "$ISO_MAX" ] || die "$ISO is $size bytes, over the 24 MiB limit"
echo "image: $ISO $((size / 1024)) KiB; $OUT/vmlinuz $(($(stat -c %s "$OUT/vmlinuz") / 1024)) KiB," \
	"$OUT/initrd.img $(($(stat -c %s "$OUT/initrd.img") / 1024)) KiB ($KPKG)"
